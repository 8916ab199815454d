// SPDX-License-Identifier: Apache-2.0
/**
 * Keeps the configuration current without a restart: polls the file (a ConfigMap
 * volume swaps a symlink, which file watchers miss) and swaps in each new version
 * that passes the checks. An invalid edit is reported and the last good one stays.
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from './load.ts';
import type { OperatorConfig } from './schema.ts';

/** The configuration in force, replaced atomically on reload. */
export class ConfigHolder {
  private config: OperatorConfig;
  private text: string;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(c: OperatorConfig) => void> = [];

  private readonly path: string;
  private readonly log: (msg: string, kv?: Record<string, unknown>) => void;

  /** @param path file to read; it must be valid now (throws ConfigError otherwise). */
  constructor(path: string, log: (msg: string, kv?: Record<string, unknown>) => void = (m, kv) => console.error(JSON.stringify({ msg: m, ...kv }))) {
    this.path = path;
    this.log = log;
    this.text = readFileSync(path, 'utf8');
    this.config = parseConfig(this.text, path);
  }

  /** The configuration in force. */
  current(): OperatorConfig {
    return this.config;
  }

  /** Calls `fn` after each successful reload. */
  onChange(fn: (c: OperatorConfig) => void): void {
    this.listeners.push(fn);
  }

  /** Re-reads the file now; returns true when a new configuration took effect. */
  reload(): boolean {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      this.log('Failed to read configuration; keeping the previous one', { path: this.path, error: (err as Error).message });
      return false;
    }
    if (text === this.text) return false;
    this.text = text;
    try {
      this.config = parseConfig(text, this.path);
    } catch (err) {
      this.log('Rejected configuration change; keeping the previous one', { error: (err as Error).message });
      return false;
    }
    this.log('Reloaded configuration', { path: this.path });
    for (const fn of this.listeners) fn(this.config);
    return true;
  }

  /** Polls every `intervalMs` until {@link stop}. */
  watch(intervalMs = 5000): void {
    this.timer = setInterval(() => this.reload(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// SPDX-License-Identifier: Apache-2.0
/**
 * The operator's clock offset for integration tests (testing only): `--testing-clock-offset-file F`
 * makes the controllers' "now" the wall clock plus the milliseconds written in F (an integer;
 * a missing or unreadable file is 0), read at start and again whenever F changes. The Helm
 * chart never passes the flag; a facility's operator runs on the wall clock.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';

/** Reads the offset in `path`: an integer number of milliseconds; anything else is 0. */
export function readClockOffset(path: string): number {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(n) ? n : 0;
  } catch {
    return 0;
  }
}

/** The offset in `path`, polled every `pollMs`; `onChange` is called after it changed. `stop` ends the polling. */
export function watchClockOffset(path: string, onChange: () => void, pollMs = 200): { offset: () => number; stop: () => void } {
  let offset = readClockOffset(path);
  const listener = (): void => {
    const next = readClockOffset(path);
    if (next === offset) return;
    offset = next;
    onChange();
  };
  watchFile(path, { interval: pollMs, persistent: false }, listener);
  return { offset: () => offset, stop: () => unwatchFile(path, listener) };
}

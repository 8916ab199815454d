// SPDX-License-Identifier: Apache-2.0

/** Key/value pairs attached to a log line; values are serialised as JSON, errors by their message. */
export type LogValues = Readonly<Record<string, unknown>>;

/**
 * The logger the runtime writes to, in the Kubernetes style: messages start with a capital letter, use the past
 * tense for what happened ("Created Pod"), and carry key/value pairs instead of interpolated strings.
 *
 * Assumptions: implementations never throw.
 */
export interface Logger {
  /** Detail for debugging; off by default. */
  debug(msg: string, values?: LogValues): void;
  /** Something happened that an operator may want to know. */
  info(msg: string, values?: LogValues): void;
  /** Something failed; pass the error as `err`. */
  error(msg: string, values?: LogValues): void;
  /** Returns a logger that adds `values` to every line (logr's `WithValues`). */
  withValues(values: LogValues): Logger;
}

/** Severity threshold of {@link jsonLogger}. */
export type LogLevel = 'debug' | 'info' | 'error';

const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, error: 2 };

/** Options of {@link jsonLogger}. */
export interface JsonLoggerOptions {
  /** Lowest level written; default `info`. */
  readonly level?: LogLevel;
  /** Where lines go; default `process.stderr`. */
  readonly write?: (line: string) => void;
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Creates the default logger: one JSON object per line (`ts`, `level`, `msg`, then the key/values).
 *
 * Guarantees: never throws, even for cyclic or BigInt values (those are written as strings).
 */
export function jsonLogger(options: JsonLoggerOptions = {}, base: LogValues = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, values: LogValues | undefined): void => {
    if (LEVELS[level] < threshold) return;
    const record = { ts: new Date(now()).toISOString(), level, msg, ...base, ...values };
    write(`${safeStringify(record)}\n`);
  };
  return {
    debug: (msg, values) => emit('debug', msg, values),
    info: (msg, values) => emit('info', msg, values),
    error: (msg, values) => emit('error', msg, values),
    withValues: (values) => jsonLogger(options, { ...base, ...values }),
  };
}

/** A logger that drops everything; the default inside unit tests. */
export const noopLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  error: () => undefined,
  withValues: () => noopLogger,
};

function safeStringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, replaceValue);
  } catch {
    return JSON.stringify({ ts: record['ts'], level: record['level'], msg: record['msg'], logError: 'unserialisable' });
  }
}

function replaceValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

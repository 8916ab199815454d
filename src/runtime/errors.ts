// SPDX-License-Identifier: Apache-2.0

/**
 * An error that retrying cannot fix (bad input, a missing referenced object that only a user can create, ...).
 *
 * Guarantees: the controller does not requeue the key; it calls `onError` (which records `reason` in a condition)
 * and counts the error under `reason`. A later change to the object triggers a new reconcile as usual.
 * Assumptions: `reason` is a stable PascalCase word (a condition `reason`); `message` is for humans.
 */
export class TerminalError extends Error {
  /** Machine-readable PascalCase reason, e.g. `DatasetNotFound`. */
  readonly reason: string;

  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

/** True when `err` is a {@link TerminalError} (also across module copies, by name and shape). */
export function isTerminalError(err: unknown): err is TerminalError {
  return (
    err instanceof TerminalError ||
    (err instanceof Error && err.name === 'TerminalError' && typeof (err as { reason?: unknown }).reason === 'string')
  );
}

/**
 * What a reconcile asks for when it succeeds: nothing more (`done`), or another pass after a delay (`requeueAfter`),
 * for time-based work such as idle checks. Failures are expressed by throwing, never by a result.
 */
export type ReconcileResult = { readonly type: 'done' } | { readonly type: 'requeueAfter'; readonly ms: number };

const DONE: ReconcileResult = Object.freeze({ type: 'done' });

/** The key is converged; only a change (or the periodic resync) brings it back. */
export function done(): ReconcileResult {
  return DONE;
}

/**
 * Reconcile the key again after `ms` milliseconds (earliest request wins when several are pending).
 *
 * Assumptions: `ms` is finite; values below 0 are treated as 0.
 */
export function requeueAfter(ms: number): ReconcileResult {
  return { type: 'requeueAfter', ms: Math.max(0, ms) };
}

/** A short PascalCase-ish label for an error, used as the `reason` metric label and in logs. */
export function errorReason(err: unknown): string {
  if (isTerminalError(err)) return err.reason;
  const reason = err instanceof Error ? (err as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && reason ? reason : 'Error';
}

// SPDX-License-Identifier: Apache-2.0
/**
 * A turn of the event loop for work that runs on promise callbacks alone. A reconcile that finds nothing to do
 * (everything from the caches, every apply skipped) awaits only promises that are already settled, so workers
 * taking one key after another form one unbroken chain of microtasks: Node runs no I/O callback until it ends,
 * so watch events, HTTP answers, probes and lease renewals would wait for a whole pass over ten thousand
 * objects.
 */

/** Microtask work allowed between two turns of the event loop, in ms. */
export const SLICE_MS = 20;

let turn: Promise<void> | undefined;
let since = performance.now();

/**
 * Resolves at once while less than {@link SLICE_MS} has passed since the last turn; after that, once the event
 * loop has run its pending I/O callbacks (`setImmediate`). Every caller in the process shares the turn, so all
 * workers step aside together, and the microtask queue empties.
 */
export function yieldToEventLoop(): Promise<void> | undefined {
  if (turn) return turn;
  if (performance.now() - since < SLICE_MS) return undefined;
  turn = new Promise((resolve) =>
    setImmediate(() => {
      turn = undefined;
      since = performance.now();
      resolve();
    }),
  );
  return turn;
}

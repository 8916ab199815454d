// SPDX-License-Identifier: Apache-2.0
/**
 * "It was deleted" means the apiserver answers 404 Not Found: not a refusal (403), not an
 * unreachable server, not any other error. These helpers say so in one place.
 */
import { expect } from 'vitest';

/** The HTTP status of a rejected client-node call, or undefined when it carries none. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Asserts that `read` (a get of one object) is answered with 404.
 * Fails, showing what came back, when the object exists or the call failed otherwise.
 */
export async function expectGone(read: Promise<unknown>, what = 'the object'): Promise<void> {
  const outcome = await read.then(
    (obj) => ({ found: obj }),
    (err: unknown) => ({ err }),
  );
  if ('found' in outcome) expect.fail(`${what} still exists: ${JSON.stringify(outcome.found).slice(0, 300)}`);
  expect(statusOf(outcome.err), `${what}: expected 404 Not Found, got ${String((outcome.err as Error)?.message ?? outcome.err).slice(0, 300)}`).toBe(404);
}

/**
 * A check for `waitFor`: true once `read` is answered with 404, false while the object
 * exists. Any other error is thrown, so `waitFor` keeps polling and reports it on timeout.
 */
export async function isGone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (err) {
    if (statusOf(err) === 404) return true;
    throw err;
  }
}

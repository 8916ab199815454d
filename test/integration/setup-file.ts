// SPDX-License-Identifier: Apache-2.0
/**
 * Runs in every integration test file before its own hooks: after the file (and after its
 * own afterAll hooks), no operator it started may keep running into the next file.
 */
import { afterAll } from 'vitest';
import { stopLeftoverOperators } from './operator.ts';

afterAll(async () => {
  const left = await stopLeftoverOperators();
  if (left > 0) console.error(`[cleanup] stopped ${left} operator(s) the file left running`);
});

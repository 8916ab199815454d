// SPDX-License-Identifier: Apache-2.0
/** `npm run e2e`: the e2e suites against the cluster of E2E_KUBECONFIG (panalysis installed there). */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});

// SPDX-License-Identifier: Apache-2.0
/**
 * Loaded into the operator under benchmark with `--import` (see operator-process.ts): every
 * 250 ms it writes the process's V8 heap and RSS (`process.memoryUsage()`, bytes) as JSON to
 * the file named by BENCH_HEAP_FILE, so the benchmark can sample the heap without the
 * operator exposing it. Does nothing without BENCH_HEAP_FILE.
 */
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.BENCH_HEAP_FILE;
if (file) {
  const write = () => {
    const m = process.memoryUsage();
    writeFileSync(`${file}.tmp`, JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external }));
    renameSync(`${file}.tmp`, file);
  };
  write();
  setInterval(write, 250).unref();
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Loaded into the operator under benchmark with `--import` (see operator-process.ts): every
 * 250 ms it writes the process's V8 heap and RSS (`process.memoryUsage()`, bytes) as JSON to
 * the file named by BENCH_HEAP_FILE, so the benchmark can sample the heap without the
 * operator exposing it. Does nothing without BENCH_HEAP_FILE.
 *
 * The file is opened once and each record overwrites the last in place (one write of a
 * fixed length, no rename): the probe's own cost stays out of the operator's CPU time. A
 * record carries its number at both ends, so a reader that met a write half done sees two
 * numbers that differ and keeps its last figure.
 */
import { openSync, writeSync } from 'node:fs';

/** Bytes of each record: more than the JSON of any `memoryUsage()` needs. */
const RECORD = 256;

const file = process.env.BENCH_HEAP_FILE;
if (file) {
  const fd = openSync(file, 'w');
  let seq = 0;
  const write = () => {
    const m = process.memoryUsage();
    seq += 1;
    const text = JSON.stringify({ seq, heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, end: seq });
    writeSync(fd, text.padEnd(RECORD), 0, 'utf8');
  };
  write();
  setInterval(write, 250).unref();
}

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { Progress, progressLine } from './progress.ts';

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { written, isTTY, write: (text: string) => written.push(text) };
}

describe('benchmark progress line', () => {
  it('names the workload, created and Ready out of the total, and elapsed seconds', () => {
    expect(progressLine('W1 1000', 250, 40, 1000, 12.4)).toBe('sessionbench: W1 1000: 250/1000 created, 40/1000 Ready, 12 s');
  });
  it('redraws in place on a terminal and ends the line when done', () => {
    const tty = sink(true);
    const p = new Progress('W1 10', 10, tty);
    p.set(10, 10);
    p.done();
    expect(tty.written[0]).toMatch(/^\rsessionbench: W1 10: 10\/10 created, 10\/10 Ready, \d+ s$/);
    expect(tty.written.at(-1)).toBe('\n');
  });
  it('writes whole lines to a log', () => {
    const log = sink(false);
    const p = new Progress('B0', 5, log);
    p.set(3, 1);
    p.done();
    expect(log.written).toEqual([expect.stringMatching(/^sessionbench: B0: 3\/5 created, 1\/5 Ready, \d+ s\n$/)]);
  });
});

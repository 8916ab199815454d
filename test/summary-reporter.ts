// SPDX-License-Identifier: Apache-2.0
/**
 * A vitest reporter that ends the run with one plain line, `vitest: N passed, N failed,
 * N skipped`, which CI systems read without parsing vitest's coloured summary.
 *
 * Contract: the line never says less failed than happened. Counted as failed: each failed
 * test; each file or suite whose collection, import or `beforeAll`/`afterAll` hook failed
 * (once, the tests it kept from running are counted as skipped and listed with that
 * reason); each unhandled error; a run that was interrupted. Every skipped test is listed
 * above the line with its reason (`ctx.skip(note)`, or the failed set-up that stopped it).
 */
import { relative } from 'node:path';
import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, TestSuite } from 'vitest/node';

/** What the closing line counts, and the skipped tests with their reasons. */
export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
  skips: string[];
  failures: string[];
}

const firstLine = (e: SerializedError): string => String(e.message ?? e).split('\n')[0]!;

const file = (mod: TestModule): string => relative(process.cwd(), mod.moduleId);
/** The name of a test with its suites, `file > suite > test`. */
const fullName = (test: TestCase): string => `${file(test.module)} > ${test.fullName}`;

/** The failed set-up (module or suite errors) that stands above `test`, if any. */
function failedSetup(test: TestCase): string | undefined {
  for (let node: TestSuite | TestModule = test.parent; ; node = (node as TestSuite).parent) {
    const errors = node.errors();
    if (errors.length > 0) return `${node.type === 'module' ? 'file' : `suite "${(node as TestSuite).name}"`} set-up failed: ${firstLine(errors[0]!)}`;
    if (node.type === 'module') return undefined;
  }
}

/** Counts one run (pure apart from reading the reported tree). */
export function summarise(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError> = [], reason: TestRunEndReason = 'passed'): RunSummary {
  const s: RunSummary = { passed: 0, failed: 0, skipped: 0, skips: [], failures: [] };
  for (const mod of modules) {
    for (const holder of [mod, ...mod.children.allSuites()]) {
      for (const e of holder.errors()) {
        s.failed++;
        s.failures.push(`${holder.type === 'module' ? file(mod) : `${file(mod)} > ${(holder as TestSuite).fullName}`}: ${firstLine(e)}`);
      }
    }
    for (const test of mod.children.allTests()) {
      const result = test.result();
      if (result.state === 'passed') s.passed++;
      else if (result.state === 'failed') s.failed++;
      else {
        s.skipped++;
        const why = (result.state === 'skipped' ? result.note : undefined) ?? failedSetup(test) ?? (test.options.mode === 'todo' ? 'todo' : result.state === 'skipped' ? 'skipped without a reason' : `not run (${result.state})`);
        s.skips.push(`${fullName(test)}: ${why}`);
      }
    }
  }
  for (const e of unhandled) {
    s.failed++;
    s.failures.push(`unhandled error: ${firstLine(e)}`);
  }
  if (reason === 'interrupted') {
    s.failed++;
    s.failures.push('the run was interrupted');
  } else if (reason === 'failed' && s.failed === 0) {
    // vitest failed the run for a cause that no test carries (a global set-up, no test files).
    s.failed++;
    s.failures.push('the run failed before its tests could report (see the error above)');
  }
  return s;
}

/** The skips, the failures outside tests and the closing line, for a process exiting with `code`. */
export function closingLines(summary: RunSummary | undefined, code: number): string {
  const s = summary ?? { passed: 0, failed: 0, skipped: 0, skips: [], failures: [] };
  if (code !== 0 && s.failed === 0) {
    s.failed++;
    s.failures.push(summary ? `the run exited with code ${code} after its tests (a teardown failed?); see the error above` : `the run stopped before reporting its tests (exit code ${code}); see the error above`);
  }
  const out: string[] = [''];
  if (s.skips.length > 0) out.push(`Skipped (${s.skips.length}):`, ...s.skips.map((x) => `  - ${x}`));
  if (s.failures.length > 0) out.push('Failed outside a test:', ...s.failures.map((x) => `  - ${x}`));
  out.push(`vitest: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`, '');
  return out.join('\n');
}

export default class SummaryReporter implements Reporter {
  private summary: RunSummary | undefined;

  /**
   * The line is written when the process exits, so that it is the last line of the run
   * (after global teardown output) and is there even when the run stops before reporting
   * any test (a failed global set-up).
   */
  onInit(): void {
    process.once('exit', (code) => process.stdout.write(closingLines(this.summary, code)));
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    this.summary = summarise(modules, unhandled, reason);
  }
}

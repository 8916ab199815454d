// SPDX-License-Identifier: Apache-2.0
/**
 * Checks of the facility default quota (`quotas.default`) that the CRD's CEL rules and the
 * flavour admission policy make on a ResourceQuota, made when the configuration loads: a
 * default the apiserver would refuse is an error at start, not when it is first written.
 */
import { parseDuration } from '../api/quantity.ts';
import type { QuotaLimits, ResourceQuotaSpec } from '../api/v1alpha1/resource-quota.ts';

/** Problems of `spec` (at `field`), with the field and the fix; `flavours` are the facility's GPU flavours. */
export function defaultQuotaProblems(spec: ResourceQuotaSpec | undefined, flavours: readonly string[], field = 'quotas.default'): string[] {
  if (!spec) return [];
  const problems: string[] = [];
  const limits = (hard: QuotaLimits | undefined, at: string) => {
    if (hard?.maxSessionDuration !== undefined) {
      let ms = 0;
      try {
        ms = parseDuration(hard.maxSessionDuration);
      } catch (err) {
        problems.push(`${at}.maxSessionDuration: ${(err as Error).message}`);
      }
      if (ms > 0 && ms < 60_000) problems.push(`${at}.maxSessionDuration: must be at least one minute, e.g. 30m or 8h`);
    }
    for (const f of Object.keys(hard?.gpusPerFlavour ?? {})) {
      if (!flavours.includes(f)) problems.push(`${at}.gpusPerFlavour: unknown GPU flavour ${f}; flavours of this facility: ${flavours.join(', ') || '(none)'}`);
    }
  };
  limits(spec.hard, `${field}.hard`);
  const windows = spec.windows ?? [];
  windows.forEach((w, i) => {
    limits(w.hard, `${field}.windows[${i}].hard`);
    if (!(Date.parse(w.end) > Date.parse(w.start))) problems.push(`${field}.windows[${i}].end: must be after its start`);
  });
  const valid = windows.filter((w) => Date.parse(w.end) > Date.parse(w.start));
  valid.forEach((a, i) => valid.forEach((b, j) => {
    if (i < j && Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end)) problems.push(`${field}.windows: windows ${a.name} and ${b.name} overlap`);
  }));
  if (spec.budgets?.gracePeriod) {
    try {
      parseDuration(spec.budgets.gracePeriod);
    } catch (err) {
      problems.push(`${field}.budgets.gracePeriod: ${(err as Error).message}`);
    }
  }
  return problems;
}

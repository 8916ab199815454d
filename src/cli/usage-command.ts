// SPDX-License-Identifier: Apache-2.0
/** `panalysis usage`: the facility's accounting export of finished session runs (UsageRecords). */
import { KubeConfig } from '@kubernetes/client-node';
import type { ParsedArgs } from './args.ts';
import { API_VERSION, LABELS } from '../api/v1alpha1/group.ts';
import type { UsageRecord } from '../api/v1alpha1/usage-record.ts';
import { kubeClientFromConfig } from '../runtime/kube.ts';
import { KubeApiError } from '../runtime/kube-http.ts';
import type { KubeObject } from '../runtime/resource.ts';
import { parseUsageOptions, proposalLabel } from '../usage/options.ts';
import { renderCsv, renderJson } from '../usage/render.ts';
import { usageRows } from '../usage/rows.ts';

export const USAGE_HELP = `Usage: panalysis usage [--proposal P] [--since D] [--until D] [--format csv|json] [--namespace NS]

The accounting of finished session runs, from the UsageRecords (kubectl get pusage -A) the
operator writes when a run ends. Reads with the credentials of KUBECONFIG (or ~/.kube/config).

  --proposal P     only proposal P (default: every proposal)
  --since D        only runs that end after D (default: no lower bound)
  --until D        only runs that start before D (default: no upper bound)
  --format F       csv (default; RFC 4180, header row, CRLF line ends) or json
  --namespace NS   only records in namespace NS (default: all namespaces)

D is a date (2026-11-01, meaning 00:00 UTC of that day) or an RFC 3339 instant with its
offset (2026-11-01T08:00:00+01:00). The interval is [since, until): --since 2026-11-01
--until 2026-12-01 is the whole of November.

A run that crosses --since or --until is included and cut to the interval: hours,
gpuHours and cpuHours count only the time inside the interval, while start and end stay
the run's own. So the months of a year add up to the year, and no hour is billed twice.

Columns: proposal, user, session, run, profile, type, gpus, gpuFlavour, cpuCores,
memoryGiB, start, end, hours, gpuHours, cpuHours, endReason, imageDigest, namespace.
gpuHours = gpus x hours, cpuHours = cpuCores x hours (4 decimals). JSON gives
{since, until, runs: [rows with the same fields], totals: [per proposal, with users]}.
Only finished runs are counted: a session still running has no record yet.

Exit codes: 0 done, 1 the cluster could not be read, 2 bad flags.
`;

/** Runs `panalysis usage`; sets exit code 2 on bad flags. */
export async function usageCommand(args: ParsedArgs): Promise<void> {
  const options = parseUsageOptions(args);
  if ('error' in options) {
    process.stderr.write(`panalysis usage: ${options.error}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(USAGE_HELP);
    return;
  }
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const selector = options.proposal === undefined ? undefined : `${LABELS.proposal}=${proposalLabel(options.proposal)}`;
  let records: UsageRecord[];
  try {
    records = await kubeClientFromConfig(kc).list<UsageRecord & KubeObject>(
      { apiVersion: API_VERSION, kind: 'UsageRecord' },
      { namespace: options.namespace, labelSelector: selector },
    );
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 403 && options.namespace === undefined) {
      throw new Error(`${err.message}; a proposal member reads the records of one namespace: add --namespace NS`, { cause: err });
    }
    throw err;
  }
  const { rows, unreadable } = usageRows(records, { proposal: options.proposal, interval: options.interval });
  for (const name of unreadable) process.stderr.write(`panalysis usage: skipped UsageRecord ${name}: its start or end is not a timestamp\n`);
  process.stdout.write(options.format === 'json' ? renderJson(rows, options.interval) : renderCsv(rows));
}

// SPDX-License-Identifier: Apache-2.0
/** UsageRecords for the usage export's tests, and a CSV reader to check its output. */
import { API_VERSION, LABELS } from '../api/v1alpha1/group.ts';
import type { UsageRecord, UsageRecordSpec } from '../api/v1alpha1/usage-record.ts';

/**
 * A record of `gpus` GPUs and 4 cores for `[start, end)`, with the labels, `gpuSeconds` and
 * `cpuMilliSeconds` the quota controller would write; `spec` overrides any field.
 */
export function usageRecord(start: string, end: string, spec: Partial<UsageRecordSpec> = {}, namespace = 'proposal-20231234'): UsageRecord {
  const gpus = spec.gpus ?? 1;
  const cpuMillis = spec.cpuMillis ?? 4000;
  const seconds = Math.max(0, (Date.parse(end) - Date.parse(start)) / 1000);
  const full: UsageRecordSpec = {
    proposal: '20231234',
    quota: 'default',
    session: 'alice-lab',
    sessionUID: 'uid-1',
    run: 1,
    user: 'alice',
    profile: 'gpu-small',
    type: 'jupyterlab',
    gpuFlavour: 'a100',
    memoryBytes: 16 * 1024 ** 3,
    endReason: 'Stopped',
    imageDigest: 'sha256:0123abcd',
    ...spec,
    gpus,
    cpuMillis,
    start,
    end,
    gpuSeconds: spec.gpuSeconds ?? gpus * seconds,
    cpuMilliSeconds: spec.cpuMilliSeconds ?? cpuMillis * seconds,
  };
  const labels = { [LABELS.proposal]: full.proposal.slice(0, 63), [LABELS.session]: full.session, [LABELS.user]: full.user };
  return { apiVersion: API_VERSION, kind: 'UsageRecord', metadata: { name: `${full.session}-r${full.run}`, namespace, labels }, spec: full };
}

/** Reads RFC 4180 CSV back (quoted fields with doubled quotes, CRLF records). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      record.push(field);
      field = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  return records;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * API traffic of a workload from the kube-apiserver's `apiserver_request_total` (pure): every
 * client's requests (operator, loader, scheduler, controller-manager, kwok), counted per verb
 * and per "VERB resource[/subresource]" between two scrapes, and per session.
 */
import { samples } from './metrics-text.ts';

/** Verbs that change state. */
export const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);

/** apiserver_request_total summed per "VERB resource[/subresource]". */
export function requestsByKind(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples(text, 'apiserver_request_total')) {
    const l = s.labels;
    const key = `${l.verb ?? '?'} ${l.resource ?? ''}${l.subresource ? `/${l.subresource}` : ''}`;
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

export interface ApiFigures {
  /** All requests the apiserver answered meanwhile (reads, watches and writes of every client). */
  requests: number;
  /** Of which writes (POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION). */
  writes: number;
  requestsPerSession: number;
  writesPerSession: number;
  /** Writes the load generator itself sent (its creates), known from the workload. */
  loaderWrites: number;
  /** Writes per session without the loader's. */
  writesPerSessionBesidesLoader: number;
  writesByVerb: Record<string, number>;
  /** The most frequent writes, "VERB resource[/subresource]" → count, largest first (at most 12). */
  topWrites: Record<string, number>;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Figures from the per-kind request counts of a workload (`delta`, from {@link requestsByKind}
 * before and after) over `sessions` sessions, `loaderWrites` of the writes being the loader's.
 */
export function apiFigures(delta: Record<string, number>, sessions: number, loaderWrites: number): ApiFigures {
  let requests = 0;
  let writes = 0;
  const writesByVerb: Record<string, number> = {};
  const kinds: Array<[string, number]> = [];
  for (const [kind, n] of Object.entries(delta)) {
    requests += n;
    const verb = kind.split(' ')[0]!;
    if (!WRITE_VERBS.has(verb)) continue;
    writes += n;
    writesByVerb[verb] = (writesByVerb[verb] ?? 0) + n;
    kinds.push([kind, n]);
  }
  const per = Math.max(1, sessions);
  return {
    requests,
    writes,
    requestsPerSession: round2(requests / per),
    writesPerSession: round2(writes / per),
    loaderWrites,
    writesPerSessionBesidesLoader: round2((writes - loaderWrites) / per),
    writesByVerb,
    topWrites: Object.fromEntries(kinds.sort((a, b) => b[1] - a[1]).slice(0, 12)),
  };
}

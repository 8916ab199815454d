// SPDX-License-Identifier: Apache-2.0
/**
 * Prometheus text exposition for the benchmark: samples of one family, summed by a label,
 * and the difference between two scrapes. Scrapes the operator's /metrics (plain http) and
 * the kube-apiserver's /metrics (through the kubeconfig's credentials).
 */
import { request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of family `name` (exact metric name) in `text`. */
export function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples of `name` that match `where`, per value of label `by` (all under '' when `by` is absent). */
export function sumBy(text: string, name: string, by?: string, where: Record<string, string> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples(text, name)) {
    if (Object.entries(where).some(([k, v]) => s.labels[k] !== v)) continue;
    const key = by ? (s.labels[by] ?? '') : '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** `after - before` per key, keeping only keys that changed. */
export function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** The operator's /metrics text. */
export async function operatorMetrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The kube-apiserver's /metrics text, with the credentials of the current context of `kc`. */
export async function apiServerMetrics(kc: KubeConfig): Promise<string> {
  const url = new URL('/metrics', kc.getCurrentCluster()!.server);
  const options: RequestOptions = { method: 'GET', headers: {} };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url.href}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

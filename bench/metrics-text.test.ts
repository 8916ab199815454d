// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { delta, samples, sumBy } from './metrics-text.ts';

const TEXT = `# HELP controller_runtime_kube_writes_total Write requests sent to the API server, by verb.
# TYPE controller_runtime_kube_writes_total counter
controller_runtime_kube_writes_total{verb="apply"} 12
controller_runtime_kube_writes_total{verb="replaceStatus"} 5
controller_runtime_kube_writes_total_other{verb="apply"} 99
apiserver_request_total{code="409",group="panalysis.io",resource="resourcequotas",subresource="status",verb="PUT"} 3
apiserver_request_total{code="200",group="panalysis.io",resource="resourcequotas",subresource="status",verb="PUT"} 40
apiserver_request_total{code="409",group="",resource="resourcequotas",subresource="",verb="PUT"} 7
`;

describe('Prometheus text for the benchmark', () => {
  it('reads the samples of one family only, with their labels', () => {
    expect(samples(TEXT, 'controller_runtime_kube_writes_total')).toEqual([
      { labels: { verb: 'apply' }, value: 12 },
      { labels: { verb: 'replaceStatus' }, value: 5 },
    ]);
  });
  it('sums by a label among the samples that match', () => {
    expect(sumBy(TEXT, 'apiserver_request_total', 'code', { group: 'panalysis.io' })).toEqual({ 409: 3, 200: 40 });
    expect(sumBy(TEXT, 'apiserver_request_total', undefined, { code: '409' })).toEqual({ '': 10 });
  });
  it('keeps only what changed between two scrapes', () => {
    expect(delta({ apply: 12, patch: 4 }, { apply: 20, patch: 4, create: 1 })).toEqual({ apply: 8, create: 1 });
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { apiFigures, requestsByKind } from './api-figures.ts';
import { delta } from './metrics-text.ts';

const scrape = (posts: number, patches: number, lists: number) => [
  `apiserver_request_total{code="201",component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} ${posts}`,
  `apiserver_request_total{code="200",component="apiserver",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} ${patches}`,
  `apiserver_request_total{code="200",component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} ${lists}`,
].join('\n');

describe('apiserver figures', () => {
  it('counts requests per verb and resource, writes apart, per session and without the loader’s writes', () => {
    const d = delta(requestsByKind(scrape(10, 5, 3)), requestsByKind(scrape(30, 25, 4)));
    expect(d).toEqual({ 'POST pods': 20, 'PATCH pods/status': 20, 'LIST pods': 1 });
    expect(apiFigures(d, 10, 10)).toEqual({
      requests: 41, writes: 40, requestsPerSession: 4.1, writesPerSession: 4, loaderWrites: 10, writesPerSessionBesidesLoader: 3,
      writesByVerb: { POST: 20, PATCH: 20 }, topWrites: { 'POST pods': 20, 'PATCH pods/status': 20 },
    });
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { addressesOf } from './apiserver-addresses.ts';

describe('addressesOf', () => {
  it('collects every endpoint address of the slices, sorted and once', () => {
    const slice = (...addresses: string[][]) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'kubernetes' }, endpoints: addresses.map((a) => ({ addresses: a })) });
    expect(addressesOf([slice(['203.0.114.8'], ['203.0.114.7']), slice(['203.0.114.7']), { apiVersion: 'v1', kind: 'EndpointSlice', metadata: {} }])).toEqual(['203.0.114.7', '203.0.114.8']);
  });
});

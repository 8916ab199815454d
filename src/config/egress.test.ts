// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { apiserverExceptedConfig, cidrContains, parseCidr, withAddressesExcepted } from './egress.ts';
import { SPECIAL_IPV4, SPECIAL_IPV6 } from './schema.ts';

describe('cidrContains', () => {
  const cases: Array<[string, string, boolean]> = [
    ['0.0.0.0/0', '203.0.114.7/32', true], ['10.0.0.0/8', '10.1.2.3/32', true], ['10.0.0.0/8', '11.0.0.1/32', false],
    ['::/0', '2a00:1450::1/128', true], ['::/0', '10.0.0.1/32', false], ['64:ff9b::/96', '64:ff9b::a00:1/128', true],
    ['fc00::/7', 'fd12:3456::1/128', true], ['fe80::/10', 'fe80::1/128', true], ['fe80::/10', 'fec0::1/128', false],
    ['192.168.0.0/16', '192.168.0.0/15', false],
  ];
  it.each(cases)('%s contains %s: %s', (outer, inner, want) => expect(cidrContains(outer, inner)).toBe(want));
  it('parses every default range', () => {
    for (const c of [...SPECIAL_IPV4, ...SPECIAL_IPV6]) expect(parseCidr(c), c).toBeDefined();
    expect(parseCidr('10.0.0.256/8')).toBeUndefined();
    expect(parseCidr('1::2::3/64')).toBeUndefined();
  });
});

describe('withAddressesExcepted', () => {
  const allow = [{ cidr: '0.0.0.0/0', except: [...SPECIAL_IPV4] }, { cidr: '::/0', except: [...SPECIAL_IPV6] }];
  it('excepts a public API server address from the rule that contains it', () => {
    const out = withAddressesExcepted(allow, ['203.0.114.7', '2a00:1450::1']);
    expect(out[0]!.except).toEqual([...SPECIAL_IPV4, '203.0.114.7/32']);
    expect(out[1]!.except).toEqual([...SPECIAL_IPV6, '2a00:1450::1/128']);
  });
  it('adds nothing for an address a private range already covers', () => {
    expect(withAddressesExcepted(allow, ['10.0.0.1', 'fd00::1'])).toEqual(allow);
  });
  it('leaves rules that do not contain the address as they are', () => {
    expect(withAddressesExcepted([{ cidr: '198.51.100.0/24' }], ['203.0.114.7'])).toEqual([{ cidr: '198.51.100.0/24' }]);
  });
});

describe('apiserverExceptedConfig', () => {
  it('returns the same object until the configuration or the addresses change', async () => {
    const { parseConfig } = await import('./load.ts');
    const { readFileSync } = await import('node:fs');
    const { DEMO_CONFIG } = await import('../operator/spawn.ts');
    let config = parseConfig(readFileSync(DEMO_CONFIG, 'utf8'));
    let addresses = ['203.0.114.7'];
    const get = apiserverExceptedConfig(() => config, () => addresses);
    const first = get();
    expect(get()).toBe(first);
    expect(first.network.egress.allow[0]!.except).toContain('203.0.114.7/32');
    addresses = ['203.0.114.8'];
    expect(get().network.egress.allow[0]!.except).toContain('203.0.114.8/32');
    config = { ...config, network: { ...config.network, egress: { ...config.network.egress, excludeApiserver: false } } };
    expect(get().network.egress.allow[0]!.except).not.toContain('203.0.114.8/32');
  });
});

// SPDX-License-Identifier: Apache-2.0
/**
 * Egress rules and the API server (pure): the `kubernetes` Service's endpoints may be
 * public addresses (managed clusters), which `0.0.0.0/0` minus private ranges would let
 * sessions reach. {@link withAddressesExcepted} adds each such address as a /32 or /128
 * `except` to every allow rule that contains it.
 */
import type { NetworkConfig, OperatorConfig } from './schema.ts';

type Allow = NetworkConfig['egress']['allow'][number];

interface Cidr {
  v6: boolean;
  bits: bigint;
  prefix: number;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseV6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail];
  if (all.length !== 8 || all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Parses `a.b.c.d/n`, `x:y::z/n` or a bare address (a host route); `undefined` if invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  const v6 = addr.includes(':');
  const bits = v6 ? parseV6(addr) : parseV4(addr);
  const max = v6 ? 128 : 32;
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (bits === undefined || !(prefix >= 0 && prefix <= max)) return undefined;
  return { v6, bits, prefix };
}

/** True when `inner` lies inside `outer` (same family). */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || o.v6 !== i.v6 || i.prefix < o.prefix) return false;
  const shift = BigInt((o.v6 ? 128 : 32) - o.prefix);
  return o.bits >> shift === i.bits >> shift;
}

/** `allow` with each address of `addresses` excepted from every rule whose cidr contains it (and no except covers yet). */
export function withAddressesExcepted(allow: readonly Allow[], addresses: readonly string[]): Allow[] {
  return allow.map((rule) => {
    const extra = addresses
      .map((a) => `${a}/${a.includes(':') ? 128 : 32}`)
      .filter((host) => cidrContains(rule.cidr, host) && !(rule.except ?? []).some((e) => cidrContains(e, host)));
    const unique = [...new Set(extra)].sort();
    return unique.length === 0 ? rule : { ...rule, except: [...(rule.except ?? []), ...unique] };
  });
}

/** `config` with the API server's addresses excepted from egress, when `excludeApiserver` is on. */
export function withApiserverExcepted(config: OperatorConfig, addresses: readonly string[]): OperatorConfig {
  const egress = config.network.egress;
  if (egress.excludeApiserver === false || addresses.length === 0) return config;
  return { ...config, network: { ...config.network, egress: { ...egress, allow: withAddressesExcepted(egress.allow, addresses) } } };
}

/**
 * `current()` with `addresses()` excepted, recomputed only when either changes (the same
 * object is returned between changes, so callers may compare by identity).
 */
export function apiserverExceptedConfig(current: () => OperatorConfig, addresses: () => readonly string[]): () => OperatorConfig {
  let memo: { config: OperatorConfig; key: string; out: OperatorConfig } | undefined;
  return () => {
    const config = current();
    const key = addresses().join(',');
    if (memo?.config !== config || memo.key !== key) memo = { config, key, out: withApiserverExcepted(config, addresses()) };
    return memo.out;
  };
}

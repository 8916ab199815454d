// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datasetVolumeMountName, isControlledBy, RESERVED_SESSION_PREFIX, sessionNames } from './names.ts';
import { datasetClaimName } from './dataset-volume.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const arbLabel = (max: number) => fc.stringMatching(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).filter((s) => s.length <= max);
const arbLong = fc.tuple(fc.integer({ min: 50, max: 63 }), fc.stringMatching(/^[a-z0-9]+$/)).map(([n, tail]) => `${'a'.repeat(Math.max(1, n - tail.length))}${tail}`.slice(0, 63)).filter((s) => DNS_LABEL.test(s));

describe('names that cannot break', () => {
  it('pod volume names of datasets are DNS labels of at most 63 characters, for DatasetMount names up to 63', () => {
    fc.assert(fc.property(fc.oneof(arbLabel(63), arbLong), (name) => {
      const v = datasetVolumeMountName(name);
      expect(v.length).toBeLessThanOrEqual(63);
      expect(v).toMatch(DNS_LABEL);
      expect(['home', 'credentials', 'tmp']).not.toContain(v);
    }), { numRuns: 500 });
  });

  it('distinct DatasetMount names give distinct volume names, around the 58-63 character edge too', () => {
    const base = 'x'.repeat(49);
    const names = ['a'.repeat(57), 'a'.repeat(58), 'a'.repeat(59), 'a'.repeat(63), `${base}-aaaaaaaaaaaaa`, `${base}-aaaaaaaaaaaab`];
    const long = datasetVolumeMountName('a'.repeat(63));
    names.push(long.slice('data-'.length)); // a name that spells another name's long form
    const volumes = names.map(datasetVolumeMountName);
    expect(new Set(volumes).size).toBe(names.length);
    fc.assert(fc.property(fc.uniqueArray(fc.oneof(arbLabel(63), arbLong), { maxLength: 16 }), (xs) => {
      expect(new Set(xs.map(datasetVolumeMountName)).size).toBe(xs.length);
    }), { numRuns: 300 });
  });

  it('a session\'s home claim never takes the claim name of a DatasetMount (names may not start with dataset-)', () => {
    // The CRD refuses session names with the reserved prefix; every other name keeps clear of dataset-<x>.
    expect(sessionNames('dataset-x').home).toBe(datasetClaimName('x-home')); // why the prefix is reserved
    fc.assert(fc.property(arbLabel(40).filter((n) => /^[a-z]/.test(n) && !n.startsWith(RESERVED_SESSION_PREFIX)), arbLabel(63), (session, dm) => {
      expect(sessionNames(session).home).not.toBe(datasetClaimName(dm));
    }), { numRuns: 500 });
  });

  it('ownership is the controller reference with the session UID, nothing else', () => {
    const ref = (uid: string, controller?: boolean) => ({ metadata: { ownerReferences: [{ uid, ...(controller === undefined ? {} : { controller }) }] } });
    expect(isControlledBy(ref('u1', true), 'u1')).toBe(true);
    expect(isControlledBy(ref('u1'), 'u1')).toBe(false);
    expect(isControlledBy(ref('u2', true), 'u1')).toBe(false);
    expect(isControlledBy({ metadata: {} }, 'u1')).toBe(false);
    expect(isControlledBy(ref('u1', true), undefined)).toBe(false);
  });
});

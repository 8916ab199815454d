// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaderElector, type LeaseApi } from './leader.ts';
import { FakeClock } from './testing/fake-clock.ts';
import { FakeLeases, LeaseLink } from './testing/fake-leases.ts';

function candidate(clock: FakeClock, api: LeaseApi, identity: string) {
  const link = new LeaseLink(api);
  const log: string[] = [];
  const elector = new LeaderElector({
    namespace: 'sys',
    name: 'op',
    identity,
    api: link,
    clock,
    random: () => 0,
    onStartedLeading: () => log.push('started'),
    onStoppedLeading: () => log.push('stopped'),
    onNewLeader: (id) => log.push(`leader:${id}`),
  });
  return { elector, link, log, result: elector.run() };
}

describe('LeaderElector', () => {
  it('creates a missing lease, then renews it every retry period', async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = candidate(clock, api, 'a');
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(api.lease?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const firstRenew = api.lease?.spec?.renewTime;
    await clock.advance(2_000);
    expect(api.lease?.spec?.renewTime).not.toBe(firstRenew);
    expect(api.lease?.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await a.elector.stop();
    expect(a.log).toEqual(['leader:a', 'started', 'stopped']);
  });

  it('waits a full lease duration on its own clock before taking a silent lease, whatever its renewTime says', async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    api.seed({ holderIdentity: 'old', leaseDurationSeconds: 15, renewTime: '2000-01-01T00:00:00.000000Z', leaseTransitions: 4 });
    const b = candidate(clock, api, 'b');
    await clock.advance(14_000);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(api.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 5 });
    expect(b.log).toEqual(['leader:old', 'leader:b', 'started']);
    await b.elector.stop();
  });

  it('takes a released lease at once', async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    api.seed({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 });
    const b = candidate(clock, api, 'b');
    await clock.advance(0);
    expect(b.elector.isLeader()).toBe(true);
    await b.elector.stop();
  });

  it('never takes a lease whose holder keeps renewing', async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = candidate(clock, api, 'a');
    await clock.advance(0);
    const b = candidate(clock, api, 'b');
    await clock.advance(120_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it('survives renew failures shorter than the renew deadline', async () => {
    const clock = new FakeClock();
    const a = candidate(clock, new FakeLeases(), 'a');
    await clock.advance(0);
    a.link.mode = 'fail';
    await clock.advance(8_000);
    a.link.mode = 'ok';
    await clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
  });

  it.each(['fail', 'hang'] as const)('stops leading when renewals %s past the renew deadline', async (mode) => {
    const clock = new FakeClock();
    const a = candidate(clock, new FakeLeases(), 'a');
    await clock.advance(0);
    a.link.mode = mode;
    await clock.advance(9_000);
    expect(a.elector.isLeader()).toBe(true);
    await clock.advance(3_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(await a.result).toBe('lost');
    expect(a.log).toEqual(['leader:a', 'started', 'stopped']);
  });

  it('releases the lease on stop so a waiting candidate takes over within a retry period', async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = candidate(clock, api, 'a');
    await clock.advance(0);
    const b = candidate(clock, api, 'b');
    await clock.advance(5_000);
    await a.elector.stop();
    expect(api.lease?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await clock.advance(2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(api.lease?.spec?.leaseTransitions).toBe(1);
    await b.elector.stop();
  });
});

describe('LeaderElector properties', () => {
  /** A replica that, like the operator process, restarts its elector after losing the lease. */
  function replica(clock: FakeClock, api: LeaseApi, identity: string) {
    const self = { ...candidate(clock, api, identity), stopped: false };
    const restartOnLoss = (result: Promise<'lost' | 'stopped'>): void =>
      void result.then((outcome) => {
        if (outcome !== 'lost' || self.stopped) return;
        const next = new LeaderElector({ namespace: 'sys', name: 'op', identity, api: self.link, clock, random: () => 0 });
        self.elector = next;
        restartOnLoss(next.run());
      });
    restartOnLoss(self.result);
    return self;
  }

  it('never has two leaders at once, and has one again after outages end', async () => {
    const outage = fc.record({
      who: fc.nat(2),
      at: fc.nat(60_000),
      length: fc.integer({ min: 1_000, max: 30_000 }),
      mode: fc.constantFrom('fail' as const, 'hang' as const),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(outage, { maxLength: 6 }), async (outages) => {
        const clock = new FakeClock(0);
        const api = new FakeLeases();
        const replicas = ['a', 'b', 'c'].map((id) => replica(clock, api, id));
        for (const { who, at, length, mode } of outages) {
          const link = replicas[who]!.link;
          clock.after(at, () => (link.mode = mode));
          clock.after(at + length, () => (link.mode = 'ok'));
        }
        for (let t = 0; t < 130_000; t += 1_000) {
          await clock.advance(1_000);
          expect(replicas.filter((r) => r.elector.isLeader()).length).toBeLessThanOrEqual(1);
        }
        expect(replicas.filter((r) => r.elector.isLeader())).toHaveLength(1);
        for (const r of replicas) r.stopped = true;
        await Promise.all(replicas.map((r) => r.elector.stop()));
      }),
      { numRuns: 20 },
    );
  }, 30_000);
});

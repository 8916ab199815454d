// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { eventsFor } from './events.ts';
import type { AnalysisSessionStatus } from '../../api/v1alpha1/analysis-session.ts';

const at = '2026-12-01T12:00:00Z';
const status = (...conditions: Array<[string, string, string, string?]>): AnalysisSessionStatus => ({
  conditions: conditions.map(([type, s, reason, message]) => ({ type, status: s as 'True', reason, message: message ?? reason, lastTransitionTime: at })),
});

describe('eventsFor', () => {
  it('tells each warning lead time once', () => {
    const notDue = status(['Ready', 'True', 'Running'], ['Expiring', 'False', 'NotDue']);
    const hour = status(['Ready', 'True', 'Running'], ['Expiring', 'True', 'ExpiresWithin1h', 'stops soon']);
    const tenMinutes = status(['Ready', 'True', 'Running'], ['Expiring', 'True', 'ExpiresWithin10m', 'stops very soon']);
    expect(eventsFor(notDue, hour)).toEqual([{ type: 'Warning', reason: 'ExpiresWithin1h', note: 'stops soon' }]);
    expect(eventsFor(hour, hour)).toEqual([]);
    expect(eventsFor(hour, tenMinutes)).toEqual([{ type: 'Warning', reason: 'ExpiresWithin10m', note: 'stops very soon' }]);
  });

  it('tells a refused renewal once, and an expiry as the Ready change', () => {
    const refused = status(['Ready', 'True', 'Running'], ['Renewed', 'False', 'RenewalLimit', 'spec.renewals: 4 is more than the 3 renewals allowed']);
    expect(eventsFor(status(['Ready', 'True', 'Running']), refused)).toEqual([{ type: 'Warning', reason: 'RenewalRefused', note: 'spec.renewals: 4 is more than the 3 renewals allowed' }]);
    expect(eventsFor(refused, refused)).toEqual([]);
    expect(eventsFor(refused, status(['Ready', 'False', 'LifetimeExpired', 'ended']))).toEqual([{ type: 'Normal', reason: 'LifetimeExpired', note: 'ended' }]);
  });
});

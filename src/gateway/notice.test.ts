// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import { noticeScript, sessionNotice } from './notice.ts';

const session = (conditions: Array<{ type: string; status: string; message: string }>): AnalysisSession =>
  ({ metadata: { name: 'nb', namespace: 'p1' }, spec: { user: 'alice', type: 'jupyter', profile: 'x' }, status: { conditions } }) as unknown as AnalysisSession;

describe('the notice of a session', () => {
  it("is the operator's message of a True Expiring or Idle condition", () => {
    expect(sessionNotice(session([{ type: 'Ready', status: 'True', message: 'Running.' }]))).toBeUndefined();
    expect(sessionNotice(session([{ type: 'Expiring', status: 'False', message: 'Ends at 18:00.' }]))).toBeUndefined();
    expect(sessionNotice(session([{ type: 'Expiring', status: 'True', message: 'The session ends at 2026-12-01T18:00:00Z (in 10m).' }]))).toBe('The session ends at 2026-12-01T18:00:00Z (in 10m).');
    expect(sessionNotice(session([{ type: 'Idle', status: 'True', message: 'Idle: stops at 17:00.' }, { type: 'Expiring', status: 'True', message: 'Ends at 18:00.' }]))).toBe('Ends at 18:00. Idle: stops at 17:00.');
  });

  it('is shown by a script that asks the session\'s own status path', () => {
    expect(noticeScript('/s/p1/nb/')).toBe('<script src="/_panalysis/assets/notice.js" data-panalysis-status="/s/p1/nb/_panalysis/status" defer></script>');
  });
});

// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import { decideOpen, sharingOutsiders } from './session-access.ts';

function session(sharedWith?: AnalysisSession['spec']['sharedWith']): AnalysisSession {
  return { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name: 'nb', namespace: 'p1', uid: 'u1' }, spec: { user: 'alice', type: 'jupyter', profile: 'x', ...(sharedWith ? { sharedWith } : {}) } } as AnalysisSession;
}
const members = { kind: 'found' as const, id: 'p1', members: ['alice', 'bob', 'carol'] };

describe('who may open a session', () => {
  it('lets the owner in while a member of the proposal', () => {
    expect(decideOpen(session(), { user: 'alice', groups: [] }, members)).toMatchObject({ allow: true, role: 'owner' });
    expect(decideOpen(session(), { user: 'alice', groups: [] }, { ...members, members: ['bob'] })).toMatchObject({ allow: false, status: 403, reason: 'NotProposalMember' });
  });

  it('lets collaborators in by name or group only when they are members of the proposal', () => {
    expect(decideOpen(session({ users: ['bob'] }), { user: 'bob', groups: [] }, members)).toMatchObject({ allow: true, role: 'shared', reason: 'SharedWithUser' });
    expect(decideOpen(session({ groups: ['beamline-x'] }), { user: 'carol', groups: ['beamline-x'] }, members)).toMatchObject({ allow: true, reason: 'SharedWithGroup:beamline-x' });
    expect(decideOpen(session({ groups: ['beamline-x'] }), { user: 'mallory', groups: ['beamline-x'] }, members)).toMatchObject({ allow: false, reason: 'NotProposalMember' });
  });

  it('refuses everyone else with a message that says why', () => {
    const d = decideOpen(session({ users: ['bob'] }), { user: 'carol', groups: ['staff'] }, members);
    expect(d).toMatchObject({ allow: false, status: 403, reason: 'NotShared' });
    expect(!d.allow && d.message).toContain('belongs to alice and is not shared with you (carol)');
  });

  it('does not guess when the proposal source is down or does not know the proposal', () => {
    expect(decideOpen(session(), { user: 'alice', groups: [] }, { kind: 'unavailable', message: 'timeout' })).toMatchObject({ allow: false, status: 503, reason: 'DirectoryUnavailable' });
    expect(decideOpen(session(), { user: 'alice', groups: [] }, { kind: 'missing', id: 'p9' })).toMatchObject({ allow: false, reason: 'ProposalNotFound' });
    expect(decideOpen(session({ users: ['bob'] }), { user: 'bob', groups: [] }, { kind: 'none' })).toMatchObject({ allow: true });
  });

  it('names the collaborators outside the proposal', () => {
    expect(sharingOutsiders(session({ users: ['bob', 'zoe'] }), members.members)).toEqual(['zoe']);
  });
});

// SPDX-License-Identifier: Apache-2.0
/**
 * The notice a session's pages show (pure): the operator's warning that the session ends soon
 * (the `Expiring` condition: lifetime, renewal limit or beamtime) or stops for being idle (the
 * `Idle` condition), in the operator's words. `notice.js` shows it as a banner over JupyterLab
 * and desktop pages, asking the session's status every minute (which is not activity).
 */
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import { escapeHtml } from './http.ts';
import { ASSET_PREFIX } from './pages.ts';

/** Conditions that, while True, are shown to the people using the session. */
export const NOTICE_CONDITIONS = ['Expiring', 'Idle'] as const;

/** The notice for `session`, or undefined; the soonest first when both hold. */
export function sessionNotice(session: AnalysisSession): string | undefined {
  const found = NOTICE_CONDITIONS.map((type) => session.status?.conditions?.find((c) => c.type === type && c.status === 'True')).filter((c) => c !== undefined);
  const messages = found.map((c) => c.message).filter((m): m is string => typeof m === 'string' && m !== '');
  return messages.length > 0 ? messages.join(' ') : undefined;
}

/** The script tag that shows the notice banner on a page of the session under `base` (its path, ending in `/`). */
export function noticeScript(base: string): string {
  return `<script src="${ASSET_PREFIX}notice.js" data-panalysis-status="${escapeHtml(`${base}_panalysis/status`)}" defer></script>`;
}

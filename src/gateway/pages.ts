// SPDX-License-Identifier: Apache-2.0
/**
 * The gateway's own pages (pure HTML builders): no inline script or style (the CSP allows
 * only the gateway's own files), every dynamic text escaped.
 */
import { escapeHtml } from './http.ts';

/** Where the gateway's own scripts and styles are served. */
export const ASSET_PREFIX = '/_panalysis/assets/';

/** A complete page around `body` (HTML that the caller escaped). */
export function pageHtml(o: { title: string; body: string; scripts?: string[]; styles?: string[]; bodyAttrs?: Record<string, string> }): string {
  const attrs = Object.entries(o.bodyAttrs ?? {}).map(([k, v]) => ` ${k}="${escapeHtml(v)}"`).join('');
  const styles = ['page.css', ...(o.styles ?? [])].map((s) => `<link rel="stylesheet" href="${s.startsWith('/') ? s : ASSET_PREFIX + s}">`).join('');
  const scripts = (o.scripts ?? []).map((s) => `<script type="module" src="${s.startsWith('/') ? s : ASSET_PREFIX + s}"></script>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(o.title)} · panalysis</title>${styles}${scripts}</head><body${attrs}>${o.body}</body></html>`;
}

/** A page with a heading, a message and optional links `[text, href]`. */
export function messagePage(title: string, message: string, links: Array<[string, string]> = [], extra = ''): string {
  const list = links.map(([text, href]) => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`).join(' · ');
  return pageHtml({ title, body: `<main><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(message)}</p>${extra}${list ? `<p>${list}</p>` : ''}</main>` });
}

/** 403: who you are, what you asked for, why not. */
export function forbiddenPage(user: string, reason: string, message: string, logoutHref: string): string {
  return messagePage('Access denied', message, [['Sign out', logoutHref]], `<p class="detail">Signed in as <strong>${escapeHtml(user)}</strong> · reason: <code>${escapeHtml(reason)}</code></p>`);
}

/** 404 for a session that does not exist (or whose name is not a session path). */
export function notFoundPage(what: string): string {
  return messagePage('Not found', `${what} does not exist. It may have been deleted; your portal lists the sessions you can open.`);
}

/**
 * The waiting page: the session's phase and status message, refreshed by `waiting.js`
 * from `statusUrl` (JSON) every two seconds; it reloads itself when the session is Ready.
 */
export function waitingPage(session: string, phase: string, message: string, statusUrl: string): string {
  return pageHtml({
    title: `Starting ${session}`,
    scripts: ['waiting.js'],
    bodyAttrs: { 'data-status': statusUrl },
    body: `<main><h1>Your session ${escapeHtml(session)} is starting</h1><p>Phase: <strong id="phase">${escapeHtml(phase)}</strong></p><p id="message">${escapeHtml(message)}</p><p class="detail">This page moves on by itself when the session is ready.</p></main>`,
  });
}

/** The sign-out page: a form (POST with the CSRF token), never a link that signs out on GET. */
export function logoutPage(user: string, csrf: string): string {
  return pageHtml({
    title: 'Sign out',
    body: `<main><h1>Sign out</h1><p>Signed in as <strong>${escapeHtml(user)}</strong>.</p><form method="post" action="/_panalysis/logout"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">Sign out</button></form></main>`,
  });
}

/** The gateway's home: who is signed in and the sessions they may open. */
export function homePage(user: string, sessions: Array<{ ref: string; phase: string; url: string; role: string }>): string {
  const rows = sessions.map((s) => `<tr><td><a href="${escapeHtml(s.url)}">${escapeHtml(s.ref)}</a></td><td>${escapeHtml(s.phase)}</td><td>${escapeHtml(s.role)}</td></tr>`).join('');
  const table = rows ? `<table><thead><tr><th>Session</th><th>Phase</th><th>Access</th></tr></thead><tbody>${rows}</tbody></table>` : '<p>You have no sessions. Your facility portal starts them.</p>';
  return pageHtml({ title: 'Sessions', body: `<main><h1>Your sessions</h1><p class="detail">Signed in as <strong>${escapeHtml(user)}</strong> · <a href="/_panalysis/logout">Sign out</a></p>${table}</main>` });
}

// SPDX-License-Identifier: Apache-2.0
/**
 * The local identity provider's HTML pages: sign-in form, sign-out confirmation, signed-out
 * notice, error. No script at all; the one stylesheet is inline and allowed by its hash.
 */
import { createHash } from 'node:crypto';

const STYLE = 'body{font-family:sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem}'
  + 'label,input,button{display:block;width:100%;box-sizing:border-box;margin:.3rem 0}'
  + 'input,button{padding:.5rem;font-size:1rem}button{margin-top:1rem}.error{color:#b00020}';

/**
 * Content-Security-Policy for every page here: nothing may load or run but the inline
 * stylesheet, and no other site may frame the page (clickjacking of the sign-in form).
 */
export const PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; `
  + "frame-ancestors 'none'; base-uri 'none'";

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">`
    + '<meta name="viewport" content="width=device-width, initial-scale=1">'
    + `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>`
    + `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>\n`;
}

/**
 * The sign-in form. It posts back to `action` (the interaction's own URL). `error` is shown
 * above the form; `username` refills its field (never the password).
 */
export function loginPage(action: string, clientName: string, opts: { error?: string; username?: string } = {}): string {
  const error = opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : '';
  return page('Sign in', `<p>to continue to ${escapeHtml(clientName)}</p>${error}`
    + `<form method="post" action="${escapeHtml(action)}">`
    + '<label for="username">Username</label>'
    + `<input id="username" name="username" autocomplete="username" autocapitalize="none" required value="${escapeHtml(opts.username ?? '')}">`
    + '<label for="password">Password</label>'
    + '<input id="password" name="password" type="password" autocomplete="current-password" required>'
    + '<button type="submit">Sign in</button></form>');
}

/**
 * The sign-out confirmation. `form` is oidc-provider's hidden form (id `op.logoutForm`, with
 * its xsrf field); the buttons submit it, so a plain form POST with `logout=yes` signs out.
 */
export function logoutPage(form: string, host: string): string {
  return page('Sign out', `<p>Sign out from ${escapeHtml(host)}?</p>${form}`
    + '<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>'
    + '<button type="submit" form="op.logoutForm">Stay signed in</button>');
}

/** Shown after a sign-out that had no post_logout_redirect_uri. */
export function signedOutPage(): string {
  return page('Signed out', '<p>You are signed out.</p>');
}

/** An error page; `message` is shown escaped. */
export function errorPage(message: string): string {
  return page('Sign-in error', `<p class="error">${escapeHtml(message)}</p>`);
}

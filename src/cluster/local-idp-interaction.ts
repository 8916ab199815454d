// SPDX-License-Identifier: Apache-2.0
/**
 * The interaction routes of the local identity provider (`/interaction/<uid>`): the sign-in
 * form and its POST, and the automatic answer to a consent prompt.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from 'oidc-provider';
import type { Interaction, Provider } from 'oidc-provider';
import type { LocalIdpUser } from './local-idp.ts';
import { PAGE_CSP, errorPage, loginPage } from './local-idp-pages.ts';

/** The path prefix of the interaction routes. */
export const INTERACTION_PREFIX = '/interaction/';

const MAX_FORM_BYTES = 8 * 1024;
const WRONG = 'Wrong username or password';

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': PAGE_CSP,
    'cache-control': 'no-store',
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on the form's POST.
    'referrer-policy': 'same-origin',
  });
  res.end(body);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The user whose password is `password`, or undefined. Takes the same time whether or not
 * the username exists (hashes compared in constant time), so it does not reveal usernames.
 */
export function checkPassword(users: Map<string, LocalIdpUser>, username: string, password: string): LocalIdpUser | undefined {
  const user = users.get(username);
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  const same = timingSafeEqual(digest(password), digest(user?.password ?? `\0${password}`));
  return user && same ? user : undefined;
}

async function grantConsent(provider: Provider, details: Interaction): Promise<string> {
  const clientId = String(details.params.client_id);
  const accountId = details.session?.accountId ?? '';
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined)
    ?? new provider.Grant({ clientId, accountId });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  return grant.save();
}

/**
 * Handles one request below {@link INTERACTION_PREFIX}. The interaction must be the one named
 * by the browser's interaction cookie (oidc-provider's, SameSite=Lax and scoped to this path),
 * and a POST must come from the issuer's own origin when the browser names one: together
 * these stop cross-site form posts. A wrong username or password shows the form again with
 * one message for both (HTTP 200).
 */
export async function handleInteraction(
  provider: Provider, users: Map<string, LocalIdpUser>, issuerOrigin: string, req: IncomingMessage, res: ServerResponse,
): Promise<void> {
  const uid = decodeURIComponent(new URL(req.url ?? '/', issuerOrigin).pathname.slice(INTERACTION_PREFIX.length));
  let details: Interaction;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      return send(res, 400, errorPage('This sign-in request has expired or was not started in this browser; go back to the application and try again.'));
    }
    throw err;
  }
  if (details.uid !== uid) return send(res, 400, errorPage('This sign-in request does not match the one in progress.'));
  const action = `${INTERACTION_PREFIX}${encodeURIComponent(uid)}`;
  const clientName = String(details.params.client_id);
  if (details.prompt.name === 'consent') {
    const grantId = await grantConsent(provider, details);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (details.prompt.name !== 'login') return send(res, 400, errorPage('This sign-in request cannot be completed here.'));
  if (req.method === 'GET' || req.method === 'HEAD') return send(res, 200, loginPage(action, clientName));
  if (req.method !== 'POST') return send(res, 405, errorPage('Method not allowed'));
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== issuerOrigin) return send(res, 403, errorPage('The form was not sent from this site.'));
  const form = await readForm(req);
  if (!form) return send(res, 400, errorPage('The form could not be read.'));
  const username = form.get('username') ?? '';
  const user = checkPassword(users, username, form.get('password') ?? '');
  if (!user) return send(res, 200, loginPage(action, clientName, { error: WRONG, username }));
  return provider.interactionFinished(req, res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
}

// SPDX-License-Identifier: Apache-2.0
/**
 * One-time tickets that carry a login from the gateway's host to one session's origin: a
 * sealed value naming the user, the session's host label and UID, valid for 30 seconds and
 * accepted once. Used ids are remembered until they expire (per replica: a ticket replayed
 * against another replica within its 30 seconds is the one gap; both replicas still check
 * the user's access on every request).
 */
import { randomUUID } from 'node:crypto';
import type { Sealer } from './seal.ts';

export const TICKET_TTL_S = 30;

/** What a ticket grants. */
export interface TicketClaims {
  user: string;
  groups: string[];
  /** The session's host label and UID. */
  label: string;
  uid: string;
  /** When the login ends (ms). */
  loginExp: number;
}

/** Issues and consumes tickets. */
export class Tickets {
  readonly #sealer: Sealer;
  readonly #used = new Map<string, number>();
  readonly #now: () => number;

  constructor(sealer: Sealer, now: () => number = Date.now) {
    this.#sealer = sealer;
    this.#now = now;
  }

  issue(c: TicketClaims): Promise<string> {
    return this.#sealer.seal('ticket', { ...c, jti: randomUUID() }, TICKET_TTL_S);
  }

  /** The claims of a valid, unused ticket for `label`; `undefined` for a forged, expired, replayed or other-session one. */
  async consume(ticket: string | null, label: string): Promise<TicketClaims | undefined> {
    const c = await this.#sealer.open<TicketClaims & { jti: string }>('ticket', ticket ?? undefined);
    if (!c || c.label !== label || typeof c.jti !== 'string') return undefined;
    const now = this.#now();
    for (const [id, exp] of this.#used) if (exp < now) this.#used.delete(id);
    if (this.#used.has(c.jti)) return undefined;
    this.#used.set(c.jti, c.exp * 1000 + 1000);
    return { user: c.user, groups: c.groups, label: c.label, uid: c.uid, loginExp: c.loginExp };
  }
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Connection tokens of the Guacamole tunnel: the page that opens a desktop gets one, and the
 * tunnel's WebSocket must present it (`token=` connect data). A token is a JWT encrypted with
 * AES-256-GCM (`dir`), so it is secret and cannot be forged or altered; it names the session
 * (namespace/name and uid) and the user, lives 30 s by default, and opens a tunnel once.
 */
import { randomUUID } from 'node:crypto';
import { EncryptJWT, errors, jwtDecrypt } from 'jose';

/** What a token says. */
export interface ConnectionClaims {
  /** `namespace/name` of the AnalysisSession. */
  readonly session: string;
  /** The session's uid: a token outlives no deletion and re-creation under the same name. */
  readonly sessionUid: string;
  readonly user: string;
}

/** Error texts of {@link ConnectionTokens.consume}, one per reason. */
export const TOKEN_ERRORS = {
  invalid: 'the connection token is not valid (forged, damaged or made with another key)',
  expired: 'the connection token has expired; reload the page',
  replayed: 'the connection token was already used; reload the page',
  otherSession: 'the connection token was issued for another session',
} as const;

const KEY_BYTES = 32;
const HEADER = { alg: 'dir', enc: 'A256GCM', typ: 'panalysis-guac+jwt' } as const;

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new Error(`a connection token key has ${KEY_BYTES} bytes, not ${key.length}`);
}

/**
 * Issues a token for `claims`, valid `ttlS` seconds from `now` (ms).
 * @throws Error when `key` is not 32 bytes.
 */
export async function issueConnectionToken(key: Uint8Array, claims: ConnectionClaims, ttlS = 30, now: () => number = Date.now): Promise<string> {
  checkKey(key);
  const t = Math.floor(now() / 1000);
  return new EncryptJWT({ session: claims.session, sid: claims.sessionUid })
    .setProtectedHeader(HEADER)
    .setSubject(claims.user)
    .setJti(randomUUID())
    .setIssuedAt(t)
    .setExpirationTime(t + ttlS)
    .encrypt(key);
}

/**
 * Checks and consumes tokens made with the same key.
 *
 * Guarantees: a token opens at most one tunnel in this process; used token ids are kept
 * until they expire, then pruned, so memory is bounded by the tokens of the last `ttlS`.
 * Caveats: the used set is per process, so with several gateway replicas a token could
 * be presented once to each within its lifetime; it still needs the same user's session
 * cookie and names one session, which keeps that harmless.
 */
export class ConnectionTokens {
  readonly #key: Uint8Array;
  readonly #now: () => number;
  /** Used token id → expiry (s since the epoch). */
  readonly #used = new Map<string, number>();

  /** @param key 32 bytes, the same as the tokens were issued with; `now` in ms (injectable for tests). */
  constructor(key: Uint8Array, now: () => number = Date.now) {
    checkKey(key);
    this.#key = key;
    this.#now = now;
  }

  /** How many used ids are remembered (for tests and metrics). */
  get remembered(): number {
    return this.#used.size;
  }

  /**
   * Consumes `token` for the session `expected`: returns its user, or an error text from
   * {@link TOKEN_ERRORS} when it is forged or undecryptable, expired, for another session,
   * or already used. Only a token that passes every check is marked used.
   */
  async consume(token: string, expected: { session: string; sessionUid: string }): Promise<{ user: string } | { error: string }> {
    const nowS = Math.floor(this.#now() / 1000);
    this.#prune(nowS);
    let payload;
    try {
      ({ payload } = await jwtDecrypt(token, this.#key, { currentDate: new Date(nowS * 1000), typ: HEADER.typ, keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] }));
    } catch (err) {
      return { error: err instanceof errors.JWTExpired ? TOKEN_ERRORS.expired : TOKEN_ERRORS.invalid };
    }
    const { session, sid, sub, jti, exp } = payload;
    if (typeof session !== 'string' || typeof sid !== 'string' || typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') return { error: TOKEN_ERRORS.invalid };
    if (session !== expected.session || sid !== expected.sessionUid) return { error: TOKEN_ERRORS.otherSession };
    if (this.#used.has(jti)) return { error: TOKEN_ERRORS.replayed };
    this.#used.set(jti, exp);
    return { user: sub };
  }

  #prune(nowS: number): void {
    for (const [id, exp] of this.#used) if (exp <= nowS) this.#used.delete(id);
  }
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Sealed values: cookies, tickets and the OpenID transaction are JWTs encrypted with
 * AES-256-GCM (`dir`), so they are both secret and tamper-proof. Each purpose has a key of
 * its own, derived from the one cookie key with HKDF, so a value made for one purpose (a
 * ticket) never opens as another (a login cookie). Every replica with the same cookie key
 * opens what any other sealed.
 */
import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EncryptJWT, jwtDecrypt } from 'jose';

export type SealPurpose = 'login' | 'session' | 'ticket' | 'oidc' | 'csrf' | 'guacamole';

/** At least this many bytes of key material. */
export const MIN_KEY_BYTES = 32;

/**
 * Reads the cookie key: `PANALYSIS_GATEWAY_COOKIE_KEY` if set, else the file.
 * @throws Error naming the setting when neither gives at least 32 bytes.
 */
export function loadCookieKey(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.PANALYSIS_GATEWAY_COOKIE_KEY;
  let raw: Buffer;
  if (fromEnv) raw = Buffer.from(fromEnv);
  else if (file) {
    try {
      raw = Buffer.from(readFileSync(file, 'utf8').replace(/\r?\n$/, ''));
    } catch (err) {
      throw new Error(`gateway.cookieKeyFile: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  } else throw new Error('gateway.cookieKeyFile: required (or the environment variable PANALYSIS_GATEWAY_COOKIE_KEY): at least 32 random bytes shared by every gateway replica, e.g. `openssl rand -base64 48`');
  if (raw.length < MIN_KEY_BYTES) throw new Error(`gateway.cookieKeyFile: the key has ${raw.length} bytes; use at least ${MIN_KEY_BYTES} random bytes, e.g. \`openssl rand -base64 48\``);
  return raw;
}

/** Seals and opens values for each purpose. */
export class Sealer {
  readonly #keys = new Map<SealPurpose, Uint8Array>();
  readonly #now: () => number;

  /** @param key at least 32 bytes; `now` in ms (injectable for tests). */
  constructor(key: Uint8Array, now: () => number = Date.now) {
    if (key.length < MIN_KEY_BYTES) throw new Error(`the cookie key needs at least ${MIN_KEY_BYTES} bytes`);
    for (const purpose of ['login', 'session', 'ticket', 'oidc', 'csrf', 'guacamole'] as const) {
      this.#keys.set(purpose, new Uint8Array(hkdfSync('sha256', key, 'panalysis-gateway', `panalysis/${purpose}/v1`, 32)));
    }
    this.#now = now;
  }

  /** The raw key of `purpose` (for MACs that are not JWTs). */
  keyOf(purpose: SealPurpose): Uint8Array {
    return this.#keys.get(purpose)!;
  }

  /** Seals `claims` for `ttlS` seconds. */
  async seal(purpose: SealPurpose, claims: Record<string, unknown>, ttlS: number): Promise<string> {
    const now = Math.floor(this.#now() / 1000);
    return new EncryptJWT(claims).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setIssuedAt(now).setExpirationTime(now + ttlS).encrypt(this.keyOf(purpose));
  }

  /** The claims of a value sealed for `purpose`, or `undefined` when it is forged, altered, for another purpose or expired. */
  async open<T extends object>(purpose: SealPurpose, value: string | undefined): Promise<(T & { iat: number; exp: number }) | undefined> {
    if (!value || value.length > 8192) return undefined;
    try {
      const { payload } = await jwtDecrypt(value, this.keyOf(purpose), { currentDate: new Date(this.#now()), keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      return payload as T & { iat: number; exp: number };
    } catch {
      return undefined;
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
/**
 * The in-memory storage adapter of the local identity provider: one store per provider (the
 * package's own quick-start adapter shares one store across every provider of a process and
 * warns on each start). Entries expire; expired ones are swept as new ones are written.
 */

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string };

interface Entry {
  payload: Payload;
  expiresAt: number;
}

/** Adapter interface of oidc-provider 9 (docs: "adapter"). */
export interface IdpAdapter {
  upsert(id: string, payload: Payload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

const SWEEP_EVERY = 256;

/** The models that belong to a grant and go when it is revoked (as in oidc-provider's own adapter). */
const GRANTABLE = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'];

/**
 * A factory for oidc-provider's `adapter` option: `model` is the stored kind (Session,
 * AccessToken, ...). All models share one map, keyed `<model>:<id>`.
 */
export function memoryAdapterFactory(): (model: string) => IdpAdapter {
  const entries = new Map<string, Entry>();
  let writes = 0;
  const live = (key: string): Payload | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) entries.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.payload : undefined;
  };
  const sweep = () => {
    const now = Date.now();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  };
  return (model) => {
    const key = (id: string) => `${model}:${id}`;
    const findBy = (field: 'uid' | 'userCode', value: string) => {
      for (const k of entries.keys()) {
        const payload = k.startsWith(`${model}:`) ? live(k) : undefined;
        if (payload?.[field] === value) return payload;
      }
      return undefined;
    };
    return {
      async upsert(id, payload, expiresIn) {
        if (++writes % SWEEP_EVERY === 0) sweep();
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
        entries.set(key(id), { payload, expiresAt });
      },
      async find(id) { return live(key(id)); },
      async findByUid(uid) { return findBy('uid', uid); },
      async findByUserCode(userCode) { return findBy('userCode', userCode); },
      async consume(id) {
        const payload = live(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) { entries.delete(key(id)); },
      async revokeByGrantId(grantId) {
        for (const [k, entry] of entries) {
          if (entry.payload.grantId === grantId && GRANTABLE.includes(k.slice(0, k.indexOf(':')))) entries.delete(k);
        }
      },
    };
  };
}

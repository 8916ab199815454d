// SPDX-License-Identifier: Apache-2.0
/**
 * Open WebSockets per session, so that a revocation reaches them: when the session, its
 * pod or its Secret changes, and every `recheckMs` in any case (membership can be lost in
 * the directory without any change in the cluster), each connection's viewer is checked
 * again and the connection closed when they may no longer open the session, or the session
 * is gone, stopped, not Ready, or replaced (another UID).
 */
import type { Viewer } from '../policy/session-access.ts';
import type { GatewayContext } from './context.ts';
import { authorizeViewer } from './authorize.ts';

interface Entry {
  viewer: Viewer;
  uid: string;
  close: (reason: string) => void;
}

/** The registry of open connections. */
export class Connections {
  readonly #ctx: GatewayContext;
  readonly #open = new Map<string, Set<Entry>>();
  readonly #perUser = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #off: () => void;

  constructor(ctx: GatewayContext, recheckMs = 30_000) {
    this.#ctx = ctx;
    this.#off = ctx.index.onChange((key) => void this.#recheck(key));
    this.#timer = setInterval(() => {
      for (const key of this.#open.keys()) void this.#recheck(key);
    }, recheckMs);
    this.#timer.unref();
  }

  /** How many connections are open in all, and for `user`. */
  count(user?: string): number {
    if (user !== undefined) return this.#perUser.get(user) ?? 0;
    let n = 0;
    for (const set of this.#open.values()) n += set.size;
    return n;
  }

  /** Registers a connection; returns the function that removes it (call it when it closes). */
  add(key: string, uid: string, viewer: Viewer, close: (reason: string) => void): () => void {
    const entry: Entry = { viewer, uid, close };
    let set = this.#open.get(key);
    if (!set) this.#open.set(key, (set = new Set()));
    set.add(entry);
    this.#perUser.set(viewer.user, (this.#perUser.get(viewer.user) ?? 0) + 1);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      set.delete(entry);
      if (set.size === 0 && this.#open.get(key) === set) this.#open.delete(key);
      const n = (this.#perUser.get(viewer.user) ?? 1) - 1;
      if (n > 0) this.#perUser.set(viewer.user, n);
      else this.#perUser.delete(viewer.user);
    };
  }

  async #recheck(key: string): Promise<void> {
    const set = this.#open.get(key);
    if (!set || set.size === 0) return;
    const [namespace, name] = key.split('/') as [string, string];
    const view = this.#ctx.index.get(namespace, name);
    for (const entry of [...set]) {
      let reason: string | undefined;
      if (!view) reason = 'the session was deleted';
      else if (view.session.metadata.uid !== entry.uid) reason = 'the session was replaced';
      else if (!view.ready) reason = `the session is no longer running (${view.phase})`;
      else {
        const d = await authorizeViewer(view.session, entry.viewer, this.#ctx.access).catch(() => undefined);
        if (d && !d.allow && d.status === 403) reason = `access revoked: ${d.reason}`;
      }
      if (reason) {
        this.#ctx.logger.info('Closing connection', { session: key, user: entry.viewer.user, reason });
        entry.close(reason);
      }
    }
  }

  /** Stops the rechecks and closes every connection. */
  closeAll(reason: string): void {
    clearInterval(this.#timer);
    this.#off();
    for (const set of this.#open.values()) for (const e of [...set]) e.close(reason);
  }
}

// SPDX-License-Identifier: Apache-2.0
/** The few JupyterHub REST API calls the baseline makes, with a service token. */

export interface HubReply {
  status: number;
  text: string;
}

/** What a spawn's progress stream ended with. */
export type SpawnOutcome = { ready: true } | { ready: false; message: string };

export interface HubApi {
  /** `method` on `${url}/hub/api${path}`; resolves with any HTTP status, rejects only on network errors. */
  call(method: string, path: string, body?: unknown): Promise<HubReply>;
  /**
   * Follows `/users/<user>/server/progress` (server-sent events) until an event says `ready` or
   * `failed`, or the stream ends, or `signal` aborts it.
   */
  progress(user: string, signal: AbortSignal): Promise<SpawnOutcome>;
}

/** A client for the hub at `url` (its public URL, through the proxy). */
export function hubApi(url: string, token: string): HubApi {
  const headers = { authorization: `token ${token}` };
  return {
    async call(method, path, body) {
      const res = await fetch(`${url}/hub/api${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    },
    async progress(user, signal) {
      const res = await fetch(`${url}/hub/api/users/${encodeURIComponent(user)}/server/progress`, { headers: { ...headers, accept: 'text/event-stream' }, signal });
      if (res.status !== 200 || !res.body) return { ready: false, message: `progress stream answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}` };
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event?.ready) return { ready: true };
          if (event?.failed) return { ready: false, message: event.message ?? 'spawn failed' };
        }
      }
      return { ready: false, message: 'progress stream ended without ready' };
    },
  };
}

/** The JSON of an event's `data:` lines, or undefined for comments and keep-alives. */
export function parseEvent(block: string): { ready?: boolean; failed?: boolean; message?: string } | undefined {
  const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
  if (!data) return undefined;
  try {
    return JSON.parse(data) as { ready?: boolean; failed?: boolean; message?: string };
  } catch {
    return undefined;
  }
}

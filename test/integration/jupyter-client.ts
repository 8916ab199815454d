// SPDX-License-Identifier: Apache-2.0
/**
 * A minimal Jupyter Server client that talks to a session as JupyterLab in a browser would: the
 * REST API with the session's token, and a kernel's WebSocket channel with Jupyter messaging
 * protocol v5 in its default JSON framing. Tests use it to run code inside a real session.
 */
import { randomUUID } from 'node:crypto';

/** The answer of `GET api/status`. */
export interface JupyterStatus {
  /** The HTTP status: 200 with a valid token, 403 (or 401) without one. */
  status: number;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
}

/** What a cell printed and returned. */
export interface ExecuteResult {
  stdout: string;
  stderr: string;
  /** The `text/plain` form of the cell's value (`execute_result`), undefined when it has none. */
  result: string | undefined;
  /** The exception the cell raised, undefined when it ran through. */
  error: { ename: string; evalue: string; traceback: string[] } | undefined;
}

/** Options of {@link execute}. */
export interface ExecuteOptions {
  /** Gives up after this long, kernel start included; default 60 s. */
  timeoutMs?: number;
  /** The kernel spec to start; default the server's default kernel. */
  kernelName?: string;
}

/** One message of the Jupyter messaging protocol as the JSON WebSocket framing carries it. */
interface Message {
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
  channel?: string;
}

const withSlash = (base: string): string => (base.endsWith('/') ? base : `${base}/`);
const authHeaders = (token: string | undefined): Record<string, string> => (token ? { Authorization: `token ${token}` } : {});

/**
 * `GET <base>api/status`, with `Authorization: token <token>` when a token is given.
 * Never throws on an HTTP error status: the status is returned so a test can assert a refusal.
 * @throws Error when the server cannot be reached at all.
 */
export async function status(base: string, token?: string): Promise<JupyterStatus> {
  const res = await fetch(`${withSlash(base)}api/status`, { headers: authHeaders(token) });
  const body = await res.text();
  let json: unknown;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status: res.status, json };
}

/** A REST call that must succeed; throws naming the method, path, status and body otherwise. */
async function api(base: string, token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${withSlash(base)}${path}`, {
    method,
    headers: { ...authHeaders(token), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

/** An `execute_request` in the v5 envelope, on the shell channel. */
function executeRequest(code: string, session: string) {
  return {
    header: { msg_id: randomUUID(), username: 'panalysis-test', session, date: new Date().toISOString(), msg_type: 'execute_request', version: '5.3' },
    parent_header: {},
    metadata: {},
    content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
    channel: 'shell',
    buffers: [],
  };
}

/** Sends one execute request on an open channel socket; resolves with the output once the kernel is idle again. */
function runOnSocket(ws: WebSocket, code: string, session: string): Promise<ExecuteResult> {
  const request = executeRequest(code, session);
  const out: ExecuteResult = { stdout: '', stderr: '', result: undefined, error: undefined };
  return new Promise((resolve, reject) => {
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return; // binary frames carry buffers, which no cell here produces
      const msg = JSON.parse(ev.data) as Message;
      if (msg.parent_header.msg_id !== request.header.msg_id) return;
      const c = msg.content;
      switch (msg.header.msg_type) {
        case 'stream':
          if (c.name === 'stderr') out.stderr += String(c.text);
          else out.stdout += String(c.text);
          break;
        case 'execute_result':
          out.result = String((c.data as Record<string, unknown>)['text/plain']);
          break;
        case 'error':
          out.error = { ename: String(c.ename), evalue: String(c.evalue), traceback: (c.traceback as string[]) ?? [] };
          break;
        case 'status':
          if (c.execution_state === 'idle') resolve(out);
          break;
      }
    });
    ws.addEventListener('close', (ev) => reject(new Error(`the kernel channel closed before the cell finished (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`)));
    ws.send(JSON.stringify(request));
  });
}

/**
 * Starts a kernel on the Jupyter Server at `base` (the session's URL, e.g.
 * `http://10.245.0.5:8888/s/ns/name/`), runs `code` in it through the kernel's WebSocket channel,
 * and deletes the kernel again.
 *
 * Guarantees: only messages whose parent is this request are collected, until the kernel reports
 * `idle` for it; the kernel is deleted whatever happened (a failed delete is reported only when
 * the cell itself succeeded). Token-authenticated requests need no `_xsrf` cookie.
 * @throws Error when the server refuses the token, the kernel does not start, the channel closes
 *   early, or the cell does not finish within the timeout. A cell that raises is not an error:
 *   its exception is in the result's `error`.
 */
export async function execute(base: string, token: string, code: string, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const kernel = (await api(base, token, 'POST', 'api/kernels', opts.kernelName ? { name: opts.kernelName } : {})) as { id: string };
  const session = randomUUID();
  const wsUrl = new URL(`api/kernels/${kernel.id}/channels`, withSlash(base));
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  wsUrl.searchParams.set('session_id', session);
  wsUrl.searchParams.set('token', token);
  let ws: WebSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the cell did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    const socket = new WebSocket(wsUrl);
    ws = socket;
    const opened = new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`could not open the kernel channel ${wsUrl.pathname}`)), { once: true });
    });
    await Promise.race([opened, timeout]);
    const result = await Promise.race([runOnSocket(socket, code, session), timeout]);
    ws.close();
    await api(base, token, 'DELETE', `api/kernels/${kernel.id}`);
    return result;
  } catch (err) {
    ws?.close();
    await api(base, token, 'DELETE', `api/kernels/${kernel.id}`).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

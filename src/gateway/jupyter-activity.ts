// SPDX-License-Identifier: Apache-2.0
/**
 * JupyterLab's own account of its activity, for idle culling. Every poll asks each Ready
 * JupyterLab session, with its token, for `<base_url>api/status` (its `last_activity`: the
 * latest API request, kernel message or terminal use; the status request itself is not
 * counted) and `<base_url>api/kernels?no_track_activity=1` (whether a kernel is busy: a
 * long computation without output sends no message). A busy kernel is activity now; otherwise
 * `last_activity` is. The result goes to the {@link ActivityRecorder}, which writes it coarsely.
 * Only the gateway asks: the sessions' NetworkPolicy admits nobody else.
 */
import type { Logger } from '../runtime/log.ts';
import type { ActivityRecorder } from './activity.ts';
import type { SessionIndex } from './session-index.ts';
import { sessionPath } from '../desired/names.ts';

/** What JupyterLab said about itself. */
export interface JupyterActivity {
  /** `last_activity` of `api/status`, ms since the epoch. */
  lastActivity?: number;
  kernels: number;
  busyKernels: number;
}

/**
 * Reads the answers of `api/status` and `api/kernels` (either may be anything: a page that
 * is not Jupyter's gives no activity).
 */
export function parseJupyterActivity(status: unknown, kernels: unknown): JupyterActivity {
  const last = typeof status === 'object' && status !== null ? (status as { last_activity?: unknown }).last_activity : undefined;
  const at = typeof last === 'string' ? Date.parse(last) : NaN;
  const list = Array.isArray(kernels) ? kernels : [];
  const busy = list.filter((k) => typeof k === 'object' && k !== null && (k as { execution_state?: unknown }).execution_state === 'busy').length;
  return { ...(Number.isFinite(at) ? { lastActivity: at } : {}), kernels: list.length, busyKernels: busy };
}

/** When the session was last active by JupyterLab's account, as of `now`: now while a kernel is busy. */
export function activityAt(a: JupyterActivity, now: number): number | undefined {
  return a.busyKernels > 0 ? now : a.lastActivity;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

async function getJson(url: string, token: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: `token ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${new URL(url).pathname}`);
  return await res.json();
}

export interface JupyterPollerOptions {
  intervalMs: () => number;
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Sessions asked at once (default 8). */
  concurrency?: number;
  now?: () => number;
}

/** Asks every Ready JupyterLab session for its activity, every `intervalMs`, until stopped. */
export class JupyterActivityPoller {
  readonly #index: SessionIndex;
  readonly #recorder: ActivityRecorder;
  readonly #logger: Logger;
  readonly #o: Required<Omit<JupyterPollerOptions, 'intervalMs'>> & Pick<JupyterPollerOptions, 'intervalMs'>;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(index: SessionIndex, recorder: ActivityRecorder, logger: Logger, o: JupyterPollerOptions) {
    this.#index = index;
    this.#recorder = recorder;
    this.#logger = logger;
    this.#o = { timeoutMs: 5000, concurrency: 8, now: Date.now, ...o };
  }

  /** Polls now and then every interval (the interval is read again each time: configuration reloads). */
  start(): void {
    const loop = async (): Promise<void> => {
      await this.pollOnce();
      if (!this.#stopped) this.#timer = setTimeout(() => void loop(), this.#o.intervalMs()).unref();
    };
    void loop();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** One round over the Ready JupyterLab sessions; a session that does not answer is skipped (and logged). */
  async pollOnce(): Promise<void> {
    const targets = this.#index.sessions().filter((s) => s.spec?.type === 'jupyter').map((s) => this.#index.get(s.metadata.namespace!, s.metadata.name!)).filter((v) => v?.ready && v.upstream);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length && !this.#stopped) {
        const view = targets[next++]!;
        const { namespace, name } = view.session.metadata as { namespace: string; name: string };
        const base = `http://${hostPort(view.upstream!.host, view.upstream!.port)}${sessionPath(namespace, name)}`;
        try {
          const [status, kernels] = await Promise.all([
            getJson(`${base}api/status`, view.upstream!.credential, this.#o.timeoutMs),
            getJson(`${base}api/kernels?no_track_activity=1`, view.upstream!.credential, this.#o.timeoutMs),
          ]);
          const at = activityAt(parseJupyterActivity(status, kernels), this.#o.now());
          if (at !== undefined) this.#recorder.touchAt(namespace, name, at);
        } catch (err) {
          this.#logger.info('JupyterLab did not say its activity', { session: `${namespace}/${name}`, error: (err as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, targets.length) }, worker));
  }
}

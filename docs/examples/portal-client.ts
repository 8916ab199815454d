// SPDX-License-Identifier: Apache-2.0
/**
 * A portal's client for the AnalysisSessions of one proposal namespace, on @kubernetes/client-node: create, get,
 * list, watch, stop, resume, share and delete, and what to show a user about a session. It needs only the
 * `panalysis-portal` role in that namespace.
 */
import { ApiException, CustomObjectsApi, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';

const API = { group: 'panalysis.io', version: 'v1alpha1', plural: 'analysissessions' };

/** A condition as the operator reports it (`Ready` summarises the others). */
export interface SessionCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** The parts of an AnalysisSession a portal writes and reads (docs/api-reference.md has every field). */
export interface Session {
  apiVersion: 'panalysis.io/v1alpha1';
  kind: 'AnalysisSession';
  metadata: { name: string; namespace?: string; uid?: string };
  spec: {
    user: string;
    type: 'jupyter' | 'desktop';
    profile: string;
    desktop?: { protocol: 'vnc' | 'guacamole' };
    resources?: { cpu?: string | number; memory?: string | number; gpu?: { flavour: string; count: number } };
    lifetime?: string;
    state?: 'Running' | 'Stopped';
    sharedWith?: { users?: string[]; groups?: string[] };
  };
  status?: { phase?: string; message?: string; url?: string; conditions?: SessionCondition[] };
}

/** What a portal shows for one session: the phase, the reason in words, and the URL once it runs. */
export interface SessionView {
  name: string;
  phase: string;
  /** Why the session waits or was refused (empty when it runs). */
  message: string;
  /** The Ready reason for programs, e.g. NoGpuAvailable or LifetimeTooLong. */
  reason?: string;
  url?: string;
}

/** The view of `s`; a session the operator has not seen yet is Pending. */
export function viewOf(s: Session): SessionView {
  const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
  const phase = s.status?.phase ?? 'Pending';
  return {
    name: s.metadata.name,
    phase,
    message: phase === 'Running' ? '' : (s.status?.message ?? 'Waiting for the operator.'),
    reason: ready?.reason,
    url: phase === 'Running' ? s.status?.url : undefined,
  };
}

/** Session operations in `namespace` with the credentials of `kc`. */
export function sessionsClient(kc: KubeConfig, namespace: string) {
  const api = kc.makeApiClient(CustomObjectsApi);
  const named = (name: string) => ({ ...API, namespace, name });
  const mergePatch = async (name: string, spec: Partial<Session['spec']>): Promise<Session> =>
    (await api.patchNamespacedCustomObject({ ...named(name), body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as Session;

  /** Calls `onChange` with the session now and after every change; `onEnd` when the watch ends (watch again then). */
  const watch = (name: string, onChange: (s: Session) => void, onEnd: (err?: unknown) => void): Promise<AbortController> =>
    new Watch(kc).watch(
      `/apis/${API.group}/${API.version}/namespaces/${namespace}/${API.plural}`,
      { fieldSelector: `metadata.name=${name}` },
      (type, obj: Session) => {
        if (type === 'ADDED' || type === 'MODIFIED') onChange(obj);
      },
      (err) => onEnd(err ?? undefined),
    );

  return {
    create: async (name: string, spec: Session['spec']): Promise<Session> =>
      (await api.createNamespacedCustomObject({ ...API, namespace, body: { apiVersion: 'panalysis.io/v1alpha1', kind: 'AnalysisSession', metadata: { name }, spec } })) as Session,

    /** The session, or undefined when there is none of that name (HTTP 404). */
    get: async (name: string): Promise<Session | undefined> => {
      try {
        return (await api.getNamespacedCustomObject(named(name))) as Session;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },

    /** The sessions of the namespace, of one user if given. */
    list: async (user?: string): Promise<Session[]> => {
      const { items } = (await api.listNamespacedCustomObject({ ...API, namespace })) as { items: Session[] };
      return items.filter((s) => user === undefined || s.spec.user === user);
    },

    watch,

    /** Resolves with the session once its phase is one of `phases`, from a watch (no polling). */
    untilPhase: (name: string, phases: string[], timeoutMs = 300_000): Promise<Session> =>
      new Promise((resolve, reject) => {
        let watcher: AbortController | undefined;
        let settled = false;
        const settle = (done: () => void): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          watcher?.abort();
          done();
        };
        const timer = setTimeout(() => settle(() => reject(new Error(`session ${name} is not ${phases.join(' or ')} after ${timeoutMs} ms`))), timeoutMs);
        watch(name, (s) => {
          if (phases.includes(s.status?.phase ?? '')) settle(() => resolve(s));
        }, (err) => settle(() => reject(err ?? new Error(`the watch of session ${name} ended; watch again`)))).then(
          (w) => (settled ? w.abort() : (watcher = w)),
          (err: unknown) => settle(() => reject(err)),
        );
      }),

    /** Deletes the pod; home, credentials and the session object stay. */
    stop: (name: string) => mergePatch(name, { state: 'Stopped' }),
    resume: (name: string) => mergePatch(name, { state: 'Running' }),
    /** Sets who may open the session too; a list left out stays as it is (JSON merge patch), [] empties it. */
    share: (name: string, sharedWith: { users?: string[]; groups?: string[] }) => mergePatch(name, { sharedWith }),
    /** Deletes the session and everything it owns (pod, network policy, credentials, home). */
    delete: async (name: string): Promise<void> => {
      await api.deleteNamespacedCustomObject(named(name));
    },
  };
}

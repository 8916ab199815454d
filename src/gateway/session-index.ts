// SPDX-License-Identifier: Apache-2.0
/**
 * The gateway's read-only view of sessions: AnalysisSessions, and the pods and credential
 * Secrets the operator made for them, from shared watches (no leader election: every
 * replica keeps its own). A pod or Secret counts only when its controller owner reference
 * carries the session's UID: a look-alike with the right name and labels is ignored.
 */
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';
import { LABELS } from '../api/v1alpha1/group.ts';
import { MANAGED_SELECTOR, SESSION_RESOURCE } from '../controllers/analysis-session/resources.ts';
import { isControlledBy, sessionNames } from '../desired/names.ts';
import { PORTS } from '../desired/containers.ts';
import { sessionHostLabel } from '../desired/session-url.ts';
import type { Manager } from '../runtime/manager.ts';
import type { SourceLike } from '../runtime/namespace-fanout.ts';
import type { KubeObject } from '../runtime/resource.ts';

const POD = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true } as const;
const SECRET = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true } as const;
const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false } as const;

/** Where the gateway reaches a Ready session, and with what credential. */
export interface Upstream {
  /** `http://<podIP>:8888` (Jupyter), `ws://<podIP>:6080` (websockify) or `<podIP>:4822` (guacd). */
  host: string;
  port: number;
  /** The Jupyter token or the VNC password; never sent to a browser. */
  credential: string;
}

/** A session as the gateway sees it. */
export interface SessionView {
  session: AnalysisSession;
  /** True when the operator reports the session Ready and its pod has an address. */
  ready: boolean;
  /** The phase and the Ready condition's message, for the waiting page. */
  phase: string;
  message: string;
  upstream?: Upstream;
}

/** Sessions, their pods and Secrets, indexed by namespace/name and by host label. */
export class SessionIndex {
  readonly #sessions: SourceLike<AnalysisSession & KubeObject>;
  readonly #pods: SourceLike<V1Pod & KubeObject>;
  readonly #secrets: SourceLike<V1Secret & KubeObject>;
  readonly #namespaces: SourceLike<KubeObject>;
  readonly #byLabel = new Map<string, string>();

  /** Declares the watches on `manager` (before it starts). */
  constructor(manager: Manager) {
    this.#sessions = manager.source({ resource: SESSION_RESOURCE });
    this.#pods = manager.source({ resource: POD, labelSelector: MANAGED_SELECTOR });
    this.#secrets = manager.source({ resource: SECRET, labelSelector: MANAGED_SELECTOR });
    this.#namespaces = manager.source({ resource: NAMESPACE, labelSelector: LABELS.proposal });
    this.#sessions.store.onChange((type, obj) => {
      const label = sessionHostLabel(obj.metadata!.namespace!, obj.metadata!.name!);
      if (type === 'DELETED') this.#byLabel.delete(label);
      else this.#byLabel.set(label, `${obj.metadata!.namespace}/${obj.metadata!.name}`);
    });
  }

  /** The namespace and name of the session served at host label `label`. */
  byHostLabel(label: string): { namespace: string; name: string } | undefined {
    const key = this.#byLabel.get(label);
    if (!key) return undefined;
    const [namespace, name] = key.split('/') as [string, string];
    return { namespace, name };
  }

  /** Calls `listener` with `namespace/name` whenever a session, its pod or its Secret changes. */
  onChange(listener: (key: string) => void): () => void {
    const offs = [this.#sessions, this.#pods, this.#secrets].map((s) =>
      s.store.onChange((_type, obj) => {
        const m = obj.metadata!;
        const owner = s === this.#sessions ? m.name : (m.labels?.[LABELS.session] ?? m.name);
        listener(`${m.namespace}/${owner}`);
      }),
    );
    return () => offs.forEach((off) => off());
  }

  /** The session `namespace/name` with its upstream when Ready; `undefined` when it does not exist. */
  get(namespace: string, name: string): SessionView | undefined {
    const session = this.#sessions.store.get(namespace, name) as AnalysisSession | undefined;
    if (!session) return undefined;
    const ready = session.status?.conditions?.find((c) => c.type === 'Ready');
    const view: SessionView = { session, ready: false, phase: session.status?.phase ?? 'Pending', message: ready?.message ?? 'The operator has not looked at this session yet.' };
    if (ready?.status !== 'True' || session.metadata.deletionTimestamp) return view;
    const uid = session.metadata.uid;
    const names = sessionNames(name);
    const pod = this.#pods.store.get(namespace, names.pod) as V1Pod | undefined;
    const secret = this.#secrets.store.get(namespace, names.secret) as V1Secret | undefined;
    const ip = pod?.status?.podIP;
    if (!isControlledBy(pod, uid) || !isControlledBy(secret, uid) || !ip || pod?.metadata?.deletionTimestamp) return view;
    const key = session.spec.type === 'jupyter' ? 'token' : 'vnc-password';
    const raw = secret?.data?.[key];
    if (!raw) return view;
    const port = session.spec.type === 'jupyter' ? PORTS.jupyter : session.spec.desktop?.protocol === 'guacamole' ? PORTS.guacd : PORTS.websockify;
    return { ...view, ready: true, upstream: { host: ip, port, credential: Buffer.from(raw, 'base64').toString('utf8') } };
  }

  /** The proposal id of `namespace` (its `panalysis.io/proposal` label), if any. */
  proposalOf(namespace: string): string | undefined {
    return this.#namespaces.store.get(undefined, namespace)?.metadata?.labels?.[LABELS.proposal];
  }

  /** Every session (for the gateway's list of what a user may open). */
  sessions(): AnalysisSession[] {
    return this.#sessions.store.list() as AnalysisSession[];
  }

  /** Whether every watch has listed once. */
  hasSynced(): boolean {
    return this.#sessions.hasSynced() && this.#pods.hasSynced() && this.#secrets.hasSynced() && this.#namespaces.hasSynced();
  }
}

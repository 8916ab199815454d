// SPDX-License-Identifier: Apache-2.0
/**
 * The AnalysisSession controller: watches sessions and the children it owns (matched
 * back through controller owner references) and reconciles each session key. A child is
 * the session's only if its controller owner reference carries the session's UID; the
 * session's finalizer makes sure its pod is stopped before it goes.
 */
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { Directory } from '../../identity/directory.ts';
import type { ProposalDirectory } from '../../identity/proposals.ts';
import { LABELS } from '../../api/v1alpha1/group.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { Condition } from '../../runtime/conditions.ts';
import { changedBeyondStatus, type Controller } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { ResourceType } from '../../runtime/resource.ts';
import { DATASET_RESOURCE } from '../dataset-mount/index.ts';
import type { ResourceQuota } from '../../api/v1alpha1/resource-quota.ts';
import { governingQuota } from '../../policy/quota-ledger.ts';
import { QUOTA_RESOURCE } from '../quota/resources.ts';
import type { QuotaFact } from './quota-gate.ts';
import { reconcileSession } from './reconcile.ts';
import type { StorageClassFact } from './home-volume.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { sessionReadyMetric } from './ready-metric.ts';
import { RECENT_CREATE_TTL_MS, RECENT_KINDS, RecentCreates } from './recent-creates.ts';
import { MANAGED_SELECTOR, NETWORK_POLICY_RESOURCE, OWNED_RESOURCES, SESSION_FIELD_MANAGER, SESSION_RESOURCE } from './resources.ts';
import { SESSIONS_NETWORK_POLICY } from '../../desired/names.ts';

const NAMESPACE_RESOURCE: ResourceType = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
const STORAGE_CLASS_RESOURCE: ResourceType = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false };

/** What the session controller needs of a StorageClass. */
function storageClassFact(sc: KubeObject & { volumeBindingMode?: string }): StorageClassFact {
  return {
    name: sc.metadata!.name!,
    bindsImmediately: (sc.volumeBindingMode ?? 'Immediate') === 'Immediate',
    isDefault: sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true',
  };
}
const keyOfSession = (s: AnalysisSession): string => `${s.metadata.namespace}/${s.metadata.name}`;

/** Sessions a quota change may concern: all but those running undisturbed (a running one only when asked to stop). */
function concernedByQuota(s: AnalysisSession, q: ResourceQuota): boolean {
  if (s.metadata.deletionTimestamp || s.status?.phase !== 'Running') return true;
  return q.status?.reservations?.some((r) => r.uid === s.metadata.uid && (r.stop !== undefined || r.run !== s.status?.quota?.run)) ?? false;
}

/**
 * Sessions reconciled at once. A reconcile mostly waits on the apiserver (a few round trips when it creates
 * children, none when nothing changed), so the workers are many: with 8, a burst of 100 sessions spent ten
 * times longer queued than reconciling.
 */
export const SESSION_WORKERS = 32;

export interface SessionControllerOptions {
  config: () => OperatorConfig;
  directory: () => Directory;
  proposals: () => ProposalDirectory;
  now?: () => number;
  concurrency?: number;
  /** Every session is reconciled again this often (default 10 min). */
  resyncMs?: number;
}

/** The controller, and a way to look at every session again (after a configuration change). */
export interface SessionController {
  controller: Controller<AnalysisSession>;
  requeueAll(): void;
}

/**
 * Adds the session controller to `manager`. Besides sessions and their children it
 * watches namespaces (the proposal label) and DatasetMounts (readiness, access, write
 * window), so a change there reconciles the sessions it concerns.
 */
export function addSessionController(manager: Manager, options: SessionControllerOptions): SessionController {
  const sessions = manager.source<AnalysisSession & { metadata: { name?: string } }>({ resource: SESSION_RESOURCE });
  const datasets = manager.source<DatasetMount>({ resource: DATASET_RESOURCE });
  manager.source({ resource: NAMESPACE_RESOURCE });
  const storageClasses = manager.source<KubeObject & { metadata: { name?: string } }>({ resource: STORAGE_CLASS_RESOURCE });
  const quotas = manager.source<ResourceQuota & { metadata: { name?: string } }>({ resource: QUOTA_RESOURCE });
  const quotaOf = (namespace: string): QuotaFact => {
    const q = governingQuota(quotas.store.list(namespace) as ResourceQuota[]);
    if (q) return { kind: 'governed', quota: q };
    const ns = manager.lookup({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
    return options.config().quotas.default && ns?.metadata?.labels?.[LABELS.proposal] ? { kind: 'awaitingDefault' } : { kind: 'unlimited' };
  };
  const events = manager.eventRecorder('panalysis.io/session-controller');
  const sessionsIn = (namespace: string | undefined) => (sessions.store.list(namespace) as AnalysisSession[]);
  const now = options.now ?? Date.now;
  const recent = new RecentCreates();
  for (const resource of OWNED_RESOURCES.filter((r) => RECENT_KINDS.has(r.kind))) {
    manager.source({ resource, labelSelector: MANAGED_SELECTOR }).store.onChange((_type, obj) => recent.seen(obj as KubeObject));
  }
  const deps = {
    kube: manager.kube,
    config: options.config,
    directory: options.directory,
    proposals: options.proposals,
    datasets: (namespace: string) => datasets.store.list(namespace) as DatasetMount[],
    events,
    now,
    // A child created a moment ago stands in for the cache until the cache shows it (see recent-creates.ts); a
    // session decided from one is looked at again once it can no longer stand in.
    lookup: (ref: Parameters<Manager['lookup']>[0]) => {
      const cached = manager.lookup(ref);
      if (cached || !RECENT_KINDS.has(ref.kind)) return cached;
      const created = recent.get(ref);
      const owner = created?.metadata?.ownerReferences?.find((r) => r.controller === true && r.kind === SESSION_RESOURCE.kind);
      if (owner) controller.queue.addAfter(`${ref.namespace}/${owner.name}`, RECENT_CREATE_TTL_MS + 1000, 'followUp');
      return created;
    },
    sharedCreates: new Map<string, Promise<unknown>>(),
    created: (obj: KubeObject) => recent.record(obj),
    get: (ref: Parameters<Manager['lookup']>[0]) => manager.kube.get(ref),
    session: (namespace: string, name: string) => sessions.store.get(namespace, name) as AnalysisSession | undefined,
    quota: quotaOf,
    storageClasses: () => storageClasses.store.list().map(storageClassFact),
    readyMetric: sessionReadyMetric(manager.metrics),
  };
  const controller: Controller<AnalysisSession> = manager.addController<AnalysisSession>({
    name: 'analysissession',
    for: { resource: SESSION_RESOURCE },
    // This controller is the only writer of a session's status: its own status writes coming back call for nothing.
    updateMatters: changedBeyondStatus,
    owns: OWNED_RESOURCES.map((resource) => ({ resource, labelSelector: MANAGED_SELECTOR })),
    watches: [
      // A proposal label added, changed or removed: every session of the namespace.
      { spec: { resource: NAMESPACE_RESOURCE }, map: (ns) => sessionsIn(ns.metadata?.name).map(keyOfSession) },
      // A DatasetMount changed (ready, access, write window): the sessions that request it.
      { spec: { resource: DATASET_RESOURCE }, map: (dm) => sessionsIn(dm.metadata?.namespace).filter((s) => Array.isArray(s.spec?.datasets) && s.spec.datasets.some((d) => d?.name === dm.metadata?.name)).map(keyOfSession) },
      // The namespace's NetworkPolicy changed or went (it has no session as owner): the namespace's sessions, one of which puts it right.
      { spec: { resource: NETWORK_POLICY_RESOURCE, labelSelector: MANAGED_SELECTOR }, map: (np) => (np.metadata?.name === SESSIONS_NETWORK_POLICY ? sessionsIn(np.metadata?.namespace).filter((s) => s.spec?.state !== 'Stopped').map(keyOfSession) : []) },
      // A quota's ledger changed (admitted, queued, refused, released, asked to stop): the sessions it may concern.
      { spec: { resource: QUOTA_RESOURCE }, map: (q) => sessionsIn(q.metadata?.namespace).filter((s) => concernedByQuota(s, q as ResourceQuota)).map(keyOfSession) },
    ],
    concurrency: options.concurrency ?? SESSION_WORKERS,
    ...(options.resyncMs ? { resyncMs: options.resyncMs } : {}),
    reconcile: (req) => reconcileSession(req, deps),
    onError: async (req, err) => {
      const session = deps.session(req.namespace!, req.name);
      if (!session) return;
      const conditions = setCondition(session.status?.conditions as Condition[] | undefined, { type: 'Ready', status: 'False', reason: err.reason, message: err.message, observedGeneration: session.metadata.generation }, now());
      await manager.kube.applyStatus({ apiVersion: SESSION_RESOURCE.apiVersion, kind: SESSION_RESOURCE.kind, namespace: req.namespace, name: req.name }, { ...session.status, conditions }, { fieldManager: SESSION_FIELD_MANAGER });
    },
  }) as Controller<AnalysisSession>;
  return { controller, requeueAll: () => sessions.store.keys().forEach((key) => controller.queue.add(key, 'resync')) };
}

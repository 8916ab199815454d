// SPDX-License-Identifier: Apache-2.0
/**
 * The quota controller: one key per ResourceQuota (panalysis.io), so the admissions of a
 * proposal are decided one at a time; a change of any session of the namespace brings
 * its quota back. Beside it, a small controller per proposal namespace writes the
 * facility default quota where there is none.
 */
import type { AnalysisSession } from '../../api/v1alpha1/analysis-session.ts';
import { LABELS } from '../../api/v1alpha1/group.ts';
import type { ResourceQuota } from '../../api/v1alpha1/resource-quota.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import type { Controller } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import type { KubeObject } from '../../runtime/resource.ts';
import { SESSION_RESOURCE } from '../analysis-session/resources.ts';
import { reconcileDefaultQuota } from './defaults.ts';
import { quotaMetrics } from './metrics.ts';
import { reconcileQuota } from './reconcile.ts';
import { NAMESPACE_RESOURCE, QUOTA_RESOURCE } from './resources.ts';

export { QUOTA_RESOURCE, USAGE_RESOURCE } from './resources.ts';

export interface QuotaControllerOptions {
  config: () => OperatorConfig;
  now?: () => number;
  concurrency?: number;
  resyncMs?: number;
}

export interface QuotaController {
  controller: Controller<ResourceQuota & KubeObject>;
  requeueAll(): void;
}

/** Adds the quota controller and the default-quota writer to `manager`. */
export function addQuotaController(manager: Manager, options: QuotaControllerOptions): QuotaController {
  const quotas = manager.source<ResourceQuota & KubeObject>({ resource: QUOTA_RESOURCE });
  const sessions = manager.source<AnalysisSession & KubeObject>({ resource: SESSION_RESOURCE });
  const namespaces = manager.source({ resource: NAMESPACE_RESOURCE });
  const quotasIn = (namespace: string) => quotas.store.list(namespace) as ResourceQuota[];
  const keysIn = (namespace: string | undefined) => (namespace ? quotasIn(namespace).map((q) => `${namespace}/${q.metadata.name}`) : []);
  // The default-quota writer is woken by the label-selected namespaces; it reads them from the same cache, which
  // holds the namespace by the time its event arrives (the unselected one may not have it yet).
  const proposalNamespaces = manager.source({ resource: NAMESPACE_RESOURCE, labelSelector: LABELS.proposal });
  const namespace = (name: string) => proposalNamespaces.store.get(undefined, name) ?? namespaces.store.get(undefined, name);
  const deps = {
    kube: manager.kube,
    config: options.config,
    now: options.now ?? Date.now,
    quotas: quotasIn,
    sessions: (ns: string) => sessions.store.list(ns) as AnalysisSession[],
    namespace,
    events: manager.eventRecorder('panalysis.io/quota-controller'),
    metrics: quotaMetrics(manager.metrics),
  };
  const controller = manager.addController<ResourceQuota & KubeObject>({
    name: 'resourcequota',
    for: { resource: QUOTA_RESOURCE },
    watches: [
      { spec: { resource: SESSION_RESOURCE }, map: (s) => keysIn(s.metadata?.namespace) },
      // Another quota of the namespace appeared or went: the governing one may change.
      { spec: { resource: QUOTA_RESOURCE }, map: (q) => keysIn(q.metadata?.namespace) },
      { spec: { resource: NAMESPACE_RESOURCE }, map: (ns) => keysIn(ns.metadata?.name) },
    ],
    concurrency: options.concurrency ?? 4,
    ...(options.resyncMs ? { resyncMs: options.resyncMs } : {}),
    reconcile: (req) => reconcileQuota(req, deps),
  });
  manager.addController<KubeObject>({
    name: 'defaultquota',
    for: { resource: NAMESPACE_RESOURCE, labelSelector: LABELS.proposal },
    watches: [{ spec: { resource: QUOTA_RESOURCE }, map: (q) => (q.metadata?.namespace ? [q.metadata.namespace] : []) }],
    concurrency: 1,
    reconcile: (req) => reconcileDefaultQuota(req, { kube: manager.kube, config: options.config, namespace, quotas: quotasIn }),
  });
  return { controller, requeueAll: () => quotas.store.keys().forEach((key) => controller.queue.add(key, 'resync')) };
}

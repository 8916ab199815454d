// SPDX-License-Identifier: Apache-2.0
/**
 * The facility default quota: every proposal namespace without a ResourceQuota
 * (panalysis.io) gets one from the operator configuration, created once and never
 * updated (an admin may edit it, or create another, which then governs and the written
 * default is removed by the quota controller).
 */
import { API_VERSION, LABELS } from '../../api/v1alpha1/group.ts';
import type { ResourceQuota } from '../../api/v1alpha1/resource-quota.ts';
import type { OperatorConfig } from '../../config/schema.ts';
import { DEFAULT_QUOTA_LABEL } from '../../policy/quota-ledger.ts';
import type { ReconcileRequest } from '../../runtime/controller.ts';
import { done } from '../../runtime/errors.ts';
import type { ReconcileResult } from '../../runtime/errors.ts';
import type { KubeClient } from '../../runtime/kube.ts';
import { isConflict } from '../../runtime/kube-http.ts';
import type { KubeObject } from '../../runtime/resource.ts';

export interface DefaultQuotaDeps {
  kube: KubeClient;
  config: () => OperatorConfig;
  namespace: (name: string) => KubeObject | undefined;
  quotas: (namespace: string) => ResourceQuota[];
}

/** The default quota object for a proposal namespace (pure). */
export function buildDefaultQuota(config: OperatorConfig, namespace: string, proposal: string): ResourceQuota | undefined {
  const spec = config.quotas.default;
  if (!spec) return undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'ResourceQuota',
    metadata: {
      name: config.quotas.defaultName,
      namespace,
      labels: { [DEFAULT_QUOTA_LABEL]: 'true', [LABELS.managedBy]: 'panalysis' },
      annotations: { 'panalysis.io/description': 'Written from the facility default (operator configuration quotas.default). Edit it for this proposal, or create your own quota, which then governs and this one is removed.' },
    },
    spec: { ...structuredClone(spec), proposal },
  };
}

/** Writes the default quota into the namespace named by `req` if it is a live proposal namespace with none. */
export async function reconcileDefaultQuota(req: ReconcileRequest, deps: DefaultQuotaDeps): Promise<ReconcileResult> {
  const ns = deps.namespace(req.name);
  const proposal = ns?.metadata?.labels?.[LABELS.proposal];
  if (!ns || !proposal || ns.metadata?.deletionTimestamp || (ns as { status?: { phase?: string } }).status?.phase === 'Terminating') return done();
  if (deps.quotas(req.name).length > 0) return done();
  const quota = buildDefaultQuota(deps.config(), req.name, proposal);
  if (!quota) return done();
  try {
    await deps.kube.create(quota as ResourceQuota & KubeObject);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  return done();
}

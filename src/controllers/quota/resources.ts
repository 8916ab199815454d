// SPDX-License-Identifier: Apache-2.0
/** The kinds the quota controller reads and writes, and its field manager. */
import { API_VERSION } from '../../api/v1alpha1/group.ts';
import type { ResourceQuota } from '../../api/v1alpha1/resource-quota.ts';
import type { ObjectRef, ResourceType } from '../../runtime/resource.ts';

export const QUOTA_FIELD_MANAGER = 'panalysis-quota-controller';
export const QUOTA_RESOURCE: ResourceType = { apiVersion: API_VERSION, kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true };
export const USAGE_RESOURCE: ResourceType = { apiVersion: API_VERSION, kind: 'UsageRecord', plural: 'usagerecords', namespaced: true };
export const NAMESPACE_RESOURCE: ResourceType = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };

export function quotaRef(q: ResourceQuota): ObjectRef {
  return { apiVersion: API_VERSION, kind: 'ResourceQuota', namespace: q.metadata.namespace!, name: q.metadata.name! };
}

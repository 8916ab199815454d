// SPDX-License-Identifier: Apache-2.0
/** The API group and version of every panalysis kind. */
export const GROUP = 'panalysis.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
/** `kubectl get panalysis -A` lists every kind that carries this category. */
export const CATEGORY = 'panalysis';

/** Labels and annotations we set or read; all under our group. */
export const LABELS = {
  /** On a namespace: the proposal it belongs to (one namespace per proposal). */
  proposal: `${GROUP}/proposal`,
  /** On children: the AnalysisSession they belong to. */
  session: `${GROUP}/session`,
  /** On children: the facility user a session runs as. */
  user: `${GROUP}/user`,
  /** On children: which part of the session an object is (pod, service, ...). */
  component: `${GROUP}/component`,
  /** On PVs and PVCs: the DatasetMount they realise. */
  dataset: `${GROUP}/dataset`,
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** On a session's pod: the start of the run it was created for, on the operator's clock (recorded once in `status.runStartedAt`). */
export const RUN_STARTED_AT_ANNOTATION = `${GROUP}/run-started-at`;

/**
 * On an AnalysisSession: the latest activity the gateway saw (RFC 3339, seconds), written at
 * most once a minute per session; what idle culling counts from (src/policy/idle.ts).
 */
export const LAST_ACTIVITY_ANNOTATION = `${GROUP}/last-activity`;

/** Minimal ObjectMeta as our validators see it; the apiserver owns the full shape. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
}

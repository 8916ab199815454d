// SPDX-License-Identifier: Apache-2.0
/**
 * The generic controller runtime: reflectors and stores, a rate-limited work queue, controllers with
 * controller-runtime's result handling, a manager with leader election and probes, and the helpers a
 * reconciler needs (server-side apply with skipping, conditions, finalizers, Events).
 * Test doubles live in `./testing/` and are not exported here.
 */
export { ApplyMemo, canonicalJson, containsFields } from './apply-memo.ts';
export { Backoff, sleep, systemClock, type Clock, type Timer } from './clock.ts';
export {
  MAX_CONDITION_MESSAGE,
  findCondition,
  formatTime,
  isConditionTrue,
  setCondition,
  statusEqual,
  truncateMessage,
  type Condition,
  type ConditionInput,
  type ConditionStatus,
} from './conditions.ts';
export { Controller, ownerKeys, type ControllerOptions, type ReconcileRequest, type Source, type Watch } from './controller.ts';
export { BUILTIN_RESOURCES, createResourceResolver, type ResourceResolver } from './discovery.ts';
export { TerminalError, done, errorReason, isTerminalError, requeueAfter, type ReconcileResult } from './errors.ts';
export { EventRecorder, eventSinkFromKube, type EventInput, type EventRecorderOptions, type EventSink, type EventType, type KubeEvent } from './events.ts';
export { withFinalizer, type FinalizerHandlers } from './finalizer.ts';
export {
  APPLY_PATCH,
  JSON_PATCH,
  createKubeClient,
  kubeClientFromConfig,
  type ApplyOptions,
  type ApplyOutcome,
  type DeleteOptions,
  type JsonPatchOp,
  type KubeClient,
  type KubeClientOptions,
  type ListOptions,
  type LiveLookup,
  type WriteCounts,
} from './kube.ts';
export {
  KubeApiError,
  createKubeTransport,
  isConflict,
  isGone,
  isInvalid,
  isNotFound,
  statusCode,
  type KubeRequest,
  type KubeTransport,
  type KubeTransportOptions,
} from './kube-http.ts';
export {
  LeaderElector,
  formatMicroTime,
  leaseApiFromKube,
  type Lease,
  type LeaseApi,
  type LeaseSpec,
  type LeaderElectorOptions,
} from './leader.ts';
export {
  createListWatch,
  type ListPage,
  type ListWatchOptions,
  type ListWatchSource,
  type WatchEvent,
  type WatchEventType,
  type WatchHandle,
  type WatchSpec,
} from './list-watch.ts';
export { jsonLogger, noopLogger, type JsonLoggerOptions, type LogLevel, type LogValues, type Logger } from './log.ts';
export {
  LeaderElectionLostError,
  Manager,
  type ControllerSpec,
  type LeaderElectionConfig,
  type ManagerOptions,
  type ReflectorTuning,
} from './manager.ts';
export { Counter, MetricsRegistry, type Labels, type Sample } from './metrics.ts';
export { startProbeServer, type ProbeHandlers, type ProbeServer } from './probe-server.ts';
export { WorkQueue, type Lane, type WorkQueueOptions } from './queue.ts';
export {
  ExponentialRateLimiter,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
  defaultRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
} from './rate-limiter.ts';
export { NamespaceFanout, type NamespaceFanoutOptions, type SourceLike } from './namespace-fanout.ts';
export { Reflector, type ReflectorOptions, type ReflectorStats } from './reflector.ts';
export {
  apiGroup,
  controllerOf,
  controllerReference,
  keyOf,
  objectKey,
  parseKey,
  refOf,
  resourcePath,
  type KubeObject,
  type ObjectMeta,
  type ObjectRef,
  type OwnerReference,
  type ResourceType,
} from './resource.ts';
export { MemoryStore, type ChangeListener, type ChangeType, type Store } from './store.ts';

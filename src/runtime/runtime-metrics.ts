// SPDX-License-Identifier: Apache-2.0
import type { Controller } from './controller.ts';
import type { KubeClient } from './kube.ts';
import type { MetricsRegistry, Sample } from './metrics.ts';
import type { KubeObject } from './resource.ts';
import type { SourceLike } from './namespace-fanout.ts';

/** What the manager exposes beyond the controllers' own counters. */
export interface RuntimeMetricSources {
  readonly kube: KubeClient;
  readonly controllers: () => ReadonlyArray<Controller<KubeObject>>;
  readonly reflectors: () => ReadonlyArray<SourceLike<KubeObject>>;
  readonly leading: () => boolean | undefined;
}

const REFLECTOR_LABELS = ['kind', 'api_version', 'namespace', 'selector'];

/**
 * Registers the collected families: queue depth and in-flight keys per controller, client writes and skipped
 * applies by verb, reflector list/watch/relist/watchdog counts by kind, and leader status.
 */
export function registerRuntimeMetrics(registry: MetricsRegistry, sources: RuntimeMetricSources): void {
  const perController = (value: (c: Controller<KubeObject>) => number) => (): Sample[] =>
    sources.controllers().map((c) => ({ labels: { name: c.name }, value: value(c) }));
  registry.collect('workqueue_depth', 'Keys waiting in the work queue.', 'gauge', ['name'], perController((c) => c.queue.len()));
  registry.collect('workqueue_unfinished_work', 'Keys being reconciled.', 'gauge', ['name'], perController((c) => c.queue.processing()));
  registry.collect('workqueue_delayed', 'Keys waiting for a requeue or backoff timer.', 'gauge', ['name'], perController((c) => c.queue.waiting()));
  registry.collect('controller_runtime_kube_writes_total', 'Write requests sent to the API server, by verb.', 'counter', ['verb'], () =>
    Object.entries(sources.kube.writes).map(([verb, value]) => ({ labels: { verb }, value })),
  );
  registry.collect('controller_runtime_apply_skipped_total', 'Applies skipped because nothing would change.', 'counter', ['verb'], () =>
    Object.entries(sources.kube.skipped).map(([verb, value]) => ({ labels: { verb }, value })),
  );
  const reflectorFamily = (name: string, help: string, field: keyof SourceLike<KubeObject>['stats']): void =>
    registry.collect(name, help, 'counter', REFLECTOR_LABELS, () =>
      sources.reflectors().map((r) => ({ labels: reflectorLabels(r), value: r.stats[field] })),
    );
  reflectorFamily('controller_runtime_reflector_lists_total', 'Full lists.', 'lists');
  reflectorFamily('controller_runtime_reflector_watches_total', 'Watches opened.', 'watches');
  reflectorFamily('controller_runtime_reflector_relists_after_gone_total', 'Relists caused by 410 Gone.', 'relistsAfterGone');
  reflectorFamily('controller_runtime_reflector_watchdog_restarts_total', 'Silent watches restarted.', 'watchdogRestarts');
  reflectorFamily('controller_runtime_reflector_errors_total', 'List or watch failures.', 'errors');
  registry.collect('leader_election_master_status', '1 while this replica leads, 0 otherwise.', 'gauge', [], () => {
    const leading = sources.leading();
    return leading === undefined ? [] : [{ labels: {}, value: leading ? 1 : 0 }];
  });
}

function reflectorLabels(r: SourceLike<KubeObject>): Record<string, string> {
  const { resource, namespace, labelSelector } = r.spec;
  return { kind: resource.kind, api_version: resource.apiVersion, namespace: namespace ?? '', selector: labelSelector ?? '' };
}

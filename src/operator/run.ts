// SPDX-License-Identifier: Apache-2.0
/**
 * `panalysis operator`: the controllers, with leader election on a Lease, probes and
 * metrics, and the configuration reloaded without a restart.
 */
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { LABELS } from '../api/v1alpha1/group.ts';
import { apiserverExceptedConfig } from '../config/egress.ts';
import { ConfigHolder } from '../config/watch.ts';
import { addSessionController } from '../controllers/analysis-session/index.ts';
import { addDatasetController } from '../controllers/dataset-mount/index.ts';
import { addQuotaController } from '../controllers/quota/index.ts';
import { NAMESPACE_SCOPED_PLURALS } from '../controllers/rbac.ts';
import { jsonLogger } from '../runtime/log.ts';
import { LeaderElectionLostError, Manager } from '../runtime/manager.ts';
import { watchApiserverAddresses } from './apiserver-addresses.ts';
import { sourcesFromConfig } from './sources.ts';
import { watchClockOffset } from './test-clock.ts';
import { offsetClock, systemClock } from '../runtime/clock.ts';

/** Options of {@link runOperator}. */
export interface OperatorOptions {
  configPath: string;
  /** Lease-based leader election (recommended with more than one replica). */
  leaderElect: boolean;
  leaseNamespace: string;
  identity?: string;
  /** Probe and metrics port; 0 picks a free one (printed at start). */
  port: number;
  configPollMs?: number;
  resyncMs?: number;
  /** Testing only: a file holding an offset (ms) added to the controllers' clock, see test-clock.ts. */
  testingClockOffsetFile?: string;
}

/**
 * Runs until SIGTERM/SIGINT (exit 0) or until the lease is lost (exit 1, so that the
 * pod restarts and campaigns again).
 * @throws ConfigError when the configuration is invalid at start.
 */
export async function runOperator(o: OperatorOptions): Promise<number> {
  const logger = jsonLogger();
  const holder = new ConfigHolder(o.configPath, (msg, kv) => logger.info(msg, kv as never));
  let sources = sourcesFromConfig(holder.current());
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const identity = o.identity ?? `${hostname()}-${process.pid}`;
  const manager = Manager.fromKubeConfig(kc, {
    logger,
    appliedHashAnnotation: 'panalysis.io/applied-hash',
    // Secrets are read only where the operator has rights: in proposal namespaces (see src/controllers/rbac.ts).
    namespaceScoped: { plurals: NAMESPACE_SCOPED_PLURALS, namespaceSelector: LABELS.proposal },
    server: { port: o.port, host: '0.0.0.0' },
    ...(o.leaderElect ? { leaderElection: { namespace: o.leaseNamespace, name: 'panalysis-operator', identity } } : {}),
  });
  // Sessions' egress also excepts the API server's own (possibly public) addresses.
  const requeueSessions = { now: () => undefined as void };
  const apiserver = holder.current().network.egress.excludeApiserver === false ? () => [] : watchApiserverAddresses(manager, () => requeueSessions.now());
  // Testing only: the controllers' clock moved by an offset file; a change looks at everything again.
  const onClockChange = { now: () => undefined as void };
  const testClock = o.testingClockOffsetFile
    ? watchClockOffset(o.testingClockOffsetFile, () => {
      logger.info('Testing clock moved', { offsetMs: testClock?.offset() });
      onClockChange.now();
    })
    : undefined;
  const now = testClock ? offsetClock(systemClock, testClock.offset).now : Date.now;
  if (testClock) logger.info('Testing clock: the controllers\' time is offset by the file', { file: o.testingClockOffsetFile, offsetMs: testClock.offset() });
  const sessions = addSessionController(manager, { config: apiserverExceptedConfig(() => holder.current(), apiserver), directory: () => sources.directory, proposals: () => sources.proposals, resyncMs: o.resyncMs, now });
  requeueSessions.now = () => sessions.requeueAll();
  const datasets = addDatasetController(manager, { config: () => holder.current(), now });
  const quotas = addQuotaController(manager, { config: () => holder.current(), resyncMs: o.resyncMs, now });
  onClockChange.now = () => {
    logger.info('Testing clock changed', { offsetMs: testClock?.offset() });
    sessions.requeueAll();
    datasets.requeueAll();
    quotas.requeueAll();
  };
  holder.onChange((config) => {
    sources = sourcesFromConfig(config);
    sessions.requeueAll();
    // Allowed roots may have changed: every DatasetMount is checked again now, not at the next resync.
    datasets.requeueAll();
    // Profiles (what a session asks for) or the facility default may have changed.
    quotas.requeueAll();
  });
  holder.watch(o.configPollMs ?? 5000);
  manager.handleSignals();
  logger.info('Starting operator', { identity, port: o.port, leaderElection: o.leaderElect });
  try {
    await manager.start();
    return 0;
  } catch (err) {
    if (err instanceof LeaderElectionLostError) {
      logger.error('Lost the leader lease; exiting so a fresh replica campaigns', {});
      return 1;
    }
    throw err;
  } finally {
    holder.stop();
    testClock?.stop();
  }
}

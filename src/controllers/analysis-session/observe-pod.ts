// SPDX-License-Identifier: Apache-2.0
/**
 * What a session's Pod says about it, in words a portal can show (pure): scheduled or
 * why not (the scheduler's reason, made readable), ready or what it waits for, the
 * node, the image digest it runs and when it became ready.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { GpuFlavour } from '../../config/schema.ts';
import { SCHEDULING } from './home-volume.ts';

/** One condition's verdict. */
export interface Verdict {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface PodObservation {
  scheduled: Verdict;
  ready: Verdict;
  node?: string;
  imageDigest?: string;
  /** When the pod last became Ready (RFC 3339), if it is Ready. */
  readySince?: string;
  terminating: boolean;
}

/** Turns the scheduler's "0/6 nodes are available: ..." into a sentence about the session's request. */
export function explainUnschedulable(message: string, flavour?: GpuFlavour, gpuCount = 0): Verdict {
  const insufficient = [...message.matchAll(/Insufficient ([A-Za-z0-9./_-]+)/g)].map((m) => m[1]!);
  if (flavour && insufficient.includes(flavour.resource)) {
    const what = flavour.displayName ?? flavour.name;
    return { status: 'False', reason: 'NoGpuAvailable', message: `Waiting for ${gpuCount} free ${what} GPU${gpuCount > 1 ? 's' : ''} (flavour ${flavour.name}); all are in use. The session starts when one is released. Scheduler: ${message}` };
  }
  if (insufficient.includes('cpu') || insufficient.includes('memory')) {
    const what = insufficient.filter((r) => r === 'cpu' || r === 'memory').join(' and ');
    return { status: 'False', reason: 'InsufficientResources', message: `Waiting for a node with enough free ${what}. Scheduler: ${message}` };
  }
  return { status: 'False', reason: 'Unschedulable', message: `No node can run the session yet. Scheduler: ${message}` };
}

function digestOf(imageID: string | undefined): string | undefined {
  const m = /(sha256:[a-f0-9]{64})/.exec(imageID ?? '');
  return m?.[1];
}

function waitingVerdict(pod: V1Pod): Verdict | undefined {
  for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const waiting = cs.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      return { status: 'False', reason: waiting.reason.replace(/[^A-Za-z0-9]/g, ''), message: `Container ${cs.name} is waiting: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
    }
  }
  return undefined;
}

/** Observes `pod` (undefined: not created yet). */
export function observePod(pod: V1Pod | undefined, flavour?: GpuFlavour, gpuCount = 0): PodObservation {
  if (!pod) {
    const none: Verdict = { status: 'False', reason: 'PodNotCreated', message: 'The session pod does not exist yet.' };
    return { scheduled: none, ready: none, terminating: false };
  }
  const conditions = pod.status?.conditions ?? [];
  const scheduledCond = conditions.find((c) => c.type === 'PodScheduled');
  const readyCond = conditions.find((c) => c.type === 'Ready');
  const terminating = Boolean(pod.metadata?.deletionTimestamp);
  const node = pod.spec?.nodeName;
  let scheduled: Verdict;
  if (node) scheduled = { status: 'True', reason: 'Scheduled', message: `Placed on node ${node}.` };
  else if (scheduledCond?.status === 'False' && scheduledCond.reason === 'Unschedulable') scheduled = explainUnschedulable(scheduledCond.message ?? '', flavour, gpuCount);
  else scheduled = SCHEDULING;
  const main = pod.status?.containerStatuses?.find((c) => c.name === 'jupyter' || c.name === 'desktop');
  let ready: Verdict;
  if (terminating) ready = { status: 'False', reason: 'PodTerminating', message: 'The session pod is shutting down.' };
  else if (readyCond?.status === 'True') ready = { status: 'True', reason: 'Ready', message: 'The session is ready.' };
  else if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') ready = { status: 'False', reason: 'PodEnded', message: `The session pod ended (${pod.status.phase}${pod.status.reason ? `: ${pod.status.reason}` : ''}).` };
  else ready = waitingVerdict(pod) ?? { status: 'False', reason: node ? 'Starting' : scheduled.reason, message: node ? 'The session is starting.' : scheduled.message };
  return {
    scheduled,
    ready,
    node,
    imageDigest: digestOf(main?.imageID),
    readySince: readyCond?.status === 'True' ? new Date(readyCond.lastTransitionTime as unknown as string).toISOString().replace('.000Z', 'Z') : undefined,
    terminating,
  };
}

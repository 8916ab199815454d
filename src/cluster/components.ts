// SPDX-License-Identifier: Apache-2.0
/**
 * Command lines of the control plane components (pure). Flags follow envtest and
 * kwokctl's binary runtime: loopback only, static tokens, our own PKI.
 */
import { join } from 'node:path';
import type { Binaries } from './binaries.ts';
import type { Pki } from './pki.ts';
import type { ProcessSpec } from './supervisor.ts';

/** Ports and paths a local cluster runs with. */
export interface ClusterLayout {
  dir: string;
  etcdPort: number;
  etcdPeerPort: number;
  apiserverPort: number;
  controllerManagerPort: number;
  schedulerPort: number;
  kwokPort: number;
  tokenFile: string;
  kubeconfigs: { controllerManager: string; scheduler: string; kwok: string };
}

/** The service CIDR; {@link KUBERNETES_SERVICE_IP} is the `kubernetes` Service. */
export const SERVICE_CIDR = '10.96.0.0/16';

/** The `kubernetes` Service's address (the first of {@link SERVICE_CIDR}), named by the apiserver's certificate. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
/** Pod IPs kwok hands out. */
export const POD_CIDR = '10.244.0.0/16';

/**
 * Client limits of the controller manager and the scheduler. Their defaults (20 and 50
 * requests per second) make the persistent-volume binder and the scheduler, not the
 * apiserver, the bottleneck of a burst of claims; a cluster of hundreds of nodes raises them
 * the same way, so sessions are measured against the platform rather than a client limit.
 */
export const PLATFORM_CLIENT_LIMITS = ['--kube-api-qps=500', '--kube-api-burst=1000'];

export function etcdSpec(bin: Binaries, l: ClusterLayout): ProcessSpec {
  const peer = `http://127.0.0.1:${l.etcdPeerPort}`;
  const client = `http://127.0.0.1:${l.etcdPort}`;
  return {
    name: 'etcd',
    command: bin.etcd,
    args: [
      '--name=panalysis', `--data-dir=${join(l.dir, 'etcd')}`,
      `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=panalysis=${peer}`,
      '--unsafe-no-fsync=true', '--log-level=warn', '--quota-backend-bytes=4294967296',
    ],
  };
}

/**
 * kube-apiserver's command line. With `realNode`, it talks to kubelets with its own client
 * certificate, checks their serving certificates against the cluster CA, and reaches a node by
 * its InternalIP (the node name need not resolve). It listens on 127.0.0.1 only; the real node's
 * pods reach it through the node's own DNAT (`apiServiceRules`).
 */
export function apiserverSpec(bin: Binaries, l: ClusterLayout, pki: Pki, realNode = false): ProcessSpec {
  const kubelet = realNode
    ? [`--kubelet-client-certificate=${pki.kubeletClientCert}`, `--kubelet-client-key=${pki.kubeletClientKey}`,
      `--kubelet-certificate-authority=${pki.caCert}`, '--kubelet-preferred-address-types=InternalIP']
    : [];
  return {
    name: 'kube-apiserver',
    command: bin.kubeApiserver,
    args: [
      `--etcd-servers=http://127.0.0.1:${l.etcdPort}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${l.apiserverPort}`,
      `--cert-dir=${join(l.dir, 'pki')}`, `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`, `--token-auth-file=${l.tokenFile}`,
      '--authorization-mode=Node,RBAC', '--allow-privileged=true',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPub}`, `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--profiling=false', '--endpoint-reconciler-type=none', '--v=1', ...kubelet,
    ],
  };
}

export function controllerManagerSpec(bin: Binaries, l: ClusterLayout, pki: Pki): ProcessSpec {
  const kc = l.kubeconfigs.controllerManager;
  return {
    name: 'kube-controller-manager',
    command: bin.kubeControllerManager,
    args: [
      `--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`,
      '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${l.controllerManagerPort}`,
      `--root-ca-file=${pki.caCert}`, `--service-account-private-key-file=${pki.serviceAccountKey}`,
      '--use-service-account-credentials=true', `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`, '--node-monitor-grace-period=60s', '--enable-hostpath-provisioner=true', ...PLATFORM_CLIENT_LIMITS, '--v=1',
    ],
  };
}

export function schedulerSpec(bin: Binaries, l: ClusterLayout): ProcessSpec {
  const kc = l.kubeconfigs.scheduler;
  return {
    name: 'kube-scheduler',
    command: bin.kubeScheduler,
    args: [
      `--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`,
      '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${l.schedulerPort}`, ...PLATFORM_CLIENT_LIMITS, '--v=1',
    ],
  };
}

export function kwokSpec(bin: Binaries, l: ClusterLayout): ProcessSpec {
  return {
    name: 'kwok',
    command: bin.kwok,
    args: [
      `--kubeconfig=${l.kubeconfigs.kwok}`, `--config=${join(l.dir, 'kwok.yaml')}`,
      '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--cidr=${POD_CIDR}`, '--node-ip=127.0.0.1', '--node-lease-duration-seconds=40',
      `--server-address=127.0.0.1:${l.kwokPort}`,
    ],
  };
}

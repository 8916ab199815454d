// SPDX-License-Identifier: Apache-2.0
/**
 * The Secret and home PVC of a session, and the NetworkPolicy of a namespace's sessions
 * (pure). A session has no Service: the gateway connects to the pod's IP on {@link gatewayPort}.
 */
import type { V1PersistentVolumeClaim, V1Secret, V1ServicePort } from '@kubernetes/client-node';
import { PORTS } from './containers.ts';
import { childMeta, namespacePolicyMeta, SESSION_POD_LABELS, sessionNames } from './names.ts';
import type { SessionInputs } from './session-inputs.ts';
import type { AnalysisSession } from '../api/v1alpha1/analysis-session.ts';

/** The one port of the session pod the gateway talks to, by session type and protocol. */
export function gatewayPort(i: Pick<SessionInputs, 'session' | 'protocol'>): V1ServicePort {
  if (i.session.spec.type === 'jupyter') return { name: 'http', port: PORTS.jupyter, targetPort: PORTS.jupyter, protocol: 'TCP' };
  if (i.protocol === 'guacamole') return { name: 'guacd', port: PORTS.guacd, targetPort: PORTS.guacd, protocol: 'TCP' };
  return { name: 'vnc-ws', port: PORTS.websockify, targetPort: PORTS.websockify, protocol: 'TCP' };
}

function egressRules(i: Pick<SessionInputs, 'egress'>): unknown[] {
  const dns = i.egress.dns
    ? [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }]
    : [];
  const cidrs = i.egress.allow.map((a) => ({ ipBlock: { cidr: a.cidr, ...(a.except && a.except.length > 0 ? { except: a.except } : {}) } }));
  return [...dns, ...(cidrs.length > 0 ? [{ to: cidrs }] : [])];
}

/**
 * The NetworkPolicy of every session pod of a namespace: only the gateway's pods may open
 * a connection to a session, and only on the ports the gateway uses (Jupyter, the noVNC
 * bridge, guacd; a session listens on the one of its kind); a session may connect only
 * where the egress configuration allows (by default DNS and the public internet, no
 * private range). One per namespace, not one per session: the same rules for every
 * session, and one object less to write and to hold in memory per session.
 * Typed as plain JSON: client-node's model spells `from` as `_from`.
 */
export function buildSessionsNetworkPolicy(namespace: { name: string; uid: string }, i: Pick<SessionInputs, 'gateway' | 'egress'>): Record<string, unknown> {
  const restricted = i.egress.mode === 'Restricted';
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: namespacePolicyMeta(namespace),
    spec: {
      podSelector: { matchLabels: { ...SESSION_POD_LABELS } },
      policyTypes: restricted ? ['Ingress', 'Egress'] : ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': i.gateway.namespace } }, podSelector: { matchLabels: i.gateway.podLabels } }],
          ports: [PORTS.jupyter, PORTS.websockify, PORTS.guacd].map((port) => ({ port, protocol: 'TCP' })),
        },
      ],
      ...(restricted ? { egress: egressRules(i) } : {}),
    },
  };
}

/** Credentials, minted in the gather step and passed in (the builder never draws random numbers). */
export interface SessionCredentials {
  /** Jupyter token (jupyter) or VNC password (desktop). */
  secret: string;
}

export function buildSessionSecret(session: AnalysisSession, credentials: SessionCredentials): V1Secret {
  const key = session.spec.type === 'jupyter' ? 'token' : 'vnc-password';
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: childMeta(session, sessionNames(session.metadata.name!).secret, 'credentials'),
    data: { [key]: Buffer.from(credentials.secret).toString('base64') },
  };
}

export function buildHomeClaim(i: Pick<SessionInputs, 'session' | 'home'>): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: childMeta(i.session, sessionNames(i.session.metadata.name!).home, 'home'),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: i.home.size } },
      ...(i.home.storageClassName ? { storageClassName: i.home.storageClassName } : {}),
    },
  };
}

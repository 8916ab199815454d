// SPDX-License-Identifier: Apache-2.0
/**
 * The NetworkPolicy, Secret and home PVC of a session (pure). A session has no Service: the
 * gateway connects to the pod's IP on {@link gatewayPort}.
 */
import type { V1PersistentVolumeClaim, V1Secret, V1ServicePort } from '@kubernetes/client-node';
import { PORTS } from './containers.ts';
import { childMeta, sessionLabels, sessionNames } from './names.ts';
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
 * Only the gateway's pods may open a connection to the session, and only on its port;
 * the session may connect only where the egress configuration allows (by default DNS
 * and the public internet, no private range).
 * Typed as plain JSON: client-node's model spells `from` as `_from`.
 */
export function buildSessionNetworkPolicy(i: Pick<SessionInputs, 'session' | 'protocol' | 'gateway' | 'egress'>): Record<string, unknown> {
  const port = gatewayPort(i);
  const restricted = i.egress.mode === 'Restricted';
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(i.session, sessionNames(i.session.metadata.name!).networkPolicy, 'network-policy'),
    spec: {
      podSelector: { matchLabels: sessionLabels(i.session, 'session') },
      policyTypes: restricted ? ['Ingress', 'Egress'] : ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': i.gateway.namespace } }, podSelector: { matchLabels: i.gateway.podLabels } }],
          ports: [{ port: port.port, protocol: 'TCP' }],
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

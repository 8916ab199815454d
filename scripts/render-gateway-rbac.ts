// SPDX-License-Identifier: Apache-2.0
/** Renders the gateway's RBAC (declared in src/gateway/rbac.ts) as a Helm template and as a reference page. */
import type { PolicyRule } from '../src/controllers/rbac.ts';
import { gatewayClusterRules, gatewayNamespacedRules } from '../src/gateway/rbac.ts';
import { rules, table } from './render-rbac.ts';

const NAME = '{{ include "panalysis.fullname" $ }}-gateway';
const LABELS = '    {{- include "panalysis.labels" $ | nindent 4 }}';

function object(kind: string, name: string, namespace?: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ${kind}
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}  labels:
${LABELS}`;
}

function binding(kind: 'ClusterRoleBinding' | 'RoleBinding', roleName: string, namespace?: string): string {
  return `${object(kind, NAME, namespace)}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ${roleName}
subjects:
  - kind: ServiceAccount
    name: ${NAME}
    namespace: {{ $.Release.Namespace }}`;
}

function clusterRole(name: string, list: readonly PolicyRule[]): string {
  return `${object('ClusterRole', name)}
${rules(list)}`;
}

/** The content of charts/panalysis/templates/gateway-rbac.yaml (rendered only with `gateway.enabled`). */
export function renderGatewayRbacTemplate(header: string): string {
  const namespaced = `${NAME}-namespaced`;
  return `${header}# The gateway only reads (see docs/gateway-rbac.md). Cluster-wide: sessions, their pods, proposal namespaces.
{{- if .Values.gateway.enabled }}
${clusterRole(NAME, gatewayClusterRules)}
---
${binding('ClusterRoleBinding', NAME)}
---
# Secrets in proposal namespaces only: bind it there with a RoleBinding (rbac.proposalNamespaces, or
#   kubectl create rolebinding panalysis-gateway -n <namespace> --clusterrole=<this role> --serviceaccount=<release namespace>:<gateway ServiceAccount>).
${clusterRole(namespaced, gatewayNamespacedRules)}
{{- range .Values.rbac.proposalNamespaces }}
---
${binding('RoleBinding', namespaced, '{{ . }}')}
{{- end }}
{{- end }}
`;
}

/** The content of docs/gateway-rbac.md. */
export function renderGatewayRbacDoc(header: string): string {
  return [
    header.replace(/^# /, '<!-- ').replace(/\n$/, ' -->\n') + '# Gateway RBAC: which rule each feature needs',
    '',
    'The gateway (`panalysis gateway`) runs with two grants, both declared in `src/gateway/rbac.ts` and rendered into',
    '`charts/panalysis/templates/gateway-rbac.yaml`. It reads, and writes one thing: the annotation',
    '`panalysis.io/last-activity` on AnalysisSessions (server-side apply, at most once a minute per session). Its',
    'replicas all serve at once (no leader election, no Lease).',
    '',
    '## Cluster-wide (ClusterRole `panalysis-gateway`, ClusterRoleBinding)',
    '',
    'No right on Secrets. Pods are watched with the label selector',
    '`app.kubernetes.io/managed-by=panalysis,app.kubernetes.io/name=panalysis-session` and namespaces with',
    '`panalysis.io/proposal`, but RBAC cannot limit a read by label: the rule covers every pod\'s and namespace\'s',
    'metadata and spec, as the operator\'s does.',
    '',
    ...table(gatewayClusterRules),
    '',
    '## In each proposal namespace (ClusterRole `panalysis-gateway-namespaced`, one RoleBinding per namespace)',
    '',
    ...table(gatewayNamespacedRules),
    '',
    'The session credentials (Jupyter token, VNC password) are in Secrets the operator writes into the proposal',
    'namespace; the gateway reads them to connect and never sends them to a browser. The admin binds this role',
    'together with the operator\'s when creating the proposal namespace, or lists the namespace in the chart value',
    '`rbac.proposalNamespaces` (which binds both):',
    '',
    '```sh',
    'kubectl create rolebinding panalysis-gateway -n proposal-20231234 \\',
    '  --clusterrole=panalysis-gateway-namespaced --serviceaccount=panalysis-system:panalysis-gateway',
    '```',
    '',
    'Without it, the gateway still serves the other namespaces; the sessions of that namespace cannot be opened',
    '(the gateway has no credential to connect with) until the binding exists.',
    '',
  ].join('\n');
}

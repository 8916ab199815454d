// SPDX-License-Identifier: Apache-2.0
/** Renders the operator's RBAC (declared in src/controllers/rbac.ts) as a Helm template and as a reference page. */
import { stringify } from 'yaml';
import type { PolicyRule } from '../src/controllers/rbac.ts';
import { apiserverEndpointRules, leaderElectionRules, operatorClusterRules, operatorNamespacedRules } from '../src/controllers/rbac.ts';

const NAME = '{{ include "panalysis.fullname" . }}-operator';
const LABELS = '    {{- include "panalysis.labels" . | nindent 4 }}';
const SUBJECTS = `subjects:
  - kind: ServiceAccount
    name: ${NAME}
    namespace: {{ .Release.Namespace }}`;

/** `rules:` with the feature that needs each rule as a comment above it. */
export function rules(list: readonly PolicyRule[]): string {
  const out = ['rules:'];
  for (const { why, ...rule } of list) {
    if (why) out.push(`  # ${why}`);
    out.push(stringify([rule], { flowCollectionPadding: false }).trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
  }
  return out.join('\n');
}

function binding(kind: 'ClusterRoleBinding' | 'RoleBinding', name: string, roleKind: 'ClusterRole' | 'Role', roleName: string, namespace?: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ${kind}
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}  labels:
${LABELS}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ${roleKind}
  name: ${roleName}
${SUBJECTS}`;
}

function role(kind: 'ClusterRole' | 'Role', name: string, list: readonly PolicyRule[], namespace?: string): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: ${kind}
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}  labels:
${LABELS}
${rules(list)}`;
}

/** The content of charts/panalysis/templates/rbac.yaml. */
export function renderRbacTemplate(header: string): string {
  const namespaced = `${NAME}-namespaced`;
  return `${header}# Cluster-wide: reads, our own kinds, Events and PersistentVolumes (see docs/operator-rbac.md).
${role('ClusterRole', NAME, operatorClusterRules())}
---
${binding('ClusterRoleBinding', NAME, 'ClusterRole', NAME)}
---
# Rights in proposal namespaces only: bind it there with a RoleBinding (rbac.proposalNamespaces, or
#   kubectl create rolebinding panalysis-operator -n <namespace> --clusterrole=<this role> --serviceaccount=<release namespace>:<operator ServiceAccount>).
${role('ClusterRole', namespaced, operatorNamespacedRules())}
{{- range .Values.rbac.proposalNamespaces }}
---
${binding('RoleBinding', NAME, 'ClusterRole', namespaced, '{{ . }}').replace(/(\{\{-? include "panalysis\.(?:fullname|labels)") \. /g, '$1 $ ').replace('{{ .Release.Namespace }}', '{{ $.Release.Namespace }}')}
{{- end }}
---
${role('Role', `${NAME}-leader-election`, leaderElectionRules, '{{ .Release.Namespace }}')}
---
${binding('RoleBinding', `${NAME}-leader-election`, 'Role', `${NAME}-leader-election`, '{{ .Release.Namespace }}')}
---
${role('Role', `${NAME}-apiserver-endpoints`, apiserverEndpointRules, 'default')}
---
${binding('RoleBinding', `${NAME}-apiserver-endpoints`, 'Role', `${NAME}-apiserver-endpoints`, 'default')}
`;
}

/** A Markdown table of `list`: API group, resources, verbs and the feature that needs each rule. */
export function table(list: readonly PolicyRule[]): string[] {
  return [
    '| API group | resources | verbs | needed for |',
    '|---|---|---|---|',
    ...list.map((r) => `| ${r.apiGroups.map((g) => (g === '' ? 'core' : g)).join(', ')} | ${r.resources.join(', ')} | ${r.verbs.join(', ')} | ${(r.why ?? '').replace(/\|/g, '\\|')} |`),
  ];
}

/** The content of docs/operator-rbac.md. */
export function renderRbacDoc(header: string): string {
  return [
    header.replace(/^# /, '<!-- ').replace(/\n$/, ' -->\n') + '# Operator RBAC: which rule each feature needs',
    '',
    'The operator runs with four grants, all declared in `src/controllers/rbac.ts` and rendered into',
    '`charts/panalysis/templates/rbac.yaml`.',
    '',
    '## Cluster-wide (ClusterRole `panalysis-operator`, ClusterRoleBinding)',
    '',
    'Reads of what the controllers watch, writes of our own kinds, Events and PersistentVolumes.',
    'No right on Secrets, and no write right on Pods, claims, Services or NetworkPolicies.',
    '',
    ...table(operatorClusterRules()),
    '',
    'PersistentVolumes are cluster-scoped; RBAC cannot select them by label, and `create` cannot be',
    'limited by name. The DatasetMount controller therefore checks ownership itself: a volume is written',
    'or deleted only when its `panalysis.io/dataset-uid` label carries the DatasetMount\'s UID, deletes',
    'carry a UID precondition, and a volume that exists under the name without that UID is left',
    'untouched (the DatasetMount reports `VolumeConflict`).',
    '',
    'Quotas: the operator never updates the spec of a ResourceQuota (panalysis.io). It creates one only',
    'in a proposal namespace that has none (the facility default, `quotas.default`) and deletes only',
    'that default once the namespace has its own. The admission ledger in the status is written with a',
    'resourceVersion precondition. Usage records are created, never updated or deleted: the CRD refuses',
    'changes to their spec, and they are deleted with the proposal\'s namespace.',
    '',
    '## In each proposal namespace (ClusterRole `panalysis-operator-namespaced`, one RoleBinding per namespace)',
    '',
    ...table(operatorNamespacedRules()),
    '',
    'The admin creates the RoleBinding together with the proposal namespace, or lists the namespace in',
    'the chart value `rbac.proposalNamespaces`:',
    '',
    '```sh',
    'kubectl create namespace proposal-20231234',
    'kubectl label namespace proposal-20231234 panalysis.io/proposal=20231234',
    'kubectl create rolebinding panalysis-operator -n proposal-20231234 \\',
    '  --clusterrole=panalysis-operator-namespaced --serviceaccount=panalysis-system:panalysis-operator',
    '```',
    '',
    'The operator watches Secrets only in namespaces labelled `panalysis.io/proposal`, one watch per',
    'namespace. A labelled namespace without the RoleBinding does not hold the operator back: its',
    'DatasetMounts report `Ready=False` with reason `Forbidden` and the fix, every refused write is',
    'logged and retried, and all of it proceeds once the binding exists.',
    '',
    'The operator does not create these bindings itself: that would need `create` on RoleBindings in',
    'every namespace plus `bind` on the role, with which it could grant itself the same rights in any',
    'namespace (kube-system included).',
    '',
    '## In the operator\'s namespace (Role, leader election)',
    '',
    ...table(leaderElectionRules),
    '',
    '## In `default` (Role, the API server\'s addresses)',
    '',
    ...table(apiserverEndpointRules),
    '',
  ].join('\n');
}

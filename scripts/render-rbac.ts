// SPDX-License-Identifier: Apache-2.0
/** Renders the operator's RBAC (declared in src/controllers/rbac.ts) as a Helm template. */
import { stringify } from 'yaml';
import { leaderElectionRules, operatorClusterRules } from '../src/controllers/rbac.ts';

const NAME = '{{ include "panalysis.fullname" . }}-operator';
const LABELS = '    {{- include "panalysis.labels" . | nindent 4 }}';

function rules(list: unknown): string {
  return stringify({ rules: list }).trimEnd();
}

/** The content of charts/panalysis/templates/rbac.yaml. */
export function renderRbacTemplate(header: string): string {
  return `${header}apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${NAME}
  labels:
${LABELS}
${rules(operatorClusterRules())}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ${NAME}
  labels:
${LABELS}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ${NAME}
subjects:
  - kind: ServiceAccount
    name: ${NAME}
    namespace: {{ .Release.Namespace }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ${NAME}-leader-election
  namespace: {{ .Release.Namespace }}
  labels:
${LABELS}
${rules(leaderElectionRules)}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ${NAME}-leader-election
  namespace: {{ .Release.Namespace }}
  labels:
${LABELS}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ${NAME}-leader-election
subjects:
  - kind: ServiceAccount
    name: ${NAME}
    namespace: {{ .Release.Namespace }}
`;
}

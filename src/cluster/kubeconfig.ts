// SPDX-License-Identifier: Apache-2.0
/** Kubeconfig files and static tokens for a local cluster (pure builders + one writer). */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/** An identity the local apiserver accepts through its static token file. */
export interface LocalUser {
  name: string;
  groups: string[];
}

/** Users every local cluster has; tests and the demo add more. */
export const BUILTIN_USERS: LocalUser[] = [
  { name: 'admin', groups: ['system:masters'] },
  { name: 'system:kube-controller-manager', groups: [] },
  { name: 'system:kube-scheduler', groups: [] },
  { name: 'kwok', groups: ['system:masters'] },
];

/** A random bearer token. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The `--token-auth-file` content: `token,user,uid,"group1,group2"` per line. */
export function buildTokenFile(tokens: Map<string, { user: LocalUser; token: string }>): string {
  return [...tokens.values()].map(({ user, token }) => `${token},${user.name},${user.name},"${user.groups.join(',')}"`).join('\n') + '\n';
}

/** A kubeconfig with one cluster, one user (bearer token) and one current context. */
export function buildKubeconfig(server: string, caData: string, userName: string, token: string, contextName = 'panalysis-local'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: contextName, cluster: { server, 'certificate-authority-data': Buffer.from(caData).toString('base64') } }],
    users: [{ name: userName, user: { token } }],
    contexts: [{ name: contextName, context: { cluster: contextName, user: userName, namespace: 'default' } }],
    'current-context': contextName,
  });
}

/** Writes a kubeconfig readable by its owner only. */
export function writeKubeconfig(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
}

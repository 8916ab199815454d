// SPDX-License-Identifier: Apache-2.0
/**
 * The Helm chart on the real local control plane: it lints, installs into a namespace
 * that enforces the restricted Pod Security profile, its operator and gateway Deployments
 * become available, its RBAC is enough for the operator (run with the chart's
 * ServiceAccount token) and no more, and the gateway's only reads. Where the real node runs,
 * the chart's operator runs there as pods of the locally built image (localhost/panalysis/
 * panalysis:local, the Dockerfile's steps) with in-cluster credentials, and is the operator
 * the rest of this file checks; elsewhere the Deployment lands on kwok nodes, which report it
 * available without running it, and a process with the chart's token stands in.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { findBinaries, REPO_ROOT } from '../../src/cluster/binaries.ts';
import { buildKubeconfig } from '../../src/cluster/kubeconfig.ts';
import { OPERATOR_IMAGE } from '../../src/cluster/images.ts';
import { REAL_NODE_LABEL, REAL_NODE_TOLERATION } from '../../src/cluster/real-node-config.ts';
import { core, freshNamespace, kubeConfig, kubectl, waitFor } from './helpers.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, isPhase, waitSession } from './sessions.ts';
import { createDataset, readyIs, waitDataset } from './datasets.ts';
import { deleteNamespace } from './cleanup.ts';

const run = promisify(execFile);
const chart = join(REPO_ROOT, 'charts', 'panalysis');
const helm = (...args: string[]) => run(findBinaries().helm, args, { env: { ...process.env, KUBECONFIG: inject('kubeconfig') } });
let operator: OperatorProcess | undefined;
const realNode = inject('realNode');
/** Values that put the operator on the real node, as pods of the image built from this repository. */
const onRealNode = [
  '--set', `image.repository=${OPERATOR_IMAGE.split(':')[0]}`, '--set', `image.tag=${OPERATOR_IMAGE.split(':')[1]}`, '--set', 'image.pullPolicy=Never',
  '--set-json', `operator.nodeSelector=${JSON.stringify({ [REAL_NODE_LABEL]: 'true' })}`,
  '--set-json', `operator.tolerations=${JSON.stringify([REAL_NODE_TOLERATION])}`,
];
let releaseNs = '';
let sessionsNs = '';

// Sessions first, while the operator with the chart's token still runs; then the release
// (its ClusterRoles and bindings are cluster-wide) and its namespace.
afterAll(async () => {
  if (sessionsNs) await deleteNamespace(sessionsNs);
  await operator?.stop();
  if (releaseNs) await helm('uninstall', 'panalysis', '-n', releaseNs, '--wait').catch((err: Error) => console.error(`[cleanup] helm uninstall: ${err.message}`));
  if (releaseNs) await deleteNamespace(releaseNs);
});

/** Creates the namespace `name` (exactly that name) and waits for its default ServiceAccount. */
async function createReleaseNamespace(name: string, labels: Record<string, string>): Promise<string> {
  await core().createNamespace({ body: { metadata: { name, labels } } });
  await waitFor(`default ServiceAccount in ${name}`, () => core().readNamespacedServiceAccount({ name: 'default', namespace: name }).then(() => true), 30_000);
  return name;
}

describe('Helm chart', () => {
  it('lints', async () => {
    const { stdout } = await helm('lint', chart);
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('binds the operator in each proposal namespace listed in rbac.proposalNamespaces, and nowhere else', async () => {
    const { stdout } = await helm('template', 'panalysis', chart, '-n', 'panalysis-system', '--kube-version', findBinaries().k8sVersion, '--set', 'rbac.proposalNamespaces={proposal-1,proposal-2}');
    const bindings = parseAllDocuments(stdout).map((d) => d.toJS() as Record<string, any>).filter((o) => o?.kind === 'RoleBinding' && o.roleRef?.name === 'panalysis-operator-namespaced');
    expect(bindings.map((b) => b.metadata.namespace)).toEqual(['proposal-1', 'proposal-2']);
    expect(bindings[0]?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'panalysis-operator', namespace: 'panalysis-system' }]);
    const clusterBindings = parseAllDocuments(stdout).map((d) => d.toJS() as Record<string, any>).filter((o) => o?.kind === 'ClusterRoleBinding');
    expect(clusterBindings.map((b) => b.roleRef.name)).not.toContain('panalysis-operator-namespaced');
  });

  it('renders the gateway: 2 spread replicas with the session-facing pod labels, no automounted token, probes, Secrets, read-only RBAC', async () => {
    const { stdout } = await helm('template', 'panalysis', chart, '-n', 'panalysis-system', '--kube-version', findBinaries().k8sVersion, '--set', 'rbac.proposalNamespaces={proposal-1}',
      '--set', 'config.gateway.podLabels.facility\\.example/role=gateway', '--set', 'gateway.oidc.clientSecret.secretName=oidc', '--set', 'gateway.cookieKey.secretName=cookie',
      '--set', 'gateway.ingress.enabled=true', '--set', 'gateway.ingress.tls.secretName=gateway-tls', '--set', 'gateway.ingress.tls.sessionsSecretName=sessions-tls');
    const objects = parseAllDocuments(stdout).map((d) => d.toJS() as Record<string, any>).filter(Boolean);
    const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
    const deployment = find('Deployment', 'panalysis-gateway')!;
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template;
    expect(pod.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'gateway', 'facility.example/role': 'gateway' });
    expect(pod.spec.serviceAccountName).toBe('panalysis-gateway');
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(find('ServiceAccount', 'panalysis-gateway')?.automountServiceAccountToken).toBe(false);
    expect(pod.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: deployment.spec.selector.matchLabels } });
    const [container] = pod.spec.containers;
    expect(container.args).toEqual(['gateway', '--config=/etc/panalysis/operator.yaml', '--port=8080', '--probe-port=8082']);
    expect(container.image).toBe(find('Deployment', 'panalysis-operator')!.spec.template.spec.containers[0].image);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'metrics', containerPort: 8082 }), expect.objectContaining({ name: 'http', containerPort: 8080 })]));
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // The client secret and the cookie key are files at the paths the configuration names.
    const config = parse(find('ConfigMap', 'panalysis-config')!.data['operator.yaml']);
    const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.mountPath, m]));
    const secrets = Object.fromEntries(pod.spec.volumes.filter((v: any) => v.secret).map((v: any) => [v.name, v.secret.secretName]));
    expect(secrets[mounts[config.gateway.oidc.clientSecretFile].name]).toBe('oidc');
    expect(mounts[config.gateway.oidc.clientSecretFile].subPath).toBe('client-secret');
    expect(secrets[mounts[config.gateway.cookieKeyFile].name]).toBe('cookie');
    expect(mounts['/var/run/secrets/kubernetes.io/serviceaccount'].name).toBe('token');
    expect(find('PodDisruptionBudget', 'panalysis-gateway')?.spec.minAvailable).toBe(1);
    expect(find('Service', 'panalysis-gateway')?.spec.ports).toEqual(expect.arrayContaining([expect.objectContaining({ port: 80, targetPort: 'http' })]));
    const ingress = find('Ingress', 'panalysis-gateway')!;
    expect(ingress.spec.rules.map((r: any) => r.host)).toEqual(['analysis.facility.example', '*.sessions.facility.example']);
    expect(ingress.spec.tls).toEqual([{ hosts: ['analysis.facility.example'], secretName: 'gateway-tls' }, { hosts: ['*.sessions.facility.example'], secretName: 'sessions-tls' }]);
    // Reads cluster-wide (and patch on sessions for the activity annotation), Secrets only through the RoleBinding in each proposal namespace.
    const roles = objects.filter((o) => o.kind === 'ClusterRole' && o.metadata.name.startsWith('panalysis-gateway'));
    expect(roles.map((r) => r.metadata.name).sort()).toEqual(['panalysis-gateway', 'panalysis-gateway-namespaced']);
    for (const rule of roles.flatMap((r) => r.rules)) expect(rule.verbs).toEqual(rule.resources.includes('analysissessions') ? ['get', 'list', 'watch', 'patch'] : ['get', 'list', 'watch']);
    expect(roles.find((r) => r.metadata.name === 'panalysis-gateway')!.rules.flatMap((r: any) => r.resources)).not.toContain('secrets');
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' && o.roleRef?.name === 'panalysis-gateway-namespaced');
    expect(bindings.map((b) => [b.metadata.namespace, b.subjects])).toEqual([['proposal-1', [{ kind: 'ServiceAccount', name: 'panalysis-gateway', namespace: 'panalysis-system' }]]]);
  });

  it(`installs under restricted Pod Security and its operator Deployment becomes available${realNode.ok ? ', its pods running on the real node' : ' (on kwok nodes: ' + (realNode.why || 'no real node') + ')'}`, async () => {
    if (realNode.failed) throw new Error(realNode.why);
    // The product's own namespace: the cluster's proposal-namespace admission policy (from the install manifest) lets its operator ServiceAccount write there.
    releaseNs = await createReleaseNamespace('panalysis-system', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const values = join(inject('clusterDir'), 'chart-values.yaml');
    writeFileSync(values, `config:\n${readFileSync(DEMO_CONFIG, 'utf8').split('\n').filter((l) => !l.startsWith('#')).map((l) => `  ${l}`).join('\n')}\n`);
    // The test cluster already has the CRDs and the cluster-wide admission policy and user roles (from manifests/install.yaml).
    await helm('install', 'panalysis', chart, '-n', releaseNs, '-f', values, '--skip-crds', '--set', 'admission.enabled=false', '--set', 'rbac.userRoles=false',
      ...(realNode.ok ? onRealNode : []), '--wait', '--timeout', '180s');
    const deployment = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'panalysis-operator', namespace: releaseNs });
    expect(deployment.status?.availableReplicas).toBe(2);
    const pods = await core().listNamespacedPod({ namespace: releaseNs, labelSelector: 'app.kubernetes.io/component=operator' });
    expect(pods.items).toHaveLength(2);
    if (realNode.ok) {
      // Really running: started by the kubelet from the local image, ready by its own /readyz (caches synced through the in-cluster API), never restarted.
      for (const pod of pods.items) {
        expect(pod.spec?.nodeName).toBe(realNode.name);
        const status = pod.status?.containerStatuses?.[0];
        expect(status?.image).toBe(OPERATOR_IMAGE);
        expect(status?.state?.running?.startedAt, JSON.stringify(status?.state)).toBeTruthy();
        expect(status?.ready).toBe(true);
        expect(status?.restartCount).toBe(0);
      }
      // One of them leads: the Lease names it (identity <pod name>-<pid>).
      let holder = '';
      await waitFor('a chart operator pod to lead', async () => {
        const lease = await kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'panalysis-operator', namespace: releaseNs });
        holder = lease.spec?.holderIdentity ?? '';
        return holder !== '';
      }, 60_000);
      expect(pods.items.map((p) => p.metadata!.name!).some((name) => holder.startsWith(`${name}-`))).toBe(true);
    }
    const cm = await core().readNamespacedConfigMap({ name: 'panalysis-config', namespace: releaseNs });
    expect(cm.data?.['operator.yaml']).toContain('jupyter-scipy');
    // The gateway's pods run on the kwok nodes, which report them available without running them (and without
    // its Secrets): this checks the Deployment is admitted under restricted Pod Security and schedules, not the gateway.
    const gateway = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'panalysis-gateway', namespace: releaseNs });
    expect(gateway.status?.availableReplicas).toBe(2);
    const gatewayPods = await core().listNamespacedPod({ namespace: releaseNs, labelSelector: 'app.kubernetes.io/component=gateway' });
    expect(gatewayPods.items).toHaveLength(2);
  });

  it('lets the gateway read sessions, pods and namespaces, Secrets only where bound, and write nothing but the sessions\' activity annotation', async () => {
    const sa = `system:serviceaccount:${releaseNs}:panalysis-gateway`;
    const can = async (...args: string[]) => (await kubectl('auth', 'can-i', ...args, '--as', sa).catch((e: { stdout: string }) => e.stdout)).trim();
    for (const resource of ['analysissessions.panalysis.io', 'pods', 'namespaces']) expect(await can('watch', resource, '-A'), resource).toBe('yes');
    for (const verb of ['get', 'list', 'watch']) expect(await can(verb, 'secrets', '-n', 'anywhere'), `${verb} secrets`).toBe('no');
    expect(await can('patch', 'analysissessions.panalysis.io', '-n', 'anywhere')).toBe('yes');
    for (const verb of ['create', 'patch', 'update', 'delete']) {
      for (const kind of ['pods', 'secrets', 'events.events.k8s.io', 'leases.coordination.k8s.io']) {
        expect(await can(verb, kind, '-n', 'anywhere'), `${verb} ${kind}`).toBe('no');
      }
      expect(await can(verb, 'analysissessions.panalysis.io', '--subresource=status', '-n', 'anywhere'), `${verb} sessions/status`).toBe('no');
    }
    for (const verb of ['create', 'update', 'delete']) expect(await can(verb, 'analysissessions.panalysis.io', '-n', 'anywhere'), `${verb} sessions`).toBe('no');
    expect(await can('create', 'pods', '--subresource=exec', '-n', 'anywhere')).toBe('no');
    const ns = await freshNamespace('chart-gateway', { 'panalysis.io/proposal': '20231235' });
    await kubectl('create', 'rolebinding', 'panalysis-gateway', '-n', ns, '--clusterrole=panalysis-gateway-namespaced', `--serviceaccount=${releaseNs}:panalysis-gateway`);
    expect(await can('watch', 'secrets', '-n', ns)).toBe('yes');
    expect(await can('create', 'secrets', '-n', ns)).toBe('no');
    expect(await can('watch', 'secrets', '-A')).toBe('no');
    await core().deleteNamespace({ name: ns });
  });

  it('grants the operator what it needs and nothing cluster-admin-like', async () => {
    const sa = `system:serviceaccount:${releaseNs}:panalysis-operator`;
    const can = async (...args: string[]) => (await kubectl('auth', 'can-i', ...args, '--as', sa).catch((e: { stdout: string }) => e.stdout)).trim();
    expect(await can('patch', 'analysissessions.panalysis.io/status', '-A')).toBe('yes');
    // Children only in proposal namespaces (through a RoleBinding there); no Secrets anywhere else.
    for (const verb of ['create', 'patch', 'delete']) {
      for (const kind of ['pods', 'services', 'persistentvolumeclaims', 'secrets', 'networkpolicies.networking.k8s.io']) expect(await can(verb, kind, '-n', 'anywhere'), `${verb} ${kind}`).toBe('no');
    }
    for (const verb of ['get', 'list', 'watch']) expect(await can(verb, 'secrets', '-A'), `${verb} secrets -A`).toBe('no');
    expect(await can('list', 'pods', '-A')).toBe('yes');
    // Sessions have no Service (the gateway connects to the pod's IP): no read of Services either.
    expect(await can('list', 'services', '-A')).toBe('no');
    // The residual cluster-wide rule: PersistentVolumes (ownership checked by the DatasetMount's UID label).
    expect(await can('create', 'persistentvolumes')).toBe('yes');
    expect(await can('update', 'persistentvolumes')).toBe('no');
    expect(await can('list', 'endpointslices.discovery.k8s.io', '-n', 'default')).toBe('yes');
    expect(await can('list', 'endpointslices.discovery.k8s.io', '-n', 'kube-system')).toBe('no');
    expect(await can('create', 'leases.coordination.k8s.io', '-n', releaseNs)).toBe('yes');
    expect(await can('create', 'leases.coordination.k8s.io', '-n', 'kube-system')).toBe('no');
    expect(await can('create', 'clusterrolebindings')).toBe('no');
    expect(await can('delete', 'nodes')).toBe('no');
    expect(await can('create', 'pods', '--subresource=exec', '-n', 'anywhere')).toBe('no');
    expect(await can('impersonate', 'users')).toBe('no');
  });

  it(`runs the operator with only the chart ServiceAccount token${realNode.ok ? ' (the chart\'s pods on the real node)' : ' (a process with that token)'}`, async () => {
    if (!realNode.ok) {
      const token = await core().createNamespacedServiceAccountToken({ name: 'panalysis-operator', namespace: releaseNs, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
      const kc = kubeConfig();
      const path = join(inject('clusterDir'), 'chart-sa.kubeconfig');
      writeFileSync(path, buildKubeconfig(kc.getCurrentCluster()!.server, readFileSync(join(inject('clusterDir'), 'pki', 'ca.crt'), 'utf8'), 'panalysis-operator', token.status!.token!));
      operator = await startOperator({ kubeconfig: path, leaderElect: true, leaseNamespace: releaseNs, id: 'chart-sa' });
      await waitFor('the chart operator to lead', () => operator!.leading(), 30_000);
    }
    // A proposal namespace as the admin makes it: the label, and the RoleBinding to the operator's namespaced role.
    const ns = (sessionsNs = await freshNamespace('chart-sessions', { 'panalysis.io/proposal': '20231234' }));
    await kubectl('create', 'rolebinding', 'panalysis-operator', '-n', ns, '--clusterrole=panalysis-operator-namespaced', `--serviceaccount=${releaseNs}:panalysis-operator`);
    const sa = `system:serviceaccount:${releaseNs}:panalysis-operator`;
    const can = async (...args: string[]) => (await kubectl('auth', 'can-i', ...args, '--as', sa).catch((e: { stdout: string }) => e.stdout)).trim();
    expect(await can('create', 'secrets', '-n', ns)).toBe('yes');
    expect(await can('create', 'pods', '-n', ns)).toBe('yes');
    const other = await freshNamespace('chart-not-a-proposal');
    expect(await can('create', 'secrets', '-n', other)).toBe('no');
    expect(await can('get', 'secrets', '-n', other)).toBe('no');
    await core().deleteNamespace({ name: other });

    await createSession(ns, 'nb', { user: 'alice', type: 'desktop', profile: 'desktop-xfce', desktop: { protocol: 'guacamole' } });
    await waitSession(ns, 'nb', 'Running', isPhase('Running'));
    await waitFor('the SessionReady Event', async () => (await core().listNamespacedEvent({ namespace: ns })).items.some((e) => e.reason === 'SessionReady'), 30_000);
    expect((await core().readNamespacedSecret({ name: 'nb-credentials', namespace: ns })).metadata?.ownerReferences?.[0]?.name).toBe('nb');
    // The DatasetMount controller with the same token: a PV (cluster-wide rule) and its claim (namespaced rule).
    await createDataset(ns, 'raw', { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/20231234/raw' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/raw' });
    const raw = await waitDataset(ns, 'raw', 'Ready', readyIs('True'));
    expect((await core().readPersistentVolume({ name: raw.status!.persistentVolume! })).metadata?.labels?.['panalysis.io/dataset-uid']).toBe(raw.metadata.uid);
    // Outside proposal namespaces the operator may not write: the DatasetMount says so and names the fix.
    const unbound = await freshNamespace('chart-unbound');
    await createDataset(unbound, 'raw', { source: { nfs: { server: 'nfs01.facility.example', path: '/exp/other' } }, access: { readGroups: ['p20231234'] }, mountPath: '/data/raw' });
    const refused = await waitDataset(unbound, 'raw', 'Forbidden', (d) => d.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'Forbidden');
    expect(refused.status?.conditions?.find((c) => c.type === 'Ready')?.message).toMatch(/persistentvolumeclaims .*is forbidden.*bind the ClusterRole panalysis-operator-namespaced/);
    await expect(core().readNamespacedPersistentVolumeClaim({ name: 'dataset-raw', namespace: unbound })).rejects.toMatchObject({ code: 404 });
    await core().deleteNamespace({ name: unbound });
    await waitFor(`namespace ${unbound} to be deleted`, () => core().readNamespace({ name: unbound }).then(() => false, (err: { code?: number }) => err.code === 404), 60_000);
  });
});

// SPDX-License-Identifier: Apache-2.0
/**
 * The session Pod (pure). It runs as the user's uid/gid with only the groups the
 * session needs, never as root, with every restricted Pod Security control, no
 * service-account token and no host access; GPUs come only from the flavour catalogue.
 */
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { readOnly, desktopContainer, guacdContainer, jupyterContainer, templateInitContainer, websockifyContainer } from './containers.ts';
import { POD_INPUTS, podInputsOf } from './pod-inputs.ts';
import { recipeVolumes } from './recipe.ts';
import { childMeta, datasetVolumeMountName, hashOf, sessionNames, SESSION_UID_ANNOTATION } from './names.ts';
import type { SessionInputs } from './session-inputs.ts';

/** Annotation with the hash of the pod spec; a different hash means the pod differs from what the operator would build now (see drift.ts for whether it is replaced). */
export const POD_SPEC_HASH = 'panalysis.io/pod-spec-hash';

function containers(i: SessionInputs): V1Container[] {
  if (i.session.spec.type === 'jupyter') return [jupyterContainer(i)];
  return [desktopContainer(i), i.protocol === 'guacamole' ? guacdContainer(i) : websockifyContainer(i)];
}

function volumes(i: SessionInputs): V1Volume[] {
  const names = sessionNames(i.session.metadata.name!);
  return [
    { name: 'home', persistentVolumeClaim: { claimName: names.home } },
    { name: 'credentials', secret: { secretName: names.secret, defaultMode: 0o444 } },
    { name: 'tmp', emptyDir: { sizeLimit: '4Gi' } },
    ...i.datasets.map((d) => ({ name: datasetVolumeMountName(d.name), persistentVolumeClaim: { claimName: d.claimName, ...readOnly(d.readOnly) } })),
    ...recipeVolumes(i.recipe),
  ];
}

/**
 * Node selector and tolerations: the profile's, then the GPU flavour's when the session has GPUs
 * (the flavour's selector wins on a key both set). Empty parts are left out.
 */
function placement(i: SessionInputs): Pick<NonNullable<V1Pod['spec']>, 'nodeSelector' | 'tolerations'> {
  const gpu = i.flavour && i.gpuCount > 0 ? i.flavour : undefined;
  const nodeSelector = { ...i.profile.nodeSelector, ...gpu?.nodeSelector };
  const tolerations = [...(i.profile.tolerations ?? []), ...(gpu?.tolerations ?? [])].map((t) => ({ ...t }));
  return {
    ...(gpu || Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
    ...(gpu || tolerations.length > 0 ? { tolerations } : {}),
  };
}

/** Options of {@link buildSessionPod}. */
export interface SessionPodOptions {
  /**
   * Record what the pod is built from in its {@link POD_INPUTS} annotation (default true). A pod that is
   * only compared with a live one (see drift.ts `judgePod`) needs no record: its hashes cost more than the
   * rest of the pod and are wanted only when the specs differ.
   */
  readonly record?: boolean;
}

/** Builds the Pod of a session. */
export function buildSessionPod(i: SessionInputs, options: SessionPodOptions = {}): V1Pod {
  const init = templateInitContainer(i);
  const spec: V1Pod['spec'] = {
    hostname: i.session.metadata.name!,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: i.runAs.uid,
      runAsGroup: i.runAs.gid,
      supplementalGroups: i.runAs.supplementalGroups,
      supplementalGroupsPolicy: 'Strict',
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(init ? { initContainers: [init] } : {}),
    containers: containers(i),
    volumes: volumes(i),
    ...placement(i),
  };
  const record: Record<string, string> = options.record === false ? {} : { [POD_INPUTS]: JSON.stringify(podInputsOf(i.session.spec, i.session.metadata.generation, spec)) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: childMeta(i.session, sessionNames(i.session.metadata.name!).pod, 'session', { [POD_SPEC_HASH]: hashOf(spec), ...record, [SESSION_UID_ANNOTATION]: i.session.metadata.uid! }),
    spec,
  };
}

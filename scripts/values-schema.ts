// SPDX-License-Identifier: Apache-2.0
/**
 * The JSON Schema of the Helm chart's values (`charts/panalysis/values.schema.json`),
 * so that `helm install`, `helm upgrade`, `helm template` and `helm lint` refuse wrong
 * values with the schema's message before anything reaches a cluster.
 *
 * `config` is the operator configuration schema itself (src/config/schema.ts, one schema
 * source), made strict: unknown keys are refused (a typo such as `gpuFlavors` fails at
 * install instead of being ignored), and keys that the operator defaults are optional.
 */
import Type from 'typebox';
import { OperatorConfig } from '../src/config/schema.ts';
import { closeObjects } from '../src/config/strict.ts';

const Strings = Type.Array(Type.String());
const Quantity = Type.Union([Type.String(), Type.Number()]);
const Resources = Type.Object({ requests: Type.Optional(Type.Record(Type.String(), Quantity)), limits: Type.Optional(Type.Record(Type.String(), Quantity)) }, { additionalProperties: false });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const SecretKey = Type.Object({ secretName: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) });
const SecretMounts = Type.Array(Type.Object({ secretName: Type.String({ minLength: 1 }), mountPath: Type.String({ pattern: '^/' }) }));

/** Every value the chart reads, with the operator configuration under `config`. */
export const ChartValues = Type.Object({
  image: Type.Object({
    repository: Type.String({ minLength: 1, description: 'The panalysis image, built from the Dockerfile.' }),
    tag: Type.String({ description: 'Defaults to the chart appVersion.' }),
    pullPolicy: Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')]),
  }),
  imagePullSecrets: Type.Array(Type.Object({ name: Type.String({ minLength: 1 }) })),
  operator: Type.Object({
    replicas: Type.Integer({ minimum: 1, description: 'More than one needs leaderElection: true.' }),
    leaderElection: Type.Boolean(),
    resyncSeconds: Type.Integer({ minimum: 1 }),
    metricsPort: Port,
    resources: Resources,
    heapMb: Type.Integer({ minimum: 64, description: 'V8 heap limit of the operator in MB (NODE_OPTIONS=--max-old-space-size); keep it below the memory limit.' }),
    semiSpaceMb: Type.Integer({ minimum: 1, maximum: 64, description: 'Size of each of V8\'s young-generation semi-spaces in MB (NODE_OPTIONS=--max-semi-space-size); the young generation takes up to three times this.' }),
    nodeSelector: Type.Record(Type.String(), Type.String()),
    tolerations: Type.Array(Type.Object({}, { additionalProperties: true })),
    affinity: Type.Object({}, { additionalProperties: true }),
    priorityClassName: Type.String(),
    secretMounts: SecretMounts,
  }),
  gateway: Type.Object({
    enabled: Type.Boolean({ description: 'Install the gateway (panalysis gateway): the way in for browsers.' }),
    replicas: Type.Integer({ minimum: 1, description: 'Every replica serves (no leader election); 2 or more for availability.' }),
    resources: Resources,
    heapMb: Type.Integer({ minimum: 64, description: 'V8 heap limit of the gateway in MB (NODE_OPTIONS=--max-old-space-size); keep it below the memory limit.' }),
    oidc: Type.Object({ clientSecret: SecretKey }),
    cookieKey: SecretKey,
    secretMounts: SecretMounts,
    spreadAcrossNodes: Type.Union([Type.Literal('ScheduleAnyway'), Type.Literal('DoNotSchedule')], { description: 'whenUnsatisfiable of the spread of replicas over nodes.' }),
    nodeSelector: Type.Record(Type.String(), Type.String()),
    tolerations: Type.Array(Type.Object({}, { additionalProperties: true })),
    affinity: Type.Object({}, { additionalProperties: true }),
    priorityClassName: Type.String(),
    service: Type.Object({ type: Type.Union([Type.Literal('ClusterIP'), Type.Literal('NodePort'), Type.Literal('LoadBalancer')]) }),
    ingress: Type.Object({
      enabled: Type.Boolean(),
      className: Type.String(),
      annotations: Type.Record(Type.String(), Type.String()),
      tls: Type.Object({
        secretName: Type.String({ description: 'TLS Secret of the baseUrl host; empty: no TLS section for it.' }),
        sessionsSecretName: Type.String({ description: 'TLS Secret of *.<sessionDomain> (a wildcard certificate); empty: no TLS section for it.' }),
      }),
    }),
  }),
  config: Type.Unsafe(OperatorConfig),
  admission: Type.Object({
    enabled: Type.Boolean(),
    portalGroups: Strings,
    usernamePrefix: Type.String(),
    finalizerWriters: Type.Object({ users: Strings, groups: Strings }),
    proposalNamespaces: Type.Object({ guard: Type.Boolean(), writerUsers: Strings, writerGroups: Strings }),
    controlPlane: Type.Object({ users: Strings, groups: Strings }),
  }),
  rbac: Type.Object({
    userRoles: Type.Boolean(),
    proposalNamespaces: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }), { uniqueItems: true })),
  }),
});

/** The content of charts/panalysis/values.schema.json. */
export function renderValuesSchema(): string {
  const schema = closeObjects({ $schema: 'https://json-schema.org/draft-07/schema#', title: 'panalysis Helm chart values', ...ChartValues }, { optionalDefaults: true });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * The containers of a session pod (pure): JupyterLab, or a desktop whose VNC server
 * listens on localhost only, with a websockify bridge (noVNC) or a guacd sidecar
 * (Guacamole) as the one port the gateway reaches.
 */
import type { V1Container, V1EnvVar, V1VolumeMount } from '@kubernetes/client-node';
import { datasetVolumeMountName, sessionPath } from './names.ts';
import { recipeDefaultUrl, recipeInitContainer } from './recipe.ts';
import type { SessionInputs } from './session-inputs.ts';

export const PORTS = { jupyter: 8888, websockify: 6080, guacd: 4822, vnc: 5901 } as const;
/** Where the session's Secret is mounted. */
export const CREDENTIALS_DIR = '/var/run/panalysis/credentials';

/**
 * Default command of desktop images: TigerVNC on 127.0.0.1:5901 with VNC authentication
 * (password from the session Secret), then an XFCE session on that display.
 */
export const DEFAULT_DESKTOP_COMMAND = [
  'sh',
  '-c',
  'umask 077 && vncpasswd -f < "$VNC_PASSWORD_FILE" > /tmp/.vncpasswd && ' +
    'Xvnc :1 -localhost -rfbport 5901 -SecurityTypes VncAuth -PasswordFile /tmp/.vncpasswd -geometry "$VNC_GEOMETRY" -depth 24 & ' +
    'export DISPLAY=:1 && exec startxfce4',
];

/** The restricted-profile container security context every container gets. */
export const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  privileged: false,
  // Only home, /tmp and read-write datasets can be written: nothing a session leaves in the image survives it, and nothing in it can be changed.
  readOnlyRootFilesystem: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** `readOnly: true`, or nothing: the API server drops `false` (its default), and so do we, to compare equal. */
export function readOnly(ro: boolean): { readOnly?: true } {
  return ro ? { readOnly: true } : {};
}

function homeDir(i: SessionInputs): string {
  return `/home/${i.runAs.user}`;
}

/** Mounts shared by the main containers: home, credentials, /tmp and the datasets. */
export function mainMounts(i: SessionInputs): V1VolumeMount[] {
  return [
    { name: 'home', mountPath: homeDir(i) },
    { name: 'credentials', mountPath: CREDENTIALS_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    ...i.datasets.map((d) => ({ name: datasetVolumeMountName(d.name), mountPath: d.mountPath, ...readOnly(d.readOnly) })),
  ];
}

function baseEnv(i: SessionInputs): V1EnvVar[] {
  return [
    { name: 'HOME', value: homeDir(i) },
    { name: 'USER', value: i.runAs.user },
    { name: 'LOGNAME', value: i.runAs.user },
    { name: 'PANALYSIS_SESSION', value: i.session.metadata.name! },
  ];
}

function resources(i: SessionInputs) {
  const gpu = i.flavour && i.gpuCount > 0 ? { [i.flavour.resource]: String(i.gpuCount) } : {};
  return { requests: { cpu: i.cpu, memory: i.memory, ...gpu }, limits: { cpu: i.cpu, memory: i.memory, ...gpu } };
}

/** The JupyterLab container, served under the session path so the gateway never rewrites URLs. */
export function jupyterContainer(i: SessionInputs): V1Container {
  const base = sessionPath(i.session.metadata.namespace!, i.session.metadata.name!);
  return {
    name: 'jupyter',
    image: i.profile.image,
    command: i.profile.command ?? [
      'jupyter', 'lab', '--no-browser', '--ServerApp.ip=0.0.0.0', `--ServerApp.port=${PORTS.jupyter}`,
      `--ServerApp.base_url=${base}`, `--ServerApp.root_dir=${homeDir(i)}`, '--ServerApp.allow_remote_access=True', '--ServerApp.trust_xheaders=True',
      ...(i.recipe ? [`--LabApp.default_url=${recipeDefaultUrl(i.recipe)}`] : []),
    ],
    env: [...baseEnv(i), { name: 'JUPYTER_TOKEN_FILE', value: `${CREDENTIALS_DIR}/token` }, { name: 'JUPYTER_PORT', value: String(PORTS.jupyter) }],
    ports: [{ name: 'http', containerPort: PORTS.jupyter, protocol: 'TCP' }],
    readinessProbe: { httpGet: { path: `${base}api`, port: PORTS.jupyter }, periodSeconds: 5, failureThreshold: 3 },
    resources: resources(i),
    volumeMounts: mainMounts(i),
    securityContext: CONTAINER_SECURITY,
  };
}

/** The desktop container: VNC on localhost only. */
export function desktopContainer(i: SessionInputs): V1Container {
  return {
    name: 'desktop',
    image: i.profile.image,
    command: i.profile.command ?? DEFAULT_DESKTOP_COMMAND,
    env: [...baseEnv(i), { name: 'VNC_PASSWORD_FILE', value: `${CREDENTIALS_DIR}/vnc-password` }, { name: 'VNC_GEOMETRY', value: i.geometry }],
    resources: resources(i),
    volumeMounts: mainMounts(i),
    securityContext: CONTAINER_SECURITY,
  };
}

const SIDECAR_RESOURCES = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } };

/** noVNC path: websockify bridges the gateway's WebSocket to VNC on localhost. */
export function websockifyContainer(i: SessionInputs): V1Container {
  return {
    name: 'websockify',
    image: i.images.websockify,
    args: [`0.0.0.0:${PORTS.websockify}`, `127.0.0.1:${PORTS.vnc}`],
    ports: [{ name: 'vnc-ws', containerPort: PORTS.websockify, protocol: 'TCP' }],
    readinessProbe: { tcpSocket: { port: PORTS.websockify }, periodSeconds: 5 },
    resources: SIDECAR_RESOURCES,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    securityContext: CONTAINER_SECURITY,
  };
}

/** Guacamole path: this session's own guacd (never shared between sessions). */
export function guacdContainer(i: SessionInputs): V1Container {
  return {
    name: 'guacd',
    image: i.images.guacd,
    command: ['/opt/guacamole/sbin/guacd'],
    args: ['-b', '0.0.0.0', '-l', String(PORTS.guacd), '-L', 'info', '-f'],
    ports: [{ name: 'guacd', containerPort: PORTS.guacd, protocol: 'TCP' }],
    readinessProbe: { tcpSocket: { port: PORTS.guacd }, periodSeconds: 5 },
    resources: SIDECAR_RESOURCES,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    securityContext: CONTAINER_SECURITY,
  };
}

/** The init container that copies the session's catalogue recipe into home once (see recipe.ts), or nothing. */
export function templateInitContainer(i: SessionInputs): V1Container | undefined {
  if (!i.recipe) return undefined;
  return recipeInitContainer(i.recipe, { image: i.profile.image, home: homeDir(i), env: baseEnv(i), securityContext: CONTAINER_SECURITY });
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Checks a DatasetMount's source against the roots the admin allowed (pure). A path is
 * under a root when it equals the root or continues it after a `/`; the CRD already
 * refuses relative paths and `.`/`..` segments.
 *
 * Roots may contain the placeholder `{proposal}` (e.g. `/gpfs/exp/{proposal}`): it stands
 * for the proposal of the DatasetMount's namespace (its `panalysis.io/proposal` label), so
 * the admin of one proposal cannot point a DatasetMount at another proposal's directory.
 * In a namespace without a proposal (no label, or an empty one) such roots allow nothing.
 * CSI volumes are matched exactly, per driver, against the configured handles and
 * attributes (with the same placeholder).
 */
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { DatasetsConfig } from '../../config/schema.ts';

/** The placeholder in configured roots that stands for the namespace's proposal. */
export const PROPOSAL_PLACEHOLDER = '{proposal}';

/** Why a source is refused. */
export interface SourceRefusal {
  reason: string;
  message: string;
}

/** True when `path` is `root` or lies below it. */
export function isUnder(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, '') || '/';
  if (r === '/') return true;
  return path === r || path.startsWith(`${r}/`);
}

/**
 * The roots that apply in a namespace of `proposal`: fixed roots as they are, roots with
 * `{proposal}` with the placeholder replaced, and none of those when `proposal` is
 * `undefined` or empty. A proposal label value cannot contain `/` (label syntax), so the
 * substitution never adds a path segment.
 */
export function expandRoots(roots: readonly string[], proposal: string | undefined): string[] {
  const usable = proposal !== undefined && proposal !== '' && !proposal.includes('/');
  return roots.flatMap((root) => (!root.includes(PROPOSAL_PLACEHOLDER) ? [root] : usable ? [root.split(PROPOSAL_PLACEHOLDER).join(proposal)] : []));
}

const list = (xs: readonly string[]): string => (xs.length > 0 ? xs.join(', ') : '(none configured)');

function rootsInWords(configured: readonly string[], expanded: readonly string[], proposal: string | undefined): string {
  const scoped = configured.some((r) => r.includes(PROPOSAL_PLACEHOLDER));
  const note = !scoped ? '' : proposal ? ` (for proposal ${proposal})` : ' (roots with {proposal} apply only in a namespace labelled panalysis.io/proposal)';
  return `${list(expanded)}${note}`;
}

/**
 * `undefined` when the source is allowed in a namespace of `proposal`, else the refusal
 * naming the field and the roots that apply there.
 */
export function checkSource(dm: DatasetMount, allowed: DatasetsConfig, proposal?: string): SourceRefusal | undefined {
  const src = dm.spec.source;
  if (src.nfs) {
    const server = allowed.nfs.find((s) => s.server === src.nfs!.server);
    if (!server) return { reason: 'ServerNotAllowed', message: `spec.source.nfs.server: ${src.nfs.server} is not an allowed NFS server; allowed: ${list(allowed.nfs.map((s) => s.server))}` };
    const roots = expandRoots(server.paths, proposal);
    if (!roots.some((root) => isUnder(src.nfs!.path, root))) {
      return { reason: 'PathNotAllowed', message: `spec.source.nfs.path: ${src.nfs.path} is not under an allowed export of ${server.server}; allowed roots: ${rootsInWords(server.paths, roots, proposal)}` };
    }
  }
  if (src.hostPath) {
    const roots = expandRoots(allowed.hostPath, proposal);
    if (!roots.some((root) => isUnder(src.hostPath!.path, root))) {
      return { reason: 'PathNotAllowed', message: `spec.source.hostPath.path: ${src.hostPath.path} is not under an allowed root; allowed roots: ${rootsInWords(allowed.hostPath, roots, proposal)}` };
    }
  }
  if (src.csi) return checkCsi(src.csi, allowed.csi, proposal);
  return undefined;
}

/**
 * A CSI source is allowed when its driver is configured, its `volumeHandle` is one of
 * that driver's handles for this proposal, and every attribute it sets is configured
 * with the same value (exact matches: drivers read handles by position, so no wildcard).
 */
function checkCsi(csi: NonNullable<DatasetMount['spec']['source']['csi']>, allowed: DatasetsConfig['csi'], proposal: string | undefined): SourceRefusal | undefined {
  const driver = allowed.find((d) => d.driver === csi.driver);
  if (!driver) return { reason: 'DriverNotAllowed', message: `spec.source.csi.driver: ${csi.driver} is not an allowed CSI driver; allowed: ${list(allowed.map((d) => d.driver))}` };
  const handles = expandRoots(driver.volumeHandles, proposal);
  if (!handles.includes(csi.volumeHandle)) {
    return { reason: 'VolumeHandleNotAllowed', message: `spec.source.csi.volumeHandle: "${csi.volumeHandle}" is not a volume of driver ${csi.driver} that this namespace may name; allowed: ${rootsInWords(driver.volumeHandles, handles, proposal)}` };
  }
  for (const [key, value] of Object.entries(csi.volumeAttributes ?? {})) {
    const permitted = driver.volumeAttributes?.[key];
    const expanded = permitted === undefined ? [] : expandRoots([permitted], proposal);
    if (!expanded.includes(value)) {
      const allowedAttrs = Object.entries(driver.volumeAttributes ?? {}).map(([k, v]) => `${k}=${expandRoots([v], proposal)[0] ?? v}`);
      return { reason: 'VolumeAttributeNotAllowed', message: `spec.source.csi.volumeAttributes.${key}: "${value}" is not allowed for driver ${csi.driver}; allowed attributes: ${list(allowedAttrs)}` };
    }
  }
  return undefined;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Checks a DatasetMount's source against the roots the admin allowed (pure). A path is
 * under a root when it equals the root or continues it after a `/`; the CRD already
 * refuses relative paths and `.`/`..` segments.
 */
import type { DatasetMount } from '../../api/v1alpha1/dataset-mount.ts';
import type { DatasetsConfig } from '../../config/schema.ts';

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

const list = (xs: readonly string[]): string => (xs.length > 0 ? xs.join(', ') : '(none configured)');

/** `undefined` when the source is allowed, else the refusal naming the field and the allowed values. */
export function checkSource(dm: DatasetMount, allowed: DatasetsConfig): SourceRefusal | undefined {
  const src = dm.spec.source;
  if (src.nfs) {
    const server = allowed.nfs.find((s) => s.server === src.nfs!.server);
    if (!server) return { reason: 'ServerNotAllowed', message: `spec.source.nfs.server: ${src.nfs.server} is not an allowed NFS server; allowed: ${list(allowed.nfs.map((s) => s.server))}` };
    if (!server.paths.some((root) => isUnder(src.nfs!.path, root))) {
      return { reason: 'PathNotAllowed', message: `spec.source.nfs.path: ${src.nfs.path} is not under an allowed export of ${server.server}; allowed roots: ${list(server.paths)}` };
    }
  }
  if (src.hostPath && !allowed.hostPath.some((root) => isUnder(src.hostPath!.path, root))) {
    return { reason: 'PathNotAllowed', message: `spec.source.hostPath.path: ${src.hostPath.path} is not under an allowed root; allowed roots: ${list(allowed.hostPath)}` };
  }
  if (src.csi && !allowed.csiDrivers.includes(src.csi.driver)) {
    return { reason: 'DriverNotAllowed', message: `spec.source.csi.driver: ${src.csi.driver} is not an allowed CSI driver; allowed: ${list(allowed.csiDrivers)}` };
  }
  return undefined;
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Home volumes of the local cluster that a session's user can write.
 *
 * The controller manager's hostpath provisioner (the local `standard` StorageClass) makes each
 * volume a directory under /tmp/hostpath_pv owned by root with mode 0750. Session pods run as the
 * user's uid and never as root, so on the real node such a home could not be written. While a
 * real node runs, this watcher gives every directory the provisioner makes mode 1777
 * (everyone may create files, only a file's owner may remove it), as the NFS subdirectory
 * provisioner that facilities commonly use for homes does with the directories it creates. The
 * directory is mounted into one session's pod only, so nobody else reaches it through the
 * cluster. Only the local cluster does this: on a real cluster the home StorageClass decides who
 * may write a new volume (admin guide, "Home volumes").
 */
import { chmodSync, mkdirSync, readdirSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** Where the hostpath provisioner makes its volumes (fixed in the controller manager). */
export const HOSTPATH_PV_ROOT = '/tmp/hostpath_pv';
/** The mode a home directory gets. */
export const LOCAL_HOME_MODE = 0o1777;
/** The mode the provisioner gives a new directory; only those are changed. */
const PROVISIONED_MODE = 0o750;

/** Gives `dir` the home mode when it is a root-owned 0750 directory (as the provisioner makes them); true when it changed it. */
export function openHome(dir: string): boolean {
  try {
    const st = statSync(dir);
    if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o7777) !== PROVISIONED_MODE) return false;
    chmodSync(dir, LOCAL_HOME_MODE);
    return true;
  } catch {
    return false; // removed meanwhile, or not ours to change
  }
}

/** Opens every directory the provisioner made so far; returns how many it changed. */
export function openHomes(root = HOSTPATH_PV_ROOT): number {
  let n = 0;
  for (const name of readdirSync(root)) if (openHome(join(root, name))) n++;
  return n;
}

/**
 * Watches `root` (created when missing) and opens each new home at once; a scan every
 * `scanMs` catches what a watch event missed. Stop it with `stop()`.
 */
export function watchLocalHomes(root = HOSTPATH_PV_ROOT, scanMs = 1000): { stop(): void } {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  openHomes(root);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(root, (_event, name) => {
      if (name) openHome(join(root, name.toString()));
    });
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // no inotify: the scan still does it
  }
  const timer = setInterval(() => openHomes(root), scanMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      watcher?.close();
    },
  };
}

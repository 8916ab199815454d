// SPDX-License-Identifier: Apache-2.0
/**
 * Where the control plane binaries live. scripts/build-control-plane.sh builds them
 * from the Go module proxy into the cache, keyed by the versions in scripts/versions.env.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is src/cluster/binaries.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The cache directory: $PANALYSIS_CACHE, else ~/.cache/panalysis. */
export function cacheDir(): string {
  return process.env.PANALYSIS_CACHE ?? join(homedir(), '.cache', 'panalysis');
}

/** Versions of the control plane components, from scripts/versions.env. */
export function readVersions(): Record<'K8S_VERSION' | 'ETCD_VERSION' | 'KWOK_VERSION' | 'HELM_VERSION', string> {
  const text = readFileSync(join(REPO_ROOT, 'scripts', 'versions.env'), 'utf8');
  const entries = [...text.matchAll(/^([A-Z0-9_]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]);
  return Object.fromEntries(entries) as ReturnType<typeof readVersions>;
}

/** Absolute paths of every binary the local cluster runs. */
export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  helm: string;
  /** Directory holding kubectl (put on PATH by `panalysis cluster env`). */
  k8sBinDir: string;
  k8sVersion: string;
}

/**
 * Finds the binaries in the cache.
 * @throws Error naming the missing binary and the command that builds it.
 */
export function findBinaries(): Binaries {
  const v = readVersions();
  const bin = join(cacheDir(), 'bin');
  const k8s = join(bin, `k8s-${v.K8S_VERSION}`);
  const found: Binaries = {
    etcd: join(bin, `etcd-${v.ETCD_VERSION}`, 'etcd'),
    kubeApiserver: join(k8s, 'kube-apiserver'),
    kubeControllerManager: join(k8s, 'kube-controller-manager'),
    kubeScheduler: join(k8s, 'kube-scheduler'),
    kubectl: join(k8s, 'kubectl'),
    kwok: join(bin, `kwok-${v.KWOK_VERSION}`, 'kwok'),
    helm: join(bin, `helm-${v.HELM_VERSION}`, 'helm'),
    k8sBinDir: k8s,
    k8sVersion: v.K8S_VERSION,
  };
  for (const [name, path] of Object.entries(found)) {
    if (name === 'k8sBinDir' || name === 'k8sVersion') continue;
    if (!existsSync(path)) {
      throw new Error(`${path} is missing; build the local control plane with 'bash scripts/build-control-plane.sh' (needs Go and the Go module proxy; takes about 20 minutes once, then it is cached)`);
    }
  }
  return found;
}

/**
 * The binaries, built first (scripts/build-control-plane.sh, output shown) when any is
 * missing from the cache.
 * @throws Error when the build fails; the script has printed why and how to fix it.
 */
export function ensureBinaries(): Binaries {
  try {
    return findBinaries();
  } catch {
    console.error('panalysis: building the local control plane once (about 7 minutes on 2 cores; cached afterwards)');
    try {
      execFileSync('bash', [join(REPO_ROOT, 'scripts', 'build-control-plane.sh')], { stdio: 'inherit' });
    } catch (err) {
      throw new Error('building the local control plane failed; see the output above', { cause: err });
    }
    return findBinaries();
  }
}

// SPDX-License-Identifier: Apache-2.0
/**
 * Installs the JupyterHub + KubeSpawner baseline: a Python venv from PyPI under the panalysis
 * cache, made once and reused; configurable-http-proxy comes from this repository's node_modules.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** The versions the baseline installs (PyPI for the hub and spawner, npm for the proxy). */
export const KUBESPAWNER_VERSIONS = { jupyterhub: '6.1.1', kubespawner: '7.1.0', configurableHttpProxy: '5.3.0' } as const;

/** Commands that run the installed baseline. */
export interface HubInstall {
  /** argv prefix that runs `jupyterhub` (the venv's python with `-m jupyterhub`). */
  jupyterhub: string[];
  /** argv that runs configurable-http-proxy under the current Node. */
  proxy: string[];
}

const V = KUBESPAWNER_VERSIONS;
const cacheRoot = () => process.env.PANALYSIS_CACHE ?? join(homedir(), '.cache', 'panalysis');

/** Runs `cmd args`; resolves on exit 0, else rejects naming the command and the tail of its output. */
function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (b: Buffer) => { out = (out + b.toString()).slice(-4000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new Error(`could not run ${cmd}: ${err.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${out.trim()}`))));
  });
}

/** The configurable-http-proxy script of the devDependency, run by this Node. */
function proxyCommand(): string[] {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve('configurable-http-proxy/package.json');
  } catch {
    throw new Error(`configurable-http-proxy ${V.configurableHttpProxy} is not installed: run npm install (it is a devDependency)`);
  }
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string; bin: Record<string, string> };
  if (pkg.version !== V.configurableHttpProxy) throw new Error(`configurable-http-proxy ${pkg.version} found, ${V.configurableHttpProxy} expected: run npm install`);
  return [process.execPath, join(dirname(pkgJson), pkg.bin['configurable-http-proxy']!)];
}

/**
 * Makes sure the venv `${PANALYSIS_CACHE:-~/.cache/panalysis}/jupyterhub-<v>-kubespawner-<v>/`
 * exists and returns the commands of the baseline.
 *
 * Guarantees: the venv is built in a temporary sibling directory and renamed into place only once
 * `pip install` succeeded, so an interrupted install is never taken as done; an existing venv is
 * reused without network access. Needs `python3` (with the venv module) on PATH and PyPI.
 * @throws Error naming the step that failed (venv creation, pip install, a missing proxy) and its output.
 */
export async function installHub(cache = cacheRoot()): Promise<HubInstall> {
  const proxy = proxyCommand();
  const dir = join(cache, `jupyterhub-${V.jupyterhub}-kubespawner-${V.kubespawner}`);
  const python = join(dir, 'bin', 'python');
  if (!existsSync(python)) {
    mkdirSync(cache, { recursive: true });
    const tmp = mkdtempSync(join(cache, '.jupyterhub-'));
    try {
      await run('python3', ['-m', 'venv', tmp]);
      await run(join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q',
        `jupyterhub==${V.jupyterhub}`, `jupyterhub-kubespawner==${V.kubespawner}`]);
      // Scripts in bin/ carry the temporary path in their shebang; we run `python -m` only, which survives the rename.
      renameSync(tmp, dir);
    } catch (err) {
      // Another run may have finished the same install meanwhile; its venv is as good as ours.
      if (!existsSync(python)) throw new Error(`installing JupyterHub ${V.jupyterhub} + KubeSpawner ${V.kubespawner} into ${dir} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { jupyterhub: [python, '-m', 'jupyterhub'], proxy };
}

// SPDX-License-Identifier: Apache-2.0
/**
 * One JupyterHub (with KubeSpawner and configurable-http-proxy) as a child process in a temporary
 * directory, plus the local HTTP server that answers its readiness check for every kwok pod.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, waitFor } from '../../src/cluster/wait.ts';
import { installHub } from './install.ts';
import { hubSettings } from './settings.ts';

export interface HubOptions {
  kubeconfig: string;
  namespace: string;
  withStorage: boolean;
  /** JupyterHub's concurrent_spawn_limit; undefined keeps its default. */
  concurrentSpawnLimit?: number;
}

export interface Hub {
  /** Public URL (through the proxy); the REST API is `${url}/hub/api`. */
  url: string;
  /** Token of a service with the admin:users and admin:servers scopes. */
  token: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) when the hub process ends, whoever ended it. */
  exited: Promise<string>;
  /** The proxy's pid, once the hub has started it. */
  proxyPid(): number | undefined;
  /** The last `chars` characters of the hub's log (stdout and stderr). */
  logTail(chars?: number): string;
  /** Stops the hub (SIGTERM, SIGKILL after 60 s), the proxy and the readiness server; removes the directory. */
  stop(): Promise<void>;
}

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), 'jupyterhub_config.py');

/** An HTTP server on 127.0.0.1 that answers 200 to every request (the hub's check of a started server). */
async function readinessServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('readiness server has no port');
  return { server, port: address.port };
}

const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Installs the baseline if needed and starts a hub spawning into `namespace` of the cluster of
 * `kubeconfig`; resolves once its REST API answers through the proxy.
 * @throws Error with the tail of the hub's log when it exits or does not answer within 120 s
 *   (everything started is stopped first).
 */
export async function startHub(o: HubOptions): Promise<Hub> {
  const install = await installHub();
  const dir = mkdtempSync(join(tmpdir(), 'panalysis-hub-'));
  const ready = await readinessServer();
  const [publicPort, hubPort, proxyApiPort] = (await freePorts(3)) as [number, number, number];
  const settings = hubSettings({
    namespace: o.namespace,
    withStorage: o.withStorage,
    publicPort,
    hubPort,
    proxyApiPort,
    readinessPort: ready.port,
    apiToken: randomBytes(24).toString('hex'),
    proxyToken: randomBytes(24).toString('hex'),
    proxyCommand: install.proxy,
    dir,
    concurrentSpawnLimit: o.concurrentSpawnLimit,
  });
  const settingsFile = join(dir, 'settings.json');
  writeFileSync(settingsFile, JSON.stringify(settings));
  const logFile = join(dir, 'jupyterhub.log');
  const log = openSync(logFile, 'a');
  const [cmd, ...args] = install.jupyterhub;
  const child = spawn(cmd!, [...args, '-f', CONFIG], {
    cwd: dir,
    stdio: ['ignore', log, log],
    env: { ...process.env, KUBECONFIG: o.kubeconfig, PANALYSIS_HUB_SETTINGS: settingsFile },
  });
  closeSync(log);
  const exited = new Promise<string>((r) => child.once('exit', (code, signal) => r(signal ?? `exit ${code}`)));
  let gone: string | undefined;
  void exited.then((how) => (gone = how));
  const logTail = (chars = 3000) => {
    try {
      return readFileSync(logFile, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  };
  const proxyPid = () => {
    try {
      return Number(readFileSync(join(dir, 'proxy.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  let pid: number | undefined;
  const stop = async () => {
    pid ??= proxyPid();
    if (gone === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    }
    if (alive(pid)) process.kill(pid!, 'SIGTERM');
    await new Promise<void>((r) => ready.server.close(() => r()));
    ready.server.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${settings.publicPort}`;
  try {
    await waitFor('JupyterHub', async () => {
      if (gone !== undefined) return true;
      const res = await fetch(`${url}/hub/api/`, { headers: { authorization: `token ${settings.apiToken}` } });
      await res.arrayBuffer();
      return res.status === 200;
    }, 120_000, '', 250);
    if (gone !== undefined) throw new Error(`jupyterhub ended (${gone}) before its API answered`);
  } catch (err) {
    const tail = logTail();
    await stop();
    throw new Error(`${(err as Error).message}\n${tail}`, { cause: err });
  }
  pid = proxyPid();
  return { url, token: settings.apiToken, child, exited, proxyPid: () => pid ?? proxyPid(), logTail, stop };
}

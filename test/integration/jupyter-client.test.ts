// SPDX-License-Identifier: Apache-2.0
/**
 * Proves the Jupyter client against a real Jupyter Server on this host, started the way a session
 * starts it (a base URL under /s/<namespace>/<name>/, the token from JUPYTER_TOKEN_FILE): the
 * status endpoint with and without the token, and cells run through a kernel's WebSocket channel.
 * The server comes from a PyPI venv cached under `${PANALYSIS_CACHE:-~/.cache/panalysis}`, made on
 * first use (needs python3 with venv and PyPI). As root, the server runs with every capability
 * dropped, so that file modes stop it as they stop a session's user.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execute, status } from './jupyter-client.ts';
import type { AnalysisSession } from '../../src/api/v1alpha1/analysis-session.ts';
import type { ActivityRecorder } from '../../src/gateway/activity.ts';
import { JupyterActivityPoller } from '../../src/gateway/jupyter-activity.ts';
import type { SessionIndex } from '../../src/gateway/session-index.ts';
import type { Logger } from '../../src/runtime/log.ts';

/** The PyPI versions of the test server. */
const VERSIONS = { jupyterServer: '2.21.1', ipykernel: '7.4.0' } as const;
const TOKEN = 'test-token-0123456789abcdef';
const BASE_PATH = '/s/proposal-test/jlab/';

const hasPython = spawnSync('python3', ['-c', 'import venv']).status === 0;
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;
const skipReason = !hasPython ? 'python3 with the venv module is not on PATH'
  : isRoot && !hasSetpriv ? 'running as root without setpriv (util-linux) to drop capabilities' : undefined;

/** Runs a command to completion; throws with the tail of its output when it fails. */
function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${`${r.stdout}${r.stderr}`.slice(-2000)}`);
}

/**
 * The python of the venv `<cache>/test-jupyter-<version>` with jupyter_server and ipykernel,
 * built once in a temporary sibling and renamed into place, so an interrupted install is never reused.
 */
function installTestJupyter(): string {
  const cache = process.env.PANALYSIS_CACHE ?? join(homedir(), '.cache', 'panalysis');
  const dir = join(cache, `test-jupyter-${VERSIONS.jupyterServer}`);
  const python = join(dir, 'bin', 'python');
  if (existsSync(python)) return python;
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, '.test-jupyter-'));
  try {
    run('python3', ['-m', 'venv', tmp]);
    run(join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q',
      `jupyter_server==${VERSIONS.jupyterServer}`, `ipykernel==${VERSIONS.ipykernel}`]);
    renameSync(tmp, dir); // we run `python -m` only, so the temporary path in bin/ shebangs does not matter
  } catch (err) {
    if (!existsSync(python)) throw new Error(`installing jupyter_server ${VERSIONS.jupyterServer} into ${dir} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return python;
}

/** A TCP port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('Jupyter client against a real Jupyter Server', () => {
  let server: ChildProcess | undefined;
  let dir = '';
  let base = '';
  let log = '';

  beforeEach((ctx) => {
    if (skipReason) ctx.skip(skipReason);
  });

  beforeAll(async () => {
    if (skipReason) return;
    const python = installTestJupyter();
    dir = mkdtempSync(join(tmpdir(), 'jupyter-client-test-'));
    writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 }); // read verbatim by Jupyter: no trailing newline
    mkdirSync(join(dir, 'root'));
    writeFileSync(join(dir, 'root', 'forbidden'), 'not for you\n');
    chmodSync(join(dir, 'root', 'forbidden'), 0o000);
    const port = await freePort();
    const argv = [python, '-m', 'jupyter_server', `--ServerApp.base_url=${BASE_PATH}`, '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${port}`, '--ServerApp.port_retries=0', '--ServerApp.open_browser=False',
      `--ServerApp.root_dir=${join(dir, 'root')}`, ...(isRoot ? ['--allow-root'] : [])];
    // Root reads every file whatever its mode; without capabilities it obeys the modes like any user.
    const [cmd, ...args] = isRoot ? ['setpriv', '--bounding-set=-all', '--inh-caps=-all', ...argv] : argv;
    server = spawn(cmd!, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, JUPYTER_TOKEN_FILE: join(dir, 'token'), JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
        JUPYTER_CONFIG_DIR: join(dir, 'config'), IPYTHONDIR: join(dir, 'ipython') },
    });
    const keep = (b: Buffer) => { log = (log + b.toString()).slice(-4000); };
    server.stdout!.on('data', keep);
    server.stderr!.on('data', keep);
    base = `http://127.0.0.1:${port}${BASE_PATH}`;
    const until = Date.now() + 60_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`jupyter_server exited with ${server.exitCode}:\n${log}`);
      const ok = await status(base, TOKEN).then((s) => s.status === 200, () => false);
      if (ok) break;
      if (Date.now() > until) throw new Error(`jupyter_server did not answer within 60 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers api/status with the token and refuses it without or with a wrong one', async () => {
    const ok = await status(base, TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ started: expect.any(String), kernels: expect.any(Number) });
    expect((await status(base)).status).toBe(403);
    expect((await status(base, 'wrong-token')).status).toBe(403);
  });

  it('runs a cell in a kernel and returns what it printed and its value', async () => {
    const r = await execute(base, TOKEN, "print(open('/etc/hostname').read().strip())\nimport sys; print('warned', file=sys.stderr)\n6 * 7");
    expect(r).toEqual({ stdout: `${readFileSync('/etc/hostname', 'utf8').trim()}\n`, stderr: 'warned\n', result: '42', error: undefined });
  });

  it('returns the exception a cell raises', async () => {
    const r = await execute(base, TOKEN, "raise ValueError('no such proposal')");
    expect(r.error).toMatchObject({ ename: 'ValueError', evalue: 'no such proposal' });
    expect(r.stdout).toBe('');
  });

  it('meets the file permissions of the server process: a file it may not read gives PermissionError', async () => {
    const r = await execute(base, TOKEN, `open(${JSON.stringify(join(dir, 'root', 'forbidden'))}).read()`);
    expect(r.error?.ename).toBe('PermissionError');
  });

  it('refuses to start a kernel with a wrong token', async () => {
    await expect(execute(base, 'wrong-token', '1')).rejects.toThrow(/POST api\/kernels answered 403/);
  });

  it("gives the gateway's activity poll JupyterLab's own account: the poll does not count, a busy kernel does, a cell moves it", async () => {
    const session = { metadata: { namespace: 'proposal-test', name: 'jlab' }, spec: { type: 'jupyter' } } as AnalysisSession;
    const port = Number(new URL(base).port);
    const index = { sessions: () => [session], get: () => ({ session, ready: true, phase: 'Running', message: '', upstream: { host: '127.0.0.1', port, credential: TOKEN } }) } as unknown as SessionIndex;
    const seen: number[] = [];
    const recorder = { touchAt: (_ns: string, _name: string, at: number) => seen.push(at) } as unknown as ActivityRecorder;
    const logs: string[] = [];
    const poller = new JupyterActivityPoller(index, recorder, { info: (m: string) => logs.push(m) } as unknown as Logger, { intervalMs: () => 60_000 });
    const poll = async (): Promise<number> => {
      await poller.pollOnce();
      expect(logs).toEqual([]);
      return seen.at(-1)!;
    };
    const idle = await poll();
    expect(idle).toBeLessThan(Date.now());
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 3; i++) expect(await poll()).toBe(idle);
    // A cell that computes for seconds without output: the kernel is busy, which is activity now.
    const cell = execute(base, TOKEN, 'import time; time.sleep(8); 1');
    const before = Date.now();
    await expect.poll(async () => (await poll()) >= before, { timeout: 6000, interval: 500 }).toBe(true);
    await cell;
    const afterCell = await poll();
    expect(afterCell).toBeGreaterThan(idle);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await poll()).toBe(afterCell);
  }, 60_000);

  it('leaves no kernel behind', async () => {
    expect((await status(base, TOKEN)).json).toMatchObject({ kernels: 0 });
  });
});

// SPDX-License-Identifier: Apache-2.0
/**
 * A real OpenLDAP server for tests, run the unprivileged way (domain.md §1.7): our own
 * slapd.conf in a temp dir, a high loopback port, data loaded offline with slapadd, slapd in
 * the foreground as a child process. Needs Debian's `slapd`, `ldap-utils` and `openssl`.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePorts } from '../../src/cluster/wait.ts';

const run = promisify(execFile);

/** The seed directory (`dc=facility,dc=test`); see the header of the file for its contents. */
export const SEED_LDIF = fileURLToPath(new URL('../fixtures/ldap/seed.ldif', import.meta.url));
const FACILITY_SCHEMA = fileURLToPath(new URL('../fixtures/ldap/facility.schema', import.meta.url));
const BASE_DN = 'dc=facility,dc=test';
const BIND_DN = `cn=panalysis,ou=services,${BASE_DN}`;
const BIND_PASSWORD = 'panalysis-test-secret';
const ROOT_DN = `cn=admin,${BASE_DN}`;
const SCHEMA_DIRS = ['/etc/ldap/schema', '/etc/openldap/schema'];
const MODULE_DIRS = ['/usr/lib/ldap', '/usr/lib64/openldap', '/usr/lib/openldap'];
const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/libexec'];

/** A running test slapd. */
export interface Slapd {
  /** `ldap://127.0.0.1:<port>` (StartTLS available with {@link caFile}). */
  readonly url: string;
  /** `ldaps://127.0.0.1:<port>`. */
  readonly ldapsUrl: string;
  /** PEM of the CA that signed the server certificate (SAN IP:127.0.0.1, DNS:localhost). */
  readonly caFile: string;
  readonly baseDN: string;
  /** The read-only service account. */
  readonly bindDN: string;
  /** File holding its password, without a trailing newline. */
  readonly bindPasswordFile: string;
  /** The rootdn; may write anything. */
  readonly rootDN: string;
  readonly rootPasswordFile: string;
  /** The temp dir holding configuration, certificates and data. */
  readonly dir: string;
  /** Starts slapd again after {@link stop}, on the same ports and data. */
  start(): Promise<void>;
  /** Stops slapd (SIGTERM, then SIGKILL after 5 s); data and ports are kept for {@link start}. */
  stop(): Promise<void>;
  /** {@link stop} then {@link start}. */
  restart(): Promise<void>;
  /** SIGSTOP: connections are still accepted by the kernel but never answered (a hung server). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Applies `ldif` (changetype records) with ldapmodify as the rootdn. */
  modify(ldif: string): Promise<void>;
  /** Stops slapd and deletes its temp dir. */
  close(): Promise<void>;
}

/** Options of {@link startSlapd}. */
export interface SlapdOptions {
  /** LDIF loaded before the start; default {@link SEED_LDIF}. */
  seed?: string;
  /** Receives slapd's stderr lines. */
  log?: (line: string) => void;
}

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

/** Why the test slapd cannot run here, or `undefined` when it can. */
export function slapdUnavailableReason(): string | undefined {
  const missing = ['slapd', 'slapadd', 'ldapmodify', 'ldapwhoami', 'openssl'].filter((b) => !findBinary(b));
  if (missing.length > 0) return `missing ${missing.join(', ')}; install with: apt-get install -y slapd ldap-utils openssl`;
  if (!SCHEMA_DIRS.some((d) => existsSync(join(d, 'nis.schema')))) return `no OpenLDAP schema directory (${SCHEMA_DIRS.join(', ')})`;
  return undefined;
}

async function makeCertificates(dir: string): Promise<void> {
  const openssl = findBinary('openssl')!;
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(openssl, ['req', '-x509', ...key, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-days', '2', '-subj', '/CN=panalysis test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run(openssl, ['req', ...key, '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr'), '-subj', '/CN=localhost']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  await run(openssl, ['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial',
    '-out', join(dir, 'server.crt'), '-days', '2', '-extfile', join(dir, 'server.ext')]);
}

function slapdConf(dir: string, rootPassword: string): string {
  const schemaDir = SCHEMA_DIRS.find((d) => existsSync(join(d, 'nis.schema')))!;
  const moduleDir = MODULE_DIRS.find((d) => existsSync(join(d, 'back_mdb.la')) || existsSync(join(d, 'back_mdb.so')));
  return [
    ...['core', 'cosine', 'nis', 'inetorgperson'].map((s) => `include ${join(schemaDir, `${s}.schema`)}`),
    `include ${FACILITY_SCHEMA}`,
    ...(moduleDir ? [`modulepath ${moduleDir}`, 'moduleload back_mdb'] : []),
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    `TLSCACertificateFile ${join(dir, 'ca.crt')}`,
    `TLSCertificateFile ${join(dir, 'server.crt')}`,
    `TLSCertificateKeyFile ${join(dir, 'server.key')}`,
    'TLSVerifyClient never',
    'database mdb',
    'maxsize 10485760',
    `suffix "${BASE_DN}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${rootPassword}`,
    `directory ${join(dir, 'db')}`,
    'index objectClass,uid,memberUid,member,cn,gidNumber eq',
    // Anonymous may only authenticate; the service account reads all but passwords.
    'access to attrs=userPassword by anonymous auth by * none',
    `access to * by dn.exact="${BIND_DN}" read by * none`,
    '',
  ].join('\n');
}

/** Runs `binary` with `input` on stdin; rejects with its stderr on a non-zero exit. */
function runWithInput(binary: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${binary} exited ${code}: ${stderr.trim()}`))));
    child.stdin.end(input);
  });
}

/**
 * Starts a slapd with `options.seed` (default: the facility seed) and resolves once the service
 * account can bind. Call {@link Slapd.close} when done.
 * @throws Error when a binary is missing ({@link slapdUnavailableReason}) or slapd does not come
 * up within 15 s (with the tail of its log).
 */
export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const reason = slapdUnavailableReason();
  if (reason) throw new Error(`cannot run a test slapd: ${reason}`);
  const dir = await mkdtemp(join(tmpdir(), 'panalysis-slapd-'));
  const rootPassword = `root-${process.pid}-${Date.now()}`;
  const bindPasswordFile = join(dir, 'bind-password');
  const rootPasswordFile = join(dir, 'root-password');
  await mkdir(join(dir, 'db'));
  await makeCertificates(dir);
  await writeFile(join(dir, 'slapd.conf'), slapdConf(dir, rootPassword));
  for (const [file, secret] of [[bindPasswordFile, BIND_PASSWORD], [rootPasswordFile, rootPassword]] as const) {
    await writeFile(file, secret);
    await chmod(file, 0o600);
  }
  await run(findBinary('slapadd')!, ['-q', '-f', join(dir, 'slapd.conf'), '-l', options.seed ?? SEED_LDIF]);
  const [port, tlsPort] = (await freePorts(2)) as [number, number];
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;

  let child: ChildProcess | undefined;
  let paused = false;
  const logTail: string[] = [];
  const killOnExit = (): void => void child?.kill('SIGKILL');

  const launch = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn(findBinary('slapd')!, ['-f', join(dir, 'slapd.conf'), '-h', `${url}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    process.once('exit', killOnExit);
    proc.stderr!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        logTail.push(line);
        if (logTail.length > 50) logTail.shift();
        options.log?.(line);
      }
    });
    const started = Date.now();
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`slapd exited (${proc.exitCode ?? proc.signalCode}) at start:\n${logTail.join('\n')}`);
      try {
        await run(findBinary('ldapwhoami')!, ['-x', '-H', url, '-D', BIND_DN, '-y', bindPasswordFile, '-o', 'nettimeout=1']);
        return;
      } catch (err) {
        if (Date.now() - started > 15_000) throw new Error(`slapd did not answer within 15 s: ${(err as Error).message}\n${logTail.join('\n')}`, { cause: err });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (paused) proc.kill('SIGCONT');
    paused = false;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    process.removeListener('exit', killOnExit);
  };

  const signal = (sig: 'SIGSTOP' | 'SIGCONT'): void => {
    if (!child || child.exitCode !== null) throw new Error('slapd is not running');
    child.kill(sig);
    paused = sig === 'SIGSTOP';
  };

  try {
    await launch();
  } catch (err) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url, ldapsUrl, caFile: join(dir, 'ca.crt'), baseDN: BASE_DN, bindDN: BIND_DN, bindPasswordFile, rootDN: ROOT_DN, rootPasswordFile, dir,
    start: launch,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    modify: (ldif) => runWithInput(findBinary('ldapmodify')!, ['-x', '-H', url, '-D', ROOT_DN, '-y', rootPasswordFile], ldif),
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

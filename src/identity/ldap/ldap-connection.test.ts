// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryUnavailableError } from '../directory.ts';
import { LdapConnector } from './ldap-connection.ts';
import type { LdapConnectionOptions } from './ldap-connection.ts';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A TCP server on loopback that accepts connections and then does what `onConnection` says. */
function tcpServer(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function closedPort(): Promise<number> {
  const port = await tcpServer(() => undefined);
  await new Promise((r) => servers.pop()!.close(r));
  return port;
}

function passwordFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ldap-conn-')), 'password');
  writeFileSync(file, content);
  return file;
}

function options(port: number, extra: Partial<LdapConnectionOptions> = {}): LdapConnectionOptions {
  return { url: `ldap://127.0.0.1:${port}`, startTLS: false, tls: { insecureSkipVerify: false }, bindDN: 'cn=svc,dc=t', bindPasswordFile: passwordFile('secret\n'), timeoutMs: 300, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<{ error: DirectoryUnavailableError }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DirectoryUnavailableError);
    return { error: error as DirectoryUnavailableError };
  }
  throw new Error('expected a DirectoryUnavailableError');
}

const noWork = async (): Promise<string> => 'done';

describe('LdapConnector', () => {
  it('fails fast, naming the step, when nothing listens', async () => {
    const port = await closedPort();
    const { error } = await failure(new LdapConnector(options(port, { timeoutMs: 5000 })).run('lookup of user "alice"', noWork));
    // The refusal itself is reported, not the timeout it would otherwise run into.
    expect(error.message).toMatch(/^LDAP lookup of user "alice": connect, then bind as cn=svc,dc=t at ldap:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
    expect(error.message).not.toMatch(/did not answer/);
  });

  it('gives up after timeoutMs when the server accepts but never answers', async () => {
    const port = await tcpServer(() => undefined);
    const { error } = await failure(new LdapConnector(options(port)).run('lookup of user "alice"', noWork));
    expect(error.message).toBe(`LDAP lookup of user "alice": ldap://127.0.0.1:${port} did not answer within 300 ms (during bind as cn=svc,dc=t)`);
  });

  it('reports a server that hangs up', async () => {
    const port = await tcpServer((socket) => socket.destroy());
    const { error } = await failure(new LdapConnector(options(port, { timeoutMs: 5000 })).run('lookup of user "alice"', noWork));
    expect(error.message).toMatch(/bind as cn=svc,dc=t at .* failed/);
  });

  it('refuses an empty password file rather than binding unauthenticated', async () => {
    const port = await tcpServer(() => undefined);
    const { error } = await failure(new LdapConnector(options(port, { bindPasswordFile: passwordFile('\n') })).run('lookup', noWork));
    expect(error.message).toMatch(/password file .* is empty/);
  });

  it('reports a missing password file', async () => {
    const port = await tcpServer(() => undefined);
    const { error } = await failure(new LdapConnector(options(port, { bindPasswordFile: '/nonexistent/password' })).run('lookup', noWork));
    expect(error.message).toMatch(/read TLS and password files .* failed: .*ENOENT/);
  });

  it('refuses contradictory options at construction', () => {
    expect(() => new LdapConnector(options(1, { url: 'http://x' }))).toThrow(/ldap:\/\/ or ldaps:\/\//);
    expect(() => new LdapConnector(options(1, { url: 'ldaps://x', startTLS: true }))).toThrow(/startTLS applies to ldap:\/\//);
    expect(() => new LdapConnector(options(1, { bindPasswordFile: undefined }))).toThrow(/bindDN needs bindPasswordFile/);
  });
});

// SPDX-License-Identifier: Apache-2.0
/**
 * Connections to the LDAP server: one per operation (connect, optional StartTLS, bind, searches,
 * unbind), bounded as a whole by a deadline. A connection per operation needs no reconnect
 * logic: when the server comes back, the next operation simply works.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { ClientOptions, Entry } from 'ldapts';
import { DirectoryUnavailableError } from '../directory.ts';

const NO_SUCH_OBJECT = 32;
const PAGE_SIZE = 500;

/** Where and how to connect; the matching subset of `LdapConfig`. */
export interface LdapConnectionOptions {
  url: string;
  startTLS: boolean;
  tls: { caFile?: string; insecureSkipVerify: boolean };
  bindDN?: string;
  bindPasswordFile?: string;
  /** Bound on one whole operation, in milliseconds. */
  timeoutMs: number;
}

/** One search result entry; attribute names are matched case-insensitively. */
export class LdapEntry {
  readonly dn: string;
  private readonly attributes = new Map<string, string[]>();

  constructor(dn: string, attributes: Readonly<Record<string, readonly string[]>>) {
    this.dn = dn;
    for (const [name, values] of Object.entries(attributes)) this.attributes.set(name.toLowerCase(), [...values]);
  }

  /** All values of `name` (empty when absent). */
  values(name: string): string[] {
    return this.attributes.get(name.toLowerCase()) ?? [];
  }

  /** The first value of `name`, if any. */
  first(name: string): string | undefined {
    return this.values(name)[0];
  }
}

/** A search as the adapters ask for it; `filter` must already be escaped. */
export interface LdapSearch {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: string;
  attributes: string[];
  /** Stop after this many entries (used to notice ambiguous answers). */
  sizeLimit?: number;
  /** Ask for paged results (RFC 2696), for searches that may return many entries. */
  paged?: boolean;
}

/** Read access on one open, bound connection. */
export interface LdapReader {
  /** Entries matching `search`; a missing or unreadable base is an error. */
  search(search: LdapSearch): Promise<LdapEntry[]>;
  /** The entry `dn` with `attributes`, or `undefined` when it does not exist or is not readable. */
  read(dn: string, attributes: string[]): Promise<LdapEntry | undefined>;
}

/** Runs operations against the directory; implemented by {@link LdapConnector}. */
export interface LdapRunner {
  /**
   * Runs `work` on a bound connection.
   * @throws DirectoryUnavailableError when the directory cannot answer.
   */
  run<T>(purpose: string, work: (reader: LdapReader) => Promise<T>): Promise<T>;
}

function toLdapEntry(entry: Entry): LdapEntry {
  const attributes: Record<string, string[]> = {};
  for (const [name, raw] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const list = Array.isArray(raw) ? raw : [raw];
    attributes[name] = list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
  }
  return new LdapEntry(entry.dn, attributes);
}

/** Progress of one operation, for messages and clean-up. */
interface AttemptState {
  step: string;
  client?: Client;
  closed: boolean;
}

function hostOf(url: string): string {
  const host = new URL(url).hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A one-line account of `err`; LDAP result codes by name, e.g. `invalid credentials (LDAP result 49)`. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'number') return err.message.split('\n')[0]!;
  const kind = err.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  const diagnostic = err.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim();
  const hint = code === NO_SUCH_OBJECT ? '; check that the base DN exists and that the bind account may read it' : '';
  return `${kind} (LDAP result ${code})${diagnostic ? `: ${diagnostic}` : ''}${hint}`;
}

/**
 * Opens a connection per operation.
 *
 * Guarantees: {@link run} settles within `timeoutMs` (plus timer slack) whatever the server
 * does; every failure, including that timeout, is a {@link DirectoryUnavailableError} whose
 * message names the operation, the server and the step that failed; the connection is closed
 * in every case.
 * Assumptions: the bind password file and CA file are small local files (mounted Secrets);
 * they are re-read at every connection so rotated Secrets take effect without a restart.
 */
export class LdapConnector implements LdapRunner {
  private readonly options: LdapConnectionOptions;
  private readonly secure: boolean;

  /** @throws Error when the options contradict each other (a programming or config error). */
  constructor(options: LdapConnectionOptions) {
    if (!/^ldaps?:\/\//.test(options.url)) throw new Error(`LDAP url must start with ldap:// or ldaps://, got "${options.url}"`);
    this.secure = options.url.startsWith('ldaps://');
    if (this.secure && options.startTLS) throw new Error('LDAP startTLS applies to ldap:// URLs only; ldaps:// is already encrypted');
    if (options.bindDN && !options.bindPasswordFile) throw new Error('LDAP bindDN needs bindPasswordFile');
    this.options = options;
  }

  /** The server URL, for messages. */
  get url(): string {
    return this.options.url;
  }

  /**
   * Connects, binds, runs `work` and disconnects, all within `timeoutMs`.
   * @param purpose what the operation is for, e.g. `lookup of user "alice"`; used in messages.
   * @throws DirectoryUnavailableError on any failure of the connection, the bind or a search,
   * and when `timeoutMs` passes; a DirectoryUnavailableError thrown by `work` passes unchanged.
   */
  async run<T>(purpose: string, work: (reader: LdapReader) => Promise<T>): Promise<T> {
    const { timeoutMs } = this.options;
    const state: AttemptState = { step: 'read TLS and password files', closed: false };
    // Without a connection the step could not even start: say so.
    const step = (): string => (state.client && !state.client.isConnected ? `connect, then ${state.step}` : state.step);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DirectoryUnavailableError(`LDAP ${purpose}: ${this.url} did not answer within ${timeoutMs} ms (during ${step()})`)), timeoutMs);
    });
    const attempt = this.attempt(state, work);
    attempt.catch(() => undefined);
    try {
      return await Promise.race([attempt, deadline]);
    } catch (err) {
      if (err instanceof DirectoryUnavailableError) throw err;
      throw new DirectoryUnavailableError(`LDAP ${purpose}: ${step()} at ${this.url} failed: ${describe(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      state.closed = true;
      state.client?.unbind().catch(() => undefined);
    }
  }

  private async attempt<T>(state: AttemptState, work: (reader: LdapReader) => Promise<T>): Promise<T> {
    const tls = await this.tlsOptions();
    const password = await this.password();
    if (state.closed) throw new Error('operation abandoned');
    const timeout = this.options.timeoutMs;
    const clientOptions: ClientOptions = { url: this.options.url, timeout, connectTimeout: timeout };
    // ldapts switches to TLS whenever tlsOptions is set, so only ldaps:// gets them here.
    if (this.secure) clientOptions.tlsOptions = tls;
    const client = new Client(clientOptions);
    state.client = client;
    if (this.options.startTLS) {
      state.step = 'StartTLS';
      await client.startTLS(tls);
    }
    if (this.options.bindDN) {
      state.step = `bind as ${this.options.bindDN}`;
      await client.bind(this.options.bindDN, password);
    }
    return work(this.reader(client, state));
  }

  private reader(client: Client, state: AttemptState): LdapReader {
    const timeLimit = Math.max(1, Math.ceil(this.options.timeoutMs / 1000));
    // ldapts reconnects on demand; after the deadline that would be a fresh, unbound connection.
    const ensureOpen = (): void => {
      if (state.closed) throw new Error('operation abandoned');
    };
    return {
      search: async (s) => {
        ensureOpen();
        state.step = `search of ${s.base} for ${s.filter}`;
        const result = await client.search(s.base, {
          scope: s.scope, filter: s.filter, attributes: s.attributes, sizeLimit: s.sizeLimit, timeLimit,
          paged: s.paged ? { pageSize: PAGE_SIZE } : undefined,
        });
        return result.searchEntries.map(toLdapEntry);
      },
      read: async (dn, attributes) => {
        ensureOpen();
        state.step = `read of ${dn}`;
        try {
          const result = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes, timeLimit });
          const entry = result.searchEntries[0];
          return entry ? toLdapEntry(entry) : undefined;
        } catch (err) {
          if ((err as { code?: unknown }).code === NO_SUCH_OBJECT) return undefined;
          throw err;
        }
      },
    };
  }

  private async tlsOptions(): Promise<ConnectionOptions> {
    const host = hostOf(this.options.url);
    const options: ConnectionOptions = { host, rejectUnauthorized: !this.options.tls.insecureSkipVerify };
    // SNI takes host names only (RFC 6066 §3).
    if (isIP(host) === 0) options.servername = host;
    if (this.options.tls.caFile) options.ca = await readFile(this.options.tls.caFile, 'utf8');
    return options;
  }

  private async password(): Promise<string | undefined> {
    const file = this.options.bindPasswordFile;
    if (!this.options.bindDN || !file) return undefined;
    const password = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    // An empty password makes a simple bind unauthenticated (RFC 4513 §5.1.2), which some
    // servers accept as anonymous: refuse instead of silently reading less.
    if (password === '') throw new DirectoryUnavailableError(`LDAP bind password file ${file} is empty`);
    return password;
  }
}

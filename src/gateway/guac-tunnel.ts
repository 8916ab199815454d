// SPDX-License-Identifier: Apache-2.0
/**
 * The Guacamole tunnel: a browser's WebSocket (guacamole-common-js 1.5 `WebSocketTunnel`,
 * subprotocol `guacamole`) joined to a session's guacd after the gateway did the handshake.
 *
 * What the browser expects (guacamole-common-js 1.5.0 `Guacamole.WebSocketTunnel`, and the
 * server side of guacamole-client's `GuacamoleWebSocketTunnelEndpoint`): the first message
 * is the internal instruction `0.,36.<tunnel uuid>;`; every message holds whole
 * instructions, with lengths in UTF-16 code units; internal `ping` instructions
 * (`0.,4.ping,<ms>;`) are echoed back unchanged; a close carries the Guacamole status code
 * as its reason text.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../runtime/log.ts';
import { GUAC_STATUS, guacdHandshake, GuacdError } from './guac-handshake.ts';
import type { GuacConnection, GuacDisplay } from './guac-handshake.ts';
import { encodeInstruction, encodeInstructions, GuacParser } from './guac-protocol.ts';

/** Where guacd listens and what it connects to. */
export interface GuacUpstream {
  readonly host: string;
  readonly port: number;
  readonly connection: GuacConnection;
  readonly display: GuacDisplay;
}

/** Options of {@link tunnelGuacamole}. */
export interface GuacTunnelOptions {
  /** Called on `key` and `mouse` instructions from the browser, at most once a second. */
  readonly onInput?: () => void;
  /** Time for the TCP connection and the handshake together; default 15 s. */
  readonly handshakeTimeoutMs?: number;
  readonly logger?: Logger;
}

/** Opcodes that choose or change the connection: the gateway's alone, so they end the tunnel. */
const REFUSED = new Set(['select', 'connect', 'argv']);
const INPUT = new Set(['key', 'mouse']);
/** Browser messages kept while the handshake runs (guacamole-common-js sends none before the uuid). */
const MAX_EARLY = 64;
/** Pause reading guacd while this much waits to go to the browser. */
const HIGH_WATER = 4 << 20;

/** The WebSocket close code for a Guacamole status (as guacamole-client's `GuacamoleStatus` maps them). */
function wsCode(status: number): number {
  if (status === GUAC_STATUS.SUCCESS) return 1000;
  if (status === GUAC_STATUS.CLIENT_BAD_TYPE) return 1003;
  return status >= 0x0300 ? 1008 : 1011;
}

/** The browser's instructions, sorted by what the tunnel does with them. */
export interface SortedInstructions {
  /** For guacd, in order. */
  readonly forward: string[][];
  /** Internal pings, to send back unchanged. */
  readonly echo: string[][];
  /** A `key` or `mouse` was among them. */
  readonly input: boolean;
  /** The first opcode that ends the tunnel (`select`, `connect`, `argv`), if any; then nothing else counts. */
  readonly refused?: string;
}

/**
 * Sorts instructions from the browser (pure): internal instructions (opcode `""`) never reach
 * guacd, pings among them are echoed; `select`, `connect` and `argv` refuse the whole batch.
 */
export function sortBrowserInstructions(list: readonly string[][]): SortedInstructions {
  const forward: string[][] = [];
  const echo: string[][] = [];
  let input = false;
  for (const ins of list) {
    const opcode = ins[0]!;
    if (REFUSED.has(opcode)) return { forward: [], echo: [], input: false, refused: opcode };
    if (opcode === '') {
      if (ins[1] === 'ping') echo.push(ins);
      continue;
    }
    input ||= INPUT.has(opcode);
    forward.push(ins);
  }
  return { forward, echo, input };
}

/**
 * Joins `browser` (an open WebSocket, subprotocol `guacamole`) to guacd at `upstream.host:port`: connects, performs
 * the handshake with `upstream.connection` and `upstream.display`, sends the browser the
 * tunnel uuid, then relays instructions both ways until either side ends.
 *
 * Guarantees: the browser never reaches guacd before the handshake is done, and any later
 * `select`, `connect` or `argv` from it ends the tunnel (CLIENT_BAD_REQUEST); the password
 * only goes to guacd; each WebSocket message holds whole instructions; when either side
 * closes or fails, both are closed and the promise resolves (it never rejects) with the
 * reason. A guacd `error` during the handshake is reported with its message and status code,
 * and the browser's WebSocket is closed with that status code as reason.
 */
export function tunnelGuacamole(browser: WebSocket, upstream: GuacUpstream, options: GuacTunnelOptions = {}): Promise<{ reason: string }> {
  if (browser.readyState !== browser.OPEN) return Promise.resolve({ reason: 'the browser WebSocket was not open' });
  return new Promise((resolve) => {
    const log = options.logger;
    const fromBrowser = new GuacParser('utf16');
    const early: string[] = [];
    let open = false;
    let done = false;
    let lastInput = -Infinity;
    let lastError: string | undefined;
    const tcp: Socket = connect({ host: upstream.host, port: upstream.port });
    tcp.setNoDelay(true);

    const finish = (reason: string, status: number) => {
      if (done) return;
      done = true;
      browser.off('message', onMessage).off('close', onBrowserClose);
      if (open && !tcp.destroyed) {
        // Tell guacd, let it close its side, and cut the socket if it does not.
        tcp.end(encodeInstruction(['disconnect']));
        setTimeout(() => tcp.destroy(), 2000).unref();
      } else tcp.destroy();
      if (browser.readyState === browser.OPEN || browser.readyState === browser.CONNECTING) browser.close(wsCode(status), String(status));
      log?.debug('Closed Guacamole tunnel', { reason, status });
      resolve({ reason });
    };

    const relayToGuacd = (text: string) => {
      let sorted: SortedInstructions;
      try {
        sorted = sortBrowserInstructions(fromBrowser.push(text));
      } catch (err) {
        return finish(`the browser sent a malformed instruction: ${(err as Error).message}`, GUAC_STATUS.CLIENT_BAD_REQUEST);
      }
      if (sorted.refused) return finish(`the browser sent "${sorted.refused}" after the handshake`, GUAC_STATUS.CLIENT_BAD_REQUEST);
      if (sorted.echo.length > 0) browser.send(encodeInstructions(sorted.echo, 'utf16'));
      if (sorted.input && options.onInput && Date.now() - lastInput >= 1000) {
        lastInput = Date.now();
        options.onInput();
      }
      if (sorted.forward.length > 0) tcp.write(encodeInstructions(sorted.forward, 'codepoint'));
    };

    const relayToBrowser = (list: string[][]) => {
      if (list.length === 0) return;
      const errorIns = list.find((i) => i[0] === 'error');
      if (errorIns) lastError = `guacd error ${errorIns[2] ?? '?'}: ${errorIns[1] ?? ''}`;
      browser.send(encodeInstructions(list, 'utf16'), () => {
        if (tcp.isPaused() && browser.bufferedAmount < HIGH_WATER / 2) tcp.resume();
      });
      if (browser.bufferedAmount > HIGH_WATER) tcp.pause();
    };

    function onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
      if (isBinary) return finish('the browser sent a binary message', GUAC_STATUS.CLIENT_BAD_TYPE);
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      if (open) return relayToGuacd(text);
      if (early.length >= MAX_EARLY) return finish('the browser sent too much before the handshake ended', GUAC_STATUS.CLIENT_BAD_REQUEST);
      early.push(text);
    }
    function onBrowserClose() {
      finish('the browser closed the tunnel', GUAC_STATUS.SUCCESS);
    }
    browser.on('message', onMessage).on('close', onBrowserClose);
    browser.on('error', (err) => finish(`browser WebSocket error: ${err.message}`, GUAC_STATUS.SERVER_ERROR));

    tcp.on('error', (err) => {
      if (open) finish(`guacd connection error: ${(err as NodeJS.ErrnoException).code ?? err.message}`, GUAC_STATUS.UPSTREAM_ERROR);
    });
    guacdHandshake(tcp, upstream.connection, upstream.display, options.handshakeTimeoutMs ?? 15_000).then(
      ({ id, after, parser }) => {
        if (done) return;
        open = true;
        log?.debug('Opened Guacamole tunnel', { guacdConnection: id });
        browser.send(encodeInstruction(['', randomUUID()], 'utf16'));
        relayToBrowser(after);
        tcp.on('data', (chunk: Buffer) => {
          if (done) return;
          try {
            relayToBrowser(parser.push(chunk));
          } catch (err) {
            finish(`guacd sent a malformed instruction: ${(err as Error).message}`, GUAC_STATUS.UPSTREAM_ERROR);
          }
        });
        tcp.on('close', () => finish(lastError ?? 'guacd closed the connection', GUAC_STATUS.SUCCESS));
        tcp.resume();
        for (const text of early.splice(0)) if (!done) relayToGuacd(text);
      },
      (err: GuacdError) => finish(err.message, err instanceof GuacdError ? err.status : GUAC_STATUS.SERVER_ERROR),
    );
  });
}

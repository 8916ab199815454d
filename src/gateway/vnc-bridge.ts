// SPDX-License-Identifier: Apache-2.0
/**
 * The VNC bridge: connects a browser's WebSocket (noVNC) to a desktop session's websockify and
 * terminates the RFB security handshake in the gateway, so that the browser logs in with security
 * type None and never sees the session's VNC password. After the handshakes it pipes the bytes
 * both ways unchanged, watching the browser's messages only to report user input.
 */
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { acceptBrowser, HandshakeError, loginToDesktop } from './vnc-bridge-handshake.ts';
import { ClientMessageScanner } from './vnc-bridge-messages.ts';
import { FrameReader, rawBytes } from './vnc-bridge-reader.ts';

/** How a bridged connection ended. */
export interface BridgeEnd {
  /** Why, in words (never the password). */
  reason: string;
  /** Bytes passed from the browser to the desktop (ClientInit and everything after it). */
  bytesUp: number;
  /** Bytes passed from the desktop to the browser after the handshakes. */
  bytesDown: number;
}

/** Where the bridge logs. */
export interface BridgeLogger {
  info(msg: string, kv?: object): void;
  warn(msg: string, kv?: object): void;
}

/** Options of {@link bridgeVnc}. */
export interface BridgeOptions {
  /** Called when the browser sends keys or pointer events, at most once per {@link INPUT_THROTTLE_MS}. */
  onInput?: () => void;
  /** Limit for connecting to the desktop and both handshakes; default 10 s. */
  handshakeTimeoutMs?: number;
  logger?: BridgeLogger;
}

/** The desktop's websockify endpoint and the session's VNC password. */
export interface VncUpstream {
  url: string;
  password: string;
}

/** The shortest time between two `onInput` calls. */
export const INPUT_THROTTLE_MS = 1000;

/** Most bytes a side may send before the handshakes are done (both send a few dozen). */
const HANDSHAKE_BUFFER = 64 * 1024;

/** Above this many queued bytes towards one side, the other side is paused until the queue drains. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/** Closes a socket with a code and a reason cut to the 123 bytes a close frame allows. */
function closeSocket(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  let cut = reason;
  while (Buffer.byteLength(cut) > 123) cut = cut.slice(0, -1);
  try {
    ws.close(code, cut);
  } catch {
    ws.terminate(); // a socket still connecting rejects close codes; it only needs to go
  }
}

/** Sends `bytes` to `to`, pausing `from` while `to` has too much queued. */
function forward(from: WebSocket, to: WebSocket, bytes: Buffer): void {
  to.send(bytes, { binary: true }, () => {
    if (from.isPaused && to.bufferedAmount < LOW_WATER) from.resume();
  });
  if (to.bufferedAmount > HIGH_WATER && !from.isPaused) from.pause();
}

/** A function that calls `fn` at most once per `ms`. */
function throttle(fn: () => void, ms: number): () => void {
  let last = -Infinity;
  return () => {
    const now = performance.now();
    if (now - last < ms) return;
    last = now;
    try {
      fn();
    } catch {
      // the caller's callback must not break the bridge
    }
  };
}

/**
 * Bridges `browser` (an open server-side WebSocket) to the desktop at `upstream.url`.
 *
 * Sequence: opens a WebSocket (subprotocol `binary`) to the desktop and logs in there with VNC
 * authentication; then greets the browser as an RFB 3.8 server offering only None; forwards the
 * browser's ClientInit; from then on pipes binary frames both ways unchanged.
 *
 * Guarantees: never throws and never rejects; resolves once, when either side closed or failed or
 * the handshakes did not finish within the timeout, after closing both sides. The browser gets
 * close code 1000 when the browser or the desktop ended normally, 1011 with a short reason when the
 * desktop failed (unreachable, refused, wrong password, no VncAuth, timeout), 1002 when the browser
 * broke the protocol. The password is sent only to the desktop, as the DES response, and appears
 * in no log line, close reason or result.
 */
export function bridgeVnc(browser: WebSocket, upstream: VncUpstream, options: BridgeOptions = {}): Promise<BridgeEnd> {
  return new Promise((resolve) => {
    const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
    const log = options.logger;
    const onInput = throttle(options.onInput ?? (() => {}), INPUT_THROTTLE_MS);
    const counts = { up: 0, down: 0 };
    let piping = false;
    let ended = false;

    let desktop: WebSocket;
    try {
      desktop = new WebSocket(upstream.url, ['binary'], { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    } catch (err) {
      const reason = `bad desktop address: ${err instanceof Error ? err.message : String(err)}`;
      closeSocket(browser, 1011, reason);
      log?.warn('Closed VNC bridge', { url: upstream.url, code: 1011, reason });
      resolve({ reason, bytesUp: 0, bytesDown: 0 });
      return;
    }
    const fromDesktop = new FrameReader(desktop, HANDSHAKE_BUFFER, (n) => new HandshakeError(`the desktop sent ${n} bytes during the handshake`, 1011));
    const fromBrowser = new FrameReader(browser, HANDSHAKE_BUFFER, (n) => new HandshakeError(`the browser sent ${n} bytes during the handshake`, 1002));

    const end = (reason: string, code: number): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      fromDesktop.fail(new Error(reason));
      fromBrowser.fail(new Error(reason));
      closeSocket(browser, code, code === 1000 ? '' : reason);
      closeSocket(desktop, 1000, '');
      const result = { reason, bytesUp: counts.up, bytesDown: counts.down };
      if (code === 1000) log?.info('Closed VNC bridge', { url: upstream.url, ...result });
      else log?.warn('Closed VNC bridge', { url: upstream.url, code, ...result });
      resolve(result);
    };

    const timer = setTimeout(() => end(`the desktop handshake did not finish within ${timeoutMs} ms`, 1011), timeoutMs);
    desktop.on('error', (err) => end(`desktop connection failed: ${err.message}`, 1011));
    desktop.on('close', (code, why) => {
      const normal = piping && (code === 1000 || code === 1001);
      end(`the desktop closed the connection (code ${code}${why.length > 0 ? `: ${why.toString('utf8')}` : ''})`, normal ? 1000 : 1011);
    });
    browser.on('error', (err) => end(`browser connection failed: ${err.message}`, 1011));
    browser.on('close', () => end('the browser closed the connection', 1000));
    if (browser.readyState !== WebSocket.OPEN) end('the browser closed the connection before the bridge started', 1000);

    const startPiping = (clientInit: Buffer): void => {
      piping = true;
      clearTimeout(timer);
      const scanner = new ClientMessageScanner(onInput);
      // A browser socket the caller closed (access revoked) carries nothing more either way, even
      // while its closing handshake is still pending.
      const closing = (): boolean => {
        if (browser.readyState === WebSocket.OPEN) return false;
        end('the browser connection was closed', 1000);
        return true;
      };
      const up = (bytes: Buffer): void => {
        if (bytes.length === 0 || closing()) return;
        counts.up += bytes.length;
        scanner.feed(bytes);
        forward(browser, desktop, bytes);
      };
      const down = (bytes: Buffer): void => {
        if (bytes.length === 0 || closing()) return;
        counts.down += bytes.length;
        forward(desktop, browser, bytes);
      };
      counts.up += clientInit.length;
      forward(browser, desktop, clientInit);
      // detach and attach in one synchronous step, so that no frame falls between the two
      const early = fromBrowser.detach();
      down(fromDesktop.detach());
      browser.on('message', (data: RawData) => up(rawBytes(data)));
      desktop.on('message', (data: RawData) => down(rawBytes(data)));
      up(early);
      log?.info('Bridged VNC session', { url: upstream.url });
    };

    (async () => {
      await loginToDesktop(fromDesktop, desktop, upstream.password);
      await acceptBrowser(fromBrowser, browser);
      const clientInit = await fromBrowser.read(1);
      if (!ended) startPiping(clientInit);
    })().catch((err: unknown) => {
      if (err instanceof HandshakeError) end(err.message, err.closeCode);
      else end(err instanceof Error ? err.message : String(err), 1011);
    });
  });
}

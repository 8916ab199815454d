// SPDX-License-Identifier: Apache-2.0
/**
 * The two RFB handshakes of the VNC bridge (RFC 6143 §7.1–7.2): as a client towards the desktop,
 * where it answers the VNC authentication challenge with the session's password, and as a server
 * towards the browser, where it offers only security type None.
 */
import type { WebSocket } from 'ws';
import { vncAuthResponse } from './des.ts';
import type { FrameReader } from './vnc-bridge-reader.ts';

const VERSION = 'RFB 003.008\n';
const SECURITY_NONE = 1;
const SECURITY_VNC = 2;

/** Names of the registered RFB security types, for messages that say what a server offered. */
const SECURITY_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'None'], [2, 'VncAuth'], [5, 'RA2'], [6, 'RA2ne'], [16, 'Tight'], [17, 'Ultra'], [18, 'TLS'],
  [19, 'VeNCrypt'], [20, 'SASL'], [21, 'MD5'], [22, 'xvp'], [30, 'Apple DH'], [129, 'UnixLogon'],
]);

/** `2 (VncAuth)`-style names of security types. */
export function securityTypeNames(types: readonly number[]): string {
  return types.map((t) => `${t} (${SECURITY_NAMES.get(t) ?? 'unknown'})`).join(', ');
}

/** A handshake failure, with the WebSocket close code the browser gets for it. */
export class HandshakeError extends Error {
  readonly closeCode: number;

  constructor(message: string, closeCode: number) {
    super(message);
    this.closeCode = closeCode;
  }
}

/** A failure on the desktop's side: the browser sees 1011 (internal error). */
const desktopError = (message: string): HandshakeError => new HandshakeError(message, 1011);
/** A browser that does not speak the protocol: it sees 1002 (protocol error). */
const browserError = (message: string): HandshakeError => new HandshakeError(message, 1002);

/**
 * Logs in to the desktop as an RFB 3.8 client with VNC authentication, up to and including a
 * successful SecurityResult; the desktop then waits for ClientInit.
 * @throws HandshakeError (close code 1011) when the server is not RFB 3.8 or newer, offers no
 *   VncAuth (the message names what it offered), refuses the connection or rejects the password
 *   (the message carries the server's reason). The password never appears in a message.
 */
export async function loginToDesktop(r: FrameReader, ws: WebSocket, password: string): Promise<void> {
  const version = (await r.read(12)).toString('latin1');
  if (!/^RFB \d{3}\.\d{3}\n$/.test(version)) throw desktopError(`the desktop is not an RFB server: it said ${JSON.stringify(version)}`);
  if (version < VERSION) throw desktopError(`the desktop speaks ${version.trimEnd()}; the bridge needs RFB 003.008`);
  ws.send(Buffer.from(VERSION, 'latin1'));

  const count = await r.u8();
  if (count === 0) throw desktopError(`the desktop refused the connection: ${await r.reason()}`);
  const offered = [...(await r.read(count))];
  if (!offered.includes(SECURITY_VNC)) {
    throw desktopError(`the desktop offers security types ${securityTypeNames(offered)}; the bridge logs in only with 2 (VncAuth)`);
  }
  ws.send(Buffer.from([SECURITY_VNC]));
  ws.send(vncAuthResponse(password, await r.read(16)));
  if ((await r.u32()) !== 0) throw desktopError(`VNC authentication failed: ${await r.reason()}`);
}

/**
 * Greets the browser as an RFB 3.8 server offering only security type None, up to and including
 * a successful SecurityResult; the browser then sends ClientInit.
 * @throws HandshakeError (close code 1002) when the browser does not answer RFB 003.008 or picks
 *   another security type (it is told why in a failed SecurityResult first).
 */
export async function acceptBrowser(r: FrameReader, ws: WebSocket): Promise<void> {
  ws.send(Buffer.from(VERSION, 'latin1'));
  const version = (await r.read(12)).toString('latin1');
  if (version !== VERSION) throw browserError(`the browser answered ${JSON.stringify(version.trimEnd())}; the gateway speaks only RFB 003.008`);
  ws.send(Buffer.from([1, SECURITY_NONE]));
  const chosen = await r.u8();
  if (chosen !== SECURITY_NONE) {
    const reason = Buffer.from(`security type ${chosen} was not offered`, 'latin1');
    const head = Buffer.alloc(8);
    head.writeUInt32BE(1, 0);
    head.writeUInt32BE(reason.length, 4);
    ws.send(Buffer.concat([head, reason]));
    throw browserError(`the browser chose security type ${chosen}, not 1 (None)`);
  }
  ws.send(Buffer.alloc(4)); // SecurityResult OK
}

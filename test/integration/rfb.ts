// SPDX-License-Identifier: Apache-2.0
/**
 * A minimal RFB (VNC, RFC 6143) client over a websockify WebSocket, as a browser's noVNC would talk
 * to a desktop session: version handshake, VNC authentication, ServerInit, and one full Raw
 * framebuffer update, enough to prove that a desktop answers and draws something.
 */
import { deflateSync, crc32 } from 'node:zlib';
import { vncAuthResponse } from '../../src/gateway/des.ts';

/** What the server said during the handshake. */
export interface RfbHandshake {
  /** The server's ProtocolVersion line without its newline, e.g. `RFB 003.008`. */
  serverVersion: string;
  /** The security types the server offered. */
  securityTypes: number[];
  width: number;
  height: number;
  /** The desktop name from ServerInit. */
  name: string;
}

/** One full-screen picture, 4 bytes per pixel (red, green, blue, alpha = 255), rows top to bottom. */
export interface RfbScreenshot {
  width: number;
  height: number;
  rgba: Buffer;
  /** How many different colours the picture holds. */
  distinctColours: number;
}

/** Options of the clients. */
export interface RfbOptions {
  /** Gives up (and closes the socket) after this long; default 15 s. */
  timeoutMs?: number;
}

const SECURITY_NONE = 1;
const SECURITY_VNC = 2;
const ENCODING_RAW = 0;
const ENCODING_DESKTOP_SIZE = -223;

/** Reads exact byte counts from the binary frames of a WebSocket, whatever their boundaries. */
class SocketReader {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener('message', (ev) => {
      this.buf = Buffer.concat([this.buf, Buffer.from(ev.data as ArrayBuffer)]);
      this.wake();
    });
    ws.addEventListener('close', (ev) => this.fail(new Error(`the server closed the connection (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`)));
    ws.addEventListener('error', () => this.fail(new Error('WebSocket error')));
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next `n` bytes; rejects once the socket failed and fewer than `n` bytes are left. */
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async u8(): Promise<number> { return (await this.read(1)).readUInt8(0); }
  async u16(): Promise<number> { return (await this.read(2)).readUInt16BE(0); }
  async u32(): Promise<number> { return (await this.read(4)).readUInt32BE(0); }
  async text(): Promise<string> { return (await this.read(await this.u32())).toString('latin1'); }

  send(bytes: Buffer): void { this.ws.send(bytes); }
}

/** Opens the WebSocket with the `binary` subprotocol websockify speaks. */
function open(url: string): Promise<SocketReader> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary']);
    ws.binaryType = 'arraybuffer';
    const reader = new SocketReader(ws);
    ws.addEventListener('open', () => resolve(reader), { once: true });
    ws.addEventListener('error', () => reject(new Error(`could not open a WebSocket to ${url}`)), { once: true });
  });
}

/** Version handshake, security and initialisation, up to and including ServerInit. */
async function handshake(r: SocketReader, password: string): Promise<RfbHandshake> {
  const serverVersion = (await r.read(12)).toString('latin1').trimEnd();
  if (!/^RFB \d{3}\.\d{3}$/.test(serverVersion)) throw new Error(`not an RFB server: it said ${JSON.stringify(serverVersion)}`);
  if (serverVersion < 'RFB 003.008') throw new Error(`server speaks ${serverVersion}; this client needs RFB 003.008`);
  r.send(Buffer.from('RFB 003.008\n', 'latin1'));

  const count = await r.u8();
  if (count === 0) throw new Error(`the server refused the connection: ${await r.text()}`);
  const securityTypes = [...(await r.read(count))];
  const chosen = securityTypes.includes(SECURITY_VNC) ? SECURITY_VNC : securityTypes.includes(SECURITY_NONE) ? SECURITY_NONE : undefined;
  if (chosen === undefined) throw new Error(`the server offers only security types ${securityTypes.join(', ')}; this client knows 1 (None) and 2 (VNC)`);
  r.send(Buffer.from([chosen]));
  if (chosen === SECURITY_VNC) r.send(vncAuthResponse(password, await r.read(16)));
  if ((await r.u32()) !== 0) throw new Error(`VNC authentication failed: ${await r.text()}`);

  r.send(Buffer.from([1])); // ClientInit: shared, so a test does not disconnect the user's own viewer
  const width = await r.u16();
  const height = await r.u16();
  await r.read(16); // the server's pixel format; we set our own below
  const name = await r.text();
  return { serverVersion, securityTypes, width, height, name };
}

/** Runs `body` on a connected, initialised client; closes the socket and enforces the timeout. */
async function withClient<T>(url: string, password: string, opts: RfbOptions, body: (r: SocketReader, h: RfbHandshake) => Promise<T>): Promise<T> {
  const r = await open(url);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const timer = setTimeout(() => r.fail(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
  try {
    return await body(r, await handshake(r, password));
  } finally {
    clearTimeout(timer);
    r.ws.close();
  }
}

/**
 * Connects to `url` (a websockify endpoint in front of a VNC server), authenticates with `password`
 * and returns what the server told about itself.
 * @throws Error with the server's reason on a wrong password or a refused connection, or when the
 *   socket cannot be opened or the server does not answer within the timeout.
 */
export function rfbHandshake(url: string, password: string, opts: RfbOptions = {}): Promise<RfbHandshake> {
  return withClient(url, password, opts, async (_r, h) => h);
}

/** SetPixelFormat: 32 bits per pixel, depth 24, little-endian true colour, 8 bits per channel. */
function setPixelFormat(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt8(0, 0);
  // pixel format at offset 4: bpp, depth, big-endian, true-colour, red/green/blue max, shifts
  b.set([32, 24, 0, 1], 4);
  b.writeUInt16BE(255, 8);
  b.writeUInt16BE(255, 10);
  b.writeUInt16BE(255, 12);
  b.set([16, 8, 0], 14);
  return b;
}

/** SetEncodings: Raw only, plus DesktopSize so a resize mid-update is announced rather than garbled. */
function setEncodings(): Buffer {
  const encodings = [ENCODING_RAW, ENCODING_DESKTOP_SIZE];
  const b = Buffer.alloc(4 + 4 * encodings.length);
  b.writeUInt8(2, 0);
  b.writeUInt16BE(encodings.length, 2);
  encodings.forEach((e, i) => b.writeInt32BE(e, 4 + 4 * i));
  return b;
}

/** FramebufferUpdateRequest, not incremental, for the whole screen. */
function updateRequest(width: number, height: number): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt8(3, 0);
  b.writeUInt16BE(width, 6);
  b.writeUInt16BE(height, 8);
  return b;
}

/** Skips server messages that are not a FramebufferUpdate (colour map, bell, cut text). */
async function skipOther(r: SocketReader, type: number): Promise<void> {
  if (type === 1) { await r.read(3); await r.read(6 * (await r.u16())); return; }
  if (type === 2) return;
  if (type === 3) { await r.read(3); await r.text(); return; }
  throw new Error(`unexpected RFB server message type ${type}`);
}

/**
 * Connects, authenticates, asks for the whole screen in Raw encoding and returns it as RGBA.
 *
 * Guarantees: the picture is the server's answer to one non-incremental full-screen request; every
 * rectangle of that update is copied in, the rest stays black. A DesktopSize rectangle restarts
 * the request at the new size.
 * @throws Error as {@link rfbHandshake}, or on an encoding this client did not ask for.
 */
export function screenshot(url: string, password: string, opts: RfbOptions = {}): Promise<RfbScreenshot> {
  return withClient(url, password, opts, async (r, h) => {
    let { width, height } = h;
    r.send(setPixelFormat());
    r.send(setEncodings());
    r.send(updateRequest(width, height));
    for (;;) {
      const type = await r.u8();
      if (type !== 0) { await skipOther(r, type); continue; }
      await r.read(1);
      const rects = await r.u16();
      const rgba = Buffer.alloc(width * height * 4);
      let resized = false;
      for (let i = 0; i < rects; i++) {
        const [x, y, w, hgt] = [await r.u16(), await r.u16(), await r.u16(), await r.u16()];
        const encoding = (await r.read(4)).readInt32BE(0);
        if (encoding === ENCODING_DESKTOP_SIZE) { [width, height, resized] = [w, hgt, true]; continue; }
        if (encoding !== ENCODING_RAW) throw new Error(`server sent encoding ${encoding}, which was not asked for`);
        const pixels = await r.read(w * hgt * 4);
        for (let row = 0; row < hgt; row++) {
          for (let col = 0; col < w; col++) {
            const src = (row * w + col) * 4; // little-endian 0x00RRGGBB: bytes B, G, R, 0
            const dst = ((y + row) * width + x + col) * 4;
            if (y + row >= height || x + col >= width) continue;
            rgba[dst] = pixels[src + 2]!;
            rgba[dst + 1] = pixels[src + 1]!;
            rgba[dst + 2] = pixels[src]!;
            rgba[dst + 3] = 255;
          }
        }
      }
      if (resized) { r.send(updateRequest(width, height)); continue; }
      return { width, height, rgba, distinctColours: countColours(rgba) };
    }
  });
}

/** The number of distinct RGB values in an RGBA buffer. */
function countColours(rgba: Buffer): number {
  const seen = new Set<number>();
  for (let i = 0; i < rgba.length; i += 4) seen.add(rgba.readUInt32BE(i) >>> 8);
  return seen.size;
}

/** True when the screenshot is a single colour (a desktop that draws nothing). */
export function blank(s: RfbScreenshot): boolean {
  return s.distinctColours <= 1;
}

/** A PNG file (8-bit RGBA, no interlace) of the screenshot, to keep as a test artefact. */
export function encodePng(s: Pick<RfbScreenshot, 'width' | 'height' | 'rgba'>): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(s.width, 0);
  ihdr.writeUInt32BE(s.height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, deflate, adaptive filter, no interlace
  const stride = s.width * 4;
  const raw = Buffer.alloc((stride + 1) * s.height); // each row starts with filter type 0 (None)
  for (let y = 0; y < s.height; y++) s.rgba.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

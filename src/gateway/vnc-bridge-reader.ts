// SPDX-License-Identifier: Apache-2.0
/** Exact-length reads from the frames of a `ws` WebSocket, for the RFB handshakes of the VNC bridge. */
import type { RawData, WebSocket } from 'ws';

/** The bytes of a `ws` message, whatever `binaryType` delivered. */
export function rawBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Buffers every message of a WebSocket from construction on and hands out exact byte counts,
 * whatever the frame boundaries.
 *
 * Guarantees: no byte is lost or reordered between `read`s and the final {@link detach}.
 * A pending or later `read` rejects with the reason given to {@link fail}, once the socket closed
 * with too few bytes left, or with `overflow(n)` once more than `maxBuffered` unread bytes piled
 * up (a peer that floods a handshake); bytes arriving after a failure are dropped.
 */
export class FrameReader {
  private readonly ws: WebSocket;
  private readonly maxBuffered: number;
  private readonly overflow: (n: number) => Error;
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly onMessage = (data: RawData): void => {
    if (this.failure) return;
    this.buf = this.buf.length === 0 ? rawBytes(data) : Buffer.concat([this.buf, rawBytes(data)]);
    if (this.buf.length > this.maxBuffered) {
      this.fail(this.overflow(this.buf.length));
      this.buf = Buffer.alloc(0);
    }
    this.wake();
  };
  private readonly onClose = (): void => this.fail(new Error('closed'));

  constructor(ws: WebSocket, maxBuffered = Infinity, overflow = (n: number): Error => new Error(`${n} unread bytes piled up`)) {
    this.ws = ws;
    this.maxBuffered = maxBuffered;
    this.overflow = overflow;
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
  }

  /** Makes pending and later reads reject with `err` (the first failure wins). */
  fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next `n` bytes. */
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
  async u32(): Promise<number> { return (await this.read(4)).readUInt32BE(0); }

  /**
   * An RFB reason string (u32 length, then text). Lengths above `limit` are not read: the text
   * is then replaced by a note, since the reader only needs it for a log line and a close reason.
   */
  async reason(limit = 4096): Promise<string> {
    const n = await this.u32();
    if (n > limit) return `(a reason of ${n} bytes, not read)`;
    return (await this.read(n)).toString('latin1');
  }

  /** Stops listening and returns the bytes received but not read yet. */
  detach(): Buffer {
    this.ws.off('message', this.onMessage);
    this.ws.off('close', this.onClose);
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }
}

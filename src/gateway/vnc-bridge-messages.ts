// SPDX-License-Identifier: Apache-2.0
/**
 * Finds the message boundaries in the client-to-server half of an RFB stream (RFC 6143 §7.5),
 * just far enough to tell user input (keys, pointer) from the rest. It never changes a byte: the
 * bridge pipes the stream as it came and only asks this scanner what passed.
 */

/** Fixed header size of each known message, and how to get the whole size once the header is in. */
interface MessageShape {
  header: number;
  /** Total size in bytes, given the header; `undefined` means "not a message this scanner knows". */
  size: (head: Buffer) => number | undefined;
  input: boolean;
}

const fixed = (n: number, input = false): MessageShape => ({ header: n, size: () => n, input });

/**
 * The client messages of RFC 6143 plus the extensions noVNC sends to TigerVNC (continuous
 * updates, fences, desktop size, QEMU extended key events, extended pointer events): without
 * them the scanner would stop at the first fence and see no input after it.
 */
const SHAPES: ReadonlyMap<number, MessageShape> = new Map([
  [0, fixed(20)], // SetPixelFormat
  [2, { header: 4, size: (h) => 4 + 4 * h.readUInt16BE(2), input: false }], // SetEncodings
  [3, fixed(10)], // FramebufferUpdateRequest
  [4, fixed(8, true)], // KeyEvent
  // PointerEvent; with the marker bit of the ExtendedMouseButtons extension it has one byte more
  [5, { header: 2, size: (h) => ((h[1]! & 0x80) !== 0 ? 7 : 6), input: true }],
  // ClientCutText; a negative length announces the extended clipboard format of that many bytes
  [6, { header: 8, size: (h) => 8 + Math.abs(h.readInt32BE(4)), input: false }],
  [150, fixed(10)], // EnableContinuousUpdates
  [248, { header: 9, size: (h) => 9 + h[8]!, input: false }], // ClientFence
  [250, fixed(4)], // xvp
  [251, { header: 8, size: (h) => 8 + 16 * h[6]!, input: false }], // SetDesktopSize
  [255, { header: 2, size: (h) => (h[1] === 0 ? 12 : undefined), input: true }], // QEMU: only the extended key event
]);

/**
 * Scans the client-to-server stream chunk by chunk, whatever the chunk boundaries.
 *
 * Guarantees: `onInput` is called once per chunk that completes the header of at least one
 * KeyEvent or PointerEvent (or QEMU extended key event). At the first message type it does not
 * know, it stops for good and counts nothing more, since it can no longer find boundaries.
 */
export class ClientMessageScanner {
  private readonly onInput: () => void;
  /** Bytes of the current message still to pass before the next one starts. */
  private skip = 0;
  /** The start of a message whose size is not known yet (at most a header). */
  private head: Buffer = Buffer.alloc(0);
  private stoppedAt: number | undefined;

  constructor(onInput: () => void) {
    this.onInput = onInput;
  }

  /** The message type that stopped the scanner, or `undefined` while it still scans. */
  get stopped(): number | undefined {
    return this.stoppedAt;
  }

  /** Takes the next bytes of the stream. */
  feed(chunk: Buffer): void {
    let input = false;
    let i = 0;
    while (i < chunk.length && this.stoppedAt === undefined) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const type = this.head.length > 0 ? this.head[0]! : chunk[i]!;
      const shape = SHAPES.get(type);
      if (!shape) {
        this.stop(type);
        break;
      }
      const take = Math.min(shape.header - this.head.length, chunk.length - i);
      this.head = Buffer.concat([this.head, chunk.subarray(i, i + take)]);
      i += take;
      if (this.head.length < shape.header) break;
      const size = shape.size(this.head);
      if (size === undefined) {
        this.stop(type);
        break;
      }
      input ||= shape.input;
      this.skip = size - shape.header;
      this.head = Buffer.alloc(0);
    }
    if (input) this.onInput();
  }

  private stop(type: number): void {
    this.stoppedAt = type;
    this.head = Buffer.alloc(0);
  }
}

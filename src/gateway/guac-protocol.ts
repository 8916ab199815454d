// SPDX-License-Identifier: Apache-2.0
/**
 * The Guacamole protocol's wire format (pure): an instruction is a list of elements
 * `LENGTH.VALUE`, separated by `,` and ended by `;`; the first element is the opcode.
 *
 * Follows "The Guacamole protocol", Apache Guacamole Manual v1.5.5
 * (https://guacamole.apache.org/doc/1.5.5/gug/guacamole-protocol.html, section "Design"):
 * LENGTH is "the number of Unicode characters in the value of the element, which is encoded
 * in UTF-8", i.e. code points, which guacd 1.5 counts. guacamole-common-js 1.5.0, the browser
 * side, counts UTF-16 code units instead (`String.length`, `substring`), which differs only
 * for characters outside the Basic Multilingual Plane; each side of the tunnel is therefore
 * read and written in its own unit ({@link LengthUnit}).
 */

/** How LENGTH counts: Unicode code points (guacd) or UTF-16 code units (guacamole-common-js 1.5). */
export type LengthUnit = 'codepoint' | 'utf16';

/** One instruction: `[opcode, ...args]`. */
export type Instruction = readonly string[];

/** Limits of {@link GuacParser}, in characters of the chosen unit. */
export const GUAC_LIMITS = {
  /** An element's value longer than this (8 KiB) is refused; guacd's own limit is 8192 too. */
  elementChars: 8192,
  /** An instruction whose encoded text is longer than this (64 KiB, in UTF-16 code units) is refused. */
  instructionChars: 65536,
} as const;

/** A malformed instruction or an exceeded limit; `limit` names the limit, if one was exceeded. */
export class GuacProtocolError extends Error {
  readonly limit?: keyof typeof GUAC_LIMITS;
  constructor(message: string, limit?: keyof typeof GUAC_LIMITS) {
    super(message);
    this.name = 'GuacProtocolError';
    if (limit) this.limit = limit;
  }
}

/** The LENGTH of `value` in `unit`. */
export function elementLength(value: string, unit: LengthUnit = 'codepoint'): number {
  if (unit === 'utf16') return value.length;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Encodes one instruction, e.g. `['size', '0', '1024']` → `4.size,1.0,4.1024;`.
 * Values are written as they are (no escaping exists or is needed: the length delimits them).
 * @throws GuacProtocolError when `elements` is empty.
 */
export function encodeInstruction(elements: Instruction, unit: LengthUnit = 'codepoint'): string {
  if (elements.length === 0) throw new GuacProtocolError('an instruction needs an opcode');
  return elements.map((e) => `${elementLength(e, unit)}.${e}`).join(',') + ';';
}

/** Encodes several instructions into one message. */
export function encodeInstructions(list: readonly Instruction[], unit: LengthUnit = 'codepoint'): string {
  return list.map((i) => encodeInstruction(i, unit)).join('');
}

/**
 * An incremental parser: feed it chunks cut anywhere (inside a length, a value, or a
 * multi-byte UTF-8 character) and it returns each instruction once it is complete.
 *
 * Guarantees: instructions come out in order, each exactly once; the buffer never holds
 * more than one partial instruction (bounded by the limits); after an error every
 * further `push` throws the same error (a stream that went wrong is not resynchronised).
 * Bytes are decoded as UTF-8 with a streaming, fatal decoder: invalid UTF-8 is an error.
 */
export class GuacParser {
  readonly #unit: LengthUnit;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  #buf = '';
  #pos = 0;
  /** Where the current instruction started in `#buf`. */
  #start = 0;
  #elements: string[] = [];
  /** Reading a value: its declared length, where it began, how many units were counted up to `#pos`. */
  #want = -1;
  #valueStart = 0;
  #counted = 0;
  #failed: GuacProtocolError | undefined;

  constructor(unit: LengthUnit = 'codepoint') {
    this.#unit = unit;
  }

  /** True when part of an instruction was received and not yet completed. */
  get pending(): boolean {
    return this.#buf.length > this.#start;
  }

  /**
   * Adds a chunk (bytes, or text already decoded) and returns the instructions it completed.
   * @throws GuacProtocolError on malformed input or an exceeded {@link GUAC_LIMITS} limit.
   */
  push(chunk: Uint8Array | string): string[][] {
    if (this.#failed) throw this.#failed;
    try {
      this.#buf += typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    } catch {
      throw this.#fail(new GuacProtocolError('invalid UTF-8 in the instruction stream'));
    }
    const out: string[][] = [];
    try {
      while (this.#step(out));
    } catch (err) {
      throw this.#fail(err as GuacProtocolError);
    }
    // Drop what was consumed, so that the buffer holds at most one partial instruction.
    if (this.#start > 0) {
      this.#buf = this.#buf.slice(this.#start);
      this.#pos -= this.#start;
      this.#valueStart -= this.#start;
      this.#start = 0;
    }
    return out;
  }

  #fail(err: GuacProtocolError): GuacProtocolError {
    this.#failed = err;
    return err;
  }

  /** Advances by one length, value or terminator; false when more input is needed. */
  #step(out: string[][]): boolean {
    if (this.#want < 0) return this.#readLength();
    if (!this.#readValue()) return false;
    const term = this.#buf[this.#pos];
    if (term === undefined) return false;
    this.#elements.push(this.#buf.slice(this.#valueStart, this.#pos));
    this.#want = -1;
    this.#pos++;
    this.#checkInstructionSize();
    if (term === ';') {
      out.push(this.#elements);
      this.#elements = [];
      this.#start = this.#pos;
    } else if (term !== ',') {
      throw new GuacProtocolError(`expected "," or ";" after an element, got ${JSON.stringify(term)}`);
    }
    return true;
  }

  #readLength(): boolean {
    const dot = this.#buf.indexOf('.', this.#pos);
    const digits = this.#buf.slice(this.#pos, dot < 0 ? undefined : dot);
    if (!/^[0-9]*$/.test(digits)) throw new GuacProtocolError(`invalid element length ${JSON.stringify(digits.slice(0, 16))}`);
    if (digits.length > 5 || Number(digits) > GUAC_LIMITS.elementChars) {
      throw new GuacProtocolError(`an element of ${digits.length > 5 ? 'more than 99999' : digits} characters exceeds the limit of ${GUAC_LIMITS.elementChars} characters (elementChars)`, 'elementChars');
    }
    if (dot < 0) return false;
    if (digits === '') throw new GuacProtocolError('an element has no length');
    this.#want = Number(digits);
    this.#pos = dot + 1;
    this.#valueStart = this.#pos;
    this.#counted = 0;
    this.#checkInstructionSize();
    return true;
  }

  /** Moves `#pos` to the end of the current value; false when the value is not complete yet. */
  #readValue(): boolean {
    if (this.#unit === 'utf16') {
      const end = this.#valueStart + this.#want;
      if (this.#buf.length < end) return false;
      this.#pos = end;
      return true;
    }
    while (this.#counted < this.#want) {
      if (this.#pos >= this.#buf.length) return false;
      const c = this.#buf.charCodeAt(this.#pos);
      // The decoder never splits a surrogate pair, but text pushed as strings could.
      if (c >= 0xd800 && c <= 0xdbff) {
        if (this.#pos + 1 >= this.#buf.length) return false;
        this.#pos++;
      }
      this.#pos++;
      this.#counted++;
    }
    return true;
  }

  #checkInstructionSize(): void {
    if (this.#pos - this.#start > GUAC_LIMITS.instructionChars) {
      throw new GuacProtocolError(`an instruction exceeds the limit of ${GUAC_LIMITS.instructionChars} characters (instructionChars)`, 'instructionChars');
    }
  }
}

/**
 * Parses a text that holds whole instructions only (one WebSocket message).
 * @throws GuacProtocolError when it is malformed or ends inside an instruction.
 */
export function parseInstructions(text: string, unit: LengthUnit = 'codepoint'): string[][] {
  const parser = new GuacParser(unit);
  const out = parser.push(text);
  if (parser.pending) throw new GuacProtocolError('the message ends inside an instruction');
  return out;
}

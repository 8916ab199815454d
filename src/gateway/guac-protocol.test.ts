// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { elementLength, encodeInstruction, encodeInstructions, GUAC_LIMITS, GuacParser, GuacProtocolError, parseInstructions } from './guac-protocol.ts';

/** Cuts `bytes` at the given offsets (sorted, deduplicated, inside the array). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

const instruction = fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 6 });

describe('encodeInstruction', () => {
  it('writes the examples of the protocol documentation', () => {
    expect(encodeInstruction(['size', '0', '1024', '768'])).toBe('4.size,1.0,4.1024,3.768;');
    expect(encodeInstruction(['select', 'vnc'])).toBe('6.select,3.vnc;');
    expect(encodeInstruction(['', 'ping', '1700000000000'])).toBe('0.,4.ping,13.1700000000000;');
  });

  it('counts code points for guacd and UTF-16 code units for guacamole-common-js', () => {
    expect(encodeInstruction(['name', 'é😀'])).toBe('4.name,2.é😀;');
    expect(encodeInstruction(['name', 'é😀'], 'utf16')).toBe('4.name,3.é😀;');
    expect(elementLength('a\u{10FFFF}b')).toBe(3);
  });
});

describe('GuacParser', () => {
  it('decodes the documented handshake, whatever the chunk boundaries', () => {
    const wire = '4.args,13.VERSION_1_5_0,8.hostname,4.port,8.password;5.ready,37.$260d01da-779b-4ee9-afc1-c16bae885cc7;';
    const p = new GuacParser();
    const got = [...wire].flatMap((ch) => p.push(ch));
    expect(got).toEqual([
      ['args', 'VERSION_1_5_0', 'hostname', 'port', 'password'],
      ['ready', '$260d01da-779b-4ee9-afc1-c16bae885cc7'],
    ]);
    expect(p.pending).toBe(false);
  });

  it('keeps a multi-byte character split between chunks whole', () => {
    const bytes = new TextEncoder().encode('3.msg,3.a😀é;');
    const p = new GuacParser();
    const got = [...bytes].flatMap((b) => p.push(Uint8Array.of(b)));
    expect(got).toEqual([['msg', 'a😀é']]);
  });

  it('round-trips arbitrary instructions cut anywhere (bytes, code points)', () => {
    fc.assert(
      fc.property(fc.array(instruction, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (list, at) => {
        const bytes = new TextEncoder().encode(encodeInstructions(list));
        const p = new GuacParser();
        const got = cut(bytes, at).flatMap((c) => p.push(c));
        expect(got).toEqual(list);
        expect(p.pending).toBe(false);
      }),
    );
  });

  it('round-trips arbitrary instructions cut anywhere (text, UTF-16 units)', () => {
    fc.assert(
      fc.property(fc.array(instruction, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (list, at) => {
        const text = encodeInstructions(list, 'utf16');
        const points = [...new Set(at.map((a) => a % (text.length + 1)))].sort((a, b) => a - b);
        const p = new GuacParser('utf16');
        const got: string[][] = [];
        let prev = 0;
        for (const q of [...points, text.length]) {
          got.push(...p.push(text.slice(prev, q)));
          prev = q;
        }
        expect(got).toEqual(list);
      }),
    );
  });

  it('refuses an element over 8 KiB and names the limit', () => {
    const p = new GuacParser();
    const err = (() => {
      try {
        p.push(`4.blob,${GUAC_LIMITS.elementChars + 1}.`);
      } catch (e) {
        return e as GuacProtocolError;
      }
    })();
    expect(err).toBeInstanceOf(GuacProtocolError);
    expect(err?.limit).toBe('elementChars');
    expect(err?.message).toMatch(/8192 characters \(elementChars\)/);
    expect(() => p.push('x')).toThrow(/elementChars/);
  });

  it('accepts an element of exactly 8 KiB', () => {
    const v = 'A'.repeat(GUAC_LIMITS.elementChars);
    expect(parseInstructions(encodeInstruction(['blob', '1', v]))).toEqual([['blob', '1', v]]);
  });

  it('refuses an instruction over 64 KiB and names the limit', () => {
    const v = 'A'.repeat(8000);
    const p = new GuacParser();
    const wire = encodeInstruction(['blob', ...Array.from({ length: 9 }, () => v)]);
    expect(() => p.push(wire)).toThrow(/65536 characters \(instructionChars\)/);
  });

  it('refuses malformed input', () => {
    expect(() => parseInstructions('4.size,1.0x')).toThrow(/expected "," or ";"/);
    expect(() => parseInstructions('a.size;')).toThrow(/invalid element length/);
    expect(() => parseInstructions('.;')).toThrow(/no length/);
    expect(() => parseInstructions('4.size,1.0')).toThrow(/ends inside an instruction/);
    expect(() => new GuacParser().push(Uint8Array.of(0x31, 0x2e, 0xff, 0x3b))).toThrow(/invalid UTF-8/);
  });
});

// The packers of every weight format (compiler/emit/pack.ts) against their unpackers and against
// the layout rules in runtime-c/tn_runtime.h. (The C side decodes the same bytes in
// test/kernels.test.ts, where every kernel of every format is compared with the interpreter.)

import { describe, expect, it } from 'vitest';
import { rng } from '../compiler/harness/inputs.ts';
import {
  LUT5_ENTRIES,
  LUT5W_ENTRIES,
  LUT6_ENTRIES,
  LUT6W_ENTRIES,
  lutDigits,
  lutIndex,
  packB1,
  packT2,
  packT2B,
  packT5,
  packTBP,
  packTW,
  twDigits,
  twEntry,
  twUnitsPerRow,
  unitsPerRow,
  unpackB1,
  unpackUB,
  packUB,
  ubRowBytes,
  unpackLut,
  unpackT2,
  unpackT2B,
  unpackTW,
  unpackTBP,
} from '../compiler/emit/pack.ts';
import { maxWideWindow } from '../compiler/kernels/formats.ts';

function codes(n: number, k: number, seed: number, binary = false): Int8Array {
  const r = rng(seed);
  return new Int8Array(n * k).map(() => (binary ? (r() < 0.5 ? -1 : 1) : Math.floor(r() * 3) - 1));
}

const SHAPES: [number, number, number][] = [
  [3, 1, 1],
  [5, 37, 37],
  [4, 130, 64],
  [2, 300, 37],
  [7, 261, 5],
  [1, 1024, 1024],
];

describe('packers round-trip', () => {
  it('t2: 4 codes per byte, -1,0,+1 -> 10,00,01', () => {
    expect(Array.from(packT2(Int8Array.of(1, -1, 0, 1, -1), 5))).toEqual([0b01_00_10_01, 0b10]);
    for (const [n, k] of SHAPES) {
      const c = codes(n, k, n * k);
      expect(unpackT2(packT2(c, k), k)).toEqual(c);
    }
  });
  it('t2b: byte m holds codes m, m+32, m+64, m+96 as u = w + 1, rows interleaved by 4, padded with u = 1', () => {
    const c = new Int8Array(2 * 130).fill(0); // 2 rows
    c[0] = 1;
    c[32] = -1;
    c[96] = 1;
    c[129] = -1;
    c[130 + 3] = -1; // row 1, code 3
    const p = packT2B(c, 130, 2);
    expect(p.length).toBe(2 * 4 * 32); // 1 group of 4 rows (2 of padding) x 2 blocks
    expect(p[0]).toBe(2 | (0 << 2) | (1 << 4) | (2 << 6)); // row 0, codes 0, 32, 64, 96: u = 2, 0, 1, 2
    expect(p[32 + 3]! & 3).toBe(0); // row 1 is the next 32 bytes of block 0
    expect(p[4 * 32 + 1]! & 3).toBe(0); // row 0, block 1 (code 129): after the group's block 0
    expect(p[4 * 32 + 5]).toBe(0b01010101); // beyond K: u = 1 in every field
    expect(p[2 * 32 + 7]).toBe(0b01010101); // padding rows 2, 3: u = 1
    for (const [n, k] of SHAPES) {
      const cc = codes(n, k, n + k);
      expect(unpackT2B(packT2B(cc, k, n), k, n, n)).toEqual(cc);
      const two = codes(2 * n, k, n + k + 1); // two planes of n rows
      expect(unpackT2B(packT2B(two, k, n), k, 2 * n, n)).toEqual(two);
    }
  });
  it('LUT index: two halves of rows of 14 entries, below 256 for 5 trits', () => {
    const seen = new Set<number>();
    for (let a = 0; a < 27; a++)
      for (let b = 0; b < 9; b++) {
        const u = [a % 3, Math.floor(a / 3) % 3, Math.floor(a / 9), b % 3, Math.floor(b / 3)];
        const i = lutIndex(u);
        expect(i).toBeLessThan(LUT5_ENTRIES);
        expect(i % 14 === 13 && i >= 126).toBe(false); // a = 27 is the pad
        expect(lutDigits(i, 5)).toEqual(u);
        seen.add(i);
      }
    expect(seen.size).toBe(243);
    for (let a = 0; a < 27; a++)
      for (let b = 0; b < 27; b++) {
        const u = [a % 3, Math.floor(a / 3) % 3, Math.floor(a / 9), b % 3, Math.floor(b / 3) % 3, Math.floor(b / 9)];
        expect(lutIndex(u)).toBeLessThan(LUT6_ENTRIES);
        expect(lutDigits(lutIndex(u), 6)).toEqual(u);
      }
  });
  it('t5: one byte per 5 trits of each scale group (1.6 bits per weight)', () => {
    expect(unitsPerRow(2048, 2048, 5)).toBe(410);
    expect(unitsPerRow(300, 37, 5)).toBe(8 * 8 + 1);
    for (const [n, k, g] of SHAPES) {
      const c = codes(n, k, 3 * n + k);
      const p = packT5(c, k, g);
      expect(p.length).toBe(n * unitsPerRow(k, g, 5));
      expect(unpackLut(p, k, g, 5)).toEqual(c);
    }
  });
  it('t5w / t6w: a header per window, then 16-bit byte offsets into half tables, added then subtracted', () => {
    for (const [n, k, g] of SHAPES) {
      for (const q of [5, 6] as const) {
        const entries = q === 5 ? LUT5W_ENTRIES : LUT6W_ENTRIES;
        for (const window of [1, 3, maxWideWindow(entries)]) {
          const c = codes(n, k, q * n + k + window);
          const p = packTW(c, k, g, q, window);
          expect(p.length).toBe(n * twUnitsPerRow(k, g, q, window));
          expect(unpackTW(p, k, g, q, window)).toEqual(c);
        }
      }
    }
    // every code maps to an entry of the half table; a code and its negation share it
    for (const q of [5, 6] as const) {
      const seen = new Set<number>();
      for (let i = 0; i < 3 ** q; i++) {
        const u = Array.from({ length: q }, (_, d) => Math.floor(i / 3 ** d) % 3);
        const e = twEntry(u);
        const m = twEntry(u.map((x) => 2 - x));
        expect(e.index).toBeLessThan(q === 5 ? LUT5W_ENTRIES : LUT6W_ENTRIES);
        expect(m.index).toBe(e.index);
        if (u.some((x) => x !== 1)) expect(m.negate).toBe(!e.negate);
        expect(twDigits(e.index, q)).toEqual(e.negate ? u.map((x) => 2 - x) : u);
        seen.add(e.index);
      }
      expect(seen.size).toBe((3 ** q + 1) / 2);
    }
    // one window of 3 units (all 0: a = 13, b = 4, the centre, entry 14 * 4 + 13; all -1: entry 0;
    // all +1: the mirror of all -1, subtracted): header 2 (added), the added offsets, then the other
    expect(Array.from(packTW(Int8Array.of(0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1), 15, 15, 5, 3))).toEqual([2, 2 * 69, 2 * (2 * 126), 2 * 126]);
    expect(() => packTW(new Int8Array(5), 5, 5, 6, 87)).toThrow(/does not fit 16-bit offsets/);
  });
  it('b1: 8 codes per byte, +1 -> 1, -1 -> 0', () => {
    expect(Array.from(packB1(Int8Array.of(1, -1, -1, 1, 1, -1, -1, -1, 1), 9))).toEqual([0b00011001, 1]);
    for (const [n, k] of SHAPES) {
      const c = codes(n, k, n * 31 + k, true);
      expect(unpackB1(packB1(c, k), k)).toEqual(c);
    }
  });
  it('ub: b-bit codes as a little-endian bit stream per row, rows padded to bytes, one pad byte at the end', () => {
    // 3-bit codes 5, 2, 7: bits 101 | 010 << 3 | 111 << 6 = 0b11_010_101 then the straddling 1.
    expect(Array.from(packUB(Uint8Array.of(5, 2, 7), 3, 3))).toEqual([0b11010101, 0b1, 0]);
    for (const bits of [2, 3, 4, 5, 6, 7, 8])
      for (const [n, k] of SHAPES) {
        const r = rng(n * 7 + k + bits);
        const c = Uint8Array.from({ length: n * k }, () => Math.floor(r() * (1 << bits)));
        const packed = packUB(c, k, bits);
        expect(packed.length).toBe(n * ubRowBytes(k, bits) + 1);
        expect(unpackUB(packed, k, bits)).toEqual(c);
      }
  });
  it('tbp: a nonzero mask and a sign mask per 32 codes, rows padded with 0', () => {
    // Codes +1, -1, 0, -1 then 30 zeros and +1 at 34: row of 2 word pairs.
    const c = new Int8Array(35);
    c.set([1, -1, 0, -1]);
    c[34] = 1;
    expect(Array.from(packTBP(c, 35))).toEqual([0b1011, 0b1010, 0b100, 0]);
    for (const [n, k] of SHAPES) {
      const d = codes(n, k, n * 17 + k);
      const p = packTBP(d, k);
      expect(p.length).toBe(n * 2 * Math.ceil(k / 32));
      for (let i = 0; i < p.length; i += 2) expect((p[i + 1]! & ~p[i]!) >>> 0).toBe(0); // sign only where nonzero
      expect(unpackTBP(p, k)).toEqual(d);
    }
  });
});

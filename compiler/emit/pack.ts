// Packing of decoded codes into the byte layouts the C kernels read (runtime-c/tn_runtime.h, "packed
// weight formats"; docs/kernels.md has pictures). Every format has a block-size constant and a
// pack/unpack pair here; the C side's reference decoder is tn_lowbit_code() (ref/tn_lowbit_codes.c),
// and test/pack.test.ts checks that unpack(pack(codes)) == codes for every format.
// `codes` are rows of `rowLength` weights (-1, 0, +1; binary -1, +1), one row after another.

/** Codes per unit of storage (ggml's QK_* naming). */
export const QK_T2 = 4; // 2 bits per code, 4 per byte
export const QK_T2B = 128; // 128 codes per 32-byte block
export const QK_T5 = 5; // 5 trits per byte
export const QK_T5W = 5; // 5 trits per 16-bit table offset
export const QK_T6W = 6; // 6 trits per 16-bit table offset
export const QK_B1 = 8; // 8 binary codes per byte
export const QK_TBP = 32; // 32 codes per pair of 32-bit words (nonzero mask, sign mask)

/** Halfword entries of one LUT table (index a + 28 b, docs/kernels.md). */
export const LUT5_ENTRIES = 252; // 28 * 9
export const LUT6_ENTRIES = 756; // 28 * 27
/**
 * Halfword entries of one t5w / t6w table: only the codes whose index a + 27 b is at most the
 * centre's (all codes 0); the others are the negatives of their mirror codes (2 - u), which the
 * lookups subtract. Half 0 (a < 14) has rows b = 0..R0-1, half 1 (a >= 14) rows b = 0..R0-2.
 */
export const LUT5W_ENTRIES = 126; // 14 * (5 + 4)
export const LUT6W_ENTRIES = 378; // 14 * (14 + 13)
/** The most tables in a t5w / t6w window: the Thumb-2 and RV32 lookups are unrolled that far. */
export const TW_MAX_WINDOW = 96;
export const LUT8_ENTRIES = 256;

/** Ternary, 2 bits per code, 4 per byte, first code in the low bits: -1,0,+1 -> 10,00,01. */
export function packT2(codes: Int8Array, rowLength: number): Uint8Array {
  const rows = codes.length / rowLength;
  const rowBytes = Math.ceil(rowLength / QK_T2);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) {
      const t = codes[r * rowLength + k]!;
      const c = t === 1 ? 0b01 : t === -1 ? 0b10 : 0b00; // -1,0,+1 -> 10,00,01
      out[r * rowBytes + (k >> 2)]! |= c << ((k & 3) * 2);
    }
  }
  return out;
}

export function unpackT2(packed: Uint8Array, rowLength: number): Int8Array {
  const rowBytes = Math.ceil(rowLength / QK_T2);
  const rows = packed.length / rowBytes;
  const out = new Int8Array(rows * rowLength);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) {
      const c = (packed[r * rowBytes + (k >> 2)]! >> ((k & 3) * 2)) & 3; // 10,00,01 -> -1,0,+1
      out[r * rowLength + k] = c === 1 ? 1 : c === 2 ? -1 : 0;
    }
  }
  return out;
}

/** c4 (Fairy2i): codes 0..3 (the exponent e of i^e), 2 bits each, 4 per byte, first code in the low bits; rows padded to whole bytes. */
export function packC4(codes: Uint8Array, rowLength: number): Uint8Array {
  const rows = codes.length / rowLength;
  const rowBytes = Math.ceil(rowLength / 4);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < rowLength; k++) {
      const e = codes[r * rowLength + k]!;
      if (e > 3) throw new Error(`internal: packC4: code ${e} at row ${r}, column ${k}`);
      out[r * rowBytes + (k >> 2)]! |= e << ((k & 3) * 2); // +1, +i, -1, -i -> 00, 01, 10, 11
    }
  return out;
}

export function unpackC4(packed: Uint8Array, rowLength: number): Uint8Array {
  const rowBytes = Math.ceil(rowLength / 4);
  const rows = packed.length / rowBytes;
  const out = new Uint8Array(rows * rowLength);
  for (let r = 0; r < rows; r++) for (let k = 0; k < rowLength; k++) out[r * rowLength + k] = (packed[r * rowBytes + (k >> 2)]! >> ((k & 3) * 2)) & 3;
  return out;
}

/**
 * t2b: blocks of 128 codes in 32 bytes, offset codes u = w + 1 (-1,0,+1 -> 0,1,2): byte m of a block
 * holds codes m, m+32, m+64, m+96 in bits [1:0], [3:2], [5:4], [7:6]. Rows are padded with u = 1
 * (w = 0) to whole blocks, and interleaved in groups of 4 rows (per plane of `rowsPerPlane` rows,
 * the last group padded with rows of u = 1): block b of row 4 i + q is at ((i * blocks + b) * 4 + q) * 32,
 * so the 4 rows a kernel works on are one stream.
 */
export function t2bBytes(rowLength: number, rows: number, rowsPerPlane: number): number {
  const planes = rows / rowsPerPlane;
  return planes * Math.ceil(rowsPerPlane / 4) * 4 * 32 * Math.ceil(rowLength / QK_T2B);
}

/** Offset of row r's block 0 (r counts all planes' rows) in a t2b array; block b is 128 b further. */
function t2bRowBase(r: number, rowLength: number, rowsPerPlane: number): number {
  const blocks = Math.ceil(rowLength / QK_T2B);
  const p = Math.floor(r / rowsPerPlane);
  const n = r % rowsPerPlane;
  const group = p * Math.ceil(rowsPerPlane / 4) + Math.floor(n / 4);
  return group * blocks * 128 + (n % 4) * 32;
}

export function packT2B(codes: Int8Array, rowLength: number, rowsPerPlane: number): Uint8Array {
  const rows = codes.length / rowLength;
  const out = new Uint8Array(t2bBytes(rowLength, rows, rowsPerPlane)).fill(0b01010101); // padding: u = 1 (w = 0) everywhere
  for (let r = 0; r < rows; r++) {
    const base = t2bRowBase(r, rowLength, rowsPerPlane);
    for (let k = 0; k < rowLength; k++) {
      const u = codes[r * rowLength + k]! + 1; // -1,0,+1 -> 0,1,2
      const b = k & 127;
      const at = base + (k >> 7) * 128 + (b & 31); // byte b % 32 of block k / 128, bits 2 (b / 32)
      const shift = 2 * (b >> 5);
      out[at] = (out[at]! & ~(3 << shift)) | (u << shift);
    }
  }
  return out;
}

export function unpackT2B(packed: Uint8Array, rowLength: number, rows: number, rowsPerPlane: number): Int8Array {
  const out = new Int8Array(rows * rowLength);
  for (let r = 0; r < rows; r++) {
    const base = t2bRowBase(r, rowLength, rowsPerPlane);
    for (let k = 0; k < rowLength; k++) {
      const b = k & 127;
      out[r * rowLength + k] = ((packed[base + (k >> 7) * 128 + (b & 31)]! >> (2 * (b >> 5))) & 3) - 1; // 0,1,2 -> -1,0,+1
    }
  }
  return out;
}

/** Units (bytes or entries of `q` codes) of one row of a format packed per scale group. */
export function unitsPerRow(rowLength: number, group: number, q: number): number {
  const groups = Math.ceil(rowLength / group);
  const last = rowLength - (groups - 1) * group;
  return (groups - 1) * Math.ceil(group / q) + Math.ceil(last / q);
}

/** Rows of a ternary LUT table: 9 for 5 codes, 27 for 6. */
const lutRows = (q: number): number => (q === 5 ? 9 : 27);

/**
 * The LUT index of the 5 or 6 offset codes u0..u5 of one unit. a = u0 + 3 u1 + 9 u2 (0..26, 27 is a
 * pad), b = u3 + 3 u4 (+ 9 u5): the table is two halves of R = 9 (or 27) rows of 14 entries, a < 14
 * in the first half, a >= 14 in the second: index = (a >= 14 ? 14 R : 0) + 14 b + a % 14.
 */
export function lutIndex(u: readonly number[]): number {
  const d = (i: number) => (i < u.length ? u[i]! : 0);
  const a = d(0) + 3 * d(1) + 9 * d(2);
  const b = d(3) + 3 * d(4) + 9 * d(5);
  return (a >= 14 ? 14 * lutRows(u.length) : 0) + 14 * b + (a % 14);
}

export function lutDigits(index: number, q: number): number[] {
  const half = 14 * lutRows(q);
  const h = index >= half ? 1 : 0;
  const rest = index - h * half;
  const a = 14 * h + (rest % 14);
  const b = Math.floor(rest / 14);
  const digits = [a % 3, Math.floor(a / 3) % 3, Math.floor(a / 9), b % 3, Math.floor(b / 3) % 3, Math.floor(b / 9)];
  return digits.slice(0, q);
}

/** For t5 / t5w / t6w: every row, every scale group, every unit of q codes, the LUT index. */
function lutUnits(
  codes: Int8Array,
  rowLength: number,
  group: number,
  q: number,
  visit: (row: number, unit: number, unitInGroup: number, index: number) => void,
): void {
  const rows = codes.length / rowLength;
  const perGroup = Math.ceil(group / q);
  for (let r = 0; r < rows; r++) {
    for (let g0 = 0, gi = 0; g0 < rowLength; g0 += group, gi++) {
      const len = Math.min(group, rowLength - g0);
      for (let j = 0; j * q < len; j++) {
        const u: number[] = [];
        for (let d = 0; d < q; d++) {
          const k = j * q + d;
          u.push(k < len ? codes[r * rowLength + g0 + k]! + 1 : 1); // -1,0,+1 -> 0,1,2; padding 1
        }
        visit(r, gi * perGroup + j, j, lutIndex(u));
      }
    }
  }
}

/**
 * t5: 5 trits per byte, the byte is the LUT index of the 5 codes (lutIndex, u = w + 1), packed per
 * scale group of `group` codes (ceil(group / 5) bytes each, padded with u = 1).
 */
export function packT5(codes: Int8Array, rowLength: number, group: number): Uint8Array {
  const units = unitsPerRow(rowLength, group, QK_T5);
  const out = new Uint8Array((codes.length / rowLength) * units);
  lutUnits(codes, rowLength, group, QK_T5, (r, unit, _j, index) => {
    out[r * units + unit] = index;
  });
  return out;
}

/** Decode t5 (bytes) back to codes. */
export function unpackLut(packed: Uint8Array, rowLength: number, group: number, q: 5 | 6): Int8Array {
  const units = unitsPerRow(rowLength, group, q);
  const rows = packed.length / units;
  const out = new Int8Array(rows * rowLength);
  const perGroup = Math.ceil(group / q);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) {
      const within = k % group;
      const unit = Math.floor(k / group) * perGroup + Math.floor(within / q);
      out[r * rowLength + k] = lutDigits(packed[r * units + unit]!, q)[within % q]! - 1; // 0,1,2 -> -1,0,+1
    }
  }
  return out;
}

/** Rows of half 0 of a t5w / t6w table (half 1 has one fewer). */
const twRows0 = (q: number): number => (q === 5 ? 5 : 14);

/**
 * t5w / t6w: the table entry of the offset codes u0..u5 of one unit, and whether the lookup
 * subtracts it. With a = u0 + 3 u1 + 9 u2, b = u3 + 3 u4 (+ 9 u5): codes past the centre
 * (a + 27 b > 13 + 27 bmax / 2) are stored as their mirror (a, b -> 26 - a, bmax - b, i.e.
 * u -> 2 - u: the negated weights) and subtracted; index = a < 14 ? 14 b + a : 14 R0 + 14 b + a - 14.
 */
export function twEntry(u: readonly number[]): { index: number; negate: boolean } {
  const d = (i: number) => (i < u.length ? u[i]! : 0);
  let a = d(0) + 3 * d(1) + 9 * d(2);
  let b = d(3) + 3 * d(4) + 9 * d(5);
  const bmax = u.length === 5 ? 8 : 26;
  const negate = a + 27 * b > 13 + 27 * (bmax / 2);
  if (negate) {
    a = 26 - a;
    b = bmax - b;
  }
  return { index: a < 14 ? 14 * b + a : 14 * twRows0(u.length) + 14 * b + a - 14, negate };
}

/** The offset codes of a t5w / t6w entry (before the negation of subtracted lookups). */
export function twDigits(index: number, q: number): number[] {
  const half = 14 * twRows0(q);
  const h = index >= half ? 1 : 0;
  const rest = index - h * half;
  const a = 14 * h + (rest % 14);
  const b = Math.floor(rest / 14);
  return [a % 3, Math.floor(a / 3) % 3, Math.floor(a / 9), b % 3, Math.floor(b / 3) % 3, Math.floor(b / 9)].slice(0, q);
}

/** 16-bit entries of one t5w / t6w row: per scale group its units plus one header per window. */
export function twUnitsPerRow(rowLength: number, group: number, q: number, window: number): number {
  let total = 0;
  for (let g0 = 0; g0 < rowLength; g0 += group) {
    const units = Math.ceil(Math.min(group, rowLength - g0) / q);
    total += units + Math.ceil(units / window);
  }
  return total;
}

/**
 * t5w / t6w: per row, per scale group, per window of up to `window` units (q trits each): a 16-bit
 * header, the number of added lookups, then the window's lookups as little-endian 16-bit byte
 * offsets 2 * (j * entries + index) (twEntry, j = the unit's table in the window): first those
 * that add, then those that subtract, each in unit order.
 */
export function packTW(codes: Int8Array, rowLength: number, group: number, q: 5 | 6, window: number): Uint16Array {
  const entries = q === 5 ? LUT5W_ENTRIES : LUT6W_ENTRIES;
  if (window < 1 || window * entries * 2 > 65536 || window > TW_MAX_WINDOW)
    throw new Error(`internal: LUT window ${window} does not fit 16-bit offsets or the kernels' unrolling`);
  const rowUnits = twUnitsPerRow(rowLength, group, q, window);
  const rows = codes.length / rowLength;
  const out = new Uint16Array(rows * rowUnits);
  for (let r = 0; r < rows; r++) {
    let at = r * rowUnits;
    for (let g0 = 0; g0 < rowLength; g0 += group) {
      const len = Math.min(group, rowLength - g0);
      const units = Math.ceil(len / q);
      for (let j0 = 0; j0 < units; j0 += window) {
        const add: number[] = [];
        const sub: number[] = [];
        for (let j = j0; j < Math.min(units, j0 + window); j++) {
          const u: number[] = [];
          for (let dd = 0; dd < q; dd++) {
            const k = j * q + dd;
            u.push(k < len ? codes[r * rowLength + g0 + k]! + 1 : 1); // -1,0,+1 -> 0,1,2; padding 1
          }
          const e = twEntry(u);
          (e.negate ? sub : add).push(2 * ((j - j0) * entries + e.index));
        }
        out[at++] = add.length;
        for (const v of add) out[at++] = v;
        for (const v of sub) out[at++] = v;
      }
    }
  }
  return out;
}

/** Decode t5w / t6w back to codes. */
export function unpackTW(packed: Uint16Array, rowLength: number, group: number, q: 5 | 6, window: number): Int8Array {
  const entries = q === 5 ? LUT5W_ENTRIES : LUT6W_ENTRIES;
  const rowUnits = twUnitsPerRow(rowLength, group, q, window);
  const rows = packed.length / rowUnits;
  const out = new Int8Array(rows * rowLength);
  for (let r = 0; r < rows; r++) {
    let at = r * rowUnits;
    for (let g0 = 0; g0 < rowLength; g0 += group) {
      const len = Math.min(group, rowLength - g0);
      const units = Math.ceil(len / q);
      for (let j0 = 0; j0 < units; j0 += window) {
        const count = Math.min(window, units - j0);
        const added = packed[at++]!;
        for (let i = 0; i < count; i++) {
          const off = packed[at++]! / 2;
          const j = j0 + Math.floor(off / entries);
          const u = twDigits(off % entries, q).map((x) => (i < added ? x : 2 - x));
          for (let dd = 0; dd < q && j * q + dd < len; dd++) out[r * rowLength + g0 + j * q + dd] = u[dd]! - 1; // 0,1,2 -> -1,0,+1
        }
      }
    }
  }
  return out;
}

/** Binary, 1 bit per code, 8 per byte, first code in the low bit: +1 -> 1, -1 -> 0. */
export function packB1(codes: Int8Array, rowLength: number): Uint8Array {
  const rows = codes.length / rowLength;
  const rowBytes = Math.ceil(rowLength / QK_B1);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) {
      if (codes[r * rowLength + k] === 1) out[r * rowBytes + (k >> 3)]! |= 1 << (k & 7); // +1 -> 1, -1 -> 0
    }
  }
  return out;
}

export function unpackB1(packed: Uint8Array, rowLength: number): Int8Array {
  const rowBytes = Math.ceil(rowLength / QK_B1);
  const rows = packed.length / rowBytes;
  const out = new Int8Array(rows * rowLength);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) out[r * rowLength + k] = (packed[r * rowBytes + (k >> 3)]! >> (k & 7)) & 1 ? 1 : -1; // 1 -> +1, 0 -> -1
  }
  return out;
}

/**
 * tbp (bit-planes): per row, ceil(rowLength / 32) pairs of 32-bit words: a nonzero mask (bit j set:
 * code 32 i + j is not 0) then a sign mask (bit j set: that code is -1; never set where the nonzero
 * bit is clear). Rows padded with 0 codes. Returned as words, so the C array is uint32_t and the
 * bytes' order is the target's own.
 */
export function packTBP(codes: Int8Array, rowLength: number): Uint32Array {
  const rows = codes.length / rowLength;
  const words = Math.ceil(rowLength / QK_TBP);
  const out = new Uint32Array(rows * 2 * words);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) {
      const t = codes[r * rowLength + k]!;
      if (t === 0) continue;
      const at = (r * words + (k >> 5)) * 2;
      out[at] = (out[at]! | (1 << (k & 31))) >>> 0; // nonzero
      if (t === -1) out[at + 1] = (out[at + 1]! | (1 << (k & 31))) >>> 0; // -1
    }
  }
  return out;
}

export function unpackTBP(packed: Uint32Array, rowLength: number): Int8Array {
  const words = Math.ceil(rowLength / QK_TBP);
  const rows = packed.length / (2 * words);
  const out = new Int8Array(rows * rowLength);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) {
      const at = (r * words + (k >> 5)) * 2;
      const bit = k & 31;
      out[r * rowLength + k] = (packed[at]! >>> bit) & 1 ? ((packed[at + 1]! >>> bit) & 1 ? -1 : 1) : 0;
    }
  }
  return out;
}

/**
 * ub (unsigned b-bit, 2 <= b <= 8): each row a little-endian bit stream, code k in bits
 * [k b, k b + b), rows padded to whole bytes, plus one zero byte after the last row so a kernel may
 * always read the two bytes a code can straddle.
 */
export function ubRowBytes(rowLength: number, bits: number): number {
  return Math.ceil((rowLength * bits) / 8);
}

export function packUB(codes: Uint8Array, rowLength: number, bits: number): Uint8Array {
  const rows = codes.length / rowLength;
  const rowBytes = ubRowBytes(rowLength, bits);
  const out = new Uint8Array(rows * rowBytes + 1);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < rowLength; k++) {
      const c = codes[r * rowLength + k]!;
      if (c >= 1 << bits) throw new Error(`internal: code ${c} does not fit ${bits} bits`);
      const bit = k * bits;
      const v = c << (bit & 7);
      out[r * rowBytes + (bit >> 3)]! |= v & 0xff;
      if (v > 0xff) out[r * rowBytes + (bit >> 3) + 1]! |= v >> 8;
    }
  return out;
}

export function unpackUB(packed: Uint8Array, rowLength: number, bits: number): Uint8Array {
  const rowBytes = ubRowBytes(rowLength, bits);
  const rows = (packed.length - 1) / rowBytes;
  const out = new Uint8Array(rows * rowLength);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < rowLength; k++) {
      const bit = k * bits;
      const at = r * rowBytes + (bit >> 3);
      out[r * rowLength + k] = ((packed[at]! | (packed[at + 1]! << 8)) >> (bit & 7)) & ((1 << bits) - 1);
    }
  return out;
}

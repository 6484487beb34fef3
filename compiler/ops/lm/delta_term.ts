// The run-time delta term of a Linear (ComPEFT task vectors, docs/formats.md): a sparse ternary
// matrix S [rows, cols] with one scale alpha, stored per row as increasing columns with a sign bit.
// After the base product, for each output row o with entries:
//   s = 0; for each entry e of row o in order: s = s + X[t, col(e)] (or s - X[t, col(e)] when negative)
//   Y[t, o] = Y[t, o] + alpha * s            (float32, each operation rounded; rows without entries untouched)
// With int8 activations (TernaryLinear: codes q, scale sx per row or tensor), after the op's result
// (bias included):
//   i = the entries' q[t, col] added (or subtracted) as an exact integer
//   Y[t, o] = Y[t, o] + fl(fl(alpha * (float)i) * sx[t])
// runtime-c/ref/tn_delta.c (tn_delta_apply, tn_delta_apply_q8) computes the same in the same order.

import { add, i2f, mul } from '../../numerics/f32.ts';
import type { NumericData } from '../../ir.ts';

export interface SparseTernaryDelta {
  rows: number;
  cols: number;
  /** One float32 scale for the tensor. */
  alpha: number;
  /** [rows + 1]: row o's entries are entries[rowPtr[o] .. rowPtr[o + 1]). */
  rowPtr: Uint32Array;
  /** Column in bits 0..14, bit 15 set for -alpha. */
  entries: Uint16Array;
}

/** Add the term to `y` ([count, rows]) for input rows x[from .. from + count) of width k. */
export function applyDeltaTerm(d: SparseTernaryDelta, x: NumericData, from: number, count: number, k: number, y: Float32Array): void {
  for (let r = 0; r < count; r++) {
    const xr = (from + r) * k;
    for (let o = 0; o < d.rows; o++) {
      const e0 = d.rowPtr[o]!;
      const e1 = d.rowPtr[o + 1]!;
      if (e0 === e1) continue;
      let s = 0;
      for (let e = e0; e < e1; e++) {
        const c = d.entries[e]!;
        const v = x[xr + (c & 0x7fff)]!;
        s = c & 0x8000 ? Math.fround(s - v) : Math.fround(s + v);
      }
      y[r * d.rows + o] = add(y[r * d.rows + o]!, mul(d.alpha, s));
    }
  }
}

/** The int8-activation term (TernaryLinear): x codes [rows, k], sx one scale per row or one in all. */
export function applyDeltaTermInt8(d: SparseTernaryDelta, x: NumericData, sx: NumericData, xPerRow: boolean, count: number, k: number, y: Float32Array): void {
  for (let r = 0; r < count; r++) {
    const xr = r * k;
    const sxt = sx[xPerRow ? r : 0]!;
    for (let o = 0; o < d.rows; o++) {
      const e0 = d.rowPtr[o]!;
      const e1 = d.rowPtr[o + 1]!;
      if (e0 === e1) continue;
      let i = 0;
      for (let e = e0; e < e1; e++) {
        const c = d.entries[e]!;
        i += c & 0x8000 ? -x[xr + (c & 0x7fff)]! : x[xr + (c & 0x7fff)]!;
      }
      y[r * d.rows + o] = add(y[r * d.rows + o]!, mul(mul(d.alpha, i2f(i)), sxt));
    }
  }
}

// Conversions between float32 and the integer dtypes, mirroring runtime-c/ref/tn_arith.c (Cast and
// every kernel that converts): float -> integer truncates toward zero and saturates (NaN -> 0),
// integer -> integer wraps around, integer -> float rounds to nearest even (docs/numerics.md, "Cast").

import { fround } from './f32.ts';

const TWO63 = 2n ** 63n;

/** int64 -> float32 with one rounding to nearest even (binary64 first would round twice). */
export function i64ToF32(v: bigint): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  if (a < 2n ** 53n) return fround(neg ? -Number(a) : Number(a)); // exact in binary64, one rounding
  let shift = 0n;
  while (a >> (shift + 25n) > 0n) shift++; // keep 25 bits: 24 of mantissa and a rounding bit
  const top = a >> shift;
  const sticky = (a & ((1n << shift) - 1n)) !== 0n;
  let mant = top >> 1n;
  if (top & 1n && (sticky || mant & 1n)) mant += 1n;
  a = mant << (shift + 1n);
  const r = Number(a); // exactly representable: at most 25 significant bits
  return neg ? -r : r;
}

/** float32 -> int32: NaN -> 0, truncation, saturation (tn_f32_to_i32). */
export function f32ToI32(v: number): number {
  if (v !== v) return 0;
  if (v >= 2 ** 31) return 2 ** 31 - 1;
  if (v < -(2 ** 31)) return -(2 ** 31);
  return Math.trunc(v) | 0;
}

/** float32 -> int64 (tn_f32_to_i64). */
export function f32ToI64(v: number): bigint {
  if (v !== v) return 0n;
  if (v >= 2 ** 63) return TWO63 - 1n;
  if (v < -(2 ** 63)) return -TWO63;
  return BigInt(Math.trunc(v));
}

/** Wrap an integer (number or bigint) to int64. */
export const wrapI64 = (v: bigint): bigint => BigInt.asIntN(64, v);

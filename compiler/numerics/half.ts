// IEEE binary16 and bfloat16 bit patterns <-> float32 values, as Hugging Face checkpoints store them.
//
// Widening (f16/bf16 -> f32) is exact: every half and every bfloat16 value is a float32 value. Narrowing
// (f32 -> f16/bf16) rounds to nearest, ties to even, as PyTorch's `.to(torch.float16 / bfloat16)` does;
// the BitNet reader needs it to reproduce `WeightQuant`'s final cast back to the weight's dtype.
// Node 20 has no Float16Array nor Math.f16round, hence the bit twiddling.

import { f32Bits, f32FromBits } from './f32.ts';

/** float16 bits -> the exact float32 (as a JS number). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero or subnormal: mant * 2^-24, exact
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25); // (1.mant) * 2^(exp-15), exact in binary64 and binary32
}

/** bfloat16 bits -> the exact float32: bfloat16 is the top half of a float32. */
export function bf16BitsToF32(b: number): number {
  return f32FromBits((b & 0xffff) << 16);
}

/** float32 value -> bfloat16 bits, round to nearest even (NaN stays a quiet NaN). */
export function f32ToBf16Bits(x: number): number {
  const u = f32Bits(x);
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return ((u >>> 16) & 0x8000) | 0x7fc0;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 value -> float16 bits, round to nearest even, overflow to infinity, gradual underflow. */
export function f32ToF16Bits(x: number): number {
  const u = f32Bits(x);
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15; // the half's biased exponent if the value were normal there
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal (or zero): in units of 2^-24 the value is m * 2^(e - 14), i.e. m >> (14 - e).
    if (e < -10) return sign; // below 2^-25: rounds to zero
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++; // a carry into 0x400 is the smallest normal
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry may reach infinity, correctly
  return sign | h;
}

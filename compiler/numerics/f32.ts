// Float32 arithmetic, step by step, mirroring runtime-c/ref/tn_math.c exactly.
//
// The numerics contract (docs/numerics.md) says every float operation of the generated C is a single
// IEEE-754 binary32 operation, rounded to nearest-even, in a fixed order, with no fused multiply-add
// (-ffp-contract=off) and no libm. JavaScript computes in binary64; `Math.fround` after each + - * /
// gives the binary32 result exactly, because binary64 has more than 2*24+2 bits of precision.
// Every function here must therefore apply fround after every single operation, in the C order.

export const fround = Math.fround;

export const add = (a: number, b: number): number => fround(a + b);
export const sub = (a: number, b: number): number => fround(a - b);
export const mul = (a: number, b: number): number => fround(a * b);
export const div = (a: number, b: number): number => fround(a / b);

/** int32 or int64 (exact in a JS number) to float, as C's (float) conversion: nearest-even. */
export const i2f = (v: number): number => fround(v);

const scratch = new DataView(new ArrayBuffer(4));

export function f32Bits(x: number): number {
  scratch.setFloat32(0, x, true);
  return scratch.getUint32(0, true);
}

export function f32FromBits(bits: number): number {
  scratch.setUint32(0, bits >>> 0, true);
  return scratch.getFloat32(0, true);
}

/** Constants shared with tn_math.c, which spells them as the hexadecimal float literals in the comments. */
export const C = {
  TWO23: 8388608, // 0x1p23f
  LOG2E: fround(1.4426950408889634), // 0x1.715476p+0f
  LN2_HI: f32FromBits(0x3f317200), // 0x1.62e4p-1f, 0.693145751953125: few bits, so k*LN2_HI is exact
  LN2_LO: f32FromBits(0x35bfbe8e), // 0x1.7f7d1cp-20f
  EXP_MAX: f32FromBits(0x42b17217), // 0x1.62e42ep+6f, 88.72283: above this expf overflows
  EXP_MIN: f32FromBits(0xc2cff1b5), // -0x1.9fe36ap+6f, -103.97208: below this expf is 0
  // Taylor coefficients 1/n! for n = 7..2, rounded to float32.
  P7: fround(1 / 5040),
  P6: fround(1 / 720),
  P5: fround(1 / 120),
  P4: fround(1 / 24),
  P3: fround(1 / 6),
  P2: 0.5,
  ACT_AMAX_FLOOR: fround(1e-5), // 0x1.4f8b58p-17f, smallest absmax used by QuantizeInt8
} as const;

/**
 * Round a float to the nearest integer, ties to even, returning a float (tn_rintf).
 * |v| >= 2^23 is already an integer (or inf/NaN) and is returned as is.
 * Adding and subtracting 2^23 rounds in the float unit itself; the sign of a zero result is not kept.
 */
export function rintf(v: number): number {
  if (!(Math.abs(v) < C.TWO23)) return v;
  if (v >= 0) return sub(add(v, C.TWO23), C.TWO23);
  return add(sub(v, C.TWO23), C.TWO23);
}

/** 2^k * p for the k range expf needs (-150..128), as tn_ldexpf: at most one rounding. */
export function ldexpf(p: number, k: number): number {
  // C scales in one or two exact-then-rounded multiplies; the result equals one rounding of p*2^k.
  return fround(p * Math.pow(2, k));
}

/**
 * e^x in float32 (tn_expf): range reduction x = k*ln2 + r with a two-part ln2,
 * a degree-7 Taylor polynomial on |r| <= 0.35 by Horner's rule, then scaling by 2^k.
 * Accurate to about 2 ulp; what matters is that C and this function agree bit for bit.
 */
export function expf(x: number): number {
  x = fround(x);
  if (x !== x) return x;
  if (x > C.EXP_MAX) return Infinity;
  if (x < C.EXP_MIN) return 0;
  const kf = rintf(mul(x, C.LOG2E));
  let r = sub(x, mul(kf, C.LN2_HI));
  r = sub(r, mul(kf, C.LN2_LO));
  let p = C.P7;
  p = add(mul(p, r), C.P6);
  p = add(mul(p, r), C.P5);
  p = add(mul(p, r), C.P4);
  p = add(mul(p, r), C.P3);
  p = add(mul(p, r), C.P2);
  p = add(mul(p, r), 1);
  p = add(mul(p, r), 1);
  return ldexpf(p, kf);
}

/** Clamp to [-127, 127] and round half to even (tn_quant_i8). NaN quantizes to 0. */
export function quantI8(v: number): number {
  if (v !== v) return 0;
  if (v > 127) v = 127;
  else if (v < -127) v = -127;
  const r = rintf(v);
  return r === 0 ? 0 : r; // no negative zero in integers
}

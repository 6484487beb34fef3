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
  // logf: ln(1+f) = 2s + s*R(s^2) with s = f/(2+f); the coefficients are 2/(2n+1).
  LG3: fround(2 / 3),
  LG5: fround(2 / 5),
  LG7: fround(2 / 7),
  LG9: fround(2 / 9),
  LG11: fround(2 / 11),
  LG13: fround(2 / 13),
  LG3_LO: f32FromBits(0xb2aaaaab), // 2/3 - LG3
  // tanhf below 0.625: x + x * (x^2 * P(x^2)), a Chebyshev fit of degree 5 made for this project.
  TANH_SMALL: 0.625,
  TANH_P5: f32FromBits(0x3b1641e0),
  TANH_P4: f32FromBits(0xbc08b50b),
  TANH_P3: f32FromBits(0x3cb254bb),
  TANH_P2: f32FromBits(0xbd5d0462),
  TANH_P1: f32FromBits(0x3e088875),
  TANH_P0: f32FromBits(0xbeaaaaab),
  // erff below 1: x + x * P(x^2), degree 6.
  ERF_P6: f32FromBits(0x38a52b48),
  ERF_P5: f32FromBits(0xba522844),
  ERF_P4: f32FromBits(0x3baa0938),
  ERF_P3: f32FromBits(0xbcdbfd5d),
  ERF_P2: f32FromBits(0x3de71688),
  ERF_P1: f32FromBits(0xbec0939f),
  ERF_P0: f32FromBits(0x3e0375d4),
  // erfc(a) = e^(-a^2) * R(a): R(2.5 + u) for a in [1, 4), R(1/t) for a in [4, 10.5].
  ERFC_R11: f32FromBits(0xb4dd5c0b),
  ERFC_R10: f32FromBits(0x35e01f27),
  ERFC_R9: f32FromBits(0xb680ab3d),
  ERFC_R8: f32FromBits(0x3770ffd7),
  ERFC_R7: f32FromBits(0xb878d635),
  ERFC_R6: f32FromBits(0x395f4b75),
  ERFC_R5: f32FromBits(0xba403df1),
  ERFC_R4: f32FromBits(0x3b219c9c),
  ERFC_R3: f32FromBits(0xbc031937),
  ERFC_R2: f32FromBits(0x3ccc4b32),
  ERFC_R1: f32FromBits(0xbd98436c),
  ERFC_R0: f32FromBits(0x3e57dd9f),
  ERFC_S5: f32FromBits(0x3d0966e3),
  ERFC_S4: f32FromBits(0x3e481d6c),
  ERFC_S3: f32FromBits(0xbea78e36),
  ERFC_S2: f32FromBits(0x3bb7688d),
  ERFC_S1: f32FromBits(0x3f105728),
  ERFC_S0: f32FromBits(0x371de8b4),
  INV_SQRT2: fround(Math.SQRT1_2), // 0x1.6a09e6p-1f
  INV_SQRT2_LO: f32FromBits(0x324fe77a), // 1/sqrt(2) - INV_SQRT2
  SQRT_2_OVER_PI: fround(Math.sqrt(2 / Math.PI)), // 0x1.988454p-1f
  GELU_C: fround(0.044715), // 0x1.6e4e26p-5f
  SPLIT: 4097, // 2^12 + 1: Veltkamp's split of a float into two 12-bit halves
} as const;

/** Bits of sqrt(2) rounded to float: logf's reduction keeps the mantissa m <= sqrt(2). */
const SQRT2_BITS = 0x3fb504f3;

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
function ldexpf(p: number, k: number): number {
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

// ---- Functions added for the ONNX ops (tn_math.c, same order of operations) -------------------

const QNAN = NaN;

/** Square root, correctly rounded (tn_sqrtf does it with an integer digit-by-digit root).
 * binary64 has more than 2*24+2 bits, so rounding the binary64 root to binary32 is exact rounding. */
export function sqrtf(x: number): number {
  return fround(Math.sqrt(fround(x)));
}

/** x = 2^k * (1 + f) with 1 + f in (sqrt(2)/2, sqrt(2)], finite x > 0 (tn_log_reduce). */
function logReduce(x: number): { f: number; k: number } {
  let k = 0;
  let b = f32Bits(x);
  if (b < 0x00800000) {
    b = f32Bits(mul(x, 2 ** 25));
    k = -25;
  }
  k += (b >>> 23) - 127;
  b = (b & 0x7fffff) | 0x3f800000;
  if (b > SQRT2_BITS) {
    b -= 0x00800000;
    k += 1;
  }
  return { f: sub(f32FromBits(b), 1), k };
}

/** Natural logarithm (tn_logf). */
export function logf(x: number): number {
  x = fround(x);
  if (x !== x) return x;
  if (x < 0) return QNAN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return x;
  const { f, k } = logReduce(x);
  const hfsq = mul(mul(0.5, f), f);
  const s = div(f, add(2, f));
  const z = mul(s, s);
  let p = C.LG9;
  p = add(mul(p, z), C.LG7);
  p = add(mul(p, z), C.LG5);
  p = add(mul(p, z), C.LG3);
  const r = mul(p, z);
  const kf = k;
  return sub(mul(kf, C.LN2_HI), sub(sub(hfsq, add(mul(s, add(hfsq, r)), mul(kf, C.LN2_LO))), f));
}

/** Hyperbolic tangent (tn_tanhf). */
export function tanhf(x: number): number {
  x = fround(x);
  if (x !== x) return x;
  const a = Math.abs(x);
  if (a < 2 ** -12) return x;
  if (a < C.TANH_SMALL) {
    const z = mul(x, x);
    let p = C.TANH_P5;
    p = add(mul(p, z), C.TANH_P4);
    p = add(mul(p, z), C.TANH_P3);
    p = add(mul(p, z), C.TANH_P2);
    p = add(mul(p, z), C.TANH_P1);
    p = add(mul(p, z), C.TANH_P0);
    return add(x, mul(x, mul(z, p)));
  }
  const r = a > 10 ? 1 : sub(1, div(2, add(expf(add(a, a)), 1)));
  return x < 0 ? -r : r;
}

/** Logistic sigmoid 1 / (1 + e^-x), in the form that does not overflow (tn_sigmoidf). */
export function sigmoidf(x: number): number {
  x = fround(x);
  if (x >= 0) return div(1, add(1, expf(-x)));
  const e = expf(x);
  return div(e, add(1, e));
}

/** erfc(a + aLo) for a >= 1 (tn_erfc_tail). */
function erfcTail(a: number, aLo: number): number {
  if (a > 10.5) return 0;
  const ah = f32FromBits(f32Bits(a) & 0xfffff000);
  const al = sub(a, ah);
  const e = expDf(-mul(ah, ah), -add(mul(al, add(a, ah)), mul(add(a, a), aLo)));
  let p: number;
  if (a < 4) {
    const u = sub(a, 2.5);
    p = C.ERFC_R11;
    for (const c of [C.ERFC_R10, C.ERFC_R9, C.ERFC_R8, C.ERFC_R7, C.ERFC_R6, C.ERFC_R5, C.ERFC_R4, C.ERFC_R3, C.ERFC_R2, C.ERFC_R1, C.ERFC_R0])
      p = add(mul(p, u), c);
  } else {
    const t = div(1, a);
    p = C.ERFC_S5;
    for (const c of [C.ERFC_S4, C.ERFC_S3, C.ERFC_S2, C.ERFC_S1, C.ERFC_S0]) p = add(mul(p, t), c);
  }
  return mul(e, p);
}

/** P with erf(x) = x + x * P(x^2) for |x| < 1 (tn_erf_p). */
function erfP(z: number): number {
  let p = C.ERF_P6;
  for (const c of [C.ERF_P5, C.ERF_P4, C.ERF_P3, C.ERF_P2, C.ERF_P1, C.ERF_P0]) p = add(mul(p, z), c);
  return p;
}

/** Error function (tn_erff). */
export function erff(x: number): number {
  x = fround(x);
  if (x !== x) return x;
  const a = Math.abs(x);
  if (a < 1) return add(x, mul(x, erfP(mul(x, x))));
  const r = a >= 4 ? 1 : sub(1, erfcTail(a, 0));
  return x < 0 ? -r : r;
}

/** Gelu, approximate = 'none': 0.5 x (1 + erf(x / sqrt 2)) (tn_gelu_erff). */
export function geluErff(x: number): number {
  x = fround(x);
  const h = mul(0.5, x);
  const t = mul(x, C.INV_SQRT2);
  if (x < -14) return -0;
  if (t < -1) {
    const [th, tl0] = twoProd(x, C.INV_SQRT2);
    const tl = add(tl0, mul(x, C.INV_SQRT2_LO));
    return mul(h, erfcTail(-th, -tl));
  }
  if (t < 0) return mul(h, add(add(1, t), mul(t, erfP(mul(t, t)))));
  return mul(h, add(1, erff(t)));
}

/** Gelu, approximate = 'tanh', computed as x * sigmoid(2s) (tn_gelu_tanhf). */
export function geluTanhf(x: number): number {
  x = fround(x);
  if (x < -(2 ** 64)) return -0;
  const inner = add(x, mul(C.GELU_C, mul(mul(x, x), x)));
  const s = mul(C.SQRT_2_OVER_PI, inner);
  return mul(x, sigmoidf(add(s, s)));
}

/** a * b = hi + lo exactly (Dekker, tn_two_prod). */
function twoProd(a: number, b: number): [number, number] {
  const p = mul(a, b);
  const ca = mul(C.SPLIT, a);
  const ah = sub(ca, sub(ca, a));
  const al = sub(a, ah);
  const cb = mul(C.SPLIT, b);
  const bh = sub(cb, sub(cb, b));
  const bl = sub(b, bh);
  return [p, add(add(add(sub(mul(ah, bh), p), mul(ah, bl)), mul(al, bh)), mul(al, bl))];
}

/** a + b = hi + lo exactly (Knuth, tn_two_sum). */
function twoSum(a: number, b: number): [number, number] {
  const s = add(a, b);
  const bb = sub(s, a);
  return [s, add(sub(a, sub(s, bb)), sub(b, bb))];
}

/** ln(x) as hi + lo (tn_log_df), finite x > 0. */
function logDf(x: number): [number, number] {
  const { f, k } = logReduce(x);
  const dh = add(2, f);
  const dl = sub(f, sub(dh, 2));
  const sh = div(f, dh);
  const [ph, pl] = twoProd(sh, dh);
  const sl = div(sub(sub(sub(f, ph), pl), mul(sh, dl)), dh);
  const [zh, zl0] = twoProd(sh, sh);
  const zl = add(zl0, mul(add(sh, sh), sl));
  const [ch, cl0] = twoProd(sh, zh);
  const cl = add(cl0, add(mul(sh, zl), mul(sl, zh)));
  const [ah, al0] = twoProd(ch, C.LG3);
  const al = add(al0, add(mul(ch, C.LG3_LO), mul(cl, C.LG3)));
  let p = C.LG13;
  p = add(mul(p, zh), C.LG11);
  p = add(mul(p, zh), C.LG9);
  p = add(mul(p, zh), C.LG7);
  p = add(mul(p, zh), C.LG5);
  const r = mul(mul(ch, zh), p);
  const kf = k;
  const [h1, e1] = twoSum(mul(kf, C.LN2_HI), add(sh, sh));
  const [h, e2] = twoSum(h1, ah);
  const l = add(e1, add(e2, add(add(sl, sl), add(al, add(r, mul(kf, C.LN2_LO))))));
  const hi = add(h, l);
  return [hi, sub(l, sub(hi, h))];
}

/** e^(hi + lo) (tn_exp_df). */
function expDf(hi: number, lo: number): number {
  if (hi > C.EXP_MAX) return Infinity;
  if (hi < C.EXP_MIN) return 0;
  const kf = rintf(mul(hi, C.LOG2E));
  let r = sub(hi, mul(kf, C.LN2_HI));
  r = sub(r, mul(kf, C.LN2_LO));
  r = add(r, lo);
  let p = C.P7;
  for (const c of [C.P6, C.P5, C.P4, C.P3, C.P2, 1, 1]) p = add(mul(p, r), c);
  return ldexpf(p, kf);
}

/** 0: not an integer, 1: odd integer, 2: even integer (finite y). */
function intKind(y: number): 0 | 1 | 2 {
  if (Math.abs(y) >= 2 ** 24) return 2;
  if (rintf(y) !== y) return 0;
  return (y | 0) & 1 ? 1 : 2;
}

/** x^y with the special cases of C99 Annex F (tn_powf). */
export function powf(x: number, y: number): number {
  x = fround(x);
  y = fround(y);
  const ax = Math.abs(x);
  const ay = Math.abs(y);
  if (y === 0) return 1;
  if (x === 1) return 1;
  if (x !== x || y !== y) return QNAN;
  if (ay === Infinity) {
    if (ax === 1) return 1;
    return ax < 1 === y < 0 ? Infinity : 0;
  }
  const kind = intKind(y);
  const negX = x < 0 || Object.is(x, -0);
  if (x === 0) {
    if (y < 0) return kind === 1 && negX ? -Infinity : Infinity;
    return kind === 1 ? x : 0;
  }
  if (ax === Infinity) {
    if (y < 0) return x < 0 && kind === 1 ? -0 : 0;
    return x < 0 && kind === 1 ? x : Infinity;
  }
  if (x < 0 && kind === 0) return QNAN;
  let r: number;
  if (y === 1) r = ax;
  else if (y === 2) r = mul(ax, ax);
  else if (y === -1) r = div(1, ax);
  else if (y === 0.5) r = sqrtf(ax);
  else if (ay >= 2 ** 31) r = ax > 1 === y > 0 ? Infinity : 0;
  else {
    const [lh, ll] = logDf(ax);
    const [zh, zl0] = twoProd(y, lh);
    const zl = add(zl0, mul(y, ll));
    r = expDf(zh, zl);
  }
  return x < 0 && kind === 1 ? -r : r;
}

/**
 * tn_maxf / tn_minf: IEEE 754-2019 maximum and minimum. A NaN operand gives NaN (NumPy's
 * np.maximum, ONNX's reference implementation) and -0 < +0, so the result does not depend on the
 * operand order. JavaScript's Math.max/Math.min are exactly this; the C decides NaN by `x != x` and
 * zeros of opposite signs by adding them (docs/numerics.md, "Max and Min").
 */
export const maxf = (a: number, b: number): number => Math.max(a, b);
export const minf = (a: number, b: number): number => Math.min(a, b);

/*
 * tn_half.h - internal to runtime-c (README.md): IEEE binary16 <-> float32, bit-exact with
 * compiler/numerics/half.ts. Widening is exact; narrowing rounds to nearest, ties to even, with
 * gradual underflow and overflow to infinity (NaN stays a quiet NaN).
 */
#ifndef TN_HALF_H
#define TN_HALF_H

#include <stdint.h>

typedef union {
  float f;
  uint32_t u;
} tn_half_bits;

static inline float tn_f16_to_f32(uint16_t h) {
  tn_half_bits b;
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    /* zero or subnormal: mant * 2^-24, exact in float32 */
    b.f = (float)mant * 5.9604644775390625e-08f;
    b.u |= sign;
    return b.f;
  }
  if (exp == 0x1f) b.u = sign | 0x7f800000u | (mant << 13);
  else b.u = sign | ((exp + 112u) << 23) | (mant << 13);
  return b.f;
}

static inline uint16_t tn_f32_to_f16(float x) {
  tn_half_bits b;
  uint32_t sign, exp, mant;
  int32_t e;
  b.f = x;
  sign = (b.u >> 16) & 0x8000u;
  exp = (b.u >> 23) & 0xffu;
  mant = b.u & 0x7fffffu;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0u));
  e = (int32_t)exp - 127 + 15;
  if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u);
  if (e <= 0) {
    /* half subnormal or zero: the value in units of 2^-24 is (mant | 1 << 23) >> (14 - e) */
    uint32_t m, shift, q, rest, halfway;
    if (e < -10) return (uint16_t)sign;
    m = mant | 0x800000u;
    shift = (uint32_t)(14 - e);
    q = m >> shift;
    rest = m & ((1u << shift) - 1u);
    halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (q & 1u))) q++;
    return (uint16_t)(sign | q);
  }
  {
    uint32_t q = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (q & 1u))) q++; /* may carry into the exponent: right */
    return (uint16_t)(sign | q);
  }
}

#endif /* TN_HALF_H */

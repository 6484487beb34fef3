/*
 * tn_math.c - scalar float32 math without libm, bit-exact with compiler/numerics/f32.ts.
 *
 * Each line is one binary32 operation; compile with -ffp-contract=off so that no multiply-add is
 * fused. Constants are hexadecimal float literals so that every compiler reads the same bits; the
 * TypeScript mirror lists the same values and a test checks the two agree.
 */
#include "tn_runtime.h"

#define TN_TWO23 0x1p+23f
#define TN_LOG2E 0x1.715476p+0f
#define TN_LN2_HI 0x1.62e4p-1f   /* few mantissa bits: k * TN_LN2_HI is exact for |k| <= 150 */
#define TN_LN2_LO 0x1.7f7d1cp-20f
#define TN_EXP_MAX 0x1.62e42ep+6f  /* above: e^x overflows */
#define TN_EXP_MIN -0x1.9fe36ap+6f /* below: e^x rounds to 0 */
#define TN_P7 0x1.a01a02p-13f /* 1/7! */
#define TN_P6 0x1.6c16c2p-10f /* 1/6! */
#define TN_P5 0x1.111112p-7f  /* 1/5! */
#define TN_P4 0x1.555556p-5f  /* 1/4! */
#define TN_P3 0x1.555556p-3f  /* 1/3! */
#define TN_P2 0x1p-1f         /* 1/2! */

typedef union {
  float f;
  uint32_t u;
} tn_f32_bits;

float tn_rintf(float v) {
  /* Adding 2^23 leaves no fraction bits, so the float unit rounds (to nearest even); subtracting
   * it back is exact. Values at or beyond 2^23 are integers already. */
  float a = v < 0.0f ? -v : v;
  if (!(a < TN_TWO23)) return v;
  if (v >= 0.0f) return (v + TN_TWO23) - TN_TWO23;
  return (v - TN_TWO23) + TN_TWO23;
}

/* 2^k as a normal float, for -126 <= k <= 127. */
static float tn_pow2i(int32_t k) {
  tn_f32_bits b;
  b.u = (uint32_t)(k + 127) << 23;
  return b.f;
}

float tn_ldexpf(float p, int32_t k) {
  if (k > 127) return (p * 2.0f) * tn_pow2i(k - 1);       /* p * 2 is exact */
  if (k < -126) return (p * tn_pow2i(k + 64)) * tn_pow2i(-64); /* first multiply exact */
  return p * tn_pow2i(k);
}

float tn_expf(float x) {
  float kf, r, p;
  if (x != x) return x;
  if (x > TN_EXP_MAX) {
    tn_f32_bits inf;
    inf.u = 0x7f800000u;
    return inf.f;
  }
  if (x < TN_EXP_MIN) return 0.0f;
  kf = tn_rintf(x * TN_LOG2E);
  r = x - kf * TN_LN2_HI;
  r = r - kf * TN_LN2_LO;
  p = TN_P7;
  p = p * r + TN_P6;
  p = p * r + TN_P5;
  p = p * r + TN_P4;
  p = p * r + TN_P3;
  p = p * r + TN_P2;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return tn_ldexpf(p, (int32_t)kf);
}

int8_t tn_quant_i8(float v) {
  if (v != v) return 0;
  if (v > 127.0f) v = 127.0f;
  else if (v < -127.0f) v = -127.0f;
  return (int8_t)(int32_t)tn_rintf(v);
}

/*
 * tn_exp_neon.h - internal to runtime-c (README.md): tn_expf (ref/tn_math.c) on 4 lanes with AArch64
 * NEON, bit for bit: the steps of tn_exp_avx2.h lane by lane. For the NEON kernels that need the
 * exponential (attention's softmax, SwiGLU's gate); include it after <arm_neon.h>, on AArch64 only
 * (ARMv7 NEON flushes subnormals). Tested through tn_expf_neon (test/lm-attention.test.ts).
 */
#ifndef TN_EXP_NEON_H
#define TN_EXP_NEON_H

#include <arm_neon.h>

static inline __attribute__((always_inline)) float32x4_t tn_exp4(float32x4_t x) {
  const uint32x4_t num = vceqq_f32(x, x);                          /* not NaN */
  const uint32x4_t big = vcgtq_f32(x, vdupq_n_f32(0x1.62e42ep+6f));   /* TN_EXP_MAX: +inf */
  const uint32x4_t small = vcltq_f32(x, vdupq_n_f32(-0x1.9fe36ap+6f)); /* TN_EXP_MIN: +0 */
  const uint32x4_t out = vorrq_u32(vmvnq_u32(num), vorrq_u32(big, small));
  const float32x4_t xs = vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(x), out)); /* those lanes compute from +0 */
  const float32x4_t two23 = vdupq_n_f32(0x1p+23f);
  const float32x4_t t = vmulq_f32(xs, vdupq_n_f32(0x1.715476p+0f)); /* x log2(e), |t| <= 150.1 */
  /* tn_rintf: t >= 0 (+-0 too): (t + 2^23) - 2^23, else (t - 2^23) + 2^23 */
  const float32x4_t kf = vbslq_f32(vcgeq_f32(t, vdupq_n_f32(0.0f)), vsubq_f32(vaddq_f32(t, two23), two23), vaddq_f32(vsubq_f32(t, two23), two23));
  float32x4_t r = vsubq_f32(xs, vmulq_f32(kf, vdupq_n_f32(0x1.62e4p-1f))); /* ln2, high part: exact product */
  float32x4_t p = vdupq_n_f32(0x1.a01a02p-13f);
  int32x4_t k, ea, eb;
  uint32x4_t hi, lo;
  r = vsubq_f32(r, vmulq_f32(kf, vdupq_n_f32(0x1.7f7d1cp-20f))); /* ln2, low part */
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(0x1.6c16c2p-10f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(0x1.111112p-7f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(0x1.555556p-5f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(0x1.555556p-3f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(0x1p-1f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.0f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.0f));
  /* tn_ldexpf(p, k), -150 <= k <= 128, as (p * 2^a) * 2^b: k > 127: a = 1, b = k - 1;
   * k < -126: a = k + 64, b = -64; else a = k, b = 0 (the multiply by 1 is exact) */
  k = vcvtq_s32_f32(kf); /* kf is an integer: exact */
  hi = vcgtq_s32(k, vdupq_n_s32(127));
  lo = vcltq_s32(k, vdupq_n_s32(-126));
  ea = vbslq_s32(hi, vdupq_n_s32(127 + 1), vbslq_s32(lo, vaddq_s32(k, vdupq_n_s32(127 + 64)), vaddq_s32(k, vdupq_n_s32(127))));
  eb = vbslq_s32(hi, vaddq_s32(k, vdupq_n_s32(127 - 1)), vbslq_s32(lo, vdupq_n_s32(127 - 64), vdupq_n_s32(127)));
  p = vmulq_f32(vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(ea, 23))), vreinterpretq_f32_s32(vshlq_n_s32(eb, 23)));
  p = vbslq_f32(big, vreinterpretq_f32_u32(vdupq_n_u32(0x7f800000u)), p);
  p = vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(p), small));
  return vbslq_f32(num, p, x); /* NaN: x itself */
}

#endif /* TN_EXP_NEON_H */

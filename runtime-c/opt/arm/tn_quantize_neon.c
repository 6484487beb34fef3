/*
 * tn_quantize_neon.c - the int8 activation quantiser (tn_runtime.h, tn_quantize_i8: symmetric
 * absmax per row, docs/numerics.md "QuantizeInt8") with AArch64 NEON, with the results of the
 * reference (ref/tn_quantize.c) bit for bit: the same codes and the same scales.
 *
 * - amax: |x| (FABS) replaces a lane where it compares greater (FCMGT then BSL: not FMAX, which
 *   would return a NaN), so a NaN never replaces a lane, as in the reference; every lane starts at +0
 *   and only ever holds +0 or a larger |x| (no NaN, no -0), so the maximum does not depend on the
 *   order of the comparisons: it is the reference's value (+inf included).
 * - The floor, scale = amax / 127 and inv = 127 / amax: scalar, the reference's lines.
 * - Codes: v = fl(x * inv) (FMUL); NaN -> +0 (masked); clamped to [-127, 127] (FMIN, FMAX);
 *   rounded to nearest, ties to even, and converted (FCVTNS: tn_rintf's result for |v| <= 127);
 *   narrowed with saturation (the values fit: nothing saturates). 16 codes per step, then 4, then the
 *   reference's tn_quant_i8 for the last cols mod 4.
 *
 * AArch64 only (ARMv7 NEON flushes subnormals, and has no FCVTNS): elsewhere the reference.
 *
 * The prototype is in tn_runtime.h (the reference's signature with the suffix _neon).
 */
#include <stddef.h>

#include "tn_runtime.h"
#include "tn_math.h"

#define TN_ACT_AMAX_FLOOR 0x1.4f8b58p-17f /* 1e-5f, as ref/tn_quantize.c */

#if defined(__aarch64__) && defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
#include <arm_neon.h>

#define TN_ALWAYS_INLINE inline __attribute__((always_inline))

/* 4 codes of v = x * inv as int32 lanes. */
static TN_ALWAYS_INLINE int32x4_t tn_codes4(float32x4_t x, float32x4_t inv) {
  float32x4_t v = vmulq_f32(x, inv);
  v = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), vceqq_f32(v, v))); /* NaN -> +0 */
  v = vmaxq_f32(vminq_f32(v, vdupq_n_f32(127.0f)), vdupq_n_f32(-127.0f));
  return vcvtnq_s32_f32(v);
}

/* a replaces the lanes of m where it is greater. */
static TN_ALWAYS_INLINE float32x4_t tn_gt_max(float32x4_t a, float32x4_t m) { return vbslq_f32(vcgtq_f32(a, m), a, m); }

void tn_quantize_i8_neon(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols) {
  int32_t r, i;
  for (r = 0; r < rows; ++r) {
    const float *xr = x + (size_t)r * (size_t)cols;
    int8_t *qr = q + (size_t)r * (size_t)cols;
    float32x4_t m0 = vdupq_n_f32(0.0f), m1 = m0, m2 = m0, m3 = m0, inv4;
    float lanes[4], amax = 0.0f, inv;
    /* amax */
    for (i = 0; i + 16 <= cols; i += 16) {
      m0 = tn_gt_max(vabsq_f32(vld1q_f32(xr + i)), m0);
      m1 = tn_gt_max(vabsq_f32(vld1q_f32(xr + i + 4)), m1);
      m2 = tn_gt_max(vabsq_f32(vld1q_f32(xr + i + 8)), m2);
      m3 = tn_gt_max(vabsq_f32(vld1q_f32(xr + i + 12)), m3);
    }
    for (; i + 4 <= cols; i += 4) m0 = tn_gt_max(vabsq_f32(vld1q_f32(xr + i)), m0);
    vst1q_f32(lanes, tn_gt_max(tn_gt_max(m0, m1), tn_gt_max(m2, m3)));
    for (; i < cols; ++i) {
      const float a = xr[i] < 0.0f ? -xr[i] : xr[i];
      if (a > amax) amax = a; /* NaN never compares greater, so it is skipped */
    }
    for (i = 0; i < 4; ++i)
      if (lanes[i] > amax) amax = lanes[i];
    /* the reference's scale and inverse */
    if (!(amax >= TN_ACT_AMAX_FLOOR)) amax = TN_ACT_AMAX_FLOOR;
    scale[r] = amax / 127.0f;
    inv = 127.0f / amax;
    inv4 = vdupq_n_f32(inv);
    /* codes */
    for (i = 0; i + 16 <= cols; i += 16) {
      const int16x8_t a = vcombine_s16(vqmovn_s32(tn_codes4(vld1q_f32(xr + i), inv4)), vqmovn_s32(tn_codes4(vld1q_f32(xr + i + 4), inv4)));
      const int16x8_t b = vcombine_s16(vqmovn_s32(tn_codes4(vld1q_f32(xr + i + 8), inv4)), vqmovn_s32(tn_codes4(vld1q_f32(xr + i + 12), inv4)));
      vst1q_s8(qr + i, vcombine_s8(vqmovn_s16(a), vqmovn_s16(b)));
    }
    for (; i + 4 <= cols; i += 4) {
      const int16x4_t c = vqmovn_s32(tn_codes4(vld1q_f32(xr + i), inv4));
      int16_t w[4];
      int t;
      vst1_s16(w, c);
      for (t = 0; t < 4; ++t) qr[i + t] = (int8_t)w[t];
    }
    for (; i < cols; ++i) qr[i] = tn_quant_i8(xr[i] * inv);
  }
}

#else /* ARMv7 or no NEON: the reference */

void tn_quantize_i8_neon(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols) { tn_quantize_i8(x, q, scale, rows, cols); }

#endif

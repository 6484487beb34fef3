/*
 * tn_gated_neon.c - GatedAct's SwiGLU gate (tn_lm.h) with AArch64 NEON, the reference's results
 * (ref/tn_lm.c, tn_gated_silu_f32) bit for bit, as tn_gated_avx2.c: y = fl(fl(g / fl(1 + expf(-g))) *
 * u), 4 elements at a time: FNEG, tn_exp4 (tn_exp_neon.h), FADD, FDIV (IEEE division: tn_divf's
 * result on this float unit), FMUL (never fused: -ffp-contract=off); the last n mod 4 elements by the
 * reference's own expression. AArch64 only (ARMv7 NEON flushes subnormals): elsewhere the reference.
 */
#include <stddef.h>

#include "tn_lm.h"
#include "tn_math.h"

#if defined(__aarch64__) && defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
#include <arm_neon.h>

#include "tn_exp_neon.h"

void tn_gated_silu_f32_neon(const float *g, const float *u, int32_t n, int32_t width, float *y) {
  const size_t count = (size_t)n * (size_t)width;
  const float32x4_t one = vdupq_n_f32(1.0f);
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    const float32x4_t gv = vld1q_f32(g + i);
    const float32x4_t d = vaddq_f32(one, tn_exp4(vnegq_f32(gv)));
    vst1q_f32(y + i, vmulq_f32(vdivq_f32(gv, d), vld1q_f32(u + i)));
  }
  for (; i < count; ++i) y[i] = tn_divf(g[i], 1.0f + tn_expf(-g[i])) * u[i];
}

#else /* not AArch64 (this file is only chosen for AArch64 targets): the reference */

void tn_gated_silu_f32_neon(const float *g, const float *u, int32_t n, int32_t width, float *y) { tn_gated_silu_f32(g, u, n, width, y); }

#endif

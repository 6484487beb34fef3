/*
 * tn_gated_avx2.c - GatedAct's SwiGLU gate (tn_lm.h) with AVX2, the reference's results (ref/tn_lm.c,
 * tn_gated_silu_f32) bit for bit: y = fl(fl(g / fl(1 + expf(-g))) * u), 8 elements at a time: -g by
 * flipping the sign bit (exact, as the reference's negation), expf by tn_exp8 (tn_exp_avx2.h, tn_expf's
 * steps lane by lane), VADDPS, VDIVPS (IEEE division: tn_divf's result on this float unit; tn_divf
 * recomputes only subnormal quotients, for soft-float libraries that get them wrong), VMULPS; the
 * last n mod 8 elements by the reference's own expression. Without AVX2 (CPUID), the reference.
 */
#include <stddef.h>

#include "tn_lm.h"
#include "tn_math.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "tn_x86.h"
#include "tn_exp_avx2.h"

__attribute__((target("avx2"))) static void tn_silu_simd(const float *g, const float *u, size_t count, float *y) {
  const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 gv = _mm256_loadu_ps(g + i);
    const __m256 d = _mm256_add_ps(one, tn_exp8(_mm256_xor_ps(gv, sign)));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_div_ps(gv, d), _mm256_loadu_ps(u + i)));
  }
  for (; i < count; ++i) y[i] = tn_divf(g[i], 1.0f + tn_expf(-g[i])) * u[i];
}

void tn_gated_silu_f32_avx2(const float *g, const float *u, int32_t n, int32_t width, float *y) {
  static int state; /* 0: not asked yet, 1: AVX2, 2: none (chosen once: a benign race at worst) */
  if (state == 0) state = (tn_x86_cpu() & TN_X86_AVX2) ? 1 : 2;
  if (state == 1) tn_silu_simd(g, u, (size_t)n * (size_t)width, y);
  else tn_gated_silu_f32(g, u, n, width, y);
}

#else /* not x86 (this file is only chosen for x86 targets): the reference */

void tn_gated_silu_f32_avx2(const float *g, const float *u, int32_t n, int32_t width, float *y) { tn_gated_silu_f32(g, u, n, width, y); }

#endif

/*
 * tn_exp_avx2.h - internal to runtime-c (README.md): tn_expf (ref/tn_math.c) on 8 lanes with AVX2, bit
 * for bit: the same steps lane by lane (the rintf of x log2(e) by adding and subtracting 2^23 on the
 * sign of its argument, the two-part reduction, Horner's polynomial, p * 2^k as tn_ldexpf's one, or
 * two, multiplies by powers of two). For the x86 kernels that need the exponential (attention's
 * softmax, SwiGLU's gate); include it after <immintrin.h>, on x86 with GCC or clang. Tested through
 * tn_expf_avx2 (test/lm-attention.test.ts) on specials, every branch's edges and random bits.
 */
#ifndef TN_EXP_AVX2_H
#define TN_EXP_AVX2_H

#include <immintrin.h>

__attribute__((target("avx2"))) static inline __attribute__((always_inline)) __m256 tn_exp8(__m256 x) {
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 big = _mm256_cmp_ps(x, _mm256_set1_ps(0x1.62e42ep+6f), _CMP_GT_OQ);    /* TN_EXP_MAX: +inf */
  const __m256 small = _mm256_cmp_ps(x, _mm256_set1_ps(-0x1.9fe36ap+6f), _CMP_LT_OQ); /* TN_EXP_MIN: +0 */
  const __m256 xs = _mm256_andnot_ps(_mm256_or_ps(_mm256_or_ps(nan, big), small), x); /* those lanes compute from +0 */
  const __m256 two23 = _mm256_set1_ps(0x1p+23f);
  const __m256 t = _mm256_mul_ps(xs, _mm256_set1_ps(0x1.715476p+0f)); /* x log2(e), |t| <= 150.1 */
  /* tn_rintf: t >= 0 (+-0 too): (t + 2^23) - 2^23, else (t - 2^23) + 2^23 */
  const __m256 kf = _mm256_blendv_ps(_mm256_add_ps(_mm256_sub_ps(t, two23), two23), _mm256_sub_ps(_mm256_add_ps(t, two23), two23),
                                     _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_GE_OQ));
  __m256 r = _mm256_sub_ps(xs, _mm256_mul_ps(kf, _mm256_set1_ps(0x1.62e4p-1f))); /* ln2, high part: exact product */
  __m256 p = _mm256_set1_ps(0x1.a01a02p-13f);
  __m256i k, hi, lo, ea, eb;
  r = _mm256_sub_ps(r, _mm256_mul_ps(kf, _mm256_set1_ps(0x1.7f7d1cp-20f))); /* ln2, low part */
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0x1.6c16c2p-10f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0x1.111112p-7f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0x1.555556p-5f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0x1.555556p-3f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0x1p-1f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
  /* tn_ldexpf(p, k), -150 <= k <= 128, as (p * 2^a) * 2^b: k > 127: a = 1, b = k - 1;
   * k < -126: a = k + 64, b = -64; else a = k, b = 0 (the multiply by 1 is exact) */
  k = _mm256_cvttps_epi32(kf); /* kf is an integer: exact */
  hi = _mm256_cmpgt_epi32(k, _mm256_set1_epi32(127));
  lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(-126), k);
  ea = _mm256_blendv_epi8(_mm256_blendv_epi8(_mm256_add_epi32(k, _mm256_set1_epi32(127)), _mm256_add_epi32(k, _mm256_set1_epi32(127 + 64)), lo),
                          _mm256_set1_epi32(127 + 1), hi);
  eb = _mm256_blendv_epi8(_mm256_blendv_epi8(_mm256_set1_epi32(127), _mm256_set1_epi32(127 - 64), lo), _mm256_add_epi32(k, _mm256_set1_epi32(127 - 1)), hi);
  p = _mm256_mul_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(ea, 23))), _mm256_castsi256_ps(_mm256_slli_epi32(eb, 23)));
  p = _mm256_blendv_ps(p, _mm256_castsi256_ps(_mm256_set1_epi32(0x7f800000)), big);
  p = _mm256_andnot_ps(small, p);
  return _mm256_blendv_ps(p, x, nan); /* NaN: x itself */
}

#endif /* TN_EXP_AVX2_H */

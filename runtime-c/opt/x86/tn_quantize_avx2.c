/*
 * tn_quantize_avx2.c - the int8 activation quantiser (tn_runtime.h, tn_quantize_i8: symmetric
 * absmax per row, docs/numerics.md "QuantizeInt8") on x86-64 with AVX2, with the results of the
 * reference (ref/tn_quantize.c) bit for bit: the same codes and the same scales.
 *
 * - amax: VMAXPS of |x| (the sign bit cleared) into 4 accumulators, then their lanes. VMAXPS(a, m)
 *   is `a > m ? a : m`, so a NaN never replaces a lane, as in the reference; every lane starts at +0
 *   and only ever holds +0 or a larger |x| (no NaN, no -0), so the maximum does not depend on the
 *   order of the comparisons: it is the reference's value (+inf included).
 * - The floor, scale = amax / 127 and inv = 127 / amax: scalar, the reference's lines.
 * - Codes: v = fl(x * inv) (VMULPS); NaN -> +0 (masked); clamped to [-127, 127] (VMINPS, VMAXPS);
 *   rounded to nearest, ties to even (VROUNDPS with the rounding mode in the instruction, which is
 *   tn_rintf's result for |v| <= 127), converted exactly (VCVTTPS2DQ) and packed with saturation
 *   (the values fit: nothing saturates). 32 codes per step, then 8, then the reference's
 *   tn_quant_i8 for the last cols mod 8.
 *
 * Run-time dispatch as in tn_linear_avx2.c (AVX2 and OS support for the YMM state, by CPUID);
 * elsewhere the reference runs. -DTN_QUANTIZE_FORCE_REF takes the fallback on any CPU
 * (test/lm-attention.test.ts).
 *
 * The prototype is in tn_runtime.h (the reference's signature with the suffix _avx2).
 */
#include <stddef.h>

#include "tn_runtime.h"
#include "tn_math.h"

#define TN_ACT_AMAX_FLOOR 0x1.4f8b58p-17f /* 1e-5f, as ref/tn_quantize.c */

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "tn_x86.h"

#define TN_AVX2 __attribute__((target("avx2")))
#define TN_ALWAYS_INLINE inline __attribute__((always_inline))

/* 8 codes of v = x * inv as int32 lanes. */
TN_AVX2 static TN_ALWAYS_INLINE __m256i tn_codes8(__m256 x, __m256 inv) {
  __m256 v = _mm256_mul_ps(x, inv);
  v = _mm256_andnot_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), v); /* NaN -> +0 */
  v = _mm256_max_ps(_mm256_min_ps(v, _mm256_set1_ps(127.0f)), _mm256_set1_ps(-127.0f));
  return _mm256_cvttps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

TN_AVX2 static void tn_quantize_i8_simd(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  int32_t r, i;
  for (r = 0; r < rows; ++r) {
    const float *xr = x + (size_t)r * (size_t)cols;
    int8_t *qr = q + (size_t)r * (size_t)cols;
    __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0, inv8;
    float lanes[8], amax = 0.0f, inv;
    /* amax */
    for (i = 0; i + 32 <= cols; i += 32) {
      m0 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xr + i), abs_mask), m0);
      m1 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xr + i + 8), abs_mask), m1);
      m2 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xr + i + 16), abs_mask), m2);
      m3 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xr + i + 24), abs_mask), m3);
    }
    for (; i + 8 <= cols; i += 8) m0 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xr + i), abs_mask), m0);
    _mm256_storeu_ps(lanes, _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
    for (; i < cols; ++i) {
      const float a = xr[i] < 0.0f ? -xr[i] : xr[i];
      if (a > amax) amax = a; /* NaN never compares greater, so it is skipped */
    }
    for (i = 0; i < 8; ++i)
      if (lanes[i] > amax) amax = lanes[i];
    /* the reference's scale and inverse */
    if (!(amax >= TN_ACT_AMAX_FLOOR)) amax = TN_ACT_AMAX_FLOOR;
    scale[r] = amax / 127.0f;
    inv = 127.0f / amax;
    inv8 = _mm256_set1_ps(inv);
    /* codes */
    for (i = 0; i + 32 <= cols; i += 32) {
      const __m256i c0 = tn_codes8(_mm256_loadu_ps(xr + i), inv8), c1 = tn_codes8(_mm256_loadu_ps(xr + i + 8), inv8);
      const __m256i c2 = tn_codes8(_mm256_loadu_ps(xr + i + 16), inv8), c3 = tn_codes8(_mm256_loadu_ps(xr + i + 24), inv8);
      /* packs work per 128-bit half: [c0 0-3, c1 0-3, c2 0-3, c3 0-3 | c0 4-7, c1 4-7, ...] in bytes */
      const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(c0, c1), _mm256_packs_epi32(c2, c3));
      _mm256_storeu_si256((__m256i *)(void *)(qr + i), _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
    for (; i + 8 <= cols; i += 8) {
      const __m256i c = tn_codes8(_mm256_loadu_ps(xr + i), inv8);
      const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
      _mm_storel_epi64((__m128i *)(void *)(qr + i), _mm_packs_epi16(w, w));
    }
    for (; i < cols; ++i) qr[i] = tn_quant_i8(xr[i] * inv);
  }
}

/* 1 if this CPU runs the SIMD code (AVX2, tn_x86_cpu), chosen once (a benign race at worst). */
static int tn_quantize_avx2_ok(void) {
  static int state; /* 0: not asked yet, 1: yes, 2: no */
  if (state == 0) {
    const unsigned want = TN_X86_AVX2;
    int ok = (tn_x86_cpu() & want) == want;
#ifdef TN_QUANTIZE_FORCE_REF
    ok = 0; /* the test build of the fallback */
#endif
    state = ok ? 1 : 2;
  }
  return state == 1;
}

void tn_quantize_i8_avx2(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols) {
  if (tn_quantize_avx2_ok()) tn_quantize_i8_simd(x, q, scale, rows, cols);
  else tn_quantize_i8(x, q, scale, rows, cols);
}

#else /* not x86 (this file is only chosen for x86 targets): the reference */

void tn_quantize_i8_avx2(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols) { tn_quantize_i8(x, q, scale, rows, cols); }

#endif

/*
 * tn_int8_linear_avx2.c - Int8Linear (tn_lm.h) on x86-64: int8 activation codes times int8 weight
 * codes, with the reference's results (ref/tn_int8_linear.c) bit for bit: the sums of a scale group
 * are exact integers, whatever the order, and the float steps after them are the reference's own.
 *
 * A pass takes 4 rows (the last pass repeats its last row, computed and not stored) and, for each
 * token, reads each 32-byte run of x once for the 4 rows. Per 32 weights of a row:
 * - VNNI (AVX-VNNI or AVX512-VNNI with AVX512VL, 256-bit): VPDPBUSD takes unsigned bytes times
 *   signed ones, so the weights go in as u = w XOR 0x80 = w + 128 (0..255) and x as it is; the pass
 *   also sums x (VPDPBUSD of bytes 1 by x, shared by its rows), and acc = sum u x - 128 sum x.
 *   3 operations (load, xor, dot) per row and run.
 * - AVX2: VPMADDUBSW(|w|, sign(x, w)) adds pairs of products |w| * (x sign(w)) = w x into int16
 *   lanes: |w| <= 128 (unsigned, -128 included) and |x| <= 127 (the compiler checks), so a pair is at
 *   most 2 * 128 * 127 = 32512 < 2^15 and never saturates; VPMADDWD by 1 widens the pairs to int32.
 *   6 operations per row and run.
 * The int32 lanes wrap harmlessly: every step is exact modulo 2^32, and the final sum, which the
 * compiler proved to fit int32 (|acc| <= group * 128 * 127), is the exact result. A group's columns
 * past its last whole run of 32 are added one by one.
 *
 * Run-time dispatch (tn_x86.h): VNNI where the CPU has it, else AVX2, else the reference. For tests,
 * tn_int8_linear_avx2_variant runs a chosen one, VPDPBUSD emulated in AVX2 among them.
 */
#include <stddef.h>

#include "tn_lm.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "tn_x86.h"

#define TN_AVX2 __attribute__((target("avx2")))
#define TN_LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

/* The columns from j on, one at a time, added to the vector part (unsigned: wraps, exact mod 2^32). */
static inline int32_t tn_i8_finish(uint32_t vec, const int8_t *w, const int8_t *x, int32_t j, int32_t len) {
  for (; j < len; ++j) vec += (uint32_t)((int32_t)w[j] * (int32_t)x[j]);
  return (int32_t)vec;
}

/* AVX2: VPMADDUBSW on |w| and x with w's sign, VPMADDWD by 1 into int32. */
TN_AVX2 static void tn_i8_group4_avx2(const int8_t *const *w, const int8_t *x, int32_t len, int32_t *acc) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i a[4];
  int32_t j = 0, q;
  for (q = 0; q < 4; ++q) a[q] = _mm256_setzero_si256();
  for (; j + 32 <= len; j += 32) {
    const __m256i xv = TN_LD(x + j);
    for (q = 0; q < 4; ++q) {
      const __m256i wv = TN_LD(w[q] + j);
      const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
      a[q] = _mm256_add_epi32(a[q], _mm256_madd_epi16(p, ones));
    }
  }
  for (q = 0; q < 4; ++q) acc[q] = tn_i8_finish(tn_hsum8_u32(a[q]), w[q], x, j, len);
}

/* VNNI: VPDPBUSD(w + 128, x), less 128 times the sum of x (VPDPBUSD(1, x)). */
#define TN_I8_VNNI_GROUP4(NAME, TARGET, DP)                                                                   \
  TARGET static void NAME(const int8_t *const *w, const int8_t *x, int32_t len, int32_t *acc) {               \
    const __m256i flip = _mm256_set1_epi8((char)0x80), one = _mm256_set1_epi8(1);                             \
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, sx = a0;                                  \
    uint32_t corr;                                                                                            \
    int32_t j = 0;                                                                                            \
    for (; j + 32 <= len; j += 32) {                                                                          \
      const __m256i xv = TN_LD(x + j);                                                                        \
      sx = DP(sx, one, xv);                                                                                   \
      a0 = DP(a0, _mm256_xor_si256(TN_LD(w[0] + j), flip), xv);                                               \
      a1 = DP(a1, _mm256_xor_si256(TN_LD(w[1] + j), flip), xv);                                               \
      a2 = DP(a2, _mm256_xor_si256(TN_LD(w[2] + j), flip), xv);                                               \
      a3 = DP(a3, _mm256_xor_si256(TN_LD(w[3] + j), flip), xv);                                               \
    }                                                                                                         \
    corr = tn_hsum8_u32(sx) * 128u;                                                                           \
    acc[0] = tn_i8_finish(tn_hsum8_u32(a0) - corr, w[0], x, j, len);                                          \
    acc[1] = tn_i8_finish(tn_hsum8_u32(a1) - corr, w[1], x, j, len);                                          \
    acc[2] = tn_i8_finish(tn_hsum8_u32(a2) - corr, w[2], x, j, len);                                          \
    acc[3] = tn_i8_finish(tn_hsum8_u32(a3) - corr, w[3], x, j, len);                                          \
  }

#if TN_CC_AVXVNNI
TN_I8_VNNI_GROUP4(tn_i8_group4_avxvnni, TN_TARGET_AVXVNNI, TN_DP_AVXVNNI)
#endif
#if TN_CC_AVX512VNNI
TN_I8_VNNI_GROUP4(tn_i8_group4_avx512vnni, TN_TARGET_AVX512VNNI, TN_DP_AVX512VNNI)
#endif
TN_I8_VNNI_GROUP4(tn_i8_group4_vnni_emulated, TN_AVX2, tn_dpbusd_emulated)

/* The group kernel of variant v (tn_int8_linear_avx2_variant), or NULL where this CPU or compiler has none. */
static tn_int8_group4_fn tn_i8_variant(int v) {
  const unsigned f = tn_x86_cpu();
  if (!(f & TN_X86_AVX2)) return NULL;
  if (v == 1) return tn_i8_group4_avx2;
  if (v == 2) return tn_i8_group4_vnni_emulated;
#if TN_CC_AVXVNNI
  if (v == 3 && (f & TN_X86_AVXVNNI)) return tn_i8_group4_avxvnni;
#endif
#if TN_CC_AVX512VNNI
  if (v == 3 && (f & TN_X86_AVX512VNNI)) return tn_i8_group4_avx512vnni;
#endif
  return NULL;
}

void tn_int8_linear_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                         int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  static tn_int8_group4_fn dot;
  static int picked; /* chosen once: the CPU does not change (a benign race at worst) */
  if (!picked) {
    dot = tn_i8_variant(3);
    if (!dot) dot = tn_i8_variant(1);
    picked = 1;
  }
  if (dot) tn_int8_linear_rows4(dot, x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y);
  else tn_int8_linear(x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y);
}

int tn_int8_linear_avx2_variant(int variant, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales,
                                int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  tn_int8_group4_fn dot;
  if (variant == 0) {
    tn_int8_linear(x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y);
    return 0;
  }
  dot = tn_i8_variant(variant);
  if (!dot) return -1;
  tn_int8_linear_rows4(dot, x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y);
  return 0;
}

#else /* not x86: the reference (this file is only chosen for x86 targets) */

void tn_int8_linear_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                         int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  tn_int8_linear(x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y);
}

int tn_int8_linear_avx2_variant(int variant, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales,
                                int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  if (variant != 0) return -1;
  tn_int8_linear(x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y);
  return 0;
}

#endif

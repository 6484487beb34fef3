/*
 * tn_t2b_avx2.c - ternary linear layer on x86-64 with AVX2, weight format t2b (tn_runtime.h).
 *
 * A 32-byte load of t2b codes holds 128 offset codes u = w + 1 in {0, 1, 2}: field f (bits 2f+1:2f)
 * of byte m is code m + 32 f, so the four fields pair with four contiguous 32-byte runs of x.
 * VPMADDUBSW multiplies the unsigned fields by the signed activations and adds pairs into int16:
 * per block of 128 codes each int16 lane receives 8 products u * x in [-256, 254], so 16 blocks
 * stay within [-32768, 32512]: the int16 sums are widened to int32 (VPMADDWD by 1) every 16 blocks
 * (2048 codes), whatever K is. (bitnet.cpp's I2_S widens only every 32 blocks of 128 and wraps;
 * ../shared/reference/ternary-kernels.md 1.4.) The int32 sums may wrap for huge K, which is harmless:
 * every step is exact mod 2^32 and the final sum u x - sum x is the exact result, which the compiler
 * proved fits int32 (flush). Partial blocks (a scale group or K not a multiple of 128) use a copy of
 * x with zeros outside the range.
 *
 * GEMV: 4 rows per pass share the activation loads. GEMM (several tokens): each row's codes are
 * decoded once per block for up to 4 tokens.
 *
 * The AVX2 code is compiled with a target attribute and chosen at run time (the generated Makefile
 * uses plain -O2, and the program may run on another machine): without AVX2 the portable dot runs.
 */
#include "tn_runtime.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define TN_AVX2 __attribute__((target("avx2")))
#define TN_INLINE static inline __attribute__((always_inline))

/* The four fields of 32 code bytes. */
#define TN_FIELDS(c, f0, f1, f2, f3, m3)            \
  do {                                               \
    f0 = _mm256_and_si256(c, m3);                    \
    f1 = _mm256_and_si256(_mm256_srli_epi16(c, 2), m3); \
    f2 = _mm256_and_si256(_mm256_srli_epi16(c, 4), m3); \
    f3 = _mm256_and_si256(_mm256_srli_epi16(c, 6), m3); \
  } while (0)

/* Blocks b0 .. b1-1 of NR rows (codes0 + r * row_bytes + 32 b) times NT token vectors (x + t * ldx +
 * 128 (b - b0)), added to a32[r * NT + t] (8 int32 lanes each). */
TN_AVX2 TN_INLINE void tn_t2b_blocks(const uint8_t *codes0, size_t row_bytes, const int NR, const int8_t *x, size_t ldx, const int NT,
                                     int32_t b0, int32_t b1, __m256i *a32) {
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i ones = _mm256_set1_epi16(1);
  int32_t b = b0;
  while (b < b1) {
    const int32_t e = b1 - b > 16 ? b + 16 : b1; /* at most 16 blocks in int16 */
    __m256i s[16];
    int i, r, t;
    for (i = 0; i < NR * NT; ++i) s[i] = _mm256_setzero_si256();
    for (; b < e; ++b) {
      for (r = 0; r < NR; ++r) {
        const __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(codes0 + (size_t)r * row_bytes + (size_t)b * 32));
        __m256i f0, f1, f2, f3;
        TN_FIELDS(c, f0, f1, f2, f3, m3);
        for (t = 0; t < NT; ++t) {
          const int8_t *xb = x + (size_t)t * ldx + (size_t)(b - b0) * 128;
          const __m256i p0 = _mm256_maddubs_epi16(f0, _mm256_loadu_si256((const __m256i *)(const void *)xb));
          const __m256i p1 = _mm256_maddubs_epi16(f1, _mm256_loadu_si256((const __m256i *)(const void *)(xb + 32)));
          const __m256i p2 = _mm256_maddubs_epi16(f2, _mm256_loadu_si256((const __m256i *)(const void *)(xb + 64)));
          const __m256i p3 = _mm256_maddubs_epi16(f3, _mm256_loadu_si256((const __m256i *)(const void *)(xb + 96)));
          s[r * NT + t] = _mm256_add_epi16(_mm256_add_epi16(s[r * NT + t], _mm256_add_epi16(p0, p1)), _mm256_add_epi16(p2, p3));
        }
      }
    }
    for (i = 0; i < NR * NT; ++i) a32[i] = _mm256_add_epi32(a32[i], _mm256_madd_epi16(s[i], ones));
  }
}

TN_AVX2 TN_INLINE int32_t tn_hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

/* One range [k0, k1) for NR rows and NT tokens: partial first / last blocks through zero-padded
 * copies of x, whole blocks in place. */
TN_AVX2 TN_INLINE void tn_t2b_range(const uint8_t *codes0, size_t row_bytes, const int NR, const int8_t *x, size_t k, const int NT,
                                    int32_t k0, int32_t k1, __m256i *a32) {
  int32_t bf = k0 / 128, bl = (k1 - 1) / 128; /* first and last block touched */
  int t;
  if (k0 % 128 != 0 || (bf == bl && k1 % 128 != 0)) { /* partial first block */
    int8_t xc[4][128] __attribute__((aligned(32)));
    const int32_t e = bf == bl ? k1 : (bf + 1) * 128;
    int32_t i;
    for (t = 0; t < NT; ++t)
      for (i = 0; i < 128; ++i) xc[t][i] = (bf * 128 + i >= k0 && bf * 128 + i < e) ? x[(size_t)t * k + (size_t)(bf * 128 + i)] : 0;
    tn_t2b_blocks(codes0, row_bytes, NR, &xc[0][0], 128, NT, bf, bf + 1, a32);
    if (bf == bl) return;
    ++bf;
  }
  if (k1 % 128 != 0) { /* partial last block */
    int8_t xc[4][128] __attribute__((aligned(32)));
    int32_t i;
    for (t = 0; t < NT; ++t)
      for (i = 0; i < 128; ++i) xc[t][i] = bl * 128 + i < k1 ? x[(size_t)t * k + (size_t)(bl * 128 + i)] : 0;
    tn_t2b_blocks(codes0, row_bytes, NR, &xc[0][0], 128, NT, bl, bl + 1, a32);
    --bl;
  }
  if (bf <= bl) tn_t2b_blocks(codes0, row_bytes, NR, x + (size_t)bf * 128, k, NT, bf, bl + 1, a32);
}

TN_AVX2 static void tn_t2b_dot_avx2(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok,
                                    int32_t k0, int32_t k1, int32_t *acc) {
  const size_t row_bytes = (size_t)32 * (size_t)((w->k + 127) / 128);
  const uint8_t *rows0 = w->codes + ((size_t)p * (size_t)w->n + (size_t)n0) * row_bytes;
  const size_t K = (size_t)w->k;
  __m256i a32[4];
  int32_t xs[4], r, t;
  for (t = 0; t < ntok; ++t) xs[t] = tn_t2b_xsum(w, x, t, k0, k1);
  if (ntok == 1) {
    for (r = 0; r + 4 <= nrows; r += 4) {
      a32[0] = a32[1] = a32[2] = a32[3] = _mm256_setzero_si256();
      tn_t2b_range(rows0 + (size_t)r * row_bytes, row_bytes, 4, x, K, 1, k0, k1, a32);
      acc[r] = (int32_t)((uint32_t)tn_hsum_epi32(a32[0]) - (uint32_t)xs[0]);
      acc[r + 1] = (int32_t)((uint32_t)tn_hsum_epi32(a32[1]) - (uint32_t)xs[0]);
      acc[r + 2] = (int32_t)((uint32_t)tn_hsum_epi32(a32[2]) - (uint32_t)xs[0]);
      acc[r + 3] = (int32_t)((uint32_t)tn_hsum_epi32(a32[3]) - (uint32_t)xs[0]);
    }
    for (; r < nrows; ++r) {
      a32[0] = _mm256_setzero_si256();
      tn_t2b_range(rows0 + (size_t)r * row_bytes, row_bytes, 1, x, K, 1, k0, k1, a32);
      acc[r] = (int32_t)((uint32_t)tn_hsum_epi32(a32[0]) - (uint32_t)xs[0]);
    }
    return;
  }
  /* GEMM: each row's codes decoded once per block for all tokens of the block (up to 4). */
  for (r = 0; r < nrows; ++r) {
    a32[0] = a32[1] = a32[2] = a32[3] = _mm256_setzero_si256();
    if (ntok == 4) tn_t2b_range(rows0 + (size_t)r * row_bytes, row_bytes, 1, x, K, 4, k0, k1, a32);
    else if (ntok == 3) tn_t2b_range(rows0 + (size_t)r * row_bytes, row_bytes, 1, x, K, 3, k0, k1, a32);
    else tn_t2b_range(rows0 + (size_t)r * row_bytes, row_bytes, 1, x, K, 2, k0, k1, a32);
    for (t = 0; t < ntok; ++t) acc[t * nrows + r] = (int32_t)((uint32_t)tn_hsum_epi32(a32[t]) - (uint32_t)xs[t]);
  }
}

/* AVX2 usable: the CPU has it (CPUID.7.0:EBX bit 5) and the OS saves the YMM registers (OSXSAVE,
 * AVX, XCR0 bits 1 and 2). Not __builtin_cpu_supports: zig's compiler-rt has no __cpu_model. */
static int tn_have_avx2(void) {
  static int have = -1; /* the CPU does not change: a benign race at worst */
  if (have < 0) {
    unsigned a, b, c, d;
    int ok = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27)) && (c & (1u << 28))) {
      unsigned lo, hi;
      __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
      (void)hi;
      if ((lo & 6u) == 6u && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 5))) ok = 1;
    }
    have = ok;
  }
  return have;
}

static const tn_rows_kernel tn_t2b_avx2 = {4, 4, tn_t2b_prep, tn_t2b_dot_avx2};
static const tn_rows_kernel tn_t2b_portable = {4, 4, tn_t2b_prep, tn_t2b_dot_c};

void tn_ternary_linear_t2b_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_rows(tn_have_avx2() ? &tn_t2b_avx2 : &tn_t2b_portable, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

#else /* not x86: the portable path (this file is only chosen for x86 targets) */

static const tn_rows_kernel tn_t2b_portable = {4, 4, tn_t2b_prep, tn_t2b_dot_c};

void tn_ternary_linear_t2b_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_rows(&tn_t2b_portable, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

#endif

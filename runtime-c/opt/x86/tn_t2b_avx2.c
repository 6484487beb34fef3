/*
 * tn_t2b_avx2.c - ternary linear layer on x86-64 with AVX2, weight format t2b (tn_runtime.h).
 *
 * A 32-byte load of t2b codes holds 128 offset codes u = w + 1 in {0, 1, 2}: field f (bits 2f+1:2f)
 * of byte m is code m + 32 f, so the four fields pair with four contiguous 32-byte runs of x.
 * VPMADDUBSW multiplies the unsigned fields by the signed activations and adds pairs into int16.
 * The fields are decoded with one shift and four masks, two of them left times 4 in a second int16
 * accumulator (below: the bounds); the int16 sums are widened to int32 (VPMADDWD by 1) every 8
 * blocks (1024 codes), whatever K is. (bitnet.cpp's I2_S widens only every 32 blocks of 128 and
 * wraps; ../shared/reference/ternary-kernels.md 1.4.) The int32 sums may wrap for huge K, which is
 * harmless: every step is exact mod 2^32 and the final sum u x - sum x is the exact result, which
 * the compiler proved fits int32 (flush). Partial blocks (a scale group or K not a multiple of 128)
 * use a copy of x with zeros outside the range.
 *
 * GEMV: the 4 interleaved rows of a group per pass share the activation loads and are one stream
 * from memory. GEMM (several tokens): each row's codes are decoded once per block for up to 4 tokens.
 *
 * Binary layers run here too: their codes are a subset (u = 0 or 2).
 *
 * VNNI: where the CPU has AVX-VNNI or AVX512-VNNI (with AVX512VL), VPDPBUSD multiplies and adds into
 * int32 lanes in one instruction: the same decode, 9 vector operations per row and block instead of
 * 13 (no int16 accumulators, so no widening either). QEMU 7.2 has no VNNI, nor has every build
 * machine, so the VNNI kernels are also built with an exact AVX2 emulation of VPDPBUSD
 * (-DTN_T2B_VNNI_EMULATE, tn_x86.h; used by test/kernels.test.ts), which runs everything but the
 * instruction; on a CPU with VNNI the host builds run the instruction itself.
 *
 * The SIMD code is compiled with target attributes and chosen at run time (the generated Makefile
 * uses plain -O2, and the program may run on another machine): without AVX2 the portable dot runs.
 */
#include "tn_runtime.h"
#include "tn_t2b.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "tn_x86.h"

#define TN_AVX2 __attribute__((target("avx2")))

#define TN_LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

/* One instruction set's block kernels (below): the drivers are shared. */
typedef struct tn_t2b_isa {
  /* GEMV: ng groups of 4 rows, nb blocks each (tn_t2b_gemv4_avx2). */
  void (*gemv4)(const uint8_t *c, size_t stride, int32_t ng, const int8_t *x, int32_t nb, int32_t *s, int add);
  /* GEMM: 1 row, nb blocks, nt <= 4 tokens ldx apart, added to a[t] (tn_t2b_gemm_avx2). */
  void (*gemm)(const uint8_t *c0, const int8_t *x, size_t ldx, int nt, int32_t nb, __m256i *a);
} tn_t2b_isa;

/* Decoding a 32-byte load v of t2b codes with one shift: h = v >> 4 (16-bit lanes), then
 *   field 0 = v & 3, field 1 = v & 12 = 4 u, field 2 = h & 3, field 3 = h & 12 = 4 u
 * (bits shifted in from the neighbouring byte are masked off). Fields 0 and 2 go to an int16
 * accumulator "lo", fields 1 and 3, still times 4, to "hi". Bounds per int16 lane and block of 128
 * codes, with u in {0, 1, 2} and x in [-128, 127]: VPMADDUBSW adds 2 products, so lo receives 4
 * products u x in [-256, 254], [-1024, 1016], and hi 4 products 4 u x, [-4096, 4064] (no
 * VPMADDUBSW saturates: at most 2 * 1024). After TN_T2B_SPAN = 8 blocks hi is within
 * [-32768, 32512] and lo within [-8192, 8128]; hi is a multiple of 4, so hi >> 2 is exact, and
 * lo + (hi >> 2) within [-16384, 16256] is widened to int32 (VPMADDWD by 1). 13 vector operations
 * per row and block (the previous decode, 3 shifts and 4 masks into one accumulator, took 15). */
#define TN_T2B_SPAN 8
#define TN_T2B_CHUNK 32 /* GEMV: groups of 4 rows per call of tn_t2b_gemv4 (512 bytes of sums) */

/* lo, hi += the products of one row's block of 32 code bytes (c) with the block's 4 activation runs
 * at xp (an lvalue). xp goes through an empty asm per row, in place (no register copy), so that the
 * compiler cannot reuse the previous row's activation loads: it folds them into VPMADDUBSW instead
 * of holding them in 4 registers (which made it spill an accumulator). 62 instructions per 4 rows
 * and block in the GEMV loop. */
#define TN_T2B_ROW(lo, hi, c, xp)                                                                      \
  do {                                                                                                 \
    __m256i v_, h_;                                                                                    \
    __asm__ volatile("" : "+r"(xp));                                                                   \
    v_ = TN_LD(c);                                                                                     \
    h_ = _mm256_srli_epi16(v_, 4);                                                                     \
    lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(_mm256_and_si256(v_, m03), TN_LD(xp)));            \
    hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(_mm256_and_si256(v_, m0c), TN_LD((xp) + 32)));     \
    lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(_mm256_and_si256(h_, m03), TN_LD((xp) + 64)));     \
    hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(_mm256_and_si256(h_, m0c), TN_LD((xp) + 96)));     \
  } while (0)

/* a (int32 lanes) += lo + hi / 4, widened. */
#define TN_T2B_WIDEN(a, lo, hi) a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_add_epi16(lo, _mm256_srai_epi16(hi, 2)), ones))

/* Lane q = the sum of the 8 int32 lanes of aq (mod 2^32). */
TN_AVX2 static inline __m128i tn_hsum4_epi32(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* GEMV over ng groups of 4 interleaved rows, group i at c + i * stride (row q's block at + 32 q, the
 * next block 128 bytes on): nb whole blocks each, against x; the 4 rows' sums u x of group i are
 * stored in s[4 i .. 4 i + 3], or added to them (mod 2^32) if add. Pointers and accumulators in
 * registers (written generically, clang spilled them and ran at half the speed), and several groups
 * per call, so that the call, the constants and the reduction are not paid per group (at K = 2048 a
 * group is 16 blocks). A group is one stream; both cache lines of a block are prefetched 2 KiB
 * ahead (from DRAM ~6 % faster than 1 KiB), which runs on into the next group (from DRAM the
 * hardware prefetcher alone gives ~8 GB/s with 4 row streams, ~11.5 GB/s with one). */
TN_AVX2 static __attribute__((noinline)) void tn_t2b_gemv4_avx2(const uint8_t *c, size_t stride, int32_t ng, const int8_t *x, int32_t nb, int32_t *s, int add) {
  const __m256i m03 = _mm256_set1_epi8(3), m0c = _mm256_set1_epi8(12), ones = _mm256_set1_epi16(1);
  int32_t i;
  for (i = 0; i < ng; ++i) {
    const uint8_t *cg = c + (size_t)i * stride;
    const int8_t *xg = x;
    int32_t left = nb;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    while (left > 0) {
      int32_t e = left > TN_T2B_SPAN ? TN_T2B_SPAN : left;
      __m256i l0 = _mm256_setzero_si256(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
      left -= e;
      do {
        _mm_prefetch((const char *)cg + 2048, _MM_HINT_T0);
        _mm_prefetch((const char *)cg + 2048 + 64, _MM_HINT_T0);
        TN_T2B_ROW(l0, h0, cg, xg);
        TN_T2B_ROW(l1, h1, cg + 32, xg);
        TN_T2B_ROW(l2, h2, cg + 64, xg);
        TN_T2B_ROW(l3, h3, cg + 96, xg);
        xg += 128, cg += 128;
      } while (--e);
      TN_T2B_WIDEN(a0, l0, h0);
      TN_T2B_WIDEN(a1, l1, h1);
      TN_T2B_WIDEN(a2, l2, h2);
      TN_T2B_WIDEN(a3, l3, h3);
    }
    a0 = _mm256_zextsi128_si256(tn_hsum4_epi32(a0, a1, a2, a3));
    if (add) a0 = _mm256_add_epi32(a0, _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(s + 4 * i))));
    _mm_storeu_si128((__m128i *)(void *)(s + 4 * i), _mm256_castsi256_si128(a0));
  }
}

/* GEMM: 1 row's codes (blocks 128 bytes apart) decoded once per block for NT tokens (x + t * ldx),
 * added to a[t]; the same decode and bounds as the GEMV. */
TN_AVX2 static inline __attribute__((always_inline)) void tn_t2b_gemm_nt(const uint8_t *c0, const int8_t *x, size_t ldx, const int NT,
                                                                          int32_t nb, __m256i *a) {
  const __m256i m03 = _mm256_set1_epi8(3), m0c = _mm256_set1_epi8(12), ones = _mm256_set1_epi16(1);
  __m256i acc[4];
  int t;
  for (t = 0; t < NT; ++t) acc[t] = a[t];
  while (nb > 0) {
    int32_t e = nb > TN_T2B_SPAN ? TN_T2B_SPAN : nb;
    __m256i lo[4], hi[4];
    for (t = 0; t < NT; ++t) lo[t] = hi[t] = _mm256_setzero_si256();
    nb -= e;
    do {
      const __m256i v = TN_LD(c0), h = _mm256_srli_epi16(v, 4);
      const __m256i f0 = _mm256_and_si256(v, m03), f1 = _mm256_and_si256(v, m0c);
      const __m256i f2 = _mm256_and_si256(h, m03), f3 = _mm256_and_si256(h, m0c);
      for (t = 0; t < NT; ++t) {
        const int8_t *xt = x + (size_t)t * ldx;
        lo[t] = _mm256_add_epi16(lo[t], _mm256_add_epi16(_mm256_maddubs_epi16(f0, TN_LD(xt)), _mm256_maddubs_epi16(f2, TN_LD(xt + 64))));
        hi[t] = _mm256_add_epi16(hi[t], _mm256_add_epi16(_mm256_maddubs_epi16(f1, TN_LD(xt + 32)), _mm256_maddubs_epi16(f3, TN_LD(xt + 96))));
      }
      x += 128, c0 += 128;
    } while (--e);
    for (t = 0; t < NT; ++t) TN_T2B_WIDEN(acc[t], lo[t], hi[t]);
  }
  for (t = 0; t < NT; ++t) a[t] = acc[t];
}

TN_AVX2 static void tn_t2b_gemm_avx2(const uint8_t *c0, const int8_t *x, size_t ldx, int nt, int32_t nb, __m256i *a) {
  if (nt == 4) tn_t2b_gemm_nt(c0, x, ldx, 4, nb, a);
  else if (nt == 3) tn_t2b_gemm_nt(c0, x, ldx, 3, nb, a);
  else if (nt == 2) tn_t2b_gemm_nt(c0, x, ldx, 2, nb, a);
  else tn_t2b_gemm_nt(c0, x, ldx, 1, nb, a);
}

static const tn_t2b_isa tn_t2b_isa_avx2 = {tn_t2b_gemv4_avx2, tn_t2b_gemm_avx2};

/* ---- VNNI: VPDPBUSD, 4 products per int32 lane in one instruction ---- */

/* Blocks per span of the VNNI accumulators. Per int32 lane and block, lo gets 8 products u x
 * (|u x| <= 256) and hi 8 products 4 u x (<= 1024): after 4096 blocks |hi| <= 2^25, so hi has not
 * wrapped, is a multiple of 4, and hi >> 2 is exact. Every span adds lo + (hi >> 2) to the int32
 * sums (exact mod 2^32, as in the AVX2 kernel). The kernel test builds with a span of 3, to run
 * several spans per row. */
#ifndef TN_VNNI_SPAN
#define TN_VNNI_SPAN 4096
#endif

/* lo, hi += one row's block of 32 code bytes (c) against the block's activations at xp: the AVX2
 * decode (one shift, four masks), each field multiplied and added by DP (VPDPBUSD). */
#define TN_VNNI_ROW(DP, lo, hi, c, xp)                                                                 \
  do {                                                                                                 \
    __m256i v_, h_;                                                                                    \
    __asm__ volatile("" : "+r"(xp));                                                                   \
    v_ = TN_LD(c);                                                                                     \
    h_ = _mm256_srli_epi16(v_, 4);                                                                     \
    lo = DP(lo, _mm256_and_si256(v_, m03), TN_LD(xp));                                                 \
    hi = DP(hi, _mm256_and_si256(v_, m0c), TN_LD((xp) + 32));                                          \
    lo = DP(lo, _mm256_and_si256(h_, m03), TN_LD((xp) + 64));                                          \
    hi = DP(hi, _mm256_and_si256(h_, m0c), TN_LD((xp) + 96));                                          \
  } while (0)

#define TN_VNNI_FOLD(a, lo, hi) a = _mm256_add_epi32(a, _mm256_add_epi32(lo, _mm256_srai_epi32(hi, 2)))

/* The GEMV and GEMM block kernels of one VNNI flavour, NAME_gemv4 and NAME_gemm, compiled with the
 * target attribute TARGET and the multiply-add DP(acc, u8 codes, s8 activations). The same loops
 * as tn_t2b_gemv4_avx2 and tn_t2b_gemm_nt, with int32 accumulators. */
#define TN_T2B_VNNI_KERNELS(NAME, TARGET, DP)                                                                            \
  TARGET static __attribute__((noinline)) void NAME##_gemv4(const uint8_t *c, size_t stride, int32_t ng, const int8_t *x, \
                                                            int32_t nb, int32_t *s, int add) {                          \
    const __m256i m03 = _mm256_set1_epi8(3), m0c = _mm256_set1_epi8(12);                                               \
    int32_t i;                                                                                                           \
    for (i = 0; i < ng; ++i) {                                                                                           \
      const uint8_t *cg = c + (size_t)i * stride;                                                                        \
      const int8_t *xg = x;                                                                                              \
      int32_t left = nb;                                                                                                 \
      __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;                                                    \
      while (left > 0) {                                                                                                 \
        int32_t e = left > TN_VNNI_SPAN ? TN_VNNI_SPAN : left;                                                           \
        __m256i l0 = _mm256_setzero_si256(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;              \
        left -= e;                                                                                                       \
        do {                                                                                                             \
          _mm_prefetch((const char *)cg + 2048, _MM_HINT_T0);                                                            \
          _mm_prefetch((const char *)cg + 2048 + 64, _MM_HINT_T0);                                                       \
          TN_VNNI_ROW(DP, l0, h0, cg, xg);                                                                               \
          TN_VNNI_ROW(DP, l1, h1, cg + 32, xg);                                                                          \
          TN_VNNI_ROW(DP, l2, h2, cg + 64, xg);                                                                          \
          TN_VNNI_ROW(DP, l3, h3, cg + 96, xg);                                                                          \
          xg += 128, cg += 128;                                                                                          \
        } while (--e);                                                                                                   \
        TN_VNNI_FOLD(a0, l0, h0);                                                                                        \
        TN_VNNI_FOLD(a1, l1, h1);                                                                                        \
        TN_VNNI_FOLD(a2, l2, h2);                                                                                        \
        TN_VNNI_FOLD(a3, l3, h3);                                                                                        \
      }                                                                                                                  \
      a0 = _mm256_zextsi128_si256(tn_hsum4_epi32(a0, a1, a2, a3));                                                       \
      if (add) a0 = _mm256_add_epi32(a0, _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(s + 4 * i)))); \
      _mm_storeu_si128((__m128i *)(void *)(s + 4 * i), _mm256_castsi256_si128(a0));                                    \
    }                                                                                                                    \
  }                                                                                                                      \
  TARGET static inline __attribute__((always_inline)) void NAME##_gemm_nt(const uint8_t *c0, const int8_t *x, size_t ldx, \
                                                                          const int NT, int32_t nb, __m256i *a) {        \
    const __m256i m03 = _mm256_set1_epi8(3), m0c = _mm256_set1_epi8(12);                                               \
    int t;                                                                                                               \
    while (nb > 0) {                                                                                                     \
      int32_t e = nb > TN_VNNI_SPAN ? TN_VNNI_SPAN : nb;                                                                 \
      __m256i lo[4], hi[4];                                                                                              \
      for (t = 0; t < NT; ++t) lo[t] = hi[t] = _mm256_setzero_si256();                                                  \
      nb -= e;                                                                                                           \
      do {                                                                                                               \
        const __m256i v = TN_LD(c0), h = _mm256_srli_epi16(v, 4);                                                        \
        const __m256i f0 = _mm256_and_si256(v, m03), f1 = _mm256_and_si256(v, m0c);                                     \
        const __m256i f2 = _mm256_and_si256(h, m03), f3 = _mm256_and_si256(h, m0c);                                      \
        for (t = 0; t < NT; ++t) {                                                                                       \
          const int8_t *xt = x + (size_t)t * ldx;                                                                        \
          lo[t] = DP(DP(lo[t], f0, TN_LD(xt)), f2, TN_LD(xt + 64));                                                      \
          hi[t] = DP(DP(hi[t], f1, TN_LD(xt + 32)), f3, TN_LD(xt + 96));                                                 \
        }                                                                                                                \
        x += 128, c0 += 128;                                                                                             \
      } while (--e);                                                                                                     \
      for (t = 0; t < NT; ++t) TN_VNNI_FOLD(a[t], lo[t], hi[t]);                                                         \
    }                                                                                                                    \
  }                                                                                                                      \
  TARGET static void NAME##_gemm(const uint8_t *c0, const int8_t *x, size_t ldx, int nt, int32_t nb, __m256i *a) {      \
    if (nt == 4) NAME##_gemm_nt(c0, x, ldx, 4, nb, a);                                                                   \
    else if (nt == 3) NAME##_gemm_nt(c0, x, ldx, 3, nb, a);                                                              \
    else if (nt == 2) NAME##_gemm_nt(c0, x, ldx, 2, nb, a);                                                              \
    else NAME##_gemm_nt(c0, x, ldx, 1, nb, a);                                                                           \
  }                                                                                                                      \
  static const tn_t2b_isa NAME = {NAME##_gemv4, NAME##_gemm};

#if TN_CC_AVXVNNI
TN_T2B_VNNI_KERNELS(tn_t2b_isa_avxvnni, TN_TARGET_AVXVNNI, TN_DP_AVXVNNI)
#endif
#if TN_CC_AVX512VNNI
TN_T2B_VNNI_KERNELS(tn_t2b_isa_avx512vnni, TN_TARGET_AVX512VNNI, TN_DP_AVX512VNNI)
#endif

#ifdef TN_T2B_VNNI_EMULATE
TN_T2B_VNNI_KERNELS(tn_t2b_isa_vnni_emulated, TN_AVX2, tn_dpbusd_emulated)
#endif

/* Whole blocks [b0, b1): nr = 4 (a group, c = its row 0) for one token, added to the low 4 lanes of
 * a[0] (row q in lane q), or 1 row (c) for nt tokens, added to a[t]; x points at block b0 of token
 * 0, tokens ldx apart. */
TN_AVX2 static void tn_t2b_blocks(const tn_t2b_isa *isa, const uint8_t *c, int nr, const int8_t *x, size_t ldx, int nt, int32_t b0, int32_t b1, __m256i *a) {
  c += (size_t)b0 * 128;
  if (nr == 4) {
    int32_t s4[4];
    isa->gemv4(c, 0, 1, x, b1 - b0, s4, 0);
    a[0] = _mm256_add_epi32(a[0], _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)s4)));
  } else
    isa->gemm(c, x, ldx, nt, b1 - b0, a);
}

/* The pieces of [k0, k1) for nr rows and nt tokens (tn_t2b.h): partial blocks through zero-padded
 * copies of x, whole blocks in place. */
TN_AVX2 static void tn_t2b_range(const tn_t2b_isa *isa, const uint8_t *c, int nr, const int8_t *x, size_t k, int nt, int32_t k0, int32_t k1, __m256i *a) {
  int8_t xc[4 * TN_QK_T2B] __attribute__((aligned(32)));
  tn_t2b_piece pc[3];
  const int32_t np = tn_t2b_pieces(k0, k1, pc);
  int32_t i;
  for (i = 0; i < np; ++i) {
    size_t ldx;
    const int8_t *xp = tn_t2b_piece_x(&pc[i], x, k, nt, 4, k0, k1, xc, &ldx);
    tn_t2b_blocks(isa, c, nr, xp, ldx, nt, pc[i].b0, pc[i].b1, a);
  }
}

/* The generic driver's dot (GEMM and flush chunks): rows one at a time, or a whole group. */
TN_AVX2 static void tn_t2b_dot_isa(const tn_t2b_isa *isa, const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok,
                                    int32_t k0, int32_t k1, int32_t *acc) {
  const size_t K = (size_t)w->k;
  __m256i a[4];
  int32_t xs[4], r, t;
  for (t = 0; t < ntok; ++t) xs[t] = tn_t2b_xsum(w, x, t, k0, k1);
  for (r = 0; r < nrows;) {
    const int whole = tn_t2b_rows_per_pass(ntok, n0 + r, nrows - r, 4) == 4; /* a whole group, one token */
    a[0] = a[1] = a[2] = a[3] = _mm256_setzero_si256();
    tn_t2b_range(isa, tn_t2b_row(w, p, n0 + r), whole ? 4 : 1, x, K, ntok, k0, k1, a);
    if (whole) { /* the 4 rows' sums u x minus sum x, mod 2^32 */
      _mm_storeu_si128((__m128i *)(void *)(acc + r), _mm_sub_epi32(_mm256_castsi256_si128(a[0]), _mm_set1_epi32(xs[0])));
      r += 4;
    } else {
      for (t = 0; t < ntok; ++t) acc[t * nrows + r] = (int32_t)(tn_hsum8_u32(a[t]) - (uint32_t)xs[t]);
      r += 1;
    }
  }
}

/* GEMV (one token, int32 sums): groups of 4 rows innermost (the padding rows of the last group are
 * computed and dropped), the epilogue inline in the contract's order (tn_t2b.h: tn_t2b_group_term,
 * tn_t2b_gemv_finish). The zero-padded copies of x for partial blocks are made once per scale group. */
TN_AVX2 static void tn_t2b_gemv(const tn_t2b_isa *isa, const int8_t *x, float sx, const tn_lowbit_weights *w, const float *bias, float *y) {
  const int32_t N = w->n, groups = (w->k + w->group - 1) / w->group;
  int8_t pad[2 * TN_QK_T2B] __attribute__((aligned(32)));
  int32_t p, g, n, n0, i, j;
  for (p = 0; p < w->planes; ++p) {
    for (g = 0; g < groups; ++g) { /* planes outer, groups inner: the contract's order of terms */
      tn_t2b_group s;
      tn_t2b_group_init(&s, pad, w, x, p, g);
      for (n0 = 0; n0 < N; n0 += 4 * TN_T2B_CHUNK) { /* TN_T2B_CHUNK groups of 4 rows per call */
        const int32_t ng = (N - n0 + 3) / 4 < TN_T2B_CHUNK ? (N - n0 + 3) / 4 : TN_T2B_CHUNK;
        const uint8_t *c = s.rows + (size_t)(n0 / 4) * s.group_bytes;
        int32_t sum[4 * TN_T2B_CHUNK];
        for (i = 0; i < s.pieces; ++i) /* the pieces' sums u x, added after the first */
          isa->gemv4(c + (size_t)s.piece[i].b0 * 128, s.group_bytes, ng, s.x[i], s.piece[i].b1 - s.piece[i].b0, sum, i > 0);
        for (n = n0; n < n0 + 4 * ng; n += 4) { /* the padding rows of the last group are dropped */
          const int nr = N - n >= 4 ? 4 : N - n;
          /* cppcheck-suppress knownConditionTrueFalse ; cppcheck 2.10 takes min(N - n, 4) to be below 1 */
          if (nr == 4) { /* tn_t2b_group_term's operations, 4 rows at a time */
            const __m128i s4 = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(const void *)(sum + (n - n0))), _mm_set1_epi32((int32_t)s.xs)); /* mod 2^32: exact */
            const __m128 w4 = s.stride == 1 ? _mm_loadu_ps(s.ws + n) : _mm_set_ps(s.ws[(size_t)(n + 3) * s.stride], s.ws[(size_t)(n + 2) * s.stride], s.ws[(size_t)(n + 1) * s.stride], s.ws[(size_t)n * s.stride]);
            const __m128 term = _mm_mul_ps(_mm_cvtepi32_ps(s4), w4);
            _mm_storeu_ps(y + n, s.first ? term : _mm_add_ps(_mm_loadu_ps(y + n), term)); /* the first term starts the sum */
          } else {
            for (j = 0; j < nr; ++j) tn_t2b_group_term(&s, y, n + j, (uint32_t)sum[n - n0 + j]);
          }
        }
      }
    }
  }
  tn_t2b_gemv_finish(y, N, sx, bias);
}

/* The kernels this CPU can run (tn_x86_cpu), chosen once (the CPU does not change: a benign race at
 * worst); NULL without AVX2. */
static const tn_t2b_isa *tn_t2b_pick(void) {
  static const tn_t2b_isa *isa;
  static int picked;
  if (!picked) {
    const unsigned f = tn_x86_cpu();
    isa = NULL;
    if (f & TN_X86_AVX2) {
      isa = &tn_t2b_isa_avx2;
#if TN_CC_AVX512VNNI
      if (f & TN_X86_AVX512VNNI) isa = &tn_t2b_isa_avx512vnni;
#endif
#if TN_CC_AVXVNNI
      if (f & TN_X86_AVXVNNI) isa = &tn_t2b_isa_avxvnni;
#endif
#ifdef TN_T2B_VNNI_EMULATE
      isa = &tn_t2b_isa_vnni_emulated; /* the test build: the VNNI loops on any AVX2 CPU */
#endif
    }
    picked = 1;
  }
  return isa;
}

TN_AVX2 static void tn_t2b_dot_simd(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok,
                                    int32_t k0, int32_t k1, int32_t *acc) {
  tn_t2b_dot_isa(tn_t2b_pick(), w, p, n0, nrows, x, ntok, k0, k1, acc);
}

static const tn_rows_kernel tn_t2b_simd = {8, 4, tn_t2b_prep, tn_t2b_dot_simd};

void tn_ternary_linear_t2b_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  const tn_t2b_isa *isa = tn_t2b_pick();
  if (!isa) {
    tn_t2b_linear_portable(x, x_scale, x_per_row, rows, w, bias, flush, y);
  } else if (rows == 1 && flush == 0) {
    tn_t2b_gemv(isa, x, x_scale[0], w, bias, y);
  } else {
    tn_lowbit_rows(&tn_t2b_simd, x, x_scale, x_per_row, rows, w, bias, flush, y);
  }
}

#else /* not x86: the portable path (this file is only chosen for x86 targets) */

TN_LINEAR_ALIAS(tn_ternary_linear_t2b_avx2, tn_t2b_linear_portable)

#endif

/* Binary layers: the same kernel (binary codes are t2b codes 0 and 2). */
TN_LINEAR_ALIAS(tn_binary_linear_t2b_avx2, tn_ternary_linear_t2b_avx2)

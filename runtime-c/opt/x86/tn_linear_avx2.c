/*
 * tn_linear_avx2.c - the Linear op of the language models (tn_lm.h) on x86-64 with AVX2 and F16C:
 * float32 activations times float32, float16, int8, ternary (t2) or GPTQ's b-bit (ub) weights, with the
 * results of the reference kernels (ref/tn_linear.c) bit for bit (docs/numerics.md, "Lane sums" and "Linear").
 *
 * - The 8 lanes of the lane sum are the 8 lanes of one __m256 accumulator per output: a step adds
 *   the terms of k = k0 + 8m + j to lane j, so each lane receives the reference's adds in the
 *   reference's order. A scale group restarts the lanes at its own first k (k0), wherever that falls
 *   in the row: the loads are unaligned, from k0 (t2 codes: shifted out of their bytes).
 * - Terms as in the reference: fl(x * w) with w widened exactly (VCVTPH2PS; int8 -> int32 -> float),
 *   one VMULPS then one VADDPS, never fused: no FMA intrinsic, and the runtime is built with
 *   -ffp-contract=off (which it needs: built for a CPU with FMA, e.g. zig's native host, with
 *   -ffp-contract=fast clang fuses these intrinsics, as it does the reference's loops). Ternary codes
 *   select x, -x (sign bit flipped) or +0 with and / or masks: no multiply per weight.
 * - Tails: a group or a row whose length is not a multiple of 8 ends with a partial step whose lanes
 *   from the end on add +0: x is loaded masked (VMASKMOVPS gives +0 and touches no memory there), the
 *   weights come from a zero-padded copy (+0 * +0 = +0), t2 codes past the end are code 0 (term +0).
 *   Adding +0 leaves a lane as it was: a lane starts at +0 and never becomes -0 (in round to nearest a
 *   sum is -0 only if both addends are), and v + (+0) = v for every other v, infinities and NaN too.
 * - The tree ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) of 4 outputs at once: two VHADDPS
 *   levels then one add of the two 128-bit halves; each is one IEEE add of the same two values.
 * - Scale groups (int8, t2, ub): v = fl(scale * d_0), then fl(v + fl(scale * d_g)) in order of g.
 * - ub (b-bit codes, 2 <= b <= 8, a zero point per group): groups of a multiple of 8 columns (or one
 *   per row), so 8 codes are b whole bytes, read as one 64-bit word; lane j shifts it right by j b
 *   (VPSRLVQ, two halves of 4 lanes), masks b bits, subtracts the zero point and widens exactly:
 *   the reference's (float)(code - zero). A tail's lanes from cnt on hold other codes, but their x
 *   is +0 and the code finite, so they add +-0, which leaves a lane as it was (below). Other group
 *   sizes run tn_linear_ub_scalar.
 *
 * Passes: 4 rows per pass share the activation loads. With several tokens (prefill) a pass also takes
 * 2 tokens (t2: 4), so that each weight load (and its widening or decoding) serves all of them; the
 * rows are the outer loop, so a pass's 4 rows stay in L1 while the tokens go by. The last pass of a
 * matrix whose rows are not a multiple of 4 repeats its last row (computed, not stored).
 *
 * Run-time dispatch, as in tn_t2b_avx2.c: the SIMD code is compiled with target attributes and runs
 * only where CPUID says AVX2, F16C and OS support for the YMM state; elsewhere the reference kernels
 * run. -DTN_LINEAR_FORCE_REF takes the fallback on any CPU (test/lm-kernels.test.ts).
 *
 * Fairy2i (tn_linear_c4_avx2, the WidelyLinear op): the reference's (ref/tn_linear_c4.c) four lane
 * sums a, b, c, d per plane are four __m256 per plane, lane j taking column k0 + 8m + j as there. The
 * c4 codes are packed as t2 codes are (2 bits, low bits first); with code j in bits 31:30 of lane j,
 * bit 31 (-1, -i) flips the sign of x_re and x_im, bit 30 (+i, -i) sends them to (d, b) instead of
 * (a, c); the pair that takes nothing adds +0, which leaves a sum as it was (below). One or two
 * stages; more run the scalar kernel.
 *
 * Prototypes for tn_lm.h (the same signatures as the reference, with the suffix _avx2) are below.
 */
#include <stddef.h>

#include "tn_lm.h"
#include "tn_c4.h"


#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "tn_x86.h"

#define TN_AVX2 __attribute__((target("avx2,f16c")))
#define TN_ALWAYS_INLINE inline __attribute__((always_inline))

#define TN_LIN_R 4 /* rows per pass */
/* Tokens per pass with several tokens: 2 for float and int8 weights (8 accumulators; 3 or 4 tokens
 * were slower), 4 for t2 (16 accumulators, some spilled, but each decode serves 4 tokens): the
 * fastest measured (Zen 2 class, rows 1280, K 512, 16 tokens). */
#define TN_LIN_NT 4 /* the most */
#define TN_NT_OF(fmt) ((fmt) == TN_W_T2 ? 4 : 2)

/* Weight formats (compile-time arguments of the inlined loops). */
enum { TN_W_F32, TN_W_F16, TN_W_Q8, TN_W_T2, TN_W_UB };

/* What the ub steps need besides the rows: bits per code, the row's bytes, and the zero points of
 * the pass's rows for the current group. */
typedef struct {
  int32_t bits, row_bytes;
  int32_t z[4];
} tn_ub_ctx;

/* 4 bytes of t2 codes read as one float lvalue (broadcast from memory), without an aliasing claim
 * and at any address (a row's codes start at any byte: UBSan caught the misaligned float load). */
typedef float tn_f32_alias __attribute__((may_alias, aligned(1)));

/* Bytes per element of the float and int8 formats. */
#define TN_W_SIZE(fmt) ((fmt) == TN_W_F32 ? 4 : (fmt) == TN_W_F16 ? 2 : 1)

/* 8 weights of a row (w: its first element) from element i, as floats (not t2). */
TN_AVX2 static TN_ALWAYS_INLINE __m256 tn_w8(const int fmt, const void *w, int32_t i) {
  if (fmt == TN_W_F32) return _mm256_loadu_ps((const float *)w + i);
  if (fmt == TN_W_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)w + i))); /* exact */
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)((const int8_t *)w + i)))); /* exact */
}

/* t2 codes i .. i + cnt - 1 (1 <= cnt <= 8) of a row (p: its first byte), code i + j in bits
 * 2j + 1 : 2j; the codes from cnt on read as 0. Only the bytes holding those codes are read. */
static TN_ALWAYS_INLINE uint32_t tn_t2_word(const uint8_t *p, int32_t i, int32_t cnt) {
  const uint8_t *b = p + (i >> 2);
  const int32_t sh = (i & 3) * 2, nb = (sh + 2 * cnt + 7) >> 3;
  uint32_t u;
  if (sh == 0 && cnt == 8) return (uint32_t)b[0] | (uint32_t)b[1] << 8; /* groups that start on a byte */
  u = b[0];
  if (nb > 1) u |= (uint32_t)b[1] << 8;
  if (nb > 2) u |= (uint32_t)b[2] << 16;
  u >>= sh;
  return cnt < 8 ? u & ((1u << (2 * cnt)) - 1u) : u & 0xffffu;
}

/* 8 weights (not t2) of a row from element i, the ones from cnt on (lanes not live) +0. */
TN_AVX2 static TN_ALWAYS_INLINE __m256 tn_w8_tail(const int fmt, const void *w, int32_t i, int32_t cnt, __m256i live) {
  int32_t q;
  if (fmt == TN_W_F32) return _mm256_maskload_ps((const float *)w + i, live);
  if (fmt == TN_W_F16) {
    uint16_t pad[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (q = 0; q < cnt; ++q) pad[q] = ((const uint16_t *)w)[i + q];
    return tn_w8(fmt, pad, 0);
  } else {
    int8_t pad[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (q = 0; q < cnt; ++q) pad[q] = ((const int8_t *)w)[i + q];
    return tn_w8(fmt, pad, 0);
  }
}

/* 8 ub codes of a row (p: its first byte) from code i (a multiple of 8, so byte i b / 8), minus the
 * zero point z, as floats (exact). Only the row's bytes are read: 8 at once where the row has them,
 * else the (cnt b + 7) / 8 that hold codes i .. i + cnt - 1; the lanes past those hold other codes. */
TN_AVX2 static TN_ALWAYS_INLINE __m256 tn_ub8(const uint8_t *p, int32_t i, int32_t cnt, int32_t z, const tn_ub_ctx *u) {
  const int32_t off = (i >> 3) * u->bits;
  const long long b = u->bits;
  const __m256i sh_lo = _mm256_setr_epi64x(0, b, 2 * b, 3 * b), sh_hi = _mm256_setr_epi64x(4 * b, 5 * b, 6 * b, 7 * b);
  const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  uint64_t c = 0;
  __m256i cv, lo, hi, codes;
  if (off + 8 <= u->row_bytes) __builtin_memcpy(&c, p + off, 8); /* little-endian: code i + j at bit j b */
  else {
    const int32_t nb = (cnt * u->bits + 7) >> 3;
    int32_t q;
    for (q = 0; q < nb; ++q) c |= (uint64_t)p[off + q] << (8 * q);
  }
  cv = _mm256_set1_epi64x((long long)c);
  lo = _mm256_permutevar8x32_epi32(_mm256_srlv_epi64(cv, sh_lo), pick); /* lanes 0-3 (twice) */
  hi = _mm256_permutevar8x32_epi32(_mm256_srlv_epi64(cv, sh_hi), pick); /* lanes 4-7 (twice) */
  codes = _mm256_and_si256(_mm256_blend_epi32(lo, hi, 0xf0), _mm256_set1_epi32((1 << u->bits) - 1));
  return _mm256_cvtepi32_ps(_mm256_sub_epi32(codes, _mm256_set1_epi32(z)));
}

/* How a step gets its terms (a compile-time argument): 8 whole lanes with direct loads (t2: 4 code
 * bytes from byte i / 4, all inside the row), 8 lanes of t2 codes assembled from the row's bytes
 * (near the row's end), or the tail (cnt < 8 lanes). */
enum { TN_STEP_FAST, TN_STEP_WORD, TN_STEP_TAIL };

/* One step: a[r * NT + t] += the terms of k = i .. i + cnt - 1 (lane j: k = i + j) of rows w[r]
 * (their first element or byte) and tokens x[t] (their first activation). A tail step adds +0 to
 * the lanes from cnt on: x = +0 there, and weights +0 or code 0.
 * t2: lane j shifts the codes left by sv[j], so that code i + j lands in bits 31:30, then compares:
 * sv = 30 - 2j - 2 (k0 mod 4) for the 4 bytes loaded from byte i / 4 (FAST; i = k0 mod 4), 30 - 2j
 * for a word from tn_t2_word (already shifted). */
TN_AVX2 static TN_ALWAYS_INLINE void tn_lin_step(const int fmt, const int NT, const int mode, const void *const *w, const float *const *x, int32_t i, int32_t cnt,
                                                 __m256i sv, const char *pf, size_t pf_mul, const tn_ub_ctx *u, __m256 *a) {
  __m256 xv[TN_LIN_NT];
  __m256i live = _mm256_setzero_si256();
  int r, t;
  if (mode == TN_STEP_TAIL) live = _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (t = 0; t < NT; ++t) xv[t] = mode == TN_STEP_TAIL ? _mm256_maskload_ps(x[t] + i, live) : _mm256_loadu_ps(x[t] + i);
  if (fmt == TN_W_T2) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i b01 = _mm256_set1_epi32(0x3fffffff), b10 = _mm256_set1_epi32((int32_t)-0x40000000); /* bits 31:30 above 00 / below 11 */
    const __m256i s = mode == TN_STEP_FAST ? sv : _mm256_setr_epi32(30, 28, 26, 24, 22, 20, 18, 16);
    __m256 nx[TN_LIN_NT];
    for (t = 0; t < NT; ++t) nx[t] = _mm256_xor_ps(xv[t], sign);
    for (r = 0; r < TN_LIN_R; ++r) {
      /* t2: 2 bits per code, low bits first: 00 -> 0, 01 -> +1, 10 -> -1 (11 -> 0, as the reference).
       * With the code in bits 31:30 (signed lanes): 01 is > 0x3fffffff, 10 is < -0x40000000. */
      const uint8_t *p = (const uint8_t *)w[r];
      __m256i c;
      __m256 pos, neg;
      if (mode == TN_STEP_FAST) c = _mm256_castps_si256(_mm256_set1_ps(*(const tn_f32_alias *)(const void *)(p + (i >> 2)))); /* the 4 bytes, one load */
      else c = _mm256_set1_epi32((int32_t)tn_t2_word(p, i, mode == TN_STEP_TAIL ? cnt : 8));
      c = _mm256_sllv_epi32(c, s);
      pos = _mm256_castsi256_ps(_mm256_cmpgt_epi32(c, b01));
      neg = _mm256_castsi256_ps(_mm256_cmpgt_epi32(b10, c));
      for (t = 0; t < NT; ++t) a[r * NT + t] = _mm256_add_ps(a[r * NT + t], _mm256_or_ps(_mm256_and_ps(pos, xv[t]), _mm256_and_ps(neg, nx[t])));
    }
  } else if (fmt == TN_W_UB) {
    (void)sv, (void)pf, (void)pf_mul;
    for (r = 0; r < TN_LIN_R; ++r) {
      const __m256 wv = tn_ub8((const uint8_t *)w[r], i, mode == TN_STEP_TAIL ? cnt : 8, u->z[r], u);
      for (t = 0; t < NT; ++t) a[r * NT + t] = _mm256_add_ps(a[r * NT + t], _mm256_mul_ps(xv[t], wv));
    }
  } else {
    (void)sv, (void)u;
    if (mode == TN_STEP_FAST) { /* the same share of the next pass's rows (see tn_lin_pass) */
      _mm_prefetch(pf + (size_t)i * pf_mul, _MM_HINT_T0);
      if (fmt == TN_W_F32) _mm_prefetch(pf + (size_t)i * pf_mul + 64 * (pf_mul != 0), _MM_HINT_T0);
    }
    for (r = 0; r < TN_LIN_R; ++r) {
      const __m256 wv = mode == TN_STEP_TAIL ? tn_w8_tail(fmt, w[r], i, cnt, live) : tn_w8(fmt, w[r], i);
      for (t = 0; t < NT; ++t) a[r * NT + t] = _mm256_add_ps(a[r * NT + t], _mm256_mul_ps(xv[t], wv));
    }
  }
}

/* acc[r * NT + t] += the terms of k = k0 .. k0 + len - 1 (lane (k - k0) mod 8): whole steps, then
 * the tail. t2: rows of row_bytes bytes; the whole steps whose 4 code bytes would run past the row
 * assemble their codes from the bytes they need. */
TN_AVX2 static TN_ALWAYS_INLINE void tn_lin_block(const int fmt, const int NT, const void *const *w, const float *const *x, int32_t k0, int32_t len,
                                                  int32_t row_bytes, const char *pf, size_t pf_mul, const tn_ub_ctx *u, __m256 *acc) {
  const __m256i sv = _mm256_sub_epi32(_mm256_setr_epi32(30, 28, 26, 24, 22, 20, 18, 16), _mm256_set1_epi32((k0 & 3) * 2));
  __m256 a[TN_LIN_R * TN_LIN_NT];
  int32_t j = 0;
  int r;
  for (r = 0; r < TN_LIN_R * NT; ++r) a[r] = acc[r];
  if (fmt == TN_W_T2) {
    for (; len - j >= 8 && ((k0 + j) >> 2) + 4 <= row_bytes; j += 8) tn_lin_step(fmt, NT, TN_STEP_FAST, w, x, k0 + j, 8, sv, pf, pf_mul, u, a);
    for (; len - j >= 8; j += 8) tn_lin_step(fmt, NT, TN_STEP_WORD, w, x, k0 + j, 8, sv, pf, pf_mul, u, a);
  } else {
    for (; len - j >= 8; j += 8) tn_lin_step(fmt, NT, TN_STEP_FAST, w, x, k0 + j, 8, sv, pf, pf_mul, u, a);
  }
  if (j < len) tn_lin_step(fmt, NT, TN_STEP_TAIL, w, x, k0 + j, len - j, sv, pf, pf_mul, u, a);
  for (r = 0; r < TN_LIN_R * NT; ++r) acc[r] = a[r];
}

/* Lane q: the lane sum's tree of aq, ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)). */
TN_AVX2 static TN_ALWAYS_INLINE __m128 tn_tree4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  /* [a0: 01 23 | 45 67, a1: ...] -> [a0: 0123, a1, a2, a3 | a0: 4567, a1, a2, a3] */
  const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

/* One pass: rows o0 .. o0 + 3 (the ones from `rows` on repeat the last row and are not stored) for
 * tokens t0 .. t0 + NT - 1. row_bytes: bytes per weight row; scales NULL for float weights.
 * Trit-planes (t2p, P > 1): the 4 accumulators are (row, plane) pairs, 4 / P rows of P planes each
 * (P = 3: one row, the 4th pair repeats it), plane p's rows plane_bytes after plane 0's and its scales
 * per_plane after; one load of x serves every plane, and a row's output is y_0 + y_1 + ... in order. */
TN_AVX2 static TN_ALWAYS_INLINE void tn_lin_pass(const int fmt, const int NT, const int P, const float *x, const void *w, size_t row_bytes, size_t plane_bytes,
                                                 size_t per_plane, const float *scales, const uint8_t *zeros, int32_t bits, int32_t groups_per_row,
                                                 int32_t group, int32_t rows, int32_t k, int32_t t0, int32_t o0, float *y) {
  const int32_t rp = TN_LIN_R / P; /* rows per pass */
  const int32_t nr = rows - o0 < rp ? rows - o0 : rp;
  const void *wr[TN_LIN_R];
  const float *xt[TN_LIN_NT];
  __m256 acc[TN_LIN_R * TN_LIN_NT];
  __m128 v[TN_LIN_NT];
  tn_ub_ctx u;
  int r, t;
  /* One token (GEMV, memory-bound on big matrices): the float and int8 steps prefetch the next
   * pass's 4 rows (contiguous, and read as 4 streams in one 4 KiB page or so, which the hardware
   * prefetcher alone serves at about half the bandwidth: f16, 50304 x 512, 11 -> 19 GB/s), step i
   * the bytes at 4 i times the element size; else (no next pass, or several tokens) the pass's
   * first weight, over and over. */
  const int next = NT == 1 && rows - o0 >= 2 * TN_LIN_R;
  const char *pf = (const char *)w + (size_t)(o0 + (next ? TN_LIN_R : 0)) * row_bytes;
  const size_t pf_mul = next ? (size_t)(TN_LIN_R * TN_W_SIZE(fmt)) : 0;
  /* cppcheck-suppress knownConditionTrueFalse ; cppcheck 2.10 takes min(rows - o0, TN_LIN_R) to be below 1 */
  for (r = 0; r < TN_LIN_R; ++r) wr[r] = (const unsigned char *)w + (size_t)(r % P) * plane_bytes + (size_t)(o0 + (r / P < nr ? r / P : nr - 1)) * row_bytes;
  for (t = 0; t < NT; ++t) xt[t] = x + (size_t)(t0 + t) * (size_t)k, v[t] = _mm_setzero_ps();
  u.bits = bits, u.row_bytes = (int32_t)row_bytes;
  for (r = 0; r < TN_LIN_R; ++r) u.z[r] = 0;
  if (fmt == TN_W_F32 || fmt == TN_W_F16) {
    for (r = 0; r < TN_LIN_R * NT; ++r) acc[r] = _mm256_setzero_ps();
    tn_lin_block(fmt, NT, wr, xt, 0, k, 0, pf, pf_mul, &u, acc);
    for (t = 0; t < NT; ++t) v[t] = tn_tree4(acc[t], acc[NT + t], acc[2 * NT + t], acc[3 * NT + t]);
  } else {
    int32_t k0, g;
    for (k0 = 0, g = 0; k0 < k; ++g) {
      const int32_t len = k - k0 < group ? k - k0 : group;
      float sc[TN_LIN_R];
      __m128 s;
      for (r = 0; r < TN_LIN_R * NT; ++r) acc[r] = _mm256_setzero_ps();
      if (fmt == TN_W_UB) /* the zero points of the pass's rows for this group */
        for (r = 0; r < TN_LIN_R; ++r) u.z[r] = zeros[(size_t)(o0 + (r < nr ? r : nr - 1)) * (size_t)groups_per_row + (size_t)g];
      tn_lin_block(fmt, NT, wr, xt, k0, len, (int32_t)row_bytes, pf, pf_mul, &u, acc);
      /* the scales of the pass's rows (scale index row * groups_per_row + k0 / group) */
      /* cppcheck-suppress knownConditionTrueFalse ; cppcheck 2.10 takes min(rows - o0, TN_LIN_R) to be below 1 */
      for (r = 0; r < TN_LIN_R; ++r)
        sc[r] = scales[(size_t)(r % P) * per_plane + (size_t)(o0 + (r / P < nr ? r / P : nr - 1)) * (size_t)groups_per_row + (size_t)g];
      s = _mm_loadu_ps(sc);
      for (t = 0; t < NT; ++t) {
        const __m128 vg = _mm_mul_ps(s, tn_tree4(acc[t], acc[NT + t], acc[2 * NT + t], acc[3 * NT + t]));
        v[t] = g == 0 ? vg : _mm_add_ps(v[t], vg); /* the first group starts the sum */
      }
      k0 += len;
    }
  }
  for (t = 0; t < NT; ++t) {
    float *yt = y + (size_t)(t0 + t) * (size_t)rows + (size_t)o0;
    if (P == 1 && nr == TN_LIN_R) {
      _mm_storeu_ps(yt, v[t]);
    } else {
      float o[4];
      _mm_storeu_ps(o, v[t]);
      for (r = 0; r < nr; ++r) {
        float sum = o[r * P];
        int p;
        for (p = 1; p < P; ++p) sum = sum + o[r * P + p]; /* y_0 + y_1 + ..., as the reference */
        yt[r] = sum;
      }
    }
  }
}

/* All of y: rows in passes of 4 / P (outer), tokens TN_NT_OF(fmt) at a time, then one at a time. */
TN_AVX2 static TN_ALWAYS_INLINE void tn_lin_planes(const int fmt, const int P, const float *x, int32_t n, const void *w, size_t row_bytes, size_t plane_bytes,
                                                   size_t per_plane, const float *scales, const uint8_t *zeros, int32_t bits, int32_t groups_per_row,
                                                   int32_t group, int32_t rows, int32_t k, float *y) {
  int32_t o0, t0;
  for (o0 = 0; o0 < rows; o0 += TN_LIN_R / P) {
    for (t0 = 0; n - t0 >= TN_NT_OF(fmt); t0 += TN_NT_OF(fmt))
      tn_lin_pass(fmt, TN_NT_OF(fmt), P, x, w, row_bytes, plane_bytes, per_plane, scales, zeros, bits, groups_per_row, group, rows, k, t0, o0, y);
    for (; t0 < n; ++t0) tn_lin_pass(fmt, 1, P, x, w, row_bytes, plane_bytes, per_plane, scales, zeros, bits, groups_per_row, group, rows, k, t0, o0, y);
  }
}

TN_AVX2 static TN_ALWAYS_INLINE void tn_lin(const int fmt, const float *x, int32_t n, const void *w, size_t row_bytes, const float *scales,
                                            int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y) {
  tn_lin_planes(fmt, 1, x, n, w, row_bytes, 0, 0, scales, NULL, 0, groups_per_row, group, rows, k, y);
}

TN_AVX2 static void tn_lin_f32_simd(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y) {
  tn_lin(TN_W_F32, x, n, w, (size_t)k * sizeof(float), NULL, 0, 1, rows, k, y);
}
TN_AVX2 static void tn_lin_f16_simd(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y) {
  tn_lin(TN_W_F16, x, n, w, (size_t)k * sizeof(uint16_t), NULL, 0, 1, rows, k, y);
}
TN_AVX2 static void tn_lin_q8_simd(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                                   int32_t k, float *y) {
  tn_lin(TN_W_Q8, x, n, w, (size_t)k, scales, groups_per_row, group, rows, k, y);
}
TN_AVX2 static void tn_lin_t2_simd(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                                   int32_t k, float *y) {
  tn_lin(TN_W_T2, x, n, w, (size_t)((k + 3) / 4), scales, groups_per_row, group, rows, k, y);
}
TN_AVX2 static void tn_lin_t2p_simd(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group,
                                    int32_t rows, int32_t k, float *y) {
  const size_t rb = (size_t)((k + 3) / 4), pb = rb * (size_t)rows, pp = groups_per_row == 0 ? 1 : (size_t)rows * (size_t)groups_per_row;
  if (planes == 1) tn_lin_planes(TN_W_T2, 1, x, n, w, rb, pb, pp, scales, NULL, 0, groups_per_row, group, rows, k, y);
  else if (planes == 2) tn_lin_planes(TN_W_T2, 2, x, n, w, rb, pb, pp, scales, NULL, 0, groups_per_row, group, rows, k, y);
  else if (planes == 3) tn_lin_planes(TN_W_T2, 3, x, n, w, rb, pb, pp, scales, NULL, 0, groups_per_row, group, rows, k, y);
  else tn_lin_planes(TN_W_T2, 4, x, n, w, rb, pb, pp, scales, NULL, 0, groups_per_row, group, rows, k, y);
}

TN_AVX2 static void tn_lin_ub_simd(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row,
                                   int32_t group, int32_t rows, int32_t k, float *y) {
  tn_lin_planes(TN_W_UB, 1, x, n, w, (size_t)((k * bits + 7) / 8), 0, 0, scales, zeros, bits, groups_per_row, group, rows, k, y);
}

/* Fairy2i, P = 2 stages x (U, W) planes: out[p] = the tree of each of plane p's sums (a, b, c, d)
 * over columns 0 .. m - 1 of x_re, x_im and the planes' rows wp[p]. */
TN_AVX2 static TN_ALWAYS_INLINE void tn_c4_sums(const int P, const float *xre, const float *xim, const uint8_t *const *wp, int32_t m, __m128 *out) {
  const __m256i shifts = _mm256_setr_epi32(30, 28, 26, 24, 22, 20, 18, 16), sign = _mm256_set1_epi32((int32_t)0x80000000u);
  __m256 a[4], b[4], c[4], d[4];
  int32_t j;
  int p;
  for (p = 0; p < P; ++p) a[p] = b[p] = c[p] = d[p] = _mm256_setzero_ps();
  for (j = 0; j < m; j += 8) {
    const int32_t cnt = m - j < 8 ? m - j : 8;
    __m256 re, im;
    if (cnt == 8) re = _mm256_loadu_ps(xre + j), im = _mm256_loadu_ps(xim + j);
    else {
      const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      re = _mm256_maskload_ps(xre + j, live), im = _mm256_maskload_ps(xim + j, live); /* +0 past the end */
    }
    for (p = 0; p < P; ++p) {
      /* codes j .. j + 7 (j is a multiple of 8: two whole bytes; past the end, code 0) */
      const __m256i cv = _mm256_sllv_epi32(_mm256_set1_epi32((int32_t)tn_t2_word(wp[p], j, cnt)), shifts);
      const __m256 neg = _mm256_castsi256_ps(_mm256_and_si256(cv, sign));
      const __m256 q = _mm256_castsi256_ps(_mm256_srai_epi32(_mm256_slli_epi32(cv, 1), 31));
      const __m256 sre = _mm256_xor_ps(re, neg), sim = _mm256_xor_ps(im, neg);
      a[p] = _mm256_add_ps(a[p], _mm256_andnot_ps(q, sre));
      c[p] = _mm256_add_ps(c[p], _mm256_andnot_ps(q, sim));
      d[p] = _mm256_add_ps(d[p], _mm256_and_ps(q, sre));
      b[p] = _mm256_add_ps(b[p], _mm256_and_ps(q, sim));
    }
  }
  for (p = 0; p < P; ++p) out[p] = tn_tree4(a[p], b[p], c[p], d[p]);
}

TN_AVX2 static TN_ALWAYS_INLINE void tn_c4_run(const int P, const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t rows, int32_t k, float *y) {
  const int32_t half_rows = rows / 2, m = k / 2, row_bytes = (m + 3) / 4;
  int32_t t, o, p;
  for (t = 0; t < n; t++)
    for (o = 0; o < half_rows; o++) {
      const uint8_t *wp[4];
      __m128 sums[4];
      float out[16];
      for (p = 0; p < P; p++) wp[p] = w + (size_t)(p * half_rows + o) * (size_t)row_bytes;
      tn_c4_sums(P, x + (size_t)t * (size_t)k, x + (size_t)t * (size_t)k + m, wp, m, sums);
      for (p = 0; p < P; p++) _mm_storeu_ps(out + 4 * p, sums[p]); /* a, b, c, d */
      tn_c4_out(out, P / 2, scales, &y[(size_t)t * (size_t)rows + (size_t)o], &y[(size_t)t * (size_t)rows + (size_t)half_rows + (size_t)o]);
    }
}

TN_AVX2 static void tn_c4_w1_simd(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t rows, int32_t k, float *y) {
  tn_c4_run(2, x, n, w, scales, rows, k, y);
}
TN_AVX2 static void tn_c4_w2_simd(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t rows, int32_t k, float *y) {
  tn_c4_run(4, x, n, w, scales, rows, k, y);
}

/* 1 if this CPU runs the SIMD kernels (AVX2 and F16C, tn_x86_cpu), chosen once (a benign race at worst). */
static int tn_linear_avx2_ok(void) {
  static int state; /* 0: not asked yet, 1: yes, 2: no */
  if (state == 0) {
#ifdef TN_LINEAR_FORCE_REF
    state = 2; /* the test build of the fallback */
#else
    const unsigned want = TN_X86_AVX2 | TN_X86_F16C;
    state = (tn_x86_cpu() & want) == want ? 1 : 2;
#endif
  }
  return state == 1;
}

void tn_linear_f32_avx2(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y) {
  if (tn_linear_avx2_ok()) tn_lin_f32_simd(x, n, w, rows, k, y);
  else tn_linear_f32(x, n, w, rows, k, y);
}

void tn_linear_f16_avx2(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y) {
  if (tn_linear_avx2_ok()) tn_lin_f16_simd(x, n, w, rows, k, y);
  else tn_linear_f16(x, n, w, rows, k, y);
}

void tn_linear_q8_avx2(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                       float *y) {
  if (tn_linear_avx2_ok()) tn_lin_q8_simd(x, n, w, scales, groups_per_row, group, rows, k, y);
  else tn_linear_q8(x, n, w, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_t2_avx2(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                       float *y) {
  if (tn_linear_avx2_ok()) tn_lin_t2_simd(x, n, w, scales, groups_per_row, group, rows, k, y);
  else tn_linear_t2(x, n, w, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_t2p_avx2(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                        int32_t k, float *y) {
  if (tn_linear_avx2_ok() && planes >= 1 && planes <= TN_MAX_PLANES) tn_lin_t2p_simd(x, n, w, planes, scales, groups_per_row, group, rows, k, y);
  else tn_linear_t2p(x, n, w, planes, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_ub_avx2(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                       int32_t rows, int32_t k, float *y) {
  if (tn_linear_avx2_ok() && bits >= 2 && bits <= 8 && (group % 8 == 0 || group >= k))
    tn_lin_ub_simd(x, n, w, bits, scales, zeros, groups_per_row, group, rows, k, y);
  else tn_linear_ub_scalar(x, n, w, bits, scales, zeros, groups_per_row, group, rows, k, y);
}

void tn_linear_c4_avx2(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y) {
  if (tn_linear_avx2_ok() && stages == 1) tn_c4_w1_simd(x, n, w, scales, rows, k, y);
  else if (tn_linear_avx2_ok() && stages == 2) tn_c4_w2_simd(x, n, w, scales, rows, k, y);
  else tn_linear_c4_scalar(x, n, w, stages, scales, rows, k, y);
}

#else /* not x86 (this file is only chosen for x86 targets): the reference kernels */

void tn_linear_f32_avx2(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y) { tn_linear_f32(x, n, w, rows, k, y); }

void tn_linear_f16_avx2(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y) { tn_linear_f16(x, n, w, rows, k, y); }

void tn_linear_q8_avx2(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                       float *y) {
  tn_linear_q8(x, n, w, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_t2_avx2(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                       float *y) {
  tn_linear_t2(x, n, w, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_t2p_avx2(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                        int32_t k, float *y) {
  tn_linear_t2p(x, n, w, planes, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_ub_avx2(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                       int32_t rows, int32_t k, float *y) {
  tn_linear_ub_scalar(x, n, w, bits, scales, zeros, groups_per_row, group, rows, k, y);
}

void tn_linear_c4_avx2(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y) {
  tn_linear_c4_scalar(x, n, w, stages, scales, rows, k, y);
}

#endif

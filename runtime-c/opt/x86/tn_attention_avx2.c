/*
 * tn_attention_avx2.c - the Attention op of the language models (tn_lm.h) on x86-64 with AVX2 and
 * F16C, over a float32 or a float16 KV cache, with the results of the reference kernels
 * (ref/tn_lm.c: tn_attention_f32, tn_attention_f16cache) bit for bit (docs/numerics.md, "Lane sums"
 * and "Attention"). Per row r (position m = pos[0] + r) and head h, the reference's steps in its order:
 *
 * - The cache rows first: k and v of the call's n rows stored at pos[0] .. pos[0] + n - 1. float32:
 *   copied. float16: VCVTPS2PH with round to nearest even (imm 0), which is tn_f32_to_f16 for every
 *   number (gradual underflow, overflow to infinity); a NaN keeps its sign and becomes 0x7e00 in
 *   magnitude as in tn_f32_to_f16 (the F16C instruction keeps the top 9 payload bits: they are
 *   cleared), so the caches are the reference's bit for bit, NaN included.
 * - Scores s_j = fl(lane sum(q . k_j) * scale), 8 positions j at once: one __m256 accumulator per j
 *   whose lane l adds fl(q[d] * k_j[d]) for d = l, l + 8, ... in order (VMULPS then VADDPS, never
 *   fused: no FMA intrinsic, and the runtime is built with -ffp-contract=off), float16 keys widened
 *   exactly (VCVTPH2PS). A head_dim that is not a multiple of 8 ends with a step whose lanes from
 *   head_dim mod 8 on add +0 (q loaded masked, k masked or zero-padded: +0 * +0), which leaves a lane
 *   as it was (a lane starts at +0 and never becomes -0; v + (+0) = v otherwise). The 8 trees
 *   ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)): two VHADDPS levels per 4 positions, then one
 *   add of the 128-bit halves; each is one IEEE add of the reference's two values. The last block of
 *   fewer than 8 positions repeats position m (computed, not stored).
 * - mx = max s_j: a VMAXPS per block, then the 8 lanes. Not the reference's first-to-last `>` scan,
 *   but the same outputs: without NaN both give the largest value, and may differ only in the sign of
 *   a zero maximum, which changes no fl(s_j - mx) but that of s_j = +-0 (+-0, and expf(+-0) = 1);
 *   with a NaN score the reference's e_j (j its position, or every j if it is s_0) is NaN, so its sum
 *   and every weight and output is NaN, whatever mx is (docs/numerics.md, rule 6).
 * - e_j = tn_expf(fl(s_j - mx)) 8 at a time by tn_exp8, which repeats tn_expf's steps lane by lane
 *   (the rintf of x log2(e) by adding and subtracting 2^23 on the sign of its argument, the two-part
 *   reduction, Horner's polynomial, p * 2^k as tn_ldexpf's one, or two, multiplies by powers of two);
 *   tn_expf_avx2 exposes it to the test, which compares it with tn_expf on specials, every branch's
 *   edges and random bits (and, once, on all 2^32 inputs).
 * - sum = e_0 + e_1 + ... in order (scalar, as the reference); w_j = e_j / sum by VDIVPS: IEEE
 *   division, which is tn_divf's result on a correct float unit (tn_divf recomputes only subnormal
 *   quotients, with integers, for the soft-float targets whose library gets them wrong; the rounding
 *   is the same nearest-even).
 * - y[d] = fl(w_0 v_0[d]), then fl(y[d] + fl(w_j v_j[d])) for j = 1 .. m: across d, 64 d at a time
 *   (8 accumulators), then 8, then a masked tail; each d keeps the reference's order over j.
 *
 * Rows and heads in the reference's order, scores and weights in the scratch `scores` (only its first
 * m + 1 floats are written, as the reference does); y may be q, as for the reference. Every read stays
 * inside the caches' [positions, kv_heads * head_dim] (a float16 tail reads past a row only when the
 * cache goes on, else it copies) and the call's q, k, v.
 *
 * Run-time dispatch as in tn_linear_avx2.c: the SIMD code is compiled with target attributes and runs
 * only where CPUID says AVX2, F16C and OS support for the YMM state; elsewhere the reference kernels
 * run. -DTN_ATTENTION_FORCE_REF takes the fallback on any CPU (test/lm-attention.test.ts).
 *
 * The prototypes are in tn_lm.h (the reference's signatures with the suffix _avx2).
 */
#include <stddef.h>

#include "tn_lm.h"
#include "tn_half.h"
#include "tn_math.h"

/* y[i] = tn_expf(x[i]) for i < n, bit for bit (the attention's exponential, for the test). */
void tn_expf_avx2(const float *x, int32_t n, float *y);

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "tn_x86.h"
#include "tn_exp_avx2.h"

#define TN_AVX2 __attribute__((target("avx2,f16c")))
#define TN_ALWAYS_INLINE inline __attribute__((always_inline))

/* Cache formats (compile-time arguments of the inlined loops). */
enum { TN_C_F32, TN_C_F16 };

/* ---- loads from the caches ------------------------------------------------------------------ */

/* 8 elements of a cache from element i (f32 or f16, widened exactly). */
TN_AVX2 static TN_ALWAYS_INLINE __m256 tn_c8(const int fmt, const void *c, size_t i) {
  if (fmt == TN_C_F32) return _mm256_loadu_ps((const float *)c + i);
  return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)c + i)));
}

/* The cnt < 8 elements from element i, +0 in the lanes from cnt on (live: the lanes below cnt). end:
 * the cache's element count; a float16 read of 8 elements that stays inside it is loaded and masked,
 * else the elements are copied. */
TN_AVX2 static TN_ALWAYS_INLINE __m256 tn_c8_tail(const int fmt, const void *c, size_t i, int32_t cnt, __m256i live, size_t end) {
  if (fmt == TN_C_F32) return _mm256_maskload_ps((const float *)c + i, live);
  if (i + 8 <= end) return _mm256_and_ps(tn_c8(fmt, c, i), _mm256_castsi256_ps(live));
  {
    uint16_t pad[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t t;
    for (t = 0; t < cnt; ++t) pad[t] = ((const uint16_t *)c)[i + (size_t)t];
    return tn_c8(fmt, pad, 0);
  }
}

/* ---- the steps ------------------------------------------------------------------------------ */

/* Store the call's k and v rows (n rows of kvw) at element `at` of the caches. */
TN_AVX2 static TN_ALWAYS_INLINE void tn_att_store(const int fmt, const float *k, const float *v, size_t count, void *kc, void *vc, size_t at) {
  size_t i = 0;
  if (fmt == TN_C_F32) {
    float *kd = (float *)kc + at, *vd = (float *)vc + at;
    for (; i + 8 <= count; i += 8) {
      _mm256_storeu_ps(kd + i, _mm256_loadu_ps(k + i));
      _mm256_storeu_ps(vd + i, _mm256_loadu_ps(v + i));
    }
    for (; i < count; ++i) kd[i] = k[i], vd[i] = v[i];
  } else {
    uint16_t *kd = (uint16_t *)kc + at, *vd = (uint16_t *)vc + at;
    const __m128i payload = _mm_set1_epi16(0x01ff); /* a NaN's bits below the quiet bit */
    int s;
    for (; i + 8 <= count; i += 8)
      for (s = 0; s < 2; ++s) {
        const __m256 x = _mm256_loadu_ps((s ? v : k) + i);
        const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
        const __m128i nan16 = _mm_packs_epi32(_mm256_castsi256_si128(nan), _mm256_extracti128_si256(nan, 1));
        const __m128i h = _mm_andnot_si128(_mm_and_si128(nan16, payload), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
        _mm_storeu_si128((__m128i *)(void *)((s ? vd : kd) + i), h);
      }
    for (; i < count; ++i) kd[i] = tn_f32_to_f16(k[i]), vd[i] = tn_f32_to_f16(v[i]);
  }
}

/* Lane q: the lane sum's tree of aq, ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)). */
TN_AVX2 static TN_ALWAYS_INLINE __m256 tn_tree8(const __m256 *a) {
  /* [a0: 0123, a1, a2, a3 | a0: 4567, a1, a2, a3] and the same of a4 .. a7 */
  const __m256 s0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 s1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(s0, s1, 0x20), _mm256_permute2f128_ps(s0, s1, 0x31));
}

/* s_j for j = j0 .. j0 + 7 (those past m repeat m): kc is the cache, at its element (row 0, head g),
 * kvw the elements per position; qt: q's last head_dim mod 8 elements, masked (live). */
TN_AVX2 static TN_ALWAYS_INLINE __m256 tn_scores8(const int fmt, const float *qh, const void *kc, size_t goff, size_t kvw, size_t end, int32_t j0, int32_t m,
                                                  int32_t head_dim, __m256 qt, __m256i live, __m256 scale) {
  __m256 a[8];
  size_t row[8];
  int32_t d = 0;
  int t;
  for (t = 0; t < 8; ++t) row[t] = (size_t)(j0 + t <= m ? j0 + t : m) * kvw + goff, a[t] = _mm256_setzero_ps();
  for (; d + 8 <= head_dim; d += 8) {
    const __m256 qv = _mm256_loadu_ps(qh + d);
    for (t = 0; t < 8; ++t) a[t] = _mm256_add_ps(a[t], _mm256_mul_ps(qv, tn_c8(fmt, kc, row[t] + (size_t)d)));
  }
  if (d < head_dim)
    for (t = 0; t < 8; ++t) a[t] = _mm256_add_ps(a[t], _mm256_mul_ps(qt, tn_c8_tail(fmt, kc, row[t] + (size_t)d, head_dim - d, live, end)));
  return _mm256_mul_ps(tn_tree8(a), scale);
}

/* y[d0 .. d0 + 8 NV - 1] = sum over j of w_j v_j[d] in order, the first term alone (NV whole vectors). */
TN_AVX2 static TN_ALWAYS_INLINE void tn_out(const int fmt, const int NV, const float *w, const void *vc, size_t goff, size_t kvw, int32_t m, int32_t d0,
                                            float *yh) {
  __m256 a[8];
  int32_t j;
  int t;
  {
    const __m256 wv = _mm256_broadcast_ss(w);
    for (t = 0; t < NV; ++t) a[t] = _mm256_mul_ps(wv, tn_c8(fmt, vc, goff + (size_t)(d0 + 8 * t)));
  }
  for (j = 1; j <= m; ++j) {
    const __m256 wv = _mm256_broadcast_ss(w + j);
    const size_t at = (size_t)j * kvw + goff + (size_t)d0;
    for (t = 0; t < NV; ++t) a[t] = _mm256_add_ps(a[t], _mm256_mul_ps(wv, tn_c8(fmt, vc, at + (size_t)(8 * t))));
  }
  for (t = 0; t < NV; ++t) _mm256_storeu_ps(yh + d0 + 8 * t, a[t]);
}

/* The same for the last cnt < 8 d from d0 (live: the lanes below cnt). */
TN_AVX2 static TN_ALWAYS_INLINE void tn_out_tail(const int fmt, const float *w, const void *vc, size_t goff, size_t kvw, size_t end, int32_t m, int32_t d0,
                                                 int32_t cnt, __m256i live, float *yh) {
  __m256 a = _mm256_mul_ps(_mm256_broadcast_ss(w), tn_c8_tail(fmt, vc, goff + (size_t)d0, cnt, live, end));
  int32_t j;
  for (j = 1; j <= m; ++j) a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_broadcast_ss(w + j), tn_c8_tail(fmt, vc, (size_t)j * kvw + goff + (size_t)d0, cnt, live, end)));
  _mm256_maskstore_ps(yh + d0, live, a);
}

/* The lanes below cnt (0 <= cnt <= 8). */
TN_AVX2 static TN_ALWAYS_INLINE __m256i tn_live(int32_t cnt) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }

/* One row and head: scores, softmax, output (the caches already hold position m). */
TN_AVX2 static TN_ALWAYS_INLINE void tn_att_head(const int fmt, const float *qh, const void *kc, const void *vc, size_t goff, size_t kvw, size_t end,
                                                 int32_t m, int32_t head_dim, float scale, float *s, float *yh) {
  const __m256i live = tn_live(head_dim & 7), jlive = tn_live((m + 1) & 7);
  const __m256 qt = (head_dim & 7) ? _mm256_maskload_ps(qh + (head_dim & ~7), live) : _mm256_setzero_ps();
  const __m256 sc = _mm256_set1_ps(scale);
  const int32_t jfull = (m + 1) & ~7;
  __m256 mxv = _mm256_setzero_ps(), sumv;
  float lanes[8], mx, sum;
  int32_t j, d;
  /* scores and their max */
  for (j = 0; j <= m; j += 8) {
    const __m256 sv = tn_scores8(fmt, qh, kc, goff, kvw, end, j, m, head_dim, qt, live, sc);
    mxv = j == 0 ? sv : _mm256_max_ps(sv, mxv);
    if (j < jfull) _mm256_storeu_ps(s + j, sv);
    else _mm256_maskstore_ps(s + j, jlive, sv);
  }
  _mm256_storeu_ps(lanes, mxv);
  mx = lanes[0];
  for (d = 1; d < 8; ++d)
    if (lanes[d] > mx) mx = lanes[d];
  /* e_j = expf(s_j - mx); their sum in order */
  {
    const __m256 mv = _mm256_set1_ps(mx);
    for (j = 0; j < jfull; j += 8) _mm256_storeu_ps(s + j, tn_exp8(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv)));
    if (j <= m) _mm256_maskstore_ps(s + j, jlive, tn_exp8(_mm256_sub_ps(_mm256_maskload_ps(s + j, jlive), mv)));
  }
  sum = s[0];
  for (j = 1; j <= m; ++j) sum = sum + s[j];
  /* w_j = e_j / sum */
  sumv = _mm256_set1_ps(sum);
  for (j = 0; j < jfull; j += 8) _mm256_storeu_ps(s + j, _mm256_div_ps(_mm256_loadu_ps(s + j), sumv));
  if (j <= m) _mm256_maskstore_ps(s + j, jlive, _mm256_div_ps(_mm256_maskload_ps(s + j, jlive), sumv));
  /* y = sum of w_j v_j */
  for (d = 0; d + 64 <= head_dim; d += 64) tn_out(fmt, 8, s, vc, goff, kvw, m, d, yh);
  for (; d + 8 <= head_dim; d += 8) tn_out(fmt, 1, s, vc, goff, kvw, m, d, yh);
  if (d < head_dim) tn_out_tail(fmt, s, vc, goff, kvw, end, m, d, head_dim - d, live, yh);
}

TN_AVX2 static TN_ALWAYS_INLINE void tn_att(const int fmt, const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, void *k_cache,
                                            void *v_cache, int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores,
                                            float *y) {
  const size_t kvw = (size_t)kv_heads * (size_t)head_dim, end = (size_t)positions * kvw;
  const int32_t group = heads / kv_heads, p0 = pos[0];
  int32_t r, h;
  tn_att_store(fmt, k, v, (size_t)n * kvw, k_cache, v_cache, (size_t)p0 * kvw);
  for (r = 0; r < n; ++r)
    for (h = 0; h < heads; ++h) {
      const size_t at = ((size_t)r * (size_t)heads + (size_t)h) * (size_t)head_dim;
      tn_att_head(fmt, q + at, k_cache, v_cache, (size_t)(h / group) * (size_t)head_dim, kvw, end, p0 + r, head_dim, scale, scores, y + at);
    }
}

TN_AVX2 static void tn_att_f32_simd(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache,
                                    int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  tn_att(TN_C_F32, q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

TN_AVX2 static void tn_att_f16_simd(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache,
                                    int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  tn_att(TN_C_F16, q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

TN_AVX2 static void tn_exp_simd(const float *x, int32_t n, float *y) {
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, tn_exp8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i live = tn_live(n - i);
    _mm256_maskstore_ps(y + i, live, tn_exp8(_mm256_maskload_ps(x + i, live)));
  }
}

/* 1 if this CPU runs the SIMD code (AVX2 and F16C, tn_x86_cpu), chosen once (a benign race at worst). */
static int tn_attention_avx2_ok(void) {
  static int state; /* 0: not asked yet, 1: yes, 2: no */
  if (state == 0) {
    const unsigned want = TN_X86_AVX2 | TN_X86_F16C;
    int ok = (tn_x86_cpu() & want) == want;
#ifdef TN_ATTENTION_FORCE_REF
    ok = 0; /* the test build of the fallback */
#endif
    state = ok ? 1 : 2;
  }
  return state == 1;
}

void tn_attention_f32_avx2(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                           int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  if (tn_attention_avx2_ok()) tn_att_f32_simd(q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
  else tn_attention_f32(q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

void tn_attention_f16cache_avx2(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache,
                                int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  if (tn_attention_avx2_ok()) tn_att_f16_simd(q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
  else tn_attention_f16cache(q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

void tn_expf_avx2(const float *x, int32_t n, float *y) {
  int32_t i;
  if (tn_attention_avx2_ok()) tn_exp_simd(x, n, y);
  else
    for (i = 0; i < n; ++i) y[i] = tn_expf(x[i]);
}

#else /* not x86 (this file is only chosen for x86 targets): the reference kernels */

void tn_attention_f32_avx2(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                           int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  tn_attention_f32(q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

void tn_attention_f16cache_avx2(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache,
                                int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  tn_attention_f16cache(q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

void tn_expf_avx2(const float *x, int32_t n, float *y) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = tn_expf(x[i]);
}

#endif

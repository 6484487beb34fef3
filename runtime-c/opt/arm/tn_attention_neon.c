/*
 * tn_attention_neon.c - the Attention op of the language models (tn_lm.h) with AArch64 NEON, over a
 * float32 or a float16 KV cache, with the results of the reference kernels (ref/tn_lm.c:
 * tn_attention_f32, tn_attention_f16cache) bit for bit (docs/numerics.md, "Lane sums" and
 * "Attention"). The steps and the argument for each are those of opt/x86/tn_attention_avx2.c; here:
 *
 * - Cache rows: float16 by FCVTN (vcvt_f16_f32), round to nearest even under the default FPCR, which
 *   is tn_f32_to_f16 for every number; a NaN keeps its sign and becomes 0x7e00 in magnitude as in
 *   tn_f32_to_f16 (FCVTN keeps the top 9 payload bits: they are cleared).
 * - Scores: the lane sum's 8 lanes are two float32x4_t accumulators per position (lanes 0-3, 4-7),
 *   FMUL then FADD (never FMLA: no vmlaq_f32 / vfmaq_f32, and -ffp-contract=off); float16 keys
 *   widened exactly (FCVTL); the tail's lanes from head_dim mod 8 on add +0 (zero-padded or masked
 *   copies); the tree of 4 positions at once by three levels of FADDP (vpaddq_f32 adds adjacent
 *   pairs), 8 positions per block, the last block repeating position m.
 * - mx by FMAX per block then over the lanes (the same outputs as the reference's `>` scan: see the
 *   AVX2 file); e_j by tn_exp4, tn_expf's steps lane by lane (tn_expf_neon for the test); the sum in
 *   order, scalar; w_j by FDIV (IEEE division: tn_divf's result on this float unit).
 * - y across d, 64 d at a time (16 accumulators), then 8, then a zero-padded tail.
 *
 * AArch64 only. ARMv7 NEON (Cortex-A7, rpi-armv7) flushes subnormal inputs and results to zero in
 * Advanced SIMD arithmetic whatever FPSCR.FZ says, so it cannot give the reference's bits: there, and
 * on any build without AArch64 NEON, these functions are the reference kernels.
 *
 * The prototypes are in tn_lm.h (the reference's signatures with the suffix _neon).
 */
#include <stddef.h>

#include "tn_lm.h"
#include "tn_half.h"
#include "tn_math.h"

/* y[i] = tn_expf(x[i]) for i < n, bit for bit (the attention's exponential, for the test). */
void tn_expf_neon(const float *x, int32_t n, float *y);

#if defined(__aarch64__) && defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
#include <arm_neon.h>

#include "tn_exp_neon.h"

#define TN_ALWAYS_INLINE inline __attribute__((always_inline))

/* Cache formats (compile-time arguments of the inlined loops). */
enum { TN_C_F32, TN_C_F16 };

/* ---- loads from the caches ------------------------------------------------------------------ */

/* 8 elements of a cache from element i (f32 or f16, widened exactly): lanes 0-3 in *lo, 4-7 in *hi. */
static TN_ALWAYS_INLINE void tn_c8(const int fmt, const void *c, size_t i, float32x4_t *lo, float32x4_t *hi) {
  if (fmt == TN_C_F32) {
    *lo = vld1q_f32((const float *)c + i);
    *hi = vld1q_f32((const float *)c + i + 4);
  } else {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16((const uint16_t *)c + i));
    *lo = vcvt_f32_f16(vget_low_f16(h)); /* exact */
    *hi = vcvt_high_f32_f16(h);
  }
}

/* The cnt < 8 elements from element i, +0 in the lanes from cnt on (ml, mh: the lanes below cnt).
 * end: the cache's element count; a read of 8 elements that stays inside it is loaded and masked,
 * else the elements are copied. */
static TN_ALWAYS_INLINE void tn_c8_tail(const int fmt, const void *c, size_t i, int32_t cnt, uint32x4_t ml, uint32x4_t mh, size_t end, float32x4_t *lo,
                                        float32x4_t *hi) {
  int32_t t;
  if (i + 8 <= end) {
    tn_c8(fmt, c, i, lo, hi);
    *lo = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(*lo), ml));
    *hi = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(*hi), mh));
  } else if (fmt == TN_C_F32) {
    float pad[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (t = 0; t < cnt; ++t) pad[t] = ((const float *)c)[i + (size_t)t];
    tn_c8(fmt, pad, 0, lo, hi);
  } else {
    uint16_t pad[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (t = 0; t < cnt; ++t) pad[t] = ((const uint16_t *)c)[i + (size_t)t];
    tn_c8(fmt, pad, 0, lo, hi);
  }
}

/* ---- the steps ------------------------------------------------------------------------------ */

/* Store the call's k and v rows (n rows of kvw) at element `at` of the caches. */
static TN_ALWAYS_INLINE void tn_att_store(const int fmt, const float *k, const float *v, size_t count, void *kc, void *vc, size_t at) {
  size_t i = 0;
  if (fmt == TN_C_F32) {
    float *kd = (float *)kc + at, *vd = (float *)vc + at;
    for (; i + 4 <= count; i += 4) {
      vst1q_f32(kd + i, vld1q_f32(k + i));
      vst1q_f32(vd + i, vld1q_f32(v + i));
    }
    for (; i < count; ++i) kd[i] = k[i], vd[i] = v[i];
  } else {
    uint16_t *kd = (uint16_t *)kc + at, *vd = (uint16_t *)vc + at;
    const uint16x4_t payload = vdup_n_u16(0x01ff); /* a NaN's bits below the quiet bit */
    int s;
    for (; i + 4 <= count; i += 4)
      for (s = 0; s < 2; ++s) {
        const float32x4_t x = vld1q_f32((s ? v : k) + i);
        const uint16x4_t nan = vmovn_u32(vmvnq_u32(vceqq_f32(x, x)));
        const uint16x4_t h = vbic_u16(vreinterpret_u16_f16(vcvt_f16_f32(x)), vand_u16(nan, payload));
        vst1_u16((s ? vd : kd) + i, h);
      }
    for (; i < count; ++i) kd[i] = tn_f32_to_f16(k[i]), vd[i] = tn_f32_to_f16(v[i]);
  }
}

/* Lane q of the result: the lane sum's tree of position q (lanes 0-3 in l[q], 4-7 in h[q]), that is
 * ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)). */
static TN_ALWAYS_INLINE float32x4_t tn_tree4(const float32x4_t *l, const float32x4_t *h) {
  const float32x4_t p0 = vpaddq_f32(l[0], h[0]), p1 = vpaddq_f32(l[1], h[1]), p2 = vpaddq_f32(l[2], h[2]), p3 = vpaddq_f32(l[3], h[3]);
  return vpaddq_f32(vpaddq_f32(p0, p1), vpaddq_f32(p2, p3));
}

/* s_j for j = j0 .. j0 + 7 (those past m repeat m) in *s0 (j0 .. j0 + 3) and *s1: kc is the cache, at
 * its element (row 0, head g), kvw the elements per position; ql, qh: q's last head_dim mod 8
 * elements, zero-padded (ml, mh: their live lanes). */
static TN_ALWAYS_INLINE void tn_scores8(const int fmt, const float *q, const void *kc, size_t goff, size_t kvw, size_t end, int32_t j0, int32_t m, int32_t head_dim,
                                        float32x4_t ql, float32x4_t qh, uint32x4_t ml, uint32x4_t mh, float32x4_t scale, float32x4_t *s0, float32x4_t *s1) {
  float32x4_t al[8], ah[8];
  size_t row[8];
  int32_t d = 0;
  int t;
  for (t = 0; t < 8; ++t) row[t] = (size_t)(j0 + t <= m ? j0 + t : m) * kvw + goff, al[t] = vdupq_n_f32(0.0f), ah[t] = vdupq_n_f32(0.0f);
  for (; d + 8 <= head_dim; d += 8) {
    const float32x4_t xl = vld1q_f32(q + d), xh = vld1q_f32(q + d + 4);
    for (t = 0; t < 8; ++t) {
      float32x4_t kl, kh;
      tn_c8(fmt, kc, row[t] + (size_t)d, &kl, &kh);
      al[t] = vaddq_f32(al[t], vmulq_f32(xl, kl));
      ah[t] = vaddq_f32(ah[t], vmulq_f32(xh, kh));
    }
  }
  if (d < head_dim)
    for (t = 0; t < 8; ++t) {
      float32x4_t kl, kh;
      tn_c8_tail(fmt, kc, row[t] + (size_t)d, head_dim - d, ml, mh, end, &kl, &kh);
      al[t] = vaddq_f32(al[t], vmulq_f32(ql, kl));
      ah[t] = vaddq_f32(ah[t], vmulq_f32(qh, kh));
    }
  *s0 = vmulq_f32(tn_tree4(al, ah), scale);
  *s1 = vmulq_f32(tn_tree4(al + 4, ah + 4), scale);
}

/* y[d0 .. d0 + 8 NV - 1] = sum over j of w_j v_j[d] in order, the first term alone (NV whole blocks of 8). */
static TN_ALWAYS_INLINE void tn_out(const int fmt, const int NV, const float *w, const void *vc, size_t goff, size_t kvw, int32_t m, int32_t d0, float *yh) {
  float32x4_t al[8], ah[8];
  int32_t j;
  int t;
  {
    const float32x4_t wv = vdupq_n_f32(w[0]);
    for (t = 0; t < NV; ++t) {
      float32x4_t vl, vh;
      tn_c8(fmt, vc, goff + (size_t)(d0 + 8 * t), &vl, &vh);
      al[t] = vmulq_f32(wv, vl);
      ah[t] = vmulq_f32(wv, vh);
    }
  }
  for (j = 1; j <= m; ++j) {
    const float32x4_t wv = vdupq_n_f32(w[j]);
    const size_t at = (size_t)j * kvw + goff + (size_t)d0;
    for (t = 0; t < NV; ++t) {
      float32x4_t vl, vh;
      tn_c8(fmt, vc, at + (size_t)(8 * t), &vl, &vh);
      al[t] = vaddq_f32(al[t], vmulq_f32(wv, vl));
      ah[t] = vaddq_f32(ah[t], vmulq_f32(wv, vh));
    }
  }
  for (t = 0; t < NV; ++t) {
    vst1q_f32(yh + d0 + 8 * t, al[t]);
    vst1q_f32(yh + d0 + 8 * t + 4, ah[t]);
  }
}

/* The same for the last cnt < 8 d from d0 (ml, mh: the lanes below cnt). */
static TN_ALWAYS_INLINE void tn_out_tail(const int fmt, const float *w, const void *vc, size_t goff, size_t kvw, size_t end, int32_t m, int32_t d0, int32_t cnt,
                                         uint32x4_t ml, uint32x4_t mh, float *yh) {
  float32x4_t al, ah, vl, vh;
  float o[8];
  int32_t j;
  tn_c8_tail(fmt, vc, goff + (size_t)d0, cnt, ml, mh, end, &vl, &vh);
  al = vmulq_f32(vdupq_n_f32(w[0]), vl);
  ah = vmulq_f32(vdupq_n_f32(w[0]), vh);
  for (j = 1; j <= m; ++j) {
    const float32x4_t wv = vdupq_n_f32(w[j]);
    tn_c8_tail(fmt, vc, (size_t)j * kvw + goff + (size_t)d0, cnt, ml, mh, end, &vl, &vh);
    al = vaddq_f32(al, vmulq_f32(wv, vl));
    ah = vaddq_f32(ah, vmulq_f32(wv, vh));
  }
  vst1q_f32(o, al);
  vst1q_f32(o + 4, ah);
  for (j = 0; j < cnt; ++j) yh[d0 + j] = o[j];
}

/* The lanes below cnt of lanes 0-3 (*ml) and 4-7 (*mh), 0 <= cnt <= 8. */
static TN_ALWAYS_INLINE void tn_live(int32_t cnt, uint32x4_t *ml, uint32x4_t *mh) {
  static const int32_t iota[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  *ml = vcgtq_s32(vdupq_n_s32(cnt), vld1q_s32(iota));
  *mh = vcgtq_s32(vdupq_n_s32(cnt), vld1q_s32(iota + 4));
}

/* One row and head: scores, softmax, output (the caches already hold position m). */
static TN_ALWAYS_INLINE void tn_att_head(const int fmt, const float *q, const void *kc, const void *vc, size_t goff, size_t kvw, size_t end, int32_t m,
                                         int32_t head_dim, float scale, float *s, float *yh) {
  const int32_t dfull = head_dim & ~7, jfull = (m + 1) & ~7;
  const float32x4_t sc = vdupq_n_f32(scale);
  float32x4_t ql = vdupq_n_f32(0.0f), qh = vdupq_n_f32(0.0f), mx0 = vdupq_n_f32(0.0f), mx1 = vdupq_n_f32(0.0f), sumv;
  uint32x4_t ml, mh;
  float mx, sum, pad[8];
  int32_t j, d;
  tn_live(head_dim & 7, &ml, &mh);
  if (dfull < head_dim) {
    for (d = 0; d < 8; ++d) pad[d] = dfull + d < head_dim ? q[dfull + d] : 0.0f;
    ql = vld1q_f32(pad);
    qh = vld1q_f32(pad + 4);
  }
  /* scores and their max */
  for (j = 0; j <= m; j += 8) {
    float32x4_t s0, s1;
    tn_scores8(fmt, q, kc, goff, kvw, end, j, m, head_dim, ql, qh, ml, mh, sc, &s0, &s1);
    mx0 = j == 0 ? s0 : vmaxq_f32(mx0, s0);
    mx1 = j == 0 ? s1 : vmaxq_f32(mx1, s1);
    if (j < jfull) {
      vst1q_f32(s + j, s0);
      vst1q_f32(s + j + 4, s1);
    } else {
      vst1q_f32(pad, s0);
      vst1q_f32(pad + 4, s1);
      for (d = 0; j + d <= m; ++d) s[j + d] = pad[d];
    }
  }
  vst1q_f32(pad, mx0);
  vst1q_f32(pad + 4, mx1);
  mx = pad[0];
  for (d = 1; d < 8; ++d)
    if (pad[d] > mx) mx = pad[d];
  /* e_j = expf(s_j - mx); their sum in order */
  {
    const float32x4_t mv = vdupq_n_f32(mx);
    for (j = 0; j < jfull; j += 4) vst1q_f32(s + j, tn_exp4(vsubq_f32(vld1q_f32(s + j), mv)));
    if (j <= m) {
      for (d = 0; d < 8; ++d) pad[d] = j + d <= m ? s[j + d] : 0.0f;
      vst1q_f32(pad, tn_exp4(vsubq_f32(vld1q_f32(pad), mv)));
      vst1q_f32(pad + 4, tn_exp4(vsubq_f32(vld1q_f32(pad + 4), mv)));
      for (d = 0; j + d <= m; ++d) s[j + d] = pad[d];
    }
  }
  sum = s[0];
  for (j = 1; j <= m; ++j) sum = sum + s[j];
  /* w_j = e_j / sum */
  sumv = vdupq_n_f32(sum);
  for (j = 0; j + 4 <= m + 1; j += 4) vst1q_f32(s + j, vdivq_f32(vld1q_f32(s + j), sumv));
  if (j <= m) {
    for (d = 0; d < 4; ++d) pad[d] = j + d <= m ? s[j + d] : 0.0f;
    vst1q_f32(pad, vdivq_f32(vld1q_f32(pad), sumv));
    for (d = 0; j + d <= m; ++d) s[j + d] = pad[d];
  }
  /* y = sum of w_j v_j */
  for (d = 0; d + 64 <= head_dim; d += 64) tn_out(fmt, 8, s, vc, goff, kvw, m, d, yh);
  for (; d + 8 <= head_dim; d += 8) tn_out(fmt, 1, s, vc, goff, kvw, m, d, yh);
  if (d < head_dim) tn_out_tail(fmt, s, vc, goff, kvw, end, m, d, head_dim - d, ml, mh, yh);
}

static TN_ALWAYS_INLINE void tn_att(const int fmt, const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, void *k_cache, void *v_cache,
                                    int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
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

void tn_attention_f32_neon(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                           int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  tn_att(TN_C_F32, q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

void tn_attention_f16cache_neon(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache,
                                int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  tn_att(TN_C_F16, q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

void tn_expf_neon(const float *x, int32_t n, float *y) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, tn_exp4(vld1q_f32(x + i)));
  if (i < n) {
    float pad[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int32_t t;
    for (t = 0; i + t < n; ++t) pad[t] = x[i + t];
    vst1q_f32(pad, tn_exp4(vld1q_f32(pad)));
    for (t = 0; i + t < n; ++t) y[i + t] = pad[t];
  }
}

#else /* ARMv7 (subnormals flushed, above) or no NEON: the reference kernels */

void tn_attention_f32_neon(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                           int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  tn_attention_f32(q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

void tn_attention_f16cache_neon(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache,
                                int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  tn_attention_f16cache(q, k, v, n, pos, k_cache, v_cache, positions, heads, kv_heads, head_dim, scale, scores, y);
}

void tn_expf_neon(const float *x, int32_t n, float *y) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = tn_expf(x[i]);
}

#endif

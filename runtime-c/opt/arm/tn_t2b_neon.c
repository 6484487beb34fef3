/*
 * tn_t2b_neon.c - ternary linear layer with NEON (AArch64 and ARMv7-A), weight format t2b.
 *
 * A 16-byte half of a t2b block holds 64 offset codes u = w + 1: field f of byte m is code m + 32 f
 * (m + 16 for the second half), so each field pairs with 16 contiguous activations.
 *
 *   with dotprod (__ARM_FEATURE_DOTPROD: Cortex-A76 / Pi 5, built with -mcpu=cortex-a76 or
 *   -march=armv8.2-a+dotprod): SDOT adds 4 products u * x into each int32 lane, no int16 stage;
 *   without (Cortex-A53/A72 / Pi 3/4, Cortex-A7): VMLAL.S8 into int16. The GEMV loop keeps one
 *   accumulator per row, so each lane receives 16 products in [-256, 254] per block of 128 codes,
 *   widened to int32 (VPADAL) every 8 blocks; the generic loop (GEMM, partial blocks) keeps one per
 *   half block and widens every 16 blocks: the int16 lanes stay within [-32768, 32512] for any K.
 *
 * Binary layers run here too: their codes are a subset (u = 0 or 2).
 *
 * The choice between the two is made when the file is compiled (the feature macro), not at run time:
 * generated code does not call the C library, and the kernel has the same results either way. As in
 * the AVX2 kernel, int32 sums are exact mod 2^32 and sum u x - sum x is the exact result.
 */
#include "tn_runtime.h"

#if defined(__ARM_NEON)
#include <arm_neon.h>

#if defined(__aarch64__)
#define TN_NR 4 /* rows per pass: 32 vector registers */
#else
#define TN_NR 2 /* ARMv7-A: 16 quad registers */
#endif

static inline int32_t tn_hsum_s32(int32x4_t v) {
#if defined(__aarch64__)
  return vaddvq_s32(v);
#else
  const int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
  return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

/* Blocks b0 .. b1-1 of nr rows (row r at c + 32 r, blocks 128 bytes apart: t2b's groups of 4
 * interleaved rows) times nt token vectors (x + t * ldx + 128 (b - b0)), into a32[r * nt + t]. */
static inline void tn_t2b_blocks_neon(const uint8_t *c, int nr, const int8_t *x, size_t ldx, int nt, int32_t b0, int32_t b1,
                                      int32x4_t *a32) {
  const uint8x16_t m3 = vdupq_n_u8(3);
  int32_t b;
#if defined(__ARM_FEATURE_DOTPROD)
  for (b = b0; b < b1; ++b) {
    int r, t, h;
    for (r = 0; r < nr; ++r) {
      for (h = 0; h < 2; ++h) {
        const uint8x16_t v = vld1q_u8(c + (size_t)r * 32 + (size_t)b * 128 + (size_t)h * 16);
        const int8x16_t f0 = vreinterpretq_s8_u8(vandq_u8(v, m3));
        const int8x16_t f1 = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 2), m3));
        const int8x16_t f2 = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 4), m3));
        const int8x16_t f3 = vreinterpretq_s8_u8(vshrq_n_u8(v, 6));
        for (t = 0; t < nt; ++t) {
          const int8_t *xb = x + (size_t)t * ldx + (size_t)(b - b0) * 128 + (size_t)h * 16;
          int32x4_t a = a32[r * nt + t];
          a = vdotq_s32(a, f0, vld1q_s8(xb));
          a = vdotq_s32(a, f1, vld1q_s8(xb + 32));
          a = vdotq_s32(a, f2, vld1q_s8(xb + 64));
          a = vdotq_s32(a, f3, vld1q_s8(xb + 96));
          a32[r * nt + t] = a;
        }
      }
    }
  }
#else
  b = b0;
  while (b < b1) {
    const int32_t e = b1 - b > 16 ? b + 16 : b1; /* at most 16 blocks in int16 */
    int16x8_t s[2 * 4];
    int i, r, t, h;
    for (i = 0; i < 2 * nr * nt; ++i) s[i] = vdupq_n_s16(0);
    for (; b < e; ++b) {
      for (r = 0; r < nr; ++r) {
        for (h = 0; h < 2; ++h) {
          const uint8x16_t v = vld1q_u8(c + (size_t)r * 32 + (size_t)b * 128 + (size_t)h * 16);
          const int8x16_t f0 = vreinterpretq_s8_u8(vandq_u8(v, m3));
          const int8x16_t f1 = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 2), m3));
          const int8x16_t f2 = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 4), m3));
          const int8x16_t f3 = vreinterpretq_s8_u8(vshrq_n_u8(v, 6));
          for (t = 0; t < nt; ++t) {
            const int8_t *xb = x + (size_t)t * ldx + (size_t)(b - b0) * 128 + (size_t)h * 16;
            const int8x16_t x0 = vld1q_s8(xb), x1 = vld1q_s8(xb + 32), x2 = vld1q_s8(xb + 64), x3 = vld1q_s8(xb + 96);
            int16x8_t a = s[(r * nt + t) * 2 + h];
            a = vmlal_s8(a, vget_low_s8(f0), vget_low_s8(x0));
            a = vmlal_s8(a, vget_high_s8(f0), vget_high_s8(x0));
            a = vmlal_s8(a, vget_low_s8(f1), vget_low_s8(x1));
            a = vmlal_s8(a, vget_high_s8(f1), vget_high_s8(x1));
            a = vmlal_s8(a, vget_low_s8(f2), vget_low_s8(x2));
            a = vmlal_s8(a, vget_high_s8(f2), vget_high_s8(x2));
            a = vmlal_s8(a, vget_low_s8(f3), vget_low_s8(x3));
            a = vmlal_s8(a, vget_high_s8(f3), vget_high_s8(x3));
            s[(r * nt + t) * 2 + h] = a;
          }
        }
      }
    }
    for (i = 0; i < nr * nt; ++i) a32[i] = vpadalq_s16(vpadalq_s16(a32[i], s[2 * i]), s[2 * i + 1]);
  }
#endif
}

/* GEMV: nb whole blocks of TN_NR rows (c[r] = row r's codes at the first block; blocks 128 bytes
 * apart) against x, added to a[r]. Explicit pointers and register accumulators (with runtime row and token counts, the
 * generic loop above kept its accumulators in memory: about twice the instructions). */
#if defined(__aarch64__)
#define TN_MLAL_HI(s, f, x) vmlal_high_s8(s, f, x)
#else
#define TN_MLAL_HI(s, f, x) vmlal_s8(s, vget_high_s8(f), vget_high_s8(x))
#endif

static void tn_t2b_gemv_rows_neon(const uint8_t *const *c, const int8_t *x, int32_t nb, int32x4_t *a) {
  const uint8x16_t m3 = vdupq_n_u8(3);
  const uint8_t *p0 = c[0], *p1 = c[1];
#if TN_NR == 4
  const uint8_t *p2 = c[2], *p3 = c[3];
  int32x4_t a2 = a[2], a3 = a[3];
#endif
  int32x4_t a0 = a[0], a1 = a[1];
#if defined(__ARM_FEATURE_DOTPROD)
/* one 16-byte half-block of one row: 4 SDOT into the row's int32 lanes */
#define TN_ROW_H(acc, p, h)                                                                      \
  do {                                                                                           \
    const uint8x16_t v_ = vld1q_u8((p) + 16 * (h));                                              \
    acc = vdotq_s32(acc, vreinterpretq_s8_u8(vandq_u8(v_, m3)), x0);                             \
    acc = vdotq_s32(acc, vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v_, 2), m3)), x1);              \
    acc = vdotq_s32(acc, vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v_, 4), m3)), x2);              \
    acc = vdotq_s32(acc, vreinterpretq_s8_u8(vshrq_n_u8(v_, 6)), x3);                            \
  } while (0)
  for (; nb > 0; --nb) {
    int h;
    for (h = 0; h < 2; ++h) {
      const int8x16_t x0 = vld1q_s8(x + 16 * h), x1 = vld1q_s8(x + 32 + 16 * h), x2 = vld1q_s8(x + 64 + 16 * h), x3 = vld1q_s8(x + 96 + 16 * h);
      TN_ROW_H(a0, p0, h);
      TN_ROW_H(a1, p1, h);
#if TN_NR == 4
      TN_ROW_H(a2, p2, h);
      TN_ROW_H(a3, p3, h);
#endif
    }
    x += 128, p0 += 128, p1 += 128;
#if TN_NR == 4
    p2 += 128, p3 += 128;
#endif
  }
#else
/* one 16-byte half-block of one row: 8 VMLAL.S8 into the row's int16 lanes (2 products per field) */
#define TN_ROW_H(s, p, h)                                                                        \
  do {                                                                                           \
    const uint8x16_t v_ = vld1q_u8((p) + 16 * (h));                                              \
    const int8x16_t f0_ = vreinterpretq_s8_u8(vandq_u8(v_, m3));                                 \
    const int8x16_t f1_ = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v_, 2), m3));                  \
    const int8x16_t f2_ = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v_, 4), m3));                  \
    const int8x16_t f3_ = vreinterpretq_s8_u8(vshrq_n_u8(v_, 6));                                \
    s = vmlal_s8(s, vget_low_s8(f0_), vget_low_s8(x0));                                          \
    s = TN_MLAL_HI(s, f0_, x0);                                                                  \
    s = vmlal_s8(s, vget_low_s8(f1_), vget_low_s8(x1));                                          \
    s = TN_MLAL_HI(s, f1_, x1);                                                                  \
    s = vmlal_s8(s, vget_low_s8(f2_), vget_low_s8(x2));                                          \
    s = TN_MLAL_HI(s, f2_, x2);                                                                  \
    s = vmlal_s8(s, vget_low_s8(f3_), vget_low_s8(x3));                                          \
    s = TN_MLAL_HI(s, f3_, x3);                                                                  \
  } while (0)
  /* per block each int16 lane gets 16 products in [-256, 254]: widen every 8 blocks */
  while (nb > 0) {
    int32_t e = nb > 8 ? 8 : nb;
    int16x8_t s0 = vdupq_n_s16(0), s1 = s0;
#if TN_NR == 4
    int16x8_t s2 = s0, s3 = s0;
#endif
    nb -= e;
    do {
      int h;
      for (h = 0; h < 2; ++h) {
        const int8x16_t x0 = vld1q_s8(x + 16 * h), x1 = vld1q_s8(x + 32 + 16 * h), x2 = vld1q_s8(x + 64 + 16 * h), x3 = vld1q_s8(x + 96 + 16 * h);
        TN_ROW_H(s0, p0, h);
        TN_ROW_H(s1, p1, h);
#if TN_NR == 4
        TN_ROW_H(s2, p2, h);
        TN_ROW_H(s3, p3, h);
#endif
      }
      x += 128, p0 += 128, p1 += 128;
#if TN_NR == 4
      p2 += 128, p3 += 128;
#endif
    } while (--e);
    a0 = vpadalq_s16(a0, s0);
    a1 = vpadalq_s16(a1, s1);
#if TN_NR == 4
    a2 = vpadalq_s16(a2, s2);
    a3 = vpadalq_s16(a3, s3);
#endif
  }
#endif
#undef TN_ROW_H
  a[0] = a0, a[1] = a1;
#if TN_NR == 4
  a[2] = a2, a[3] = a3;
#endif
}

/* One range [k0, k1): partial first / last blocks through zero-padded copies of x. */
static void tn_t2b_range_neon(const uint8_t *c, int nr, const int8_t *x, size_t k, int nt, int32_t k0, int32_t k1, int32x4_t *a32) {
  int32_t bf = k0 / 128, bl = (k1 - 1) / 128;
  int t;
  if (k0 % 128 != 0 || (bf == bl && k1 % 128 != 0)) {
    int8_t xc[4][128];
    const int32_t e = bf == bl ? k1 : (bf + 1) * 128;
    int32_t i;
    for (t = 0; t < 4; ++t) /* all 4 rows, so that no compiler sees uninitialised bytes */
      for (i = 0; i < 128; ++i) xc[t][i] = (t < nt && bf * 128 + i >= k0 && bf * 128 + i < e) ? x[(size_t)t * k + (size_t)(bf * 128 + i)] : 0;
    tn_t2b_blocks_neon(c, nr, &xc[0][0], 128, nt, bf, bf + 1, a32);
    if (bf == bl) return;
    ++bf;
  }
  if (k1 % 128 != 0) {
    int8_t xc[4][128];
    int32_t i;
    for (t = 0; t < 4; ++t)
      for (i = 0; i < 128; ++i) xc[t][i] = (t < nt && bl * 128 + i < k1) ? x[(size_t)t * k + (size_t)(bl * 128 + i)] : 0;
    tn_t2b_blocks_neon(c, nr, &xc[0][0], 128, nt, bl, bl + 1, a32);
    --bl;
  }
  if (bf <= bl) tn_t2b_blocks_neon(c, nr, x + (size_t)bf * 128, k, nt, bf, bl + 1, a32);
}

static void tn_t2b_dot_neon(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok, int32_t k0,
                            int32_t k1, int32_t *acc) {
  int32x4_t a32[4];
  int32_t xs[4], r, t, i;
  for (t = 0; t < ntok; ++t) xs[t] = tn_t2b_xsum(w, x, t, k0, k1);
  for (r = 0; r < nrows;) {
    /* one token: TN_NR consecutive rows of a group; several: one row for all tokens */
    const int nr = ntok == 1 && (n0 + r) % TN_NR == 0 && nrows - r >= TN_NR ? TN_NR : 1;
    for (i = 0; i < 4; ++i) a32[i] = vdupq_n_s32(0);
    tn_t2b_range_neon(tn_t2b_row(w, p, n0 + r), nr, x, (size_t)w->k, ntok, k0, k1, a32);
    if (ntok == 1) {
      for (i = 0; i < nr; ++i) acc[r + i] = (int32_t)((uint32_t)tn_hsum_s32(a32[i]) - (uint32_t)xs[0]);
    } else {
      for (t = 0; t < ntok; ++t) acc[t * nrows + r] = (int32_t)((uint32_t)tn_hsum_s32(a32[t]) - (uint32_t)xs[t]);
    }
    r += nr;
  }
}

static const tn_rows_kernel tn_t2b_neon = {8, 4, tn_t2b_prep, tn_t2b_dot_neon};

/* GEMV (one token, int32 sums): rows innermost, the epilogue inline in the contract's order (per
 * output: for p, for g: term = (float)acc * ws; s = first ? term : s + term, held in y; then
 * s * sx, then + bias), as in the AVX2 kernel. */
static void tn_t2b_gemv_neon(const int8_t *x, float sx, const tn_lowbit_weights *w, const float *bias, float *y) {
  const int32_t K = w->k, N = w->n, G = w->group;
  const int32_t groups = (K + G - 1) / G;
  const size_t group_bytes = (size_t)128 * (size_t)((K + 127) / 128);
  int8_t head[128], tail[128];
  int32_t p, g, n, j, k;
  for (p = 0; p < w->planes; ++p) {
    const size_t pn = (size_t)p * (size_t)N;
    const uint8_t *rows = tn_t2b_row(w, p, 0);
    for (g = 0; g < groups; ++g) { /* planes outer, groups inner: the contract's order of terms */
      const int32_t k0 = g * G, k1 = K - k0 > G ? k0 + G : K;
      const int first = p == 0 && g == 0;
      const float *ws = w->granularity == TN_PER_GROUP ? w->scale + pn * (size_t)groups + (size_t)g : w->granularity == TN_PER_ROW ? w->scale + pn : w->scale + p;
      const size_t stride = w->granularity == TN_PER_GROUP ? (size_t)groups : w->granularity == TN_PER_ROW ? 1u : 0u;
      int32_t bf = k0 / 128, bl = (k1 - 1) / 128; /* first and last block touched */
      const int has_head = k0 % 128 != 0 || (bf == bl && k1 % 128 != 0);
      int has_tail;
      uint32_t xs = 0;
      for (k = k0; k < k1; ++k) xs += (uint32_t)(int32_t)x[k];
      if (has_head) { /* zero-padded copies of partial blocks, once per group */
        for (k = 0; k < 128; ++k) head[k] = (bf * 128 + k >= k0 && bf * 128 + k < k1) ? x[bf * 128 + k] : 0;
        ++bf;
      }
      has_tail = bf <= bl && k1 % 128 != 0;
      if (has_tail) {
        for (k = 0; k < 128; ++k) tail[k] = bl * 128 + k < k1 ? x[bl * 128 + k] : 0;
        --bl;
      }
      for (n = 0; n < N; n += TN_NR) { /* TN_NR rows of a group of 4 (the last group's padding rows computed and dropped) */
        const int nr = N - n > TN_NR ? TN_NR : N - n;
        const uint8_t *c = rows + (size_t)(n / 4) * group_bytes + (size_t)(n % 4) * 32;
        int32x4_t a[4];
        for (j = 0; j < TN_NR; ++j) a[j] = vdupq_n_s32(0);
        if (has_head) tn_t2b_blocks_neon(c, TN_NR, head, 128, 1, k0 / 128, k0 / 128 + 1, a);
        if (bf <= bl) {
          const uint8_t *cr[4];
          int r;
          for (r = 0; r < TN_NR; ++r) cr[r] = c + (size_t)r * 32 + (size_t)bf * 128;
          tn_t2b_gemv_rows_neon(cr, x + (size_t)bf * 128, bl + 1 - bf, a);
        }
        if (has_tail) tn_t2b_blocks_neon(c, TN_NR, tail, 128, 1, bl + 1, bl + 2, a);
        for (j = 0; j < nr; ++j) {
          const float term = (float)(int32_t)((uint32_t)tn_hsum_s32(a[j]) - xs) * ws[(size_t)(n + j) * stride];
          y[n + j] = first ? term : y[n + j] + term; /* the first term starts the sum */
        }
      }
    }
  }
  for (n = 0; n < N; ++n) {
    float v = y[n] * sx;
    if (bias) v = v + bias[n];
    y[n] = v;
  }
}

void tn_ternary_linear_t2b_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  if (rows == 1 && flush == 0) {
    tn_t2b_gemv_neon(x, x_scale[0], w, bias, y);
    return;
  }
  tn_lowbit_rows(&tn_t2b_neon, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

#else /* no NEON in this build: the portable dot (same results) */

static const tn_rows_kernel tn_t2b_neon = {4, 4, tn_t2b_prep, tn_t2b_dot_c};

void tn_ternary_linear_t2b_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_rows(&tn_t2b_neon, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

#endif

/* Binary layers: the same kernel (binary codes are t2b codes 0 and 2). */
void tn_binary_linear_t2b_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_ternary_linear_t2b_neon(x, x_scale, x_per_row, rows, w, bias, flush, y);
}

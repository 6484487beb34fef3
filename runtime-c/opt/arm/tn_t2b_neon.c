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
#include "tn_t2b.h"

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

/* The pieces of [k0, k1) (tn_t2b.h): partial blocks through zero-padded copies of x, whole blocks
 * in place. */
static void tn_t2b_range_neon(const uint8_t *c, int nr, const int8_t *x, size_t k, int nt, int32_t k0, int32_t k1, int32x4_t *a32) {
  int8_t xc[4 * TN_QK_T2B];
  tn_t2b_piece pc[3];
  const int32_t np = tn_t2b_pieces(k0, k1, pc);
  int32_t i;
  for (i = 0; i < np; ++i) {
    size_t ldx;
    const int8_t *xp = tn_t2b_piece_x(&pc[i], x, k, nt, 4, k0, k1, xc, &ldx);
    tn_t2b_blocks_neon(c, nr, xp, ldx, nt, pc[i].b0, pc[i].b1, a32);
  }
}

static void tn_t2b_dot_neon(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok, int32_t k0,
                            int32_t k1, int32_t *acc) {
  int32x4_t a32[4];
  int32_t xs[4], r, t, i;
  for (t = 0; t < ntok; ++t) xs[t] = tn_t2b_xsum(w, x, t, k0, k1);
  for (r = 0; r < nrows;) {
    /* one token: TN_NR consecutive rows of a group; several: one row for all tokens */
    const int nr = tn_t2b_rows_per_pass(ntok, n0 + r, nrows - r, TN_NR);
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

/* GEMV (one token, int32 sums): TN_NR rows of a group of 4 innermost (the last group's padding rows
 * computed and dropped), the epilogue inline in the contract's order (tn_t2b.h: tn_t2b_group_term,
 * tn_t2b_gemv_finish), as in the AVX2 kernel. The zero-padded copies of x for partial blocks are
 * made once per scale group. */
static void tn_t2b_gemv_neon(const int8_t *x, float sx, const tn_lowbit_weights *w, const float *bias, float *y) {
  const int32_t N = w->n, groups = (w->k + w->group - 1) / w->group;
  int8_t pad[2 * TN_QK_T2B];
  int32_t p, g, n, i, j;
  for (p = 0; p < w->planes; ++p) {
    for (g = 0; g < groups; ++g) { /* planes outer, groups inner: the contract's order of terms */
      tn_t2b_group s;
      tn_t2b_group_init(&s, pad, w, x, p, g);
      for (n = 0; n < N; n += TN_NR) {
        const int nr = N - n > TN_NR ? TN_NR : N - n;
        const uint8_t *c = s.rows + (size_t)(n / 4) * s.group_bytes + (size_t)(n % 4) * 32;
        int32x4_t a[4];
        for (j = 0; j < TN_NR; ++j) a[j] = vdupq_n_s32(0);
        for (i = 0; i < s.pieces; ++i) {
          const uint8_t *cr[4];
          for (j = 0; j < TN_NR; ++j) cr[j] = c + (size_t)j * 32 + (size_t)s.piece[i].b0 * 128;
          tn_t2b_gemv_rows_neon(cr, s.x[i], s.piece[i].b1 - s.piece[i].b0, a);
        }
        for (j = 0; j < nr; ++j) tn_t2b_group_term(&s, y, n + j, (uint32_t)tn_hsum_s32(a[j]));
      }
    }
  }
  tn_t2b_gemv_finish(y, N, sx, bias);
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

TN_LINEAR_ALIAS(tn_ternary_linear_t2b_neon, tn_t2b_linear_portable)

#endif

/* Binary layers: the same kernel (binary codes are t2b codes 0 and 2). */
TN_LINEAR_ALIAS(tn_binary_linear_t2b_neon, tn_ternary_linear_t2b_neon)

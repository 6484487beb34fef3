/*
 * tn_int8_linear_neon.c - Int8Linear (tn_lm.h) with NEON (AArch64, and ARMv7-A: integer arithmetic
 * has no flush-to-zero to fear): int8 activation codes times int8 weight codes, with the reference's
 * results (ref/tn_int8_linear.c) bit for bit: the sums of a scale group are exact integers in any
 * order, and the float steps after them are the reference's own, in its order.
 *
 * A pass takes 4 rows (the last pass repeats its last row, computed and not stored) and, for each
 * token, reads each 16-byte run of x once for the 4 rows. Per 16 weights of a row: SDOT where the
 * build has dotprod (Cortex-A76, Pi 5), else two widening multiplies into int16 (|w x| <= 128 * 127
 * < 2^15) whose pairs are added into int32 lanes (SADALP). The lanes wrap harmlessly: every step is
 * exact modulo 2^32 and the final sum, which the compiler proved to fit int32, is the exact result. A
 * group's columns past its last whole run of 16 are added one by one.
 */
#include <stddef.h>

#include "tn_lm.h"

#if defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
#include <arm_neon.h>

/* The lanes' sum, wrapping (exact modulo 2^32). */
static inline uint32_t tn_i8_hsum(int32x4_t v) {
  const uint32x4_t u = vreinterpretq_u32_s32(v);
  return vgetq_lane_u32(u, 0) + vgetq_lane_u32(u, 1) + vgetq_lane_u32(u, 2) + vgetq_lane_u32(u, 3);
}

#if defined(__ARM_FEATURE_DOTPROD)
#define TN_I8_STEP(a, wv, xv) a = vdotq_s32(a, wv, xv)
#else
#define TN_I8_STEP(a, wv, xv)                                                    \
  do {                                                                           \
    a = vpadalq_s16(a, vmull_s8(vget_low_s8(wv), vget_low_s8(xv)));              \
    a = vpadalq_s16(a, vmull_s8(vget_high_s8(wv), vget_high_s8(xv)));            \
  } while (0)
#endif

/* One group of columns of 4 rows for one token: acc[q] = sum over j < len of w[q][j] x[j]. */
static void tn_i8_group4_neon(const int8_t *const *w, const int8_t *x, int32_t len, int32_t *acc) {
  int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
  uint32_t s[4];
  int32_t j = 0, q;
  for (; j + 16 <= len; j += 16) {
    const int8x16_t xv = vld1q_s8(x + j);
    const int8x16_t w0 = vld1q_s8(w[0] + j), w1 = vld1q_s8(w[1] + j), w2 = vld1q_s8(w[2] + j), w3 = vld1q_s8(w[3] + j);
    TN_I8_STEP(a0, w0, xv);
    TN_I8_STEP(a1, w1, xv);
    TN_I8_STEP(a2, w2, xv);
    TN_I8_STEP(a3, w3, xv);
  }
  s[0] = tn_i8_hsum(a0), s[1] = tn_i8_hsum(a1), s[2] = tn_i8_hsum(a2), s[3] = tn_i8_hsum(a3);
  for (q = 0; q < 4; ++q) {
    int32_t jj;
    for (jj = j; jj < len; ++jj) s[q] += (uint32_t)((int32_t)w[q][jj] * (int32_t)x[jj]);
    acc[q] = (int32_t)s[q];
  }
}

void tn_int8_linear_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                         int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  tn_int8_linear_rows4(tn_i8_group4_neon, x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y);
}

#else /* no NEON: the reference (this file is only chosen for ARM targets with NEON) */

void tn_int8_linear_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                         int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  tn_int8_linear(x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y);
}

#endif

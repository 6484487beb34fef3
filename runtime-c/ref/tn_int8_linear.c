/*
 * tn_int8_linear.c - Int8Linear (tn_lm.h), the reference: int8 activation codes times int8 weight
 * codes, one product at a time into an int32 sum per scale group, then the float scaling in the
 * contract's order (docs/numerics.md, "Int8Linear"). The optimized kernels give its results bit for
 * bit: the integer sums are exact in any order, and the float steps are these, in this order.
 * tn_int8_linear_rows4 is their driver: these loops, with the group sums of 4 rows at a time from a
 * vector kernel.
 */
#include <stddef.h>

#include "tn_lm.h"

void tn_int8_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                    int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  const int32_t groups = group > 0 ? (k + group - 1) / group : 0;
  int32_t t, r, g, j;
  for (t = 0; t < n; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)k;
    const float sx = x_scale[x_per_row ? t : 0];
    for (r = 0; r < rows; ++r) {
      const int8_t *wr = w + (size_t)r * (size_t)k;
      float s = 0.0f, v;
      for (g = 0; g < groups; ++g) {
        const int32_t k0 = g * group, k1 = (k - k0 > group) ? k0 + group : k;
        int32_t acc = 0;
        float term;
        for (j = k0; j < k1; ++j) acc += (int32_t)wr[j] * (int32_t)xt[j];
        term = (float)acc * scales[r * groups_per_row + g];
        s = g == 0 ? term : s + term;
      }
      v = s * sx;
      if (bias) v = v + bias[r];
      y[(size_t)t * (size_t)rows + (size_t)r] = v;
    }
  }
}

void tn_int8_linear_rows4(tn_int8_group4_fn dot, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales,
                          int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  const int32_t groups = group > 0 ? (k + group - 1) / group : 0;
  int32_t r0, t, g, q;
  for (r0 = 0; r0 < rows; r0 += 4) {
    const int32_t nr = rows - r0 < 4 ? rows - r0 : 4;
    const int8_t *wr[4];
    for (q = 0; q < 4; ++q) { /* the last pass repeats its last row (computed, not stored) */
      const int32_t row = r0 + q < rows ? r0 + q : rows - 1;
      wr[q] = w + (size_t)row * (size_t)k;
    }
    for (t = 0; t < n; ++t) {
      const int8_t *xt = x + (size_t)t * (size_t)k;
      const float sx = x_scale[x_per_row ? t : 0];
      float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (g = 0; g < groups; ++g) {
        const int32_t k0 = g * group, len = (k - k0 > group) ? group : k - k0;
        const int8_t *wg[4];
        int32_t acc[4];
        for (q = 0; q < 4; ++q) wg[q] = wr[q] + k0;
        dot(wg, xt + k0, len, acc);
        for (q = 0; q < nr; ++q) {
          const float term = (float)acc[q] * scales[(r0 + q) * groups_per_row + g];
          s[q] = g == 0 ? term : s[q] + term;
        }
      }
      for (q = 0; q < nr; ++q) {
        float v = s[q] * sx;
        if (bias) v = v + bias[r0 + q];
        y[(size_t)t * (size_t)rows + (size_t)(r0 + q)] = v;
      }
    }
  }
}

/*
 * tn_lowbit_linear.c - what ternary and binary linear layers share: the loops over rows, outputs,
 * planes and scale groups, the exact accumulation (int32, or int32 partial sums flushed into int64),
 * the float scaling in the contract's order, and the bias. The code format's dot product is passed in.
 */
#include "tn_runtime.h"
#include "tn_lowbit.h"

/* The exact sum of one group, converted to float once (int32 or int64: both round to nearest even). */
static float tn_group_sum(tn_lowbit_dot_fn dot, const int8_t *x, const uint8_t *row, int32_t k0, int32_t k1, int32_t flush) {
  int64_t wide = 0;
  int32_t c0;
  if (flush == 0) return (float)dot(x, row, k0, k1);
  for (c0 = k0; c0 < k1; c0 += flush) wide += dot(x, row, c0, (k1 - c0 > flush) ? c0 + flush : k1);
  return (float)wide;
}

void tn_lowbit_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, int32_t row_bytes, tn_lowbit_dot_fn dot,
                      const float *bias, int32_t flush, float *y) {
  const int32_t groups = (w->k + w->group - 1) / w->group;
  int32_t t, n, p, g;
  for (t = 0; t < rows; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)w->k;
    const float sx = x_scale[x_per_row ? t : 0];
    for (n = 0; n < w->n; ++n) {
      float s = 0.0f;
      for (p = 0; p < w->planes; ++p) {
        const size_t pn = (size_t)p * (size_t)w->n + (size_t)n; /* plane p, output row n */
        const uint8_t *row = w->codes + pn * (size_t)row_bytes;
        for (g = 0; g < groups; ++g) {
          const int32_t k0 = g * w->group;
          const int32_t k1 = (w->k - k0 > w->group) ? k0 + w->group : w->k;
          const float term = tn_group_sum(dot, xt, row, k0, k1, flush) * tn_lowbit_weight_scale(w, p, n, g, groups);
          s = (p == 0 && g == 0) ? term : s + term; /* the first term starts the sum */
        }
      }
      s = s * sx;
      if (bias) s = s + bias[n];
      y[(size_t)t * (size_t)w->n + (size_t)n] = s;
    }
  }
}

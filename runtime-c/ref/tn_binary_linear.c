/*
 * tn_binary_linear.c - reference binary linear layer: int8 activations x {-1, +1} weights.
 *
 * Codes are 1 bit, 8 per byte, first code in the low bit: 1 -> +1, 0 -> -1.
 * The inner loop only adds and subtracts (x or its two's-complement negation).
 */
#include "tn_runtime.h"

/* sum_{k = k0}^{k1 - 1} b_k * x_k; |result| <= (k1 - k0) * 128 < 2^31 by the caller's choice. */
static int32_t tn_dot_b1(const int8_t *x, const uint8_t *codes, int32_t k0, int32_t k1) {
  int32_t acc = 0, k;
  for (k = k0; k < k1; ++k) {
    const int32_t m = (int32_t)((codes[k >> 3] >> (k & 7)) & 1) - 1; /* 0 for +1, -1 (all ones) for -1 */
    acc += ((int32_t)x[k] ^ m) - m;                                   /* x, or ~x + 1 = -x */
  }
  return acc;
}

static float tn_group_sum_b1(const int8_t *x, const uint8_t *codes, int32_t k0, int32_t k1, int32_t flush) {
  int64_t wide = 0;
  int32_t c0;
  if (flush == 0) return (float)tn_dot_b1(x, codes, k0, k1);
  for (c0 = k0; c0 < k1; c0 += flush) wide += tn_dot_b1(x, codes, c0, (k1 - c0 > flush) ? c0 + flush : k1);
  return (float)wide;
}

void tn_binary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  const int32_t row_bytes = (w->k + 7) / 8;
  const int32_t groups = (w->k + w->group - 1) / w->group;
  int32_t t, n, p, g;
  for (t = 0; t < rows; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)w->k;
    const float sx = x_scale[x_per_row ? t : 0];
    for (n = 0; n < w->n; ++n) {
      float s = 0.0f;
      for (p = 0; p < w->planes; ++p) {
        const uint8_t *row = w->codes + ((size_t)p * (size_t)w->n + (size_t)n) * (size_t)row_bytes;
        for (g = 0; g < groups; ++g) {
          const int32_t k0 = g * w->group;
          const int32_t k1 = (w->k - k0 > w->group) ? k0 + w->group : w->k;
          float ws;
          if (w->granularity == TN_PER_GROUP) ws = w->scale[((size_t)p * (size_t)w->n + (size_t)n) * (size_t)groups + (size_t)g];
          else if (w->granularity == TN_PER_ROW) ws = w->scale[(size_t)p * (size_t)w->n + (size_t)n];
          else ws = w->scale[p];
          {
            const float term = tn_group_sum_b1(xt, row, k0, k1, flush) * ws;
            s = (p == 0 && g == 0) ? term : s + term;
          }
        }
      }
      s = s * sx;
      if (bias) s = s + bias[n];
      y[(size_t)t * (size_t)w->n + (size_t)n] = s;
    }
  }
}

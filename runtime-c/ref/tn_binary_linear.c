/*
 * tn_binary_linear.c - reference binary linear layer: int8 activations x {-1, +1} weights.
 *
 * Codes are 1 bit, 8 per byte, first code in the low bit: 1 -> +1, 0 -> -1.
 * The inner loop only adds and subtracts (x or its two's-complement negation).
 */
#include "tn_runtime.h"
#include "tn_lowbit.h"

/* sum_{k = k0}^{k1 - 1} b_k * x_k; |result| <= (k1 - k0) * 128 < 2^31 by the compiler's choice. */
static int32_t tn_dot_b1(const int8_t *x, const uint8_t *codes, int32_t k0, int32_t k1) {
  int32_t acc = 0, k;
  for (k = k0; k < k1; ++k) {
    const int32_t m = (int32_t)((codes[k >> 3] >> (k & 7)) & 1) - 1; /* 0 for +1, -1 (all ones) for -1 */
    acc += ((int32_t)x[k] ^ m) - m;                                   /* x, or ~x + 1 = -x */
  }
  return acc;
}

void tn_binary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_linear(x, x_scale, x_per_row, rows, w, (w->k + 7) / 8, tn_dot_b1, bias, flush, y);
}

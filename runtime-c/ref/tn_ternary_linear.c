/*
 * tn_ternary_linear.c - reference ternary linear layer: int8 activations x {-1, 0, +1} weights.
 *
 * Codes are 2 bits, 4 per byte, first code in the low bits: 00 -> 0, 01 -> +1, 10 -> -1.
 * The inner loop only adds and subtracts; tn_lowbit_linear.c does the scaling around it.
 */
#include "tn_runtime.h"
#include "tn_lowbit.h"

/* sum_{k = k0}^{k1 - 1} t_k * x_k for one row of codes. |result| <= (k1 - k0) * 128, which the
 * compiler keeps below 2^31 by its choice of group or flush length. */
static int32_t tn_dot_t2(const int8_t *x, const uint8_t *codes, int32_t k0, int32_t k1) {
  int32_t acc = 0, k;
  for (k = k0; k < k1; ++k) {
    const int32_t c = (codes[k >> 2] >> ((k & 3) * 2)) & 3;
    const int32_t v = x[k];
    acc += (v & -(c & 1)) - (v & -(c >> 1)); /* +v if 01, -v if 10, 0 if 00 */
  }
  return acc;
}

void tn_ternary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                       const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_linear(x, x_scale, x_per_row, rows, w, (w->k + 3) / 4, tn_dot_t2, bias, flush, y);
}

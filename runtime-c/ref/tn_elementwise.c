/*
 * tn_elementwise.c - elementwise float32/int8 kernels.
 */
#include "tn_runtime.h"

void tn_relu_f32(const float *x, float *y, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f; /* -0.0 and NaN give +0.0 */
}

void tn_relu_i8(const int8_t *x, int8_t *y, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : 0;
}

void tn_add_f32(const float *a, const float *b, float *y, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void tn_add_f32_bcast(const float *a, const float *b, float *y, int32_t rank, const int32_t *shape,
                      const int32_t *a_strides, const int32_t *b_strides) {
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t total = 1, i, d;
  for (d = 0; d < rank; ++d) total *= shape[d];
  for (i = 0; i < total; ++i) {
    int32_t ia = 0, ib = 0;
    for (d = 0; d < rank; ++d) {
      ia += idx[d] * a_strides[d];
      ib += idx[d] * b_strides[d];
    }
    y[i] = a[ia] + b[ib];
    for (d = rank - 1; d >= 0; --d) { /* odometer increment of the output index */
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

void tn_copy_bytes(void *dst, const void *src, int32_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  int32_t i;
  for (i = 0; i < n; ++i) d[i] = s[i];
}

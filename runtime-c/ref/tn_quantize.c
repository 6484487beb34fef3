/*
 * tn_quantize.c - int8 activation quantisation, symmetric absmax (docs/numerics.md).
 */
#include "tn_runtime.h"
#include "tn_math.h"

#define TN_ACT_AMAX_FLOOR 0x1.4f8b58p-17f /* 1e-5f: an all-zero row gets a tiny, finite scale */

void tn_quantize_i8(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols) {
  int32_t r, i;
  for (r = 0; r < rows; ++r) {
    const float *xr = x + (size_t)r * (size_t)cols;
    int8_t *qr = q + (size_t)r * (size_t)cols;
    float amax = 0.0f, inv;
    for (i = 0; i < cols; ++i) {
      const float a = xr[i] < 0.0f ? -xr[i] : xr[i];
      if (a > amax) amax = a; /* NaN never compares greater, so it is skipped */
    }
    if (!(amax >= TN_ACT_AMAX_FLOOR)) amax = TN_ACT_AMAX_FLOOR;
    scale[r] = amax / 127.0f;
    inv = 127.0f / amax;
    for (i = 0; i < cols; ++i) qr[i] = tn_quant_i8(xr[i] * inv);
  }
}

void tn_dequantize_i8(const int8_t *q, const float *scale, float *y, int32_t rows, int32_t cols) {
  int32_t r, i;
  for (r = 0; r < rows; ++r) {
    const float s = scale[r];
    for (i = 0; i < cols; ++i) {
      const size_t at = (size_t)r * (size_t)cols + (size_t)i;
      y[at] = (float)q[at] * s;
    }
  }
}

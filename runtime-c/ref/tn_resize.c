/*
 * tn_resize.c - Interpolate, the run-time half of ONNX Resize and Upsample (compiler/ops/onnx/resize.ts
 * computes the tap tables at compile time). Axis a's output coordinate c has the taps
 * offsets[bases[a] + c] .. offsets[bases[a] + c + 1] - 1: input index taps[t], weight weights[t];
 * none means outside the region of interest (the output is the extrapolation value).
 */
#include "tn_runtime.h"

/* One output: the nested sum over the axes, outermost first, each from 0 in tap order
 * (acc = acc + w * inner), written without recursion: level a holds its partial sum and tap. */
static float tn_interp_one(const float *x, int32_t rank, const int32_t *first, const int32_t *last,
                           const int32_t *strides, const int32_t *taps, const float *weights) {
  float acc[8];
  int32_t pos[8], base[8];
  int32_t a = 0;
  acc[0] = 0.0f;
  pos[0] = first[0];
  base[0] = 0;
  for (;;) {
    if (pos[a] == last[a]) { /* level a is done: fold it into its parent */
      if (a == 0) return acc[0];
      --a;
      acc[a] = acc[a] + weights[pos[a]] * acc[a + 1];
      ++pos[a];
      continue;
    }
    if (a == rank - 1) {
      acc[a] = acc[a] + weights[pos[a]] * x[base[a] + taps[pos[a]] * strides[a]];
      ++pos[a];
      continue;
    }
    base[a + 1] = base[a] + taps[pos[a]] * strides[a];
    ++a;
    acc[a] = 0.0f;
    pos[a] = first[a];
  }
}

void tn_interpolate_f32(const float *x, float *y, int32_t rank, const int32_t *out_shape, const int32_t *bases,
                        const int32_t *strides, const int32_t *offsets, const int32_t *taps, const float *weights,
                        float extrapolation) {
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0}, first[8], last[8];
  int32_t total = 1, i, d;
  for (d = 0; d < rank; ++d) total *= out_shape[d];
  for (i = 0; i < total; ++i) {
    int32_t outside = 0;
    for (d = 0; d < rank; ++d) {
      first[d] = offsets[bases[d] + idx[d]];
      last[d] = offsets[bases[d] + idx[d] + 1];
      if (first[d] == last[d]) outside = 1;
    }
    y[i] = outside ? extrapolation : tn_interp_one(x, rank, first, last, strides, taps, weights);
    for (d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
}

/* Nearest on any dtype: each output coordinate has one tap (weight 1); the element is copied. */
void tn_interpolate_nearest(const void *x, void *y, int32_t elem_bytes, int32_t rank, const int32_t *out_shape,
                            const int32_t *bases, const int32_t *strides, const int32_t *offsets, const int32_t *taps) {
  const uint8_t *xb = (const uint8_t *)x;
  uint8_t *yb = (uint8_t *)y;
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t total = 1, i, d, k;
  for (d = 0; d < rank; ++d) total *= out_shape[d];
  for (i = 0; i < total; ++i) {
    int32_t at = 0, outside = 0;
    for (d = 0; d < rank; ++d) {
      const int32_t t = offsets[bases[d] + idx[d]];
      if (t == offsets[bases[d] + idx[d] + 1]) outside = 1;
      else at += taps[t] * strides[d];
    }
    for (k = 0; k < elem_bytes; ++k) yb[(size_t)i * (size_t)elem_bytes + (size_t)k] = outside ? 0 : xb[(size_t)at * (size_t)elem_bytes + (size_t)k];
    for (d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
}

/*
 * tn_shape.c - data movement for the shape ops (Transpose, Slice, Concat, Split, Gather). Elements are
 * copied as bytes, elem_bytes at a time, so one kernel serves every dtype; no arithmetic on values.
 * (Reshape, Flatten, Squeeze and Unsqueeze are plain copies: tn_copy_bytes in tn_elementwise.c.)
 */
#include "tn_runtime.h"

static void tn_copy_elem(uint8_t *dst, const uint8_t *src, int32_t elem_bytes) {
  int32_t k;
  for (k = 0; k < elem_bytes; ++k) dst[k] = src[k];
}

void tn_strided_copy(const void *x, void *y, int32_t elem_bytes, int32_t rank, const int32_t *shape,
                     const int32_t *strides, int32_t offset) {
  const uint8_t *xb = (const uint8_t *)x;
  uint8_t *yb = (uint8_t *)y;
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t total = 1, i, d;
  for (d = 0; d < rank; ++d) total *= shape[d];
  for (i = 0; i < total; ++i) {
    int32_t at = offset;
    for (d = 0; d < rank; ++d) at += idx[d] * strides[d];
    tn_copy_elem(yb + (size_t)i * (size_t)elem_bytes, xb + (size_t)at * (size_t)elem_bytes, elem_bytes);
    for (d = rank - 1; d >= 0; --d) { /* odometer increment of the output index */
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

void tn_concat_part(const void *x, void *y, int32_t elem_bytes, int32_t outer, int32_t chunk, int32_t y_row,
                    int32_t y_offset) {
  const uint8_t *xb = (const uint8_t *)x;
  uint8_t *yb = (uint8_t *)y;
  const size_t bytes = (size_t)chunk * (size_t)elem_bytes;
  int32_t o;
  size_t k;
  for (o = 0; o < outer; ++o) {
    uint8_t *dst = yb + ((size_t)o * (size_t)y_row + (size_t)y_offset) * (size_t)elem_bytes;
    const uint8_t *src = xb + (size_t)o * bytes;
    for (k = 0; k < bytes; ++k) dst[k] = src[k];
  }
}

void tn_gather(const void *data, const void *indices, int32_t indices_are_i64, void *y, int32_t elem_bytes,
               int32_t outer, int32_t dim, int32_t inner, int32_t n_indices) {
  const uint8_t *db = (const uint8_t *)data;
  uint8_t *yb = (uint8_t *)y;
  const size_t row = (size_t)inner * (size_t)elem_bytes;
  int32_t o, j;
  size_t k;
  for (o = 0; o < outer; ++o) {
    for (j = 0; j < n_indices; ++j) {
      int64_t t = indices_are_i64 ? ((const int64_t *)indices)[j] : ((const int32_t *)indices)[j];
      uint8_t *dst = yb + ((size_t)o * (size_t)n_indices + (size_t)j) * row;
      if (t < 0) t += dim; /* negative indices count from the end */
      if (t < 0 || t >= dim) {
        for (k = 0; k < row; ++k) dst[k] = 0; /* out of range: zeros (ONNX: undefined) */
      } else {
        const uint8_t *src = db + ((size_t)o * (size_t)dim + (size_t)t) * row;
        for (k = 0; k < row; ++k) dst[k] = src[k];
      }
    }
  }
}

/*
 * tn_shape.c - data movement for the shape ops (Transpose, Slice, Concat, Split, Gather, Expand, Pad,
 * Tile). Elements are
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

/* The input coordinate of output coordinate o on one axis of tn_pad, or -1 for the constant. */
static int32_t tn_pad_coord(int32_t o, int32_t size, int32_t start, int32_t before, int32_t mode) {
  int32_t c = o - before;
  if (c < 0 || c >= size) {
    if (mode == 0) return -1;                             /* constant */
    if (mode == 2) c = c < 0 ? 0 : size - 1;              /* edge */
    else if (mode == 3) c = ((c % size) + size) % size;   /* wrap */
    else if (size == 1) c = 0;                            /* reflect of one element */
    else {                                                /* reflect, period 2 (size - 1) */
      const int32_t p = 2 * (size - 1);
      c = ((c % p) + p) % p;
      if (c >= size) c = p - c;
    }
  }
  return start + c;
}

void tn_pad(const void *x, void *y, const void *value, int32_t elem_bytes, int32_t mode, int32_t rank,
            const int32_t *out_shape, const int32_t *sizes, const int32_t *starts, const int32_t *before,
            const int32_t *strides) {
  const uint8_t *xb = (const uint8_t *)x;
  uint8_t *yb = (uint8_t *)y;
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t total = 1, i, d, k;
  for (d = 0; d < rank; ++d) total *= out_shape[d];
  for (i = 0; i < total; ++i) {
    int32_t at = 0;
    uint8_t *dst = yb + (size_t)i * (size_t)elem_bytes;
    for (d = 0; d < rank && at >= 0; ++d) {
      const int32_t c = tn_pad_coord(idx[d], sizes[d], starts[d], before[d], mode);
      at = c < 0 ? -1 : at + c * strides[d];
    }
    if (at >= 0) tn_copy_elem(dst, xb + (size_t)at * (size_t)elem_bytes, elem_bytes);
    else if (value) tn_copy_elem(dst, (const uint8_t *)value, elem_bytes);
    else
      for (k = 0; k < elem_bytes; ++k) dst[k] = 0;
    for (d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
}

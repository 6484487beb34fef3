/*
 * tn_lowbit.h - internal to runtime-c (README.md): what the low-bit linear kernels of every format
 * and ISA share. The reference decoder of the packed formats (ref/tn_lowbit_codes.c), the
 * reference driver that takes a format's dot product (ref/tn_lowbit_linear.c), and the lookup of
 * the weight scales in a tn_lowbit_weights (docs/numerics.md indexes them ws[p, n, g]).
 */
#ifndef TN_LOWBIT_H
#define TN_LOWBIT_H

#include "tn_internal.h"

/* ---- the reference driver (ref/tn_lowbit_linear.c) ----------------------------------------- */

/* `dot` returns the exact sum of codes k0..k1-1 of one row times x, for one code format; row_bytes
 * is the byte length of a row of codes. The loops over rows, outputs, planes and scale groups, the
 * flush chunks and the float epilogue are tn_lowbit_linear's. */
typedef int32_t (*tn_lowbit_dot_fn)(const int8_t *x, const uint8_t *codes, int32_t k0, int32_t k1);
void tn_lowbit_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, int32_t row_bytes, tn_lowbit_dot_fn dot,
                      const float *bias, int32_t flush, float *y);

/* A kernel that is another under a second name (the signature of tn_ternary_linear, tn_runtime.h):
 * binary codes are t2b codes 0 and 2, so the t2b kernels' binary entry points are their ternary ones.
 * No semicolon after it (a function definition). */
#define TN_LINEAR_ALIAS(NAME, SAME_AS)                                                                          \
  void NAME(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows, const tn_lowbit_weights *w, \
            const float *bias, int32_t flush, float *y) {                                                       \
    SAME_AS(x, x_scale, x_per_row, rows, w, bias, flush, y);                                                    \
  }

/* ---- the reference decoder (ref/tn_lowbit_codes.c) ----------------------------------------- */

/* The weight (-1, 0 or +1) of code k of one row in `format` (TN_FMT_*). */
int32_t tn_lowbit_code(int32_t format, const tn_lowbit_weights *w, const uint8_t *row, int32_t k);
/* Bytes of one row of codes in `format` (t2b: of a group of 4 rows). */
int32_t tn_lowbit_row_bytes(int32_t format, const tn_lowbit_weights *w);
/* t2b: the first byte of row n of plane p; its block b is 128 b bytes further, the next row of its
 * group 32 bytes further. */
const uint8_t *tn_t2b_row(const tn_lowbit_weights *w, int32_t p, int32_t n);

/* ---- weight scales --------------------------------------------------------------------------- */

/* The scales of plane p, scale group g (of `groups`) for every output: output n's is ws[n * *stride]
 * with ws the pointer returned (stride: groups per group, 1 per row, 0 per tensor). */
static TN_INLINE const float *tn_lowbit_scales(const tn_lowbit_weights *w, int32_t p, int32_t g, int32_t groups, size_t *stride) {
  if (w->granularity == TN_PER_GROUP) {
    *stride = (size_t)groups;
    return w->scale + (size_t)p * (size_t)w->n * (size_t)groups + (size_t)g;
  }
  if (w->granularity == TN_PER_ROW) {
    *stride = 1;
    return w->scale + (size_t)p * (size_t)w->n;
  }
  *stride = 0;
  return w->scale + p;
}

/* ws[p, n, g], one output's scale (the same index, without the stride: fewer instructions in the
 * reference drivers' loops). */
static TN_INLINE float tn_lowbit_weight_scale(const tn_lowbit_weights *w, int32_t p, int32_t n, int32_t g, int32_t groups) {
  const size_t pn = (size_t)p * (size_t)w->n + (size_t)n;
  if (w->granularity == TN_PER_GROUP) return w->scale[pn * (size_t)groups + (size_t)g];
  if (w->granularity == TN_PER_ROW) return w->scale[pn];
  return w->scale[p];
}

#endif /* TN_LOWBIT_H */

/*
 * tn_dense.h - internal to runtime-c (README.md): the dense int8 and float32 linear layers of the
 * benchmark (bench/, BENCHMARKS.md), its points of comparison built from the same code base;
 * bench/c/bench.h includes this header for the case table. Generated models call one of them:
 * Int8Linear (tn_lm.h) with one scale per row runs tn_dense_i8_m4 on Cortex-M cores with the DSP
 * extension, whose formula is Int8Linear's (compiler/ops/lm/int8_linear.ts).
 */
#ifndef TN_DENSE_H
#define TN_DENSE_H

#include "tn_runtime.h"

/* ref/tn_dense.c (opt/armv7m/tn_dense_i8_m4.c: the Cortex-M4 int8 kernel).
 * int8: W [n][k] int8, per-row scale: y[t, n] = ((float)sum_k W[n,k] x[t,k] * ws[n]) * x_scale[t] + bias[n].
 * float32: W in panels of 8 outputs, [n / 8][k][8] (so that the sums, in k order, vectorise across
 * outputs and each panel is one stream):
 * y[t, n] = sum_k W[n,k] x[t,k] (one rounding per step, in k order) + bias[n]. bias may be NULL. */
void tn_dense_i8_naive(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n,
                       int32_t k, const float *bias, float *y);
/* Four rows per pass sharing each activation load. */
void tn_dense_i8(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                 const float *bias, float *y);
/* Cortex-M4 DSP: SMLAD on sign-extended pairs, `r` = 2 or 4 rows per pass; xbuf: 2 * k int16 of scratch. */
void tn_dense_i8_m4(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                    const float *bias, float *y, int16_t *xbuf, int32_t r);
void tn_dense_f32(const float *x, int32_t rows, const float *wt, int32_t n, int32_t k, const float *bias, float *y);

#endif /* TN_DENSE_H */

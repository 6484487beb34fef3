/*
 * tn_dense.c - dense int8 and float32 linear layers: the points of comparison of the benchmark
 * (bench/, BENCHMARKS.md), built from the same code base and measured in the same run as the
 * ternary kernels. Not used by the v1 ops.
 */
#include "tn_runtime.h"

/* The textbook loop: one output at a time. */
void tn_dense_i8_naive(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n,
                       int32_t k, const float *bias, float *y) {
  int32_t t, o, i;
  for (t = 0; t < rows; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)k;
    for (o = 0; o < n; ++o) {
      const int8_t *wr = w + (size_t)o * (size_t)k;
      int32_t acc = 0;
      float s;
      for (i = 0; i < k; ++i) acc += (int32_t)wr[i] * (int32_t)xt[i];
      s = ((float)acc * w_scale[o]) * x_scale[t];
      y[(size_t)t * (size_t)n + (size_t)o] = bias ? s + bias[o] : s;
    }
  }
}

/* The best plain-C loop: four rows share each activation load (on a scalar core one LDRSB/LB of x
 * per four multiply-accumulates); hosts vectorise the integer sums. */
void tn_dense_i8(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                 const float *bias, float *y) {
  int32_t t, o, i;
  for (t = 0; t < rows; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)k;
    float *yt = y + (size_t)t * (size_t)n;
    for (o = 0; o + 4 <= n; o += 4) {
      const int8_t *w0 = w + (size_t)o * (size_t)k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
      int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, j;
      for (i = 0; i < k; ++i) {
        const int32_t xv = xt[i];
        a0 += w0[i] * xv;
        a1 += w1[i] * xv;
        a2 += w2[i] * xv;
        a3 += w3[i] * xv;
      }
      for (j = 0; j < 4; ++j) {
        const int32_t a = j == 0 ? a0 : j == 1 ? a1 : j == 2 ? a2 : a3;
        const float s = ((float)a * w_scale[o + j]) * x_scale[t];
        yt[o + j] = bias ? s + bias[o + j] : s;
      }
    }
    for (; o < n; ++o) {
      const int8_t *wr = w + (size_t)o * (size_t)k;
      int32_t acc = 0;
      float s;
      for (i = 0; i < k; ++i) acc += (int32_t)wr[i] * (int32_t)xt[i];
      s = ((float)acc * w_scale[o]) * x_scale[t];
      yt[o] = bias ? s + bias[o] : s;
    }
  }
}

/* float32 with W^T [k][n]: each output's sum is in k order; 8 outputs per pass are independent
 * lanes (compilers vectorise them without changing any sum). */
void tn_dense_f32(const float *x, int32_t rows, const float *wt, int32_t n, int32_t k, const float *bias, float *y) {
  int32_t t, o, i, j;
  for (t = 0; t < rows; ++t) {
    const float *xt = x + (size_t)t * (size_t)k;
    float *yt = y + (size_t)t * (size_t)n;
    for (o = 0; o < n; o += 8) {
      const int32_t m = n - o > 8 ? 8 : n - o;
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      if (m == 8) {
        for (i = 0; i < k; ++i) {
          const float xv = xt[i];
          const float *wr = wt + (size_t)i * (size_t)n + (size_t)o;
          for (j = 0; j < 8; ++j) acc[j] = acc[j] + wr[j] * xv;
        }
      } else {
        for (i = 0; i < k; ++i)
          for (j = 0; j < m; ++j) acc[j] = acc[j] + wt[(size_t)i * (size_t)n + (size_t)(o + j)] * xt[i];
      }
      for (j = 0; j < m; ++j) yt[o + j] = bias ? acc[j] + bias[o + j] : acc[j];
    }
  }
}

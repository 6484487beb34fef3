/*
 * tn_dense.c - dense int8 and float32 linear layers: the points of comparison of the benchmark
 * (bench/, BENCHMARKS.md), built from the same code base and measured in the same run as the
 * ternary kernels. Not used by the v1 ops.
 */
#include "tn_runtime.h"
#include "tn_dense.h"
#include "tn_epilogue.h"

/* acc[r] = sum_i w[r * stride + i] * x[i] for r < 4: a function of its own so that only its dozen
 * values are live (inlined into the caller's loops, clang spilled the row pointers: 4.75 instead of
 * 2.7 instructions per weight on a Cortex-M4), 4 codes per iteration at immediate offsets. */
static TN_NOINLINE void tn_i8_dot4(const int8_t *x, const int8_t *w, size_t stride, int32_t k, int32_t *acc) {
#if defined(__x86_64__) || defined(__aarch64__)
  /* 64-bit SIMD hosts: one row at a time is the loop compilers vectorise (widening multiply-add). */
  int32_t r, i;
  for (r = 0; r < 4; ++r) {
    const int8_t *wr = w + (size_t)r * stride;
    int32_t a = 0;
    for (i = 0; i < k; ++i) a += (int32_t)wr[i] * (int32_t)x[i];
    acc[r] = a;
  }
#else
  const int8_t *w0 = w, *w1 = w0 + stride, *w2 = w1 + stride, *w3 = w2 + stride;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, i;
  for (i = 0; i + 4 <= k; i += 4, x += 4, w0 += 4, w1 += 4, w2 += 4, w3 += 4) {
    const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    a0 += w0[0] * x0 + w0[1] * x1 + w0[2] * x2 + w0[3] * x3;
    a1 += w1[0] * x0 + w1[1] * x1 + w1[2] * x2 + w1[3] * x3;
    a2 += w2[0] * x0 + w2[1] * x1 + w2[2] * x2 + w2[3] * x3;
    a3 += w3[0] * x0 + w3[1] * x1 + w3[2] * x2 + w3[3] * x3;
  }
  for (; i < k; ++i, ++x, ++w0, ++w1, ++w2, ++w3) {
    a0 += *w0 * *x;
    a1 += *w1 * *x;
    a2 += *w2 * *x;
    a3 += *w3 * *x;
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
#endif
}

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
      s = tn_scale_i32(acc, w_scale[o], x_scale[t]);
      y[(size_t)t * (size_t)n + (size_t)o] = bias ? s + bias[o] : s;
    }
  }
}

/* The best plain-C loop: four rows share each activation load (tn_i8_dot4); hosts vectorise the
 * integer sums. */
void tn_dense_i8(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                 const float *bias, float *y) {
  int32_t t, o, i;
  for (t = 0; t < rows; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)k;
    float *yt = y + (size_t)t * (size_t)n;
    for (o = 0; o + 4 <= n; o += 4) {
      uint32_t a[4];
      tn_i8_dot4(xt, w + (size_t)o * (size_t)k, (size_t)k, k, (int32_t *)a);
      tn_scale_rows(a, 0u, w_scale + o, x_scale[t], bias ? bias + o : NULL, yt + o, 4);
    }
    for (; o < n; ++o) {
      const int8_t *wr = w + (size_t)o * (size_t)k;
      int32_t acc = 0;
      float s;
      for (i = 0; i < k; ++i) acc += (int32_t)wr[i] * (int32_t)xt[i];
      s = tn_scale_i32(acc, w_scale[o], x_scale[t]);
      yt[o] = bias ? s + bias[o] : s;
    }
  }
}

/* float32 with W in panels of 8 outputs, [n / 8][k][8] (the last panel [k][n % 8]): each output's
 * sum is in k order; the 8 outputs of a panel are independent lanes (compilers vectorise them
 * without changing any sum) and a panel is one contiguous stream. */
void tn_dense_f32(const float *x, int32_t rows, const float *wt, int32_t n, int32_t k, const float *bias, float *y) {
  int32_t t, o, i, j;
  for (t = 0; t < rows; ++t) {
    const float *xt = x + (size_t)t * (size_t)k;
    float *yt = y + (size_t)t * (size_t)n;
    for (o = 0; o < n; o += 8) {
      const int32_t m = n - o > 8 ? 8 : n - o;
      const float *panel = wt + (size_t)o * (size_t)k;
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      /* cppcheck-suppress knownConditionTrueFalse ; cppcheck 2.10 takes min(n - o, 8) to be below 1 */
      if (m == 8) {
        for (i = 0; i < k; ++i) {
          const float xv = xt[i];
          const float *wr = panel + (size_t)i * 8;
          for (j = 0; j < 8; ++j) acc[j] = acc[j] + wr[j] * xv;
        }
      } else {
        for (i = 0; i < k; ++i)
          for (j = 0; j < m; ++j) acc[j] = acc[j] + panel[(size_t)i * (size_t)m + (size_t)j] * xt[i];
      }
      for (j = 0; j < m; ++j) yt[o + j] = bias ? acc[j] + bias[o + j] : acc[j];
    }
  }
}

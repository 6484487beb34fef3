/*
 * tn_matmul.c - float32 MatMul (NumPy semantics, batch broadcasting) and Gemm.
 * Every dot product is summed in index order from 0: acc = 0; acc = acc + a[k] * b[k] for k = 0..K-1,
 * each product and each sum rounded once (docs/numerics.md, "MatMul and Gemm").
 */
#include "tn_runtime.h"

/* One [M, K] x [K, N] product; a and b are element strides apart in k and n/m. */
static void tn_mm(const float *a, int32_t a_rs, int32_t a_cs, const float *b, int32_t b_rs, int32_t b_cs,
                  float *y, int32_t m_count, int32_t n_count, int32_t k_count) {
  int32_t m, n, k;
  for (m = 0; m < m_count; ++m) {
    for (n = 0; n < n_count; ++n) {
      float acc = 0.0f;
      for (k = 0; k < k_count; ++k) acc = acc + a[m * a_rs + k * a_cs] * b[k * b_rs + n * b_cs];
      y[m * n_count + n] = acc;
    }
  }
}

void tn_matmul_f32(const float *a, const float *b, float *y, int32_t batch_rank, const int32_t *batch_shape,
                   const int32_t *a_batch_strides, const int32_t *b_batch_strides, int32_t m_count, int32_t k_count,
                   int32_t n_count) {
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t total = 1, i, d;
  for (d = 0; d < batch_rank; ++d) total *= batch_shape[d];
  for (i = 0; i < total; ++i) {
    int32_t ia = 0, ib = 0; /* in whole matrices */
    for (d = 0; d < batch_rank; ++d) {
      ia += idx[d] * a_batch_strides[d];
      ib += idx[d] * b_batch_strides[d];
    }
    tn_mm(a + (size_t)ia * (size_t)m_count * (size_t)k_count, k_count, 1, b + (size_t)ib * (size_t)k_count * (size_t)n_count,
          n_count, 1, y + (size_t)i * (size_t)m_count * (size_t)n_count, m_count, n_count, k_count);
    for (d = batch_rank - 1; d >= 0; --d) {
      if (++idx[d] < batch_shape[d]) break;
      idx[d] = 0;
    }
  }
}

void tn_gemm_f32(const float *a, const float *b, const float *c, float *y, int32_t m_count, int32_t n_count,
                 int32_t k_count, int32_t trans_a, int32_t trans_b, float alpha, float beta, int32_t c_rs, int32_t c_cs) {
  int32_t m, n;
  /* A is [M, K] (or [K, M] if trans_a), B is [K, N] (or [N, K] if trans_b) */
  tn_mm(a, trans_a ? 1 : k_count, trans_a ? m_count : 1, b, trans_b ? 1 : n_count, trans_b ? k_count : 1, y, m_count,
        n_count, k_count);
  for (m = 0; m < m_count; ++m) {
    for (n = 0; n < n_count; ++n) {
      float t = alpha * y[m * n_count + n];
      if (c) t = t + beta * c[m * c_rs + n * c_cs];
      y[m * n_count + n] = t;
    }
  }
}

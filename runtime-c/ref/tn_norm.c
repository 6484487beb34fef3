/*
 * tn_norm.c - reductions and normalisations: ReduceMean, ReduceSum, ReduceMax, ReduceMin,
 * LayerNormalization,
 * BatchNormalization (inference) and LogSoftmax. Sums run in index order from 0; divisions go
 * through tn_divf (docs/numerics.md, "Reductions and normalisations").
 */
#include "tn_runtime.h"
#include "tn_math.h"

/* Offset of odometer index idx over shape with strides. */
static int32_t tn_offset(const int32_t *idx, const int32_t *strides, int32_t rank) {
  int32_t off = 0, d;
  for (d = 0; d < rank; ++d) off += idx[d] * strides[d];
  return off;
}

/* Advance an odometer index; returns 0 when it wraps around. */
static int tn_next(int32_t *idx, const int32_t *shape, int32_t rank) {
  int32_t d;
  for (d = rank - 1; d >= 0; --d) {
    if (++idx[d] < shape[d]) return 1;
    idx[d] = 0;
  }
  return 0;
}

/* The loops of every reduction: for each index of keep_shape (row-major), INIT the accumulator `acc`
 * with the first reduced element `v`, STEP it with the others (row-major over red_shape), and store
 * FINISH. */
#define TN_REDUCE(NAME, T, TACC, INIT, STEP, FINISH)                                                        \
  void NAME(const T *x, T *y, int32_t keep_rank, const int32_t *keep_shape, const int32_t *keep_strides,      \
            int32_t red_rank, const int32_t *red_shape, const int32_t *red_strides, int32_t red_count) {      \
    int32_t keep[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                             \
    int32_t out = 0;                                                                                        \
    (void)red_count;                                                                                        \
    do {                                                                                                    \
      const int32_t base = tn_offset(keep, keep_strides, keep_rank);                                        \
      int32_t red[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                            \
      TACC acc;                                                                                             \
      {                                                                                                     \
        const T v = x[base];                                                                                \
        INIT;                                                                                               \
      }                                                                                                     \
      while (tn_next(red, red_shape, red_rank)) {                                                           \
        const T v = x[base + tn_offset(red, red_strides, red_rank)];                                        \
        STEP;                                                                                               \
      }                                                                                                     \
      y[out++] = (T)(FINISH);                                                                               \
    } while (tn_next(keep, keep_shape, keep_rank));                                                         \
  }

/* ReduceMean and ReduceSum (float32): s = 0; s = s + v in order (so a first -0 gives +0). */
TN_REDUCE(tn_reduce_mean_f32, float, float, acc = 0.0f + v, acc = acc + v, tn_divf(acc, (float)red_count))
TN_REDUCE(tn_reduce_sum_f32, float, float, acc = 0.0f + v, acc = acc + v, acc)
/* ReduceSum on integers: added in the unsigned type of the width (wrap-around, as Add). int8 and
 * uint8 add in int (no overflow below 2^24 elements) and the store wraps. */
TN_REDUCE(tn_reduce_sum_i8, int8_t, int32_t, acc = v, acc = (int32_t)((uint32_t)acc + (uint32_t)v), acc)
TN_REDUCE(tn_reduce_sum_u8, uint8_t, int32_t, acc = v, acc = (int32_t)((uint32_t)acc + (uint32_t)v), acc)
TN_REDUCE(tn_reduce_sum_i32, int32_t, uint32_t, acc = (uint32_t)v, acc = acc + (uint32_t)v, (int32_t)acc)
TN_REDUCE(tn_reduce_sum_i64, int64_t, uint64_t, acc = (uint64_t)v, acc = acc + (uint64_t)v, (int64_t)acc)

/* ReduceMax, ReduceMin: m = first; m = max(m, v) in order. float32 through tn_maxf/tn_minf
 * (tn_math.c): NaN propagates, -0 < +0. */
TN_REDUCE(tn_reduce_max_f32, float, float, acc = v, acc = tn_maxf(acc, v), acc)
TN_REDUCE(tn_reduce_min_f32, float, float, acc = v, acc = tn_minf(acc, v), acc)
#define TN_REDUCE_EXTREMA_INT(SUF, T)                                           \
  TN_REDUCE(tn_reduce_max_##SUF, T, T, acc = v, acc = v > acc ? v : acc, acc)  \
  TN_REDUCE(tn_reduce_min_##SUF, T, T, acc = v, acc = v < acc ? v : acc, acc)
TN_REDUCE_EXTREMA_INT(i8, int8_t)
TN_REDUCE_EXTREMA_INT(u8, uint8_t)
TN_REDUCE_EXTREMA_INT(i32, int32_t)
TN_REDUCE_EXTREMA_INT(i64, int64_t)

/* ReduceProd: p = first; p = p * v in order; integers multiply in the unsigned type (wrap-around;
 * int8 and uint8 in 32 bits, which the store wraps to 8). */
TN_REDUCE(tn_reduce_prod_f32, float, float, acc = v, acc = acc * v, acc)
TN_REDUCE(tn_reduce_prod_i8, int8_t, uint32_t, acc = (uint32_t)(int32_t)v, acc = acc * (uint32_t)(int32_t)v, (int32_t)acc)
TN_REDUCE(tn_reduce_prod_u8, uint8_t, uint32_t, acc = (uint32_t)v, acc = acc * (uint32_t)v, acc)
TN_REDUCE(tn_reduce_prod_i32, int32_t, uint32_t, acc = (uint32_t)v, acc = acc * (uint32_t)v, (int32_t)acc)
TN_REDUCE(tn_reduce_prod_i64, int64_t, uint64_t, acc = (uint64_t)v, acc = acc * (uint64_t)v, (int64_t)acc)

void tn_layer_norm_f32(const float *x, const float *scale, const float *bias, float *y, float *mean_out, float *inv_out,
                       int32_t rows, int32_t cols, int32_t norm_rank, const int32_t *norm_shape, const int32_t *scale_strides,
                       const int32_t *bias_strides, float epsilon) {
  int32_t r, i;
  for (r = 0; r < rows; ++r) {
    const float *xr = x + (size_t)r * (size_t)cols;
    float *yr = y + (size_t)r * (size_t)cols;
    int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float s = 0.0f, v = 0.0f, mean, inv;
    for (i = 0; i < cols; ++i) s = s + xr[i];
    mean = tn_divf(s, (float)cols);
    for (i = 0; i < cols; ++i) {
      const float d = xr[i] - mean;
      v = v + d * d;
    }
    inv = tn_divf(1.0f, tn_sqrtf(tn_divf(v, (float)cols) + epsilon));
    for (i = 0; i < cols; ++i) {
      float t = ((xr[i] - mean) * inv) * scale[tn_offset(idx, scale_strides, norm_rank)];
      if (bias) t = t + bias[tn_offset(idx, bias_strides, norm_rank)];
      yr[i] = t;
      tn_next(idx, norm_shape, norm_rank);
    }
    if (mean_out) mean_out[r] = mean;
    if (inv_out) inv_out[r] = inv;
  }
}

void tn_batch_norm_f32(const float *x, const float *scale, const float *bias, const float *mean, const float *var, float *y,
                       int32_t batches, int32_t channels, int32_t inner, float epsilon) {
  int32_t b, c, i;
  for (c = 0; c < channels; ++c) {
    const float den = tn_sqrtf(var[c] + epsilon);
    for (b = 0; b < batches; ++b) {
      const size_t base = ((size_t)b * (size_t)channels + (size_t)c) * (size_t)inner;
      for (i = 0; i < inner; ++i) y[base + (size_t)i] = tn_divf(x[base + (size_t)i] - mean[c], den) * scale[c] + bias[c];
    }
  }
}

void tn_log_softmax_f32(const float *x, float *y, int32_t outer, int32_t dim, int32_t inner) {
  int32_t o, j, i;
  for (o = 0; o < outer; ++o) {
    for (j = 0; j < inner; ++j) {
      const size_t base = (size_t)o * (size_t)dim * (size_t)inner + (size_t)j;
      float m = x[base], s = 0.0f, l;
      for (i = 1; i < dim; ++i)
        if (x[base + (size_t)i * (size_t)inner] > m) m = x[base + (size_t)i * (size_t)inner];
      for (i = 0; i < dim; ++i) s = s + tn_expf(x[base + (size_t)i * (size_t)inner] - m);
      l = tn_logf(s);
      for (i = 0; i < dim; ++i) {
        const size_t at = base + (size_t)i * (size_t)inner;
        y[at] = (x[at] - m) - l;
      }
    }
  }
}

/* LRN across channels of an N x C x inner tensor (compiler/ops/onnx/lrn.ts gives the steps). */
void tn_lrn_f32(const float *x, float *y, int32_t n, int32_t c, int32_t inner, int32_t size, float alpha, float beta,
                float bias) {
  const float k = tn_divf(alpha, (float)size);
  const int32_t lo = (size - 1) / 2, hi = size / 2; /* floor((size-1)/2), ceil((size-1)/2) */
  int32_t b, ch, i, q;
  for (b = 0; b < n; ++b)
    for (ch = 0; ch < c; ++ch)
      for (i = 0; i < inner; ++i) {
        const int32_t first = ch - lo < 0 ? 0 : ch - lo, last = ch + hi > c - 1 ? c - 1 : ch + hi;
        const size_t at = ((size_t)b * (size_t)c + (size_t)ch) * (size_t)inner + (size_t)i;
        float s = 0.0f;
        for (q = first; q <= last; ++q) {
          const float v = x[((size_t)b * (size_t)c + (size_t)q) * (size_t)inner + (size_t)i];
          s = s + v * v;
        }
        y[at] = tn_divf(x[at], tn_powf(bias + k * s, beta));
      }
}

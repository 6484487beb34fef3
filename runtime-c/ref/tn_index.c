/*
 * tn_index.c - CumSum, TopK and ScatterND (compiler/ops/onnx/index_ops.ts, which gives the same steps).
 * float32 adds and multiplies one rounding at a time in index order; integers wrap (computed in the
 * unsigned type of their width, or in 32 bits for int8/uint8, which the store wraps).
 */
#include "tn_runtime.h"
#include "tn_math.h"

/* ---- CumSum: along the middle axis of outer x dim x inner ------------------------------------------ */

#define TN_CUMSUM(NAME, T, TACC, ADD)                                                                \
  void NAME(const T *x, T *y, int32_t outer, int32_t dim, int32_t inner, int32_t exclusive, int32_t reverse) { \
    int32_t o, j, t;                                                                                 \
    for (o = 0; o < outer; ++o)                                                                      \
      for (j = 0; j < inner; ++j) {                                                                  \
        TACC acc = 0;                                                                                \
        for (t = 0; t < dim; ++t) {                                                                  \
          const int32_t i = reverse ? dim - 1 - t : t;                                               \
          const size_t at = ((size_t)o * (size_t)dim + (size_t)i) * (size_t)inner + (size_t)j;       \
          const T v = x[at];                                                                         \
          if (exclusive) {                                                                           \
            y[at] = (T)acc;                                                                          \
            acc = ADD;                                                                               \
          } else {                                                                                   \
            acc = ADD;                                                                               \
            y[at] = (T)acc;                                                                          \
          }                                                                                          \
        }                                                                                            \
      }                                                                                              \
  }

TN_CUMSUM(tn_cumsum_f32, float, float, acc + v)
TN_CUMSUM(tn_cumsum_i8, int8_t, uint32_t, acc + (uint32_t)(int32_t)v)
TN_CUMSUM(tn_cumsum_u8, uint8_t, uint32_t, acc + (uint32_t)v)
TN_CUMSUM(tn_cumsum_i32, int32_t, uint32_t, acc + (uint32_t)v)
TN_CUMSUM(tn_cumsum_i64, int64_t, uint64_t, acc + (uint64_t)v)

/* ---- TopK: insertion into the k best so far; an equal value goes after (the lower index first) ---- */

#define TN_TOPK(NAME, T)                                                                             \
  void NAME(const T *x, T *values, int64_t *indices, int32_t outer, int32_t dim, int32_t inner, int32_t k, \
            int32_t largest) {                                                                       \
    int32_t o, j, i, t;                                                                              \
    for (o = 0; o < outer; ++o)                                                                      \
      for (j = 0; j < inner; ++j) {                                                                  \
        T *vo = values + (size_t)o * (size_t)k * (size_t)inner + (size_t)j;                          \
        int64_t *io = indices ? indices + (size_t)o * (size_t)k * (size_t)inner + (size_t)j : NULL;  \
        int32_t n = 0;                                                                               \
        for (i = 0; i < dim; ++i) {                                                                  \
          const T v = x[((size_t)o * (size_t)dim + (size_t)i) * (size_t)inner + (size_t)j];          \
          int32_t pos = n;                                                                           \
          for (t = 0; t < n; ++t)                                                                    \
            if (largest ? v > vo[(size_t)t * (size_t)inner] : v < vo[(size_t)t * (size_t)inner]) {   \
              pos = t;                                                                               \
              break;                                                                                 \
            }                                                                                        \
          if (pos >= k) continue;                                                                    \
          for (t = n < k - 1 ? n : k - 1; t > pos; --t) {                                            \
            vo[(size_t)t * (size_t)inner] = vo[(size_t)(t - 1) * (size_t)inner];                     \
            if (io) io[(size_t)t * (size_t)inner] = io[(size_t)(t - 1) * (size_t)inner];             \
          }                                                                                          \
          vo[(size_t)pos * (size_t)inner] = v;                                                       \
          if (io) io[(size_t)pos * (size_t)inner] = i;                                               \
          if (n < k) ++n;                                                                            \
        }                                                                                            \
      }                                                                                              \
  }

TN_TOPK(tn_topk_f32, float)
TN_TOPK(tn_topk_i8, int8_t)
TN_TOPK(tn_topk_u8, uint8_t)
TN_TOPK(tn_topk_i32, int32_t)
TN_TOPK(tn_topk_i64, int64_t)

/* ---- ScatterND ---------------------------------------------------------------------------------- */

/* The flat slice index of tuple t (q coordinates, negative ones from the end), or -1 out of range. */
static int32_t tn_scatter_base(const void *indices, int32_t indices_i64, int32_t t, int32_t q, const int32_t *dims) {
  int32_t a, base = 0;
  for (a = 0; a < q; ++a) {
    const size_t at = (size_t)t * (size_t)q + (size_t)a;
    int64_t c = indices_i64 ? ((const int64_t *)indices)[at] : (int64_t)((const int32_t *)indices)[at];
    if (c < 0) c += dims[a];
    if (c < 0 || c >= dims[a]) return -1;
    base = base * dims[a] + (int32_t)c;
  }
  return base;
}

/* reduction: 0 none (replace), 1 add, 2 mul, 3 max, 4 min. */
#define TN_SCATTER_ND(NAME, T, COMBINE)                                                              \
  void NAME(const T *data, const void *indices, int32_t indices_i64, const T *updates, T *y, int32_t n, \
            int32_t tuples, int32_t q, const int32_t *dims, int32_t slice, int32_t reduction) {       \
    int32_t i, t, e;                                                                                 \
    for (i = 0; i < n; ++i) y[i] = data[i];                                                          \
    for (t = 0; t < tuples; ++t) {                                                                   \
      const int32_t base = tn_scatter_base(indices, indices_i64, t, q, dims);                        \
      if (base < 0) continue;                                                                        \
      for (e = 0; e < slice; ++e) {                                                                  \
        T *a = y + (size_t)base * (size_t)slice + (size_t)e;                                         \
        const T b = updates[(size_t)t * (size_t)slice + (size_t)e];                                  \
        COMBINE;                                                                                     \
      }                                                                                              \
    }                                                                                                \
  }

#define TN_COMBINE_FLOAT                                                                             \
  switch (reduction) {                                                                               \
    case 1: *a = *a + b; break;                                                                      \
    case 2: *a = *a * b; break;                                                                      \
    case 3: *a = tn_maxf(*a, b); break;                                                              \
    case 4: *a = tn_minf(*a, b); break;                                                              \
    default: *a = b;                                                                                 \
  }
#define TN_COMBINE_INT(T, UT)                                                                        \
  switch (reduction) {                                                                               \
    case 1: *a = (T)(UT)((UT)*a + (UT)b); break;                                                     \
    case 2: *a = (T)(UT)((UT)*a * (UT)b); break;                                                     \
    case 3: *a = b > *a ? b : *a; break;                                                             \
    case 4: *a = b < *a ? b : *a; break;                                                             \
    default: *a = b;                                                                                 \
  }

TN_SCATTER_ND(tn_scatter_nd_f32, float, TN_COMBINE_FLOAT)
TN_SCATTER_ND(tn_scatter_nd_i8, int8_t, TN_COMBINE_INT(int8_t, uint32_t))
TN_SCATTER_ND(tn_scatter_nd_u8, uint8_t, TN_COMBINE_INT(uint8_t, uint32_t))
TN_SCATTER_ND(tn_scatter_nd_i32, int32_t, TN_COMBINE_INT(int32_t, uint32_t))
TN_SCATTER_ND(tn_scatter_nd_i64, int64_t, TN_COMBINE_INT(int64_t, uint64_t))

/*
 * tn_argmax.c - index of the first maximum along the middle axis of an outer x dim x inner view.
 */
#include "tn_runtime.h"

#define TN_ARGMAX_BODY(T)                                                       \
  int32_t o, j, i;                                                              \
  for (o = 0; o < outer; ++o) {                                                 \
    for (j = 0; j < inner; ++j) {                                               \
      const size_t base = (size_t)o * (size_t)dim * (size_t)inner + (size_t)j;  \
      T best = x[base];                                                         \
      int32_t idx = 0;                                                          \
      for (i = 1; i < dim; ++i) {                                               \
        const T v = x[base + (size_t)i * (size_t)inner];                        \
        if (v > best) { /* strictly greater: the first maximum wins, NaN never */ \
          best = v;                                                             \
          idx = i;                                                              \
        }                                                                       \
      }                                                                         \
      y[(size_t)o * (size_t)inner + (size_t)j] = idx;                           \
    }                                                                           \
  }

void tn_argmax_f32(const float *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner) { TN_ARGMAX_BODY(float) }
void tn_argmax_i8(const int8_t *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner) { TN_ARGMAX_BODY(int8_t) }
void tn_argmax_i32(const int32_t *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner) { TN_ARGMAX_BODY(int32_t) }

#define TN_MAX_BETTER (select_last ? v >= best : v > best)
#define TN_MIN_BETTER (select_last ? v <= best : v < best)

/* ArgMax with ONNX's output_dtype (int64) and select_last_index, for every input dtype. Values are
 * compared in their own type (int64 as int64, float as float). */
#define TN_ARGBEST_ANY(T, BETTER)                                                                         \
  {                                                                                                \
    const T *xt = (const T *)x;                                                                    \
    for (o = 0; o < outer; ++o) {                                                                  \
      for (j = 0; j < inner; ++j) {                                                                \
        const size_t base = (size_t)o * (size_t)dim * (size_t)inner + (size_t)j;                   \
        T best = xt[base];                                                                         \
        int32_t idx = 0;                                                                           \
        for (i = 1; i < dim; ++i) {                                                                \
          const T v = xt[base + (size_t)i * (size_t)inner];                                        \
          if (BETTER) { /* NaN never wins (comparisons are false) */                               \
            best = v;                                                                              \
            idx = i;                                                                               \
          }                                                                                        \
        }                                                                                          \
        if (y_is_i64) ((int64_t *)y)[(size_t)o * (size_t)inner + (size_t)j] = idx;                 \
        else ((int32_t *)y)[(size_t)o * (size_t)inner + (size_t)j] = idx;                          \
      }                                                                                            \
    }                                                                                              \
  }

void tn_argmax_any(const void *x, int32_t dtype, void *y, int32_t y_is_i64, int32_t select_last, int32_t outer,
                   int32_t dim, int32_t inner) {
  int32_t o, j, i;
  switch (dtype) {
    case TN_DT_F32: TN_ARGBEST_ANY(float, TN_MAX_BETTER) break;
    case TN_DT_I8: TN_ARGBEST_ANY(int8_t, TN_MAX_BETTER) break;
    case TN_DT_U8: TN_ARGBEST_ANY(uint8_t, TN_MAX_BETTER) break;
    case TN_DT_I32: TN_ARGBEST_ANY(int32_t, TN_MAX_BETTER) break;
    default: TN_ARGBEST_ANY(int64_t, TN_MAX_BETTER) break;
  }
}

/* ArgMin (ONNX): the same loops with < (<= with select_last). */
void tn_argmin_any(const void *x, int32_t dtype, void *y, int32_t y_is_i64, int32_t select_last, int32_t outer,
                   int32_t dim, int32_t inner) {
  int32_t o, j, i;
  switch (dtype) {
    case TN_DT_F32: TN_ARGBEST_ANY(float, TN_MIN_BETTER) break;
    case TN_DT_I8: TN_ARGBEST_ANY(int8_t, TN_MIN_BETTER) break;
    case TN_DT_U8: TN_ARGBEST_ANY(uint8_t, TN_MIN_BETTER) break;
    case TN_DT_I32: TN_ARGBEST_ANY(int32_t, TN_MIN_BETTER) break;
    default: TN_ARGBEST_ANY(int64_t, TN_MIN_BETTER) break;
  }
}

/*
 * tn_softmax.c - softmax along the middle axis of an outer x dim x inner view.
 */
#include "tn_runtime.h"
#include "tn_math.h"

void tn_softmax_f32(const float *x, float *y, int32_t outer, int32_t dim, int32_t inner) {
  int32_t o, j, i;
  for (o = 0; o < outer; ++o) {
    for (j = 0; j < inner; ++j) {
      const size_t base = (size_t)o * (size_t)dim * (size_t)inner + (size_t)j;
      float m = x[base], s = 0.0f;
      for (i = 1; i < dim; ++i)
        if (x[base + (size_t)i * (size_t)inner] > m) m = x[base + (size_t)i * (size_t)inner];
      for (i = 0; i < dim; ++i) {
        const size_t at = base + (size_t)i * (size_t)inner;
        const float e = tn_expf(x[at] - m);
        y[at] = e;
        s = s + e;
      }
      for (i = 0; i < dim; ++i) {
        const size_t at = base + (size_t)i * (size_t)inner;
        y[at] = tn_divf(y[at], s); /* tn_divf: subnormal quotients are right on soft float too */
      }
    }
  }
}

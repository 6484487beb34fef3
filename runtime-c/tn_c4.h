/*
 * tn_c4.h - internal to runtime-c: what every Fairy2i (WidelyLinear, layout c4) kernel shares after
 * its inner loop (ref/tn_linear_c4.c, opt/generic/tn_linear_c4_scalar.c, the AVX2 and NEON files).
 * Inlined, so that the combination costs no call per output.
 */
#ifndef TN_C4_H
#define TN_C4_H

#include "tn_internal.h"

/* One complex output from its planes' lane sums, sums[4 p + (a, b, c, d)] for plane p = 2 s + (U, W):
 * per stage re = ((sU_re a_U - sU_im b_U) + sW_re a_W) + sW_im b_W and im = ((sU_re c_U + sU_im d_U)
 * - sW_re c_W) + sW_im d_W, every product rounded, then summed over the stages in order
 * (docs/numerics.md, "WidelyLinear"). */
static TN_INLINE void tn_c4_out(const float *sums, int32_t stages, const float *scales, float *re, float *im) {
  float yr = 0.0f, yi = 0.0f;
  int32_t s;
  for (s = 0; s < stages; s++) {
    const float *su = scales + s * 4, *sw = scales + s * 4 + 2;
    const float *u = sums + s * 8, *v = sums + s * 8 + 4;
    const float tr = ((su[0] * u[0] - su[1] * u[1]) + sw[0] * v[0]) + sw[1] * v[1];
    const float ti = ((su[0] * u[2] + su[1] * u[3]) - sw[0] * v[2]) + sw[1] * v[3];
    yr = s == 0 ? tr : yr + tr;
    yi = s == 0 ? ti : yi + ti;
  }
  *re = yr;
  *im = yi;
}

#endif /* TN_C4_H */

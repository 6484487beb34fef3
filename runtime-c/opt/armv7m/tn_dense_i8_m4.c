/*
 * tn_dense_i8_m4.c - dense int8 linear layer with the Cortex-M4/M7/M33 DSP extension: the int8
 * point of comparison of the benchmark on Cortex-M4 (the CMSIS-NN s8 pattern, written here).
 *
 * The activations are sign-extended once per token into int16 pairs (x0, x2), (x1, x3) per 4 codes
 * (xbuf, 2 k int16); then for every 4 weights of a row: one LDR, two SXTB16 (the second of the word
 * rotated by 8) and two SMLAD (dual 16 x 16 multiply-accumulate into 32 bits): 5 instructions per 4
 * weights, plus the activation pair loads shared by the 2 or 4 rows of a pass.
 */
#include "tn_runtime.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

static uint32_t tn_ld32(const int8_t *p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4); /* rows need not be word-aligned: an unaligned LDR on ARMv7-M */
  return v;
}

void tn_dense_i8_m4(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                    const float *bias, float *y, int16_t *xbuf, int32_t r) {
  const int32_t k4 = k & ~3;
  uint32_t *xp = (uint32_t *)(void *)xbuf;
  int32_t t, o, i, j;
  for (t = 0; t < rows; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)k;
    float *yt = y + (size_t)t * (size_t)n;
    for (i = 0; i < k4; i += 4) { /* (x0, x2), (x1, x3) as int16 pairs */
      const uint32_t v = tn_ld32(xt + i);
      xp[i / 2] = (uint32_t)__sxtb16(v);
      xp[i / 2 + 1] = (uint32_t)__sxtb16(__ror(v, 8));
    }
    for (o = 0; o < n;) {
      int32_t a[4] = {0, 0, 0, 0};
      const int32_t m = (r >= 4 && n - o >= 4) ? 4 : (n - o >= 2 ? 2 : 1);
      const int8_t *w0 = w + (size_t)o * (size_t)k;
      if (m == 4) {
        const int8_t *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (i = 0; i < k4; i += 4) {
          const int32_t xa = (int32_t)xp[i / 2], xb = (int32_t)xp[i / 2 + 1];
          uint32_t v = tn_ld32(w0 + i);
          a0 = __smlad(__sxtb16(v), xa, a0);
          a0 = __smlad(__sxtb16(__ror(v, 8)), xb, a0);
          v = tn_ld32(w1 + i);
          a1 = __smlad(__sxtb16(v), xa, a1);
          a1 = __smlad(__sxtb16(__ror(v, 8)), xb, a1);
          v = tn_ld32(w2 + i);
          a2 = __smlad(__sxtb16(v), xa, a2);
          a2 = __smlad(__sxtb16(__ror(v, 8)), xb, a2);
          v = tn_ld32(w3 + i);
          a3 = __smlad(__sxtb16(v), xa, a3);
          a3 = __smlad(__sxtb16(__ror(v, 8)), xb, a3);
        }
        a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3;
      } else if (m == 2) {
        const int8_t *w1 = w0 + k;
        int32_t a0 = 0, a1 = 0;
        for (i = 0; i < k4; i += 4) {
          const int32_t xa = (int32_t)xp[i / 2], xb = (int32_t)xp[i / 2 + 1];
          uint32_t v = tn_ld32(w0 + i);
          a0 = __smlad(__sxtb16(v), xa, a0);
          a0 = __smlad(__sxtb16(__ror(v, 8)), xb, a0);
          v = tn_ld32(w1 + i);
          a1 = __smlad(__sxtb16(v), xa, a1);
          a1 = __smlad(__sxtb16(__ror(v, 8)), xb, a1);
        }
        a[0] = a0, a[1] = a1;
      } else {
        for (i = 0; i < k4; i += 4) {
          const uint32_t v = tn_ld32(w0 + i);
          a[0] = __smlad(__sxtb16(v), (int32_t)xp[i / 2], a[0]);
          a[0] = __smlad(__sxtb16(__ror(v, 8)), (int32_t)xp[i / 2 + 1], a[0]);
        }
      }
      for (j = 0; j < m; ++j) {
        const int8_t *wr = w0 + (size_t)j * (size_t)k;
        float s;
        for (i = k4; i < k; ++i) a[j] += (int32_t)wr[i] * (int32_t)xt[i];
        s = ((float)a[j] * w_scale[o + j]) * x_scale[t];
        yt[o + j] = bias ? s + bias[o + j] : s;
      }
      o += m;
    }
  }
}

#else /* no DSP extension: the plain loop */

void tn_dense_i8_m4(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                    const float *bias, float *y, int16_t *xbuf, int32_t r) {
  (void)xbuf;
  (void)r;
  tn_dense_i8(x, x_scale, rows, w, w_scale, n, k, bias, y);
}

#endif

/*
 * tn_linear_c4.c - the reference kernel of the WidelyLinear op (Fairy2i, tn_lm.h): float32 activations
 * times a real [rows, k] layer held in its widely-linear form y = U x + W conj(x), U and W sums of
 * `stages` planes of codes in {+1, +i, -1, -i}, in the order of compiler/ops/lm/widely_linear.ts
 * (docs/numerics.md, "WidelyLinear"). The inner loop only adds, subtracts and swaps real and
 * imaginary parts; 8 multiplies per complex output and stage, after the loop.
 */
#include "tn_lm.h"
#include "tn_c4.h"

#define TN_LANES_SUM(a) ((((a)[0] + (a)[1]) + ((a)[2] + (a)[3])) + (((a)[4] + (a)[5]) + ((a)[6] + (a)[7])))

/* x [n][k]: x_re = x[:k/2], x_im = x[k/2:]; y [n][rows]: y_re = y[:rows/2], y_im = y[rows/2:].
 * w: layout c4, planes (stage s, matrix U = 0 / W = 1) of rows/2 rows of ceil(k/2 / 4) bytes, plane
 * 2 s + mat first; a code e is 2 bits, low bits first, standing for i^e (00 +1, 01 +i, 10 -1, 11 -i).
 * scales [stages][2][2]: (s_re, s_im) of U then W. All planes are read in one pass over x. */
void tn_linear_c4(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y) {
  const int32_t half_rows = rows / 2, m = k / 2;
  const int32_t row_bytes = (m + 3) / 4;
  const int32_t planes = 2 * stages;
  int32_t t, o, j, p, l;
  for (t = 0; t < n; t++)
    for (o = 0; o < half_rows; o++) {
      const float *xre = x + t * k, *xim = x + t * k + m;
      /* acc[p][0..3][lane]: the sums a = sum P x_re, b = sum Q x_im, c = sum P x_im, d = sum Q x_re */
      float acc[2 * TN_MAX_STAGES][4][8], sums[2 * TN_MAX_STAGES * 4];
      for (p = 0; p < planes; p++)
        for (l = 0; l < 8; l++) acc[p][0][l] = acc[p][1][l] = acc[p][2][l] = acc[p][3][l] = 0.0f;
      for (j = 0; j < m; j++) {
        const float re = xre[j], im = xim[j];
        const int32_t lane = j & 7;
        for (p = 0; p < planes; p++) {
          const uint32_t e = (w[(p * half_rows + o) * row_bytes + (j >> 2)] >> ((j & 3) * 2)) & 3u;
          switch (e) {
          case 0u: /* +1: (re, im) into (a, c) */
            acc[p][0][lane] += re;
            acc[p][2][lane] += im;
            break;
          case 1u: /* +i: (re, im) into (d, b) */
            acc[p][3][lane] += re;
            acc[p][1][lane] += im;
            break;
          case 2u: /* -1 */
            acc[p][0][lane] += -re;
            acc[p][2][lane] += -im;
            break;
          default: /* -i */
            acc[p][3][lane] += -re;
            acc[p][1][lane] += -im;
            break;
          }
        }
      }
      for (p = 0; p < planes; p++)
        for (l = 0; l < 4; l++) sums[p * 4 + l] = TN_LANES_SUM(acc[p][l]);
      tn_c4_out(sums, stages, scales, &y[t * rows + o], &y[t * rows + half_rows + o]);
    }
}

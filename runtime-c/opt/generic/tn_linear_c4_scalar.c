/*
 * tn_linear_c4_scalar.c - the WidelyLinear kernel (Fairy2i, tn_lm.h) with its accumulators in
 * registers: the same floats as ref/tn_linear_c4.c, bit for bit, in another order of the work.
 *
 * The reference keeps, per plane, four lane sums (a, b, c, d) of eight lanes each, lane j & 7 taking
 * column j: 32 floats per plane, an array in memory. Lanes never mix before the final tree, and each
 * lane takes its columns in increasing order, so this kernel runs one lane at a time (columns
 * l, l + 8, l + 16, ...) with the planes' four sums in named locals, then hands the finished lane to
 * the array the reference's tree reads. For one or two stages (Fairy2i-W1, W2: 2 or 4 planes, 8 or 16
 * accumulators) the loop is specialised; more stages run the reference. In a lane the code of column
 * j sits at the same bit offset of every second byte (j & 3 = l & 3): one shift per lane.
 */
#include "tn_lm.h"
#include "tn_c4.h"

#define TN_LANES_SUM(a) ((((a)[0] + (a)[1]) + ((a)[2] + (a)[3])) + (((a)[4] + (a)[5]) + ((a)[6] + (a)[7])))

#if defined(__GNUC__) || defined(__clang__)
#define TN_C4_INLINE inline __attribute__((always_inline))
#else
#define TN_C4_INLINE inline
#endif

/* One code's terms into its plane's sums, as the reference's switch: +1 (a, c) += (re, im);
 * +i (d, b) += (re, im); -1 and -i the same with -re, -im. */
#define TN_C4_ADD(e, A, B, C, D)  \
  switch (e) {                    \
  case 0u:                        \
    A += re;                      \
    C += im;                      \
    break;                        \
  case 1u:                        \
    D += re;                      \
    B += im;                      \
    break;                        \
  case 2u:                        \
    A += -re;                     \
    C += -im;                     \
    break;                        \
  default:                        \
    D += -re;                     \
    B += -im;                     \
    break;                        \
  }

/* Lane l of output o for P = 2 or 4 planes: acc[p][q][l] = the lane's sums (q: a, b, c, d). */
static TN_C4_INLINE void tn_c4_lane(const int P, const float *xre, const float *xim, const uint8_t *const *wp, int32_t m, int32_t l, float acc[][4][8]) {
  float a0 = 0.0f, b0 = 0.0f, c0 = 0.0f, d0 = 0.0f, a1 = 0.0f, b1 = 0.0f, c1 = 0.0f, d1 = 0.0f;
  float a2 = 0.0f, b2 = 0.0f, c2 = 0.0f, d2 = 0.0f, a3 = 0.0f, b3 = 0.0f, c3 = 0.0f, d3 = 0.0f;
  const int32_t sh = (l & 3) * 2;
  int32_t j;
  for (j = l; j < m; j += 8) {
    const float re = xre[j], im = xim[j];
    const int32_t byte = j >> 2;
    TN_C4_ADD((uint32_t)(wp[0][byte] >> sh) & 3u, a0, b0, c0, d0)
    TN_C4_ADD((uint32_t)(wp[1][byte] >> sh) & 3u, a1, b1, c1, d1)
    if (P == 4) {
      TN_C4_ADD((uint32_t)(wp[2][byte] >> sh) & 3u, a2, b2, c2, d2)
      TN_C4_ADD((uint32_t)(wp[3][byte] >> sh) & 3u, a3, b3, c3, d3)
    }
  }
  acc[0][0][l] = a0, acc[0][1][l] = b0, acc[0][2][l] = c0, acc[0][3][l] = d0;
  acc[1][0][l] = a1, acc[1][1][l] = b1, acc[1][2][l] = c1, acc[1][3][l] = d1;
  if (P == 4) {
    acc[2][0][l] = a2, acc[2][1][l] = b2, acc[2][2][l] = c2, acc[2][3][l] = d2;
    acc[3][0][l] = a3, acc[3][1][l] = b3, acc[3][2][l] = c3, acc[3][3][l] = d3;
  }
}

static TN_C4_INLINE void tn_c4_run(const int P, const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t rows, int32_t k, float *y) {
  const int32_t half_rows = rows / 2, m = k / 2, row_bytes = (m + 3) / 4;
  int32_t t, o, l, p, q;
  for (t = 0; t < n; t++)
    for (o = 0; o < half_rows; o++) {
      const float *xre = x + t * k, *xim = x + t * k + m;
      const uint8_t *wp[4];
      float acc[4][4][8], sums[16];
      for (p = 0; p < P; p++) wp[p] = w + (p * half_rows + o) * row_bytes;
      for (l = 0; l < 8; l++) tn_c4_lane(P, xre, xim, wp, m, l, acc);
      for (p = 0; p < P; p++)
        for (q = 0; q < 4; q++) sums[p * 4 + q] = TN_LANES_SUM(acc[p][q]);
      tn_c4_out(sums, P / 2, scales, &y[t * rows + o], &y[t * rows + half_rows + o]);
    }
}

void tn_linear_c4_scalar(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y) {
  if (stages == 1) tn_c4_run(2, x, n, w, scales, rows, k, y);
  else if (stages == 2) tn_c4_run(4, x, n, w, scales, rows, k, y);
  else tn_linear_c4(x, n, w, stages, scales, rows, k, y);
}

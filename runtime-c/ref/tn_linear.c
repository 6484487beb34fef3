/*
 * tn_linear.c - reference kernels of the Linear op (tn_lm.h): float32 activations times float32,
 * float16, int8 or ternary weights, one lane sum per output (or per scale group), in the order of
 * compiler/ops/lm/linear.ts (docs/numerics.md, "Linear"). Ternary weights: the inner loop adds or
 * subtracts the activation, one multiply per scale group and output.
 */
#include "tn_lm.h"
#include "tn_half.h"

#define TN_LANES_INIT {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}
#define TN_LANES_SUM(a) ((((a)[0] + (a)[1]) + ((a)[2] + (a)[3])) + (((a)[4] + (a)[5]) + ((a)[6] + (a)[7])))

void tn_linear_f32(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y) {
  int32_t t, o, i;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      float acc[8] = TN_LANES_INIT;
      const float *xr = x + t * k, *wr = w + o * k;
      for (i = 0; i < k; i++) acc[i & 7] += xr[i] * wr[i];
      y[t * rows + o] = TN_LANES_SUM(acc);
    }
}

void tn_linear_f16(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y) {
  int32_t t, o, i;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      float acc[8] = TN_LANES_INIT;
      const float *xr = x + t * k;
      const uint16_t *wr = w + o * k;
      for (i = 0; i < k; i++) acc[i & 7] += xr[i] * tn_f16_to_f32(wr[i]);
      y[t * rows + o] = TN_LANES_SUM(acc);
    }
}

void tn_linear_q8(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y) {
  int32_t t, o, k0, i;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      const int8_t *wr = w + o * k;
      float v = 0.0f;
      for (k0 = 0; k0 < k; k0 += group) {
        const int32_t k1 = k0 + group < k ? k0 + group : k;
        float acc[8] = TN_LANES_INIT, vg;
        for (i = k0; i < k1; i++) acc[(i - k0) & 7] += xr[i] * (float)wr[i];
        vg = scales[o * groups_per_row + k0 / group] * TN_LANES_SUM(acc);
        v = k0 == 0 ? vg : v + vg;
      }
      y[t * rows + o] = v;
    }
}

void tn_linear_t2(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y) {
  const int32_t row_bytes = (k + 3) / 4;
  int32_t t, o, k0, i;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      const uint8_t *wr = w + o * row_bytes;
      float v = 0.0f;
      for (k0 = 0; k0 < k; k0 += group) {
        const int32_t k1 = k0 + group < k ? k0 + group : k;
        float acc[8] = TN_LANES_INIT, vg;
        for (i = k0; i < k1; i++) {
          /* t2: 2 bits per code, low bits first: 00 -> 0, 01 -> +1, 10 -> -1 */
          const uint32_t c = (wr[i >> 2] >> ((i & 3) * 2)) & 3u;
          acc[(i - k0) & 7] += c == 1u ? xr[i] : c == 2u ? -xr[i] : 0.0f;
        }
        vg = scales[o * groups_per_row + k0 / group] * TN_LANES_SUM(acc);
        v = k0 == 0 ? vg : v + vg;
      }
      y[t * rows + o] = v;
    }
}

/* Ternary trit-planes (PTQTP): w holds planes x rows t2 rows, plane-major; scales planes x (rows x
 * groups_per_row, or 1 per tensor). One pass over x per group reads every plane's codes into its own
 * lanes; y = y_0 + y_1 + ... where y_p is what tn_linear_t2 gives for plane p alone. */
void tn_linear_t2p(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                   float *y) {
  const int32_t row_bytes = (k + 3) / 4;
  const int32_t per_plane = groups_per_row == 0 ? 1 : rows * groups_per_row;
  int32_t t, o, k0, i, p;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      float v[TN_MAX_PLANES] = {0.0f, 0.0f, 0.0f, 0.0f}; /* K = 0: every plane's sum is +0 */
      float out;
      for (k0 = 0; k0 < k; k0 += group) {
        const int32_t k1 = k0 + group < k ? k0 + group : k;
        float acc[TN_MAX_PLANES][8];
        for (p = 0; p < planes; p++)
          for (i = 0; i < 8; i++) acc[p][i] = 0.0f;
        for (i = k0; i < k1; i++) {
          const float xi = xr[i];
          for (p = 0; p < planes; p++) {
            const uint32_t c = (w[(p * rows + o) * row_bytes + (i >> 2)] >> ((i & 3) * 2)) & 3u;
            acc[p][(i - k0) & 7] += c == 1u ? xi : c == 2u ? -xi : 0.0f;
          }
        }
        for (p = 0; p < planes; p++) {
          const float vg = scales[p * per_plane + o * groups_per_row + k0 / group] * TN_LANES_SUM(acc[p]);
          v[p] = k0 == 0 ? vg : v[p] + vg;
        }
      }
      out = v[0];
      for (p = 1; p < planes; p++) out = out + v[p];
      y[t * rows + o] = out;
    }
}

/* Unsigned b-bit codes (2..8) with a zero point per scale group (GPTQ): a little-endian bit stream
 * per row (layout 'ub'); the term is x * (float)(code - zero), exact integer difference first. */
void tn_linear_ub(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                  int32_t rows, int32_t k, float *y) {
  const int32_t row_bytes = (k * bits + 7) / 8;
  const uint32_t mask = (1u << bits) - 1u;
  int32_t t, o, k0, i;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      const uint8_t *wr = w + o * row_bytes;
      float v = 0.0f;
      for (k0 = 0; k0 < k; k0 += group) {
        const int32_t k1 = k0 + group < k ? k0 + group : k;
        const int32_t g = o * groups_per_row + k0 / group;
        const int32_t z = zeros[g];
        float acc[8] = TN_LANES_INIT, vg;
        for (i = k0; i < k1; i++) {
          const uint32_t bit = (uint32_t)i * (uint32_t)bits;
          const uint32_t pair = (uint32_t)wr[bit >> 3] | ((uint32_t)wr[(bit >> 3) + 1] << 8);
          const int32_t c = (int32_t)((pair >> (bit & 7u)) & mask);
          acc[(i - k0) & 7] += xr[i] * (float)(c - z);
        }
        vg = scales[g] * TN_LANES_SUM(acc);
        v = k0 == 0 ? vg : v + vg;
      }
      y[t * rows + o] = v;
    }
}

/* y[t][o] += bias[o]: the Linear op's static bias, after the product (one rounding). */
void tn_linear_bias(float *y, int32_t n, const float *bias, int32_t rows) {
  int32_t t, o;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) y[t * rows + o] = y[t * rows + o] + bias[o];
}

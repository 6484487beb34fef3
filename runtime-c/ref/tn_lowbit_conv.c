/*
 * tn_lowbit_conv.c - reference 2-D convolution (NCHW) of int8 activation codes with ternary or binary
 * weights (compiler/ops/lowbit_conv.ts, docs/numerics.md "TernaryConv and BinaryConv").
 *
 * Weights: one row of codes per output channel m, over (c, kh, kw) in that order, rows padded to
 * whole bytes. Ternary: 2 bits per code, 4 per byte, low bits first, 00 -> 0, 01 -> +1, 10 -> -1.
 * Binary: 1 bit per code, 8 per byte, low bit first, 1 -> +1, 0 -> -1.
 * The inner loop only adds and subtracts; positions in the zero padding are skipped (code 0).
 * y = ((float)acc * w_scale[m or 0]) * x_scale, then + bias[m].
 */
#include "tn_runtime.h"

static void tn_lowbit_conv2d(const int8_t *x, float x_scale, const tn_conv2d_geometry *g, const uint8_t *codes,
                             const float *w_scale, int32_t per_channel, const float *bias, float *y, int32_t ternary) {
  const int32_t cg = g->c / g->group, m_per_group = g->m / g->group;
  const int32_t k_len = cg * g->kh * g->kw;
  const int32_t row_bytes = ternary ? (k_len + 3) / 4 : (k_len + 7) / 8;
  int32_t n, m, oh, ow, c, kh, kw;
  float *out = y;
  for (n = 0; n < g->n; ++n) {
    for (m = 0; m < g->m; ++m) {
      const uint8_t *row = codes + (size_t)m * (size_t)row_bytes;
      const int32_t c0 = (m / m_per_group) * cg;
      const float ws = w_scale[per_channel ? m : 0];
      for (oh = 0; oh < g->oh; ++oh) {
        for (ow = 0; ow < g->ow; ++ow) {
          int32_t acc = 0; /* |acc| <= k_len * 128 < 2^31: checked by the compiler */
          for (c = 0; c < cg; ++c) {
            const int8_t *plane = x + ((size_t)(n * g->c + c0 + c) * (size_t)g->h) * (size_t)g->w;
            for (kh = 0; kh < g->kh; ++kh) {
              const int32_t ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
              int32_t k = (c * g->kh + kh) * g->kw;
              if (ih < 0 || ih >= g->h) continue;
              for (kw = 0; kw < g->kw; ++kw, ++k) {
                const int32_t iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
                int32_t v;
                if (iw < 0 || iw >= g->w) continue;
                v = plane[ih * g->w + iw];
                if (ternary) {
                  const int32_t t = (row[k >> 2] >> ((k & 3) * 2)) & 3;
                  acc += (v & -(t & 1)) - (v & -(t >> 1)); /* +v if 01, -v if 10, 0 if 00 */
                } else {
                  const int32_t s = ((row[k >> 3] >> (k & 7)) & 1) - 1; /* 0 for +1, -1 for -1 */
                  acc += (v ^ s) - s;                                  /* +v or -v */
                }
              }
            }
          }
          {
            float r = ((float)acc * ws) * x_scale;
            if (bias) r = r + bias[m];
            *out++ = r;
          }
        }
      }
    }
  }
}

void tn_ternary_conv2d(const int8_t *x, float x_scale, const tn_conv2d_geometry *g, const uint8_t *codes,
                       const float *w_scale, int32_t per_channel, const float *bias, float *y) {
  tn_lowbit_conv2d(x, x_scale, g, codes, w_scale, per_channel, bias, y, 1);
}

void tn_binary_conv2d(const int8_t *x, float x_scale, const tn_conv2d_geometry *g, const uint8_t *codes,
                      const float *w_scale, int32_t per_channel, const float *bias, float *y) {
  tn_lowbit_conv2d(x, x_scale, g, codes, w_scale, per_channel, bias, y, 0);
}

/*
 * tn_qlinear.c - ONNX's linear quantisation: QuantizeLinear, DequantizeLinear, MatMulInteger,
 * ConvInteger, QLinearMatMul, QLinearConv (docs/numerics.md, "Quantised ops").
 *
 * Quantised values are int8 or uint8 (TN_DT_I8, TN_DT_U8; DequantizeLinear also reads int32).
 * Scales and zero points are per tensor (one value) or per axis (one per channel).
 *   quantize:    q = saturate(rint(x / scale) + zp)     rint ties to even; NaN -> zp
 *   dequantize:  y = (float)(q - zp) * scale
 *   integer dot: acc = sum (a - a_zp) * (b - b_zp), exact, wrapping in 32 bits like ONNX allows
 *   requantize:  q = saturate(rint((float)acc * ((a_scale * b_scale) / y_scale)) + y_zp)
 */
#include "tn_runtime.h"
#include "tn_math.h"

static int32_t tn_qload(const void *p, int32_t dtype, size_t i) {
  switch (dtype) {
    case TN_DT_I8: return ((const int8_t *)p)[i];
    case TN_DT_U8: return ((const uint8_t *)p)[i];
    default: return ((const int32_t *)p)[i];
  }
}

/* rint(v) + zp, saturated to the dtype's range; NaN gives the zero point. */
static int32_t tn_qsat(float v, int32_t zp, int32_t dtype) {
  const int32_t lo = dtype == TN_DT_I8 ? -128 : 0, hi = dtype == TN_DT_I8 ? 127 : 255;
  float r = tn_rintf(v);
  if (r != r) return zp;
  r = r + (float)zp;
  if (r < (float)lo) return lo;
  if (r > (float)hi) return hi;
  return (int32_t)r;
}

static void tn_qstore(void *p, int32_t dtype, size_t i, int32_t v) {
  if (dtype == TN_DT_I8) ((int8_t *)p)[i] = (int8_t)v;
  else ((uint8_t *)p)[i] = (uint8_t)v;
}

void tn_quantize_linear(const float *x, const float *scale, const void *zp, void *y, int32_t y_dtype, int32_t outer,
                        int32_t dim, int32_t inner) {
  int32_t o, c, i;
  for (o = 0; o < outer; ++o)
    for (c = 0; c < dim; ++c) {
      const int32_t z = zp ? tn_qload(zp, y_dtype, (size_t)c) : 0;
      for (i = 0; i < inner; ++i) {
        const size_t at = ((size_t)o * (size_t)dim + (size_t)c) * (size_t)inner + (size_t)i;
        tn_qstore(y, y_dtype, at, tn_qsat(tn_divf(x[at], scale[c]), z, y_dtype));
      }
    }
}

void tn_dequantize_linear(const void *x, int32_t x_dtype, const float *scale, const void *zp, float *y, int32_t outer,
                          int32_t dim, int32_t inner) {
  int32_t o, c, i;
  for (o = 0; o < outer; ++o)
    for (c = 0; c < dim; ++c) {
      const int64_t z = zp ? tn_qload(zp, x_dtype, (size_t)c) : 0;
      for (i = 0; i < inner; ++i) {
        const size_t at = ((size_t)o * (size_t)dim + (size_t)c) * (size_t)inner + (size_t)i;
        y[at] = (float)((int64_t)tn_qload(x, x_dtype, at) - z) * scale[c];
      }
    }
}

/* Blocked: element (o, c, i) uses the parameter at (o * pdim + c / block) * inner + i. */
void tn_quantize_blocked(const float *x, const float *scale, const void *zp, void *y, int32_t y_dtype, int32_t outer,
                         int32_t dim, int32_t inner, int32_t block) {
  const int32_t pdim = (dim + block - 1) / block;
  int32_t o, c, i;
  for (o = 0; o < outer; ++o)
    for (c = 0; c < dim; ++c)
      for (i = 0; i < inner; ++i) {
        const size_t at = ((size_t)o * (size_t)dim + (size_t)c) * (size_t)inner + (size_t)i;
        const size_t p = ((size_t)o * (size_t)pdim + (size_t)(c / block)) * (size_t)inner + (size_t)i;
        const int32_t z = zp ? tn_qload(zp, y_dtype, p) : 0;
        tn_qstore(y, y_dtype, at, tn_qsat(tn_divf(x[at], scale[p]), z, y_dtype));
      }
}

void tn_dequantize_blocked(const void *x, int32_t x_dtype, const float *scale, const void *zp, float *y, int32_t outer,
                           int32_t dim, int32_t inner, int32_t block) {
  const int32_t pdim = (dim + block - 1) / block;
  int32_t o, c, i;
  for (o = 0; o < outer; ++o)
    for (c = 0; c < dim; ++c)
      for (i = 0; i < inner; ++i) {
        const size_t at = ((size_t)o * (size_t)dim + (size_t)c) * (size_t)inner + (size_t)i;
        const size_t p = ((size_t)o * (size_t)pdim + (size_t)(c / block)) * (size_t)inner + (size_t)i;
        const int64_t z = zp ? tn_qload(zp, x_dtype, p) : 0;
        y[at] = (float)((int64_t)tn_qload(x, x_dtype, at) - z) * scale[p];
      }
}

/* ---- integer matrix products ------------------------------------------------------------------- */

/* Operands of an integer MatMul: a [batch, M, K], b [batch, K, N]; zero points per tensor (count 1),
 * per row of a (M) or per column of b (N). For QLinearMatMul also the scales and the output's. */
typedef struct {
  const void *a, *b, *a_zp, *b_zp;
  int32_t a_dtype, b_dtype, a_zp_count, b_zp_count;
} tn_qmm_operands;

static int32_t tn_qdot(const tn_qmm_operands *q, size_t a0, size_t b0, int32_t m, int32_t n, int32_t k_count, int32_t n_count) {
  const int32_t az = q->a_zp ? tn_qload(q->a_zp, q->a_dtype, (size_t)(q->a_zp_count > 1 ? m : 0)) : 0;
  const int32_t bz = q->b_zp ? tn_qload(q->b_zp, q->b_dtype, (size_t)(q->b_zp_count > 1 ? n : 0)) : 0;
  uint32_t acc = 0; /* wraps modulo 2^32: defined in C, as ONNX allows */
  int32_t k;
  for (k = 0; k < k_count; ++k) {
    const int32_t av = tn_qload(q->a, q->a_dtype, a0 + (size_t)m * (size_t)k_count + (size_t)k) - az;
    const int32_t bv = tn_qload(q->b, q->b_dtype, b0 + (size_t)k * (size_t)n_count + (size_t)n) - bz;
    acc += (uint32_t)(av * bv); /* |av * bv| <= 255 * 255: no overflow */
  }
  return (int32_t)acc;
}

/* y_scale == NULL: y is int32 (MatMulInteger); otherwise requantised into y_dtype (QLinearMatMul). */
static void tn_qmatmul(const tn_qmm_operands *q, const float *a_scale, int32_t a_scale_count, const float *b_scale,
                       int32_t b_scale_count, const float *y_scale, const void *y_zp, void *y, int32_t y_dtype,
                       int32_t batch_rank, const int32_t *batch_shape, const int32_t *a_bs, const int32_t *b_bs,
                       int32_t m_count, int32_t k_count, int32_t n_count) {
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t total = 1, i, d, m, n;
  const int32_t yz = y_zp ? tn_qload(y_zp, y_dtype, 0) : 0;
  for (d = 0; d < batch_rank; ++d) total *= batch_shape[d];
  for (i = 0; i < total; ++i) {
    int32_t ia = 0, ib = 0;
    for (d = 0; d < batch_rank; ++d) {
      ia += idx[d] * a_bs[d];
      ib += idx[d] * b_bs[d];
    }
    for (m = 0; m < m_count; ++m)
      for (n = 0; n < n_count; ++n) {
        const int32_t acc = tn_qdot(q, (size_t)ia * (size_t)m_count * (size_t)k_count, (size_t)ib * (size_t)k_count * (size_t)n_count,
                                    m, n, k_count, n_count);
        const size_t at = ((size_t)i * (size_t)m_count + (size_t)m) * (size_t)n_count + (size_t)n;
        if (!y_scale) {
          ((int32_t *)y)[at] = acc;
        } else {
          const float mult = tn_divf(a_scale[a_scale_count > 1 ? m : 0] * b_scale[b_scale_count > 1 ? n : 0], y_scale[0]);
          tn_qstore(y, y_dtype, at, tn_qsat((float)acc * mult, yz, y_dtype));
        }
      }
    for (d = batch_rank - 1; d >= 0; --d) {
      if (++idx[d] < batch_shape[d]) break;
      idx[d] = 0;
    }
  }
}

void tn_matmul_integer(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, const void *a_zp, int32_t a_zp_count,
                       const void *b_zp, int32_t b_zp_count, int32_t *y, int32_t batch_rank, const int32_t *batch_shape,
                       const int32_t *a_batch_strides, const int32_t *b_batch_strides, int32_t m_count, int32_t k_count,
                       int32_t n_count) {
  tn_qmm_operands q;
  q.a = a;
  q.b = b;
  q.a_zp = a_zp;
  q.b_zp = b_zp;
  q.a_dtype = a_dtype;
  q.b_dtype = b_dtype;
  q.a_zp_count = a_zp_count;
  q.b_zp_count = b_zp_count;
  tn_qmatmul(&q, NULL, 0, NULL, 0, NULL, NULL, y, TN_DT_I32, batch_rank, batch_shape, a_batch_strides, b_batch_strides,
             m_count, k_count, n_count);
}

void tn_qlinear_matmul(const void *a, const float *a_scale, int32_t a_scale_count, const void *a_zp, int32_t a_dtype,
                       const void *b, const float *b_scale, int32_t b_scale_count, const void *b_zp, int32_t b_dtype,
                       const float *y_scale, const void *y_zp, void *y, int32_t y_dtype, int32_t batch_rank,
                       const int32_t *batch_shape, const int32_t *a_batch_strides, const int32_t *b_batch_strides,
                       int32_t m_count, int32_t k_count, int32_t n_count) {
  tn_qmm_operands q;
  q.a = a;
  q.b = b;
  q.a_zp = a_zp;
  q.b_zp = b_zp;
  q.a_dtype = a_dtype;
  q.b_dtype = b_dtype;
  q.a_zp_count = a_scale_count; /* zero points have the scales' shape */
  q.b_zp_count = b_scale_count;
  tn_qmatmul(&q, a_scale, a_scale_count, b_scale, b_scale_count, y_scale, y_zp, y, y_dtype, batch_rank, batch_shape,
             a_batch_strides, b_batch_strides, m_count, k_count, n_count);
}

/* ---- integer convolutions (geometry as in tn_conv.c) ------------------------------------------- */

static int32_t tn_qcoord(const int32_t *geo, int32_t a, int32_t o, int32_t k) {
  return o * geo[9 + a] - geo[15 + a] + k * geo[12 + a];
}

/* y_scale == NULL: int32 output with the raw sums (ConvInteger); otherwise requantised (QLinearConv):
 * acc + bias[m], times (x_scale * w_scale[m]) / y_scale. w_zp and w_scale: 1 or M values each. */
void tn_qconv(const void *x, int32_t x_dtype, const void *x_zp, const float *x_scale, const void *w, int32_t w_dtype,
              const void *w_zp, int32_t w_zp_count, const float *w_scale, int32_t w_scale_count, const int32_t *bias,
              const float *y_scale,
              const void *y_zp, void *y, int32_t y_dtype, int32_t batches, int32_t in_channels, int32_t out_channels,
              int32_t group, const int32_t *geo) {
  const int32_t in_sp = geo[0] * geo[1] * geo[2], out_sp = geo[3] * geo[4] * geo[5], k_sp = geo[6] * geo[7] * geo[8];
  const int32_t cg = in_channels / group, mg = out_channels / group;
  const int32_t xz = x_zp ? tn_qload(x_zp, x_dtype, 0) : 0, yz = y_zp ? tn_qload(y_zp, y_dtype, 0) : 0;
  int32_t n, m, od, oh, ow, c, kd, kh, kw;
  for (n = 0; n < batches; ++n)
    for (m = 0; m < out_channels; ++m) {
      const int32_t c0 = (m / mg) * cg;
      const int32_t wz = w_zp ? tn_qload(w_zp, w_dtype, (size_t)(w_zp_count > 1 ? m : 0)) : 0;
      for (od = 0; od < geo[3]; ++od)
        for (oh = 0; oh < geo[4]; ++oh)
          for (ow = 0; ow < geo[5]; ++ow) {
            uint32_t acc = 0;
            const size_t at = ((size_t)n * (size_t)out_channels + (size_t)m) * (size_t)out_sp + (size_t)((od * geo[4] + oh) * geo[5] + ow);
            for (c = 0; c < cg; ++c)
              for (kd = 0; kd < geo[6]; ++kd) {
                const int32_t id = tn_qcoord(geo, 0, od, kd);
                if (id < 0 || id >= geo[0]) continue;
                for (kh = 0; kh < geo[7]; ++kh) {
                  const int32_t ih = tn_qcoord(geo, 1, oh, kh);
                  if (ih < 0 || ih >= geo[1]) continue;
                  for (kw = 0; kw < geo[8]; ++kw) {
                    const int32_t iw = tn_qcoord(geo, 2, ow, kw);
                    int32_t xv, wv;
                    if (iw < 0 || iw >= geo[2]) continue; /* padding: x = x_zp, a zero term */
                    xv = tn_qload(x, x_dtype, ((size_t)n * (size_t)in_channels + (size_t)(c0 + c)) * (size_t)in_sp + (size_t)((id * geo[1] + ih) * geo[2] + iw)) - xz;
                    wv = tn_qload(w, w_dtype, ((size_t)m * (size_t)cg + (size_t)c) * (size_t)k_sp + (size_t)((kd * geo[7] + kh) * geo[8] + kw)) - wz;
                    acc += (uint32_t)(xv * wv);
                  }
                }
              }
            if (!y_scale) {
              ((int32_t *)y)[at] = (int32_t)acc;
            } else {
              const float mult = tn_divf(x_scale[0] * w_scale[w_scale_count > 1 ? m : 0], y_scale[0]);
              if (bias) acc += (uint32_t)bias[m];
              tn_qstore(y, y_dtype, at, tn_qsat((float)(int32_t)acc * mult, yz, y_dtype));
            }
          }
    }
}

/*
 * tn_conv.c - convolution and pooling over 1, 2 or 3 spatial axes (1-D and 2-D use depth/height 1).
 *
 * Geometry (`geo`, 21 int32, built by the compiler):
 *   geo[0..2]   input  depth, height, width        geo[3..5]   output depth, height, width
 *   geo[6..8]   kernel depth, height, width        geo[9..11]  strides
 *   geo[12..14] dilations                          geo[15..17] pads at the beginning
 *   geo[18..20] pads at the end
 * Window element (kd, kh, kw) of output (od, oh, ow) reads input (od*s - pad + kd*dil, ...); positions
 * outside the input are padding: skipped by Conv and MaxPool, counted by AveragePool only with
 * count_include_pad (and only within the padded extent). Sums run over the window in order:
 * channel, then kd, kh, kw (docs/numerics.md, "Conv and pooling").
 */
#include "tn_runtime.h"
#include "tn_math.h"

#define TN_G_IN 0
#define TN_G_OUT 3
#define TN_G_K 6
#define TN_G_S 9
#define TN_G_DIL 12
#define TN_G_PB 15
#define TN_G_PE 18

/* Input coordinate of window element k along spatial axis a, for output coordinate o. */
static int32_t tn_coord(const int32_t *geo, int32_t a, int32_t o, int32_t k) {
  return o * geo[TN_G_S + a] - geo[TN_G_PB + a] + k * geo[TN_G_DIL + a];
}

static int32_t tn_spatial(const int32_t *geo, int32_t base) {
  return geo[base] * geo[base + 1] * geo[base + 2];
}

void tn_conv_f32(const float *x, const float *w, const float *bias, float *y, int32_t batches, int32_t in_channels,
                 int32_t out_channels, int32_t group, const int32_t *geo) {
  const int32_t in_sp = tn_spatial(geo, TN_G_IN), out_sp = tn_spatial(geo, TN_G_OUT), k_sp = tn_spatial(geo, TN_G_K);
  const int32_t cg = in_channels / group, mg = out_channels / group;
  int32_t n, m, od, oh, ow, c, kd, kh, kw;
  for (n = 0; n < batches; ++n) {
    for (m = 0; m < out_channels; ++m) {
      const int32_t c0 = (m / mg) * cg; /* first input channel of m's group */
      float *yo = y + ((size_t)n * (size_t)out_channels + (size_t)m) * (size_t)out_sp;
      for (od = 0; od < geo[TN_G_OUT]; ++od)
        for (oh = 0; oh < geo[TN_G_OUT + 1]; ++oh)
          for (ow = 0; ow < geo[TN_G_OUT + 2]; ++ow) {
            float acc = 0.0f;
            for (c = 0; c < cg; ++c) {
              const float *xc = x + ((size_t)n * (size_t)in_channels + (size_t)(c0 + c)) * (size_t)in_sp;
              const float *wc = w + ((size_t)m * (size_t)cg + (size_t)c) * (size_t)k_sp;
              for (kd = 0; kd < geo[TN_G_K]; ++kd) {
                const int32_t id = tn_coord(geo, 0, od, kd);
                if (id < 0 || id >= geo[TN_G_IN]) continue;
                for (kh = 0; kh < geo[TN_G_K + 1]; ++kh) {
                  const int32_t ih = tn_coord(geo, 1, oh, kh);
                  if (ih < 0 || ih >= geo[TN_G_IN + 1]) continue;
                  for (kw = 0; kw < geo[TN_G_K + 2]; ++kw) {
                    const int32_t iw = tn_coord(geo, 2, ow, kw);
                    if (iw < 0 || iw >= geo[TN_G_IN + 2]) continue;
                    acc = acc + xc[(id * geo[TN_G_IN + 1] + ih) * geo[TN_G_IN + 2] + iw] *
                                    wc[(kd * geo[TN_G_K + 1] + kh) * geo[TN_G_K + 2] + kw];
                  }
                }
              }
            }
            if (bias) acc = acc + bias[m];
            yo[(od * geo[TN_G_OUT + 1] + oh) * geo[TN_G_OUT + 2] + ow] = acc;
          }
    }
  }
}

/* Depthwise Conv (group = C = M) that may run in place, y over x (TinyEngine's in-place depthwise):
 * output plane p (batch n, channel c, p = n C + c) reads input plane p only, so it is computed into
 * `scratch` (one output plane) by tn_conv_f32 itself (the same sums in the same order), then copied
 * to y + p out_sp. When y starts where x does, that copy covers bytes of input planes <= p only
 * (out_sp <= in_sp, which the compiler checks), all read by then. */
void tn_conv_f32_depthwise(const float *x, const float *w, const float *bias, float *y, int32_t batches, int32_t channels,
                           const int32_t *geo, float *scratch) {
  const int32_t in_sp = tn_spatial(geo, TN_G_IN), out_sp = tn_spatial(geo, TN_G_OUT), k_sp = tn_spatial(geo, TN_G_K);
  int32_t p, i;
  for (p = 0; p < batches * channels; ++p) {
    const int32_t c = p % channels;
    float *yp = y + (size_t)p * (size_t)out_sp;
    tn_conv_f32(x + (size_t)p * (size_t)in_sp, w + (size_t)c * (size_t)k_sp, bias ? bias + c : NULL, scratch, 1, 1, 1, 1, geo);
    for (i = 0; i < out_sp; ++i) yp[i] = scratch[i];
  }
}

static float tn_neg_inf(void) {
  union {
    float f;
    uint32_t u;
  } b;
  b.u = 0xff800000u;
  return b.f;
}

/* MaxPool for one element type: m = LOWEST; for each in-bounds v: if (v > m) m = v (NaN never wins).
 * With ONNX's Indices (ind not NULL): the flat index (over N x C x spatial) of the element the
 * maximum came from, the first of equal ones; a window with no element above LOWEST (or only NaN)
 * points at its first in-bounds element. storage_order 1 numbers the spatial axes column-major
 * (reversed). */
#define TN_MAX_POOL_IDX(T, LOWEST)                                                                 \
  const int32_t in_sp = tn_spatial(geo, TN_G_IN), out_sp = tn_spatial(geo, TN_G_OUT);              \
  int32_t p, od, oh, ow, kd, kh, kw;                                                               \
  for (p = 0; p < planes; ++p) {                                                                   \
    const T *xp = x + (size_t)p * (size_t)in_sp;                                                   \
    T *yp = y + (size_t)p * (size_t)out_sp;                                                        \
    int64_t *ip = ind ? ind + (size_t)p * (size_t)out_sp : 0;                                     \
    for (od = 0; od < geo[TN_G_OUT]; ++od)                                                         \
      for (oh = 0; oh < geo[TN_G_OUT + 1]; ++oh)                                                   \
        for (ow = 0; ow < geo[TN_G_OUT + 2]; ++ow) {                                               \
          T m = LOWEST;                                                                            \
          int32_t bd = -1, bh = 0, bw = 0;                                                         \
          const size_t at = (size_t)((od * geo[TN_G_OUT + 1] + oh) * geo[TN_G_OUT + 2] + ow);      \
          for (kd = 0; kd < geo[TN_G_K]; ++kd) {                                                   \
            const int32_t id = tn_coord(geo, 0, od, kd);                                           \
            if (id < 0 || id >= geo[TN_G_IN]) continue;                                            \
            for (kh = 0; kh < geo[TN_G_K + 1]; ++kh) {                                             \
              const int32_t ih = tn_coord(geo, 1, oh, kh);                                         \
              if (ih < 0 || ih >= geo[TN_G_IN + 1]) continue;                                      \
              for (kw = 0; kw < geo[TN_G_K + 2]; ++kw) {                                           \
                const int32_t iw = tn_coord(geo, 2, ow, kw);                                       \
                T v;                                                                               \
                if (iw < 0 || iw >= geo[TN_G_IN + 2]) continue;                                    \
                v = xp[(id * geo[TN_G_IN + 1] + ih) * geo[TN_G_IN + 2] + iw];                      \
                if (bd < 0) {                                                                      \
                  bd = id;                                                                         \
                  bh = ih;                                                                         \
                  bw = iw;                                                                         \
                }                                                                                  \
                if (v > m) { /* NaN never wins */                                                  \
                  m = v;                                                                           \
                  bd = id;                                                                         \
                  bh = ih;                                                                         \
                  bw = iw;                                                                         \
                }                                                                                  \
              }                                                                                    \
            }                                                                                      \
          }                                                                                        \
          yp[at] = m;                                                                              \
          if (ip)                                                                                  \
            ip[at] = (int64_t)p * in_sp +                                                          \
                     (storage_order ? (int64_t)(bw * geo[TN_G_IN + 1] + bh) * geo[TN_G_IN] + bd    \
                                    : (int64_t)(bd * geo[TN_G_IN + 1] + bh) * geo[TN_G_IN + 2] + bw); \
        }                                                                                          \
  }

void tn_max_pool_idx_f32(const float *x, float *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order) {
  TN_MAX_POOL_IDX(float, tn_neg_inf())
}
void tn_max_pool_idx_i8(const int8_t *x, int8_t *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order) {
  TN_MAX_POOL_IDX(int8_t, -128)
}
void tn_max_pool_idx_u8(const uint8_t *x, uint8_t *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order) {
  TN_MAX_POOL_IDX(uint8_t, 0)
}

/* Without Indices: the same windows and comparisons. */
void tn_max_pool_f32(const float *x, float *y, int32_t planes, const int32_t *geo) { tn_max_pool_idx_f32(x, y, 0, planes, geo, 0); }
void tn_max_pool_i8(const int8_t *x, int8_t *y, int32_t planes, const int32_t *geo) { tn_max_pool_idx_i8(x, y, 0, planes, geo, 0); }
void tn_max_pool_u8(const uint8_t *x, uint8_t *y, int32_t planes, const int32_t *geo) { tn_max_pool_idx_u8(x, y, 0, planes, geo, 0); }

void tn_avg_pool_f32(const float *x, float *y, int32_t planes, const int32_t *geo, int32_t count_include_pad) {
  const int32_t in_sp = tn_spatial(geo, TN_G_IN), out_sp = tn_spatial(geo, TN_G_OUT);
  int32_t p, od, oh, ow, kd, kh, kw;
  for (p = 0; p < planes; ++p) {
    const float *xp = x + (size_t)p * (size_t)in_sp;
    float *yp = y + (size_t)p * (size_t)out_sp;
    for (od = 0; od < geo[TN_G_OUT]; ++od)
      for (oh = 0; oh < geo[TN_G_OUT + 1]; ++oh)
        for (ow = 0; ow < geo[TN_G_OUT + 2]; ++ow) {
          float s = 0.0f;
          int32_t count = 0;
          for (kd = 0; kd < geo[TN_G_K]; ++kd) {
            const int32_t id = tn_coord(geo, 0, od, kd);
            for (kh = 0; kh < geo[TN_G_K + 1]; ++kh) {
              const int32_t ih = tn_coord(geo, 1, oh, kh);
              for (kw = 0; kw < geo[TN_G_K + 2]; ++kw) {
                const int32_t iw = tn_coord(geo, 2, ow, kw);
                const int inside = id >= 0 && id < geo[TN_G_IN] && ih >= 0 && ih < geo[TN_G_IN + 1] && iw >= 0 && iw < geo[TN_G_IN + 2];
                const int in_pad = id >= -geo[TN_G_PB] && id < geo[TN_G_IN] + geo[TN_G_PE] && ih >= -geo[TN_G_PB + 1] &&
                                   ih < geo[TN_G_IN + 1] + geo[TN_G_PE + 1] && iw >= -geo[TN_G_PB + 2] &&
                                   iw < geo[TN_G_IN + 2] + geo[TN_G_PE + 2];
                if (inside) s = s + xp[(id * geo[TN_G_IN + 1] + ih) * geo[TN_G_IN + 2] + iw];
                if (inside || (count_include_pad && in_pad)) count += 1;
              }
            }
          }
          yp[(od * geo[TN_G_OUT + 1] + oh) * geo[TN_G_OUT + 2] + ow] = tn_divf(s, (float)count);
        }
  }
}

/* Input coordinate of window element k for output coordinate o of a transposed convolution along
 * axis a, or -1 when (o + pad - k dil) is not a whole stride inside the input. */
static int32_t tn_tcoord(const int32_t *geo, int32_t a, int32_t o, int32_t k) {
  const int32_t t = o + geo[TN_G_PB + a] - k * geo[TN_G_DIL + a];
  if (t < 0 || t % geo[TN_G_S + a] != 0 || t / geo[TN_G_S + a] >= geo[TN_G_IN + a]) return -1;
  return t / geo[TN_G_S + a];
}

/* ConvTranspose as a gather: y[n, m, o] = sum over the group's channels c, then kd, kh, kw, of
 * x[n, c, i] * w[c, m mod mg, k] where i = tn_tcoord(...), from 0; then + bias[m]. */
void tn_conv_transpose_f32(const float *x, const float *w, const float *bias, float *y, int32_t batches,
                           int32_t in_channels, int32_t out_channels, int32_t group, const int32_t *geo) {
  const int32_t in_sp = tn_spatial(geo, TN_G_IN), out_sp = tn_spatial(geo, TN_G_OUT), k_sp = tn_spatial(geo, TN_G_K);
  const int32_t cg = in_channels / group, mg = out_channels / group;
  int32_t n, m, od, oh, ow, c, kd, kh, kw;
  for (n = 0; n < batches; ++n)
    for (m = 0; m < out_channels; ++m) {
      const int32_t g = m / mg;
      float *yo = y + ((size_t)n * (size_t)out_channels + (size_t)m) * (size_t)out_sp;
      for (od = 0; od < geo[TN_G_OUT]; ++od)
        for (oh = 0; oh < geo[TN_G_OUT + 1]; ++oh)
          for (ow = 0; ow < geo[TN_G_OUT + 2]; ++ow) {
            float acc = 0.0f;
            for (c = 0; c < cg; ++c) {
              const int32_t ch = g * cg + c;
              const float *xc = x + ((size_t)n * (size_t)in_channels + (size_t)ch) * (size_t)in_sp;
              const float *wc = w + ((size_t)ch * (size_t)mg + (size_t)(m - g * mg)) * (size_t)k_sp;
              for (kd = 0; kd < geo[TN_G_K]; ++kd) {
                const int32_t id = tn_tcoord(geo, 0, od, kd);
                if (id < 0) continue;
                for (kh = 0; kh < geo[TN_G_K + 1]; ++kh) {
                  const int32_t ih = tn_tcoord(geo, 1, oh, kh);
                  if (ih < 0) continue;
                  for (kw = 0; kw < geo[TN_G_K + 2]; ++kw) {
                    const int32_t iw = tn_tcoord(geo, 2, ow, kw);
                    if (iw < 0) continue;
                    acc = acc + xc[(id * geo[TN_G_IN + 1] + ih) * geo[TN_G_IN + 2] + iw] *
                                    wc[(kd * geo[TN_G_K + 1] + kh) * geo[TN_G_K + 2] + kw];
                  }
                }
              }
            }
            if (bias) acc = acc + bias[m];
            yo[(od * geo[TN_G_OUT + 1] + oh) * geo[TN_G_OUT + 2] + ow] = acc;
          }
    }
}

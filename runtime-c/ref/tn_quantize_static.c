/*
 * tn_quantize_static.c - float32 -> int8 codes with a constant scale: QONNX Quant and BipolarQuant
 * on activations (docs/numerics.md, "QuantizeStatic"; compiler/ops/quantize_static.ts).
 *
 * Per element, each float operation rounded once, in this order:
 *   t = x; t = t (op) c[j] for each fused scalar operation j
 *   bipolar: code = t >= 0 ? +1 : -1
 *   else:    t = t / scale; t = t + zero_point (if nonzero); NaN -> 0;
 *            clamp to [qmin, qmax]; round with the mode; code = r - zero_point
 * Rounding is done on the clamped value (|t| <= 255), where i = (int32_t)t and f = t - (float)i are
 * exact, so every mode is plain integer logic.
 */
#include "tn_runtime.h"
#include "tn_math.h"

static float tn_qs_pre(uint8_t op, float t, float c) {
  switch (op) {
    case TN_PRE_ADD: return t + c;
    case TN_PRE_SUB: return t - c;
    case TN_PRE_RSUB: return c - t;
    case TN_PRE_MUL: return t * c;
    case TN_PRE_DIV: return t / c;
    default: return c / t; /* TN_PRE_RDIV */
  }
}

static int32_t tn_qs_round(float t, int32_t mode) {
  const int32_t i = (int32_t)t; /* truncates towards zero */
  const float f = t - (float)i;  /* exact, same sign as t */
  switch (mode) {
    case TN_ROUND_FLOOR: return f < 0.0f ? i - 1 : i;
    case TN_ROUND_CEIL: return f > 0.0f ? i + 1 : i;
    case TN_ROUND_DOWN: return i;
    case TN_ROUND_UP: return f > 0.0f ? i + 1 : (f < 0.0f ? i - 1 : i);
    case TN_ROUND_HALF_UP: return f >= 0.5f ? i + 1 : (f <= -0.5f ? i - 1 : i);
    case TN_ROUND_HALF_DOWN: return f > 0.5f ? i + 1 : (f < -0.5f ? i - 1 : i);
    default: /* TN_ROUND_HALF_EVEN */
      if (f > 0.5f || (f == 0.5f && (i & 1) != 0)) return i + 1;
      if (f < -0.5f || (f == -0.5f && (i & 1) != 0)) return i - 1;
      return i;
  }
}

void tn_quantize_static(const float *x, int8_t *y, int32_t n, const float *pre_c, const uint8_t *pre_ops,
                        int32_t n_pre, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                        int32_t mode) {
  int32_t i, j;
  const float zp = (float)zero_point;
  for (i = 0; i < n; ++i) {
    float t = x[i];
    for (j = 0; j < n_pre; ++j) t = tn_qs_pre(pre_ops[j], t, pre_c[j]);
    if (mode == TN_ROUND_BIPOLAR) {
      y[i] = (int8_t)(t >= 0.0f ? 1 : -1);
      continue;
    }
    t = t / scale;
    if (zero_point != 0) t = t + zp;
    if (t != t) {
      y[i] = 0;
      continue;
    }
    if (t > (float)qmax) t = (float)qmax;
    if (t < (float)qmin) t = (float)qmin;
    y[i] = (int8_t)(tn_qs_round(t, mode) - zero_point);
  }
}

/*
 * QONNX Trunc on activations (docs/numerics.md, "TruncStatic"; compiler/ops/trunc_static.ts): the
 * steps of the spec's reference, in float32, each operation rounded once. A zero produced by a
 * rounding step takes the sign of the value rounded (t * 0.0f), as NumPy's round/floor/ceil do.
 * NaN passes through every step (the clamp and the rounding skip it) and gives NaN.
 */
void tn_trunc_static(const float *x, float *y, int32_t n, float scale, float zeropt, float trunc_scale,
                     float out_scale, int32_t qmin, int32_t qmax, int32_t mode) {
  int32_t i;
  const float out_zeropt = tn_divf(zeropt, trunc_scale);
  for (i = 0; i < n; ++i) {
    float t = tn_divf(x[i], scale);
    float r = t + zeropt;
    t = tn_rintf(r);
    if (t == 0.0f) t = r * 0.0f;
    t = tn_divf(t, trunc_scale);
    if (t == t) {
      int32_t k;
      if (t > (float)qmax) t = (float)qmax;
      if (t < (float)qmin) t = (float)qmin;
      k = tn_qs_round(t, mode);
      t = k == 0 ? t * 0.0f : (float)k;
    }
    y[i] = (t - out_zeropt) * out_scale;
  }
}

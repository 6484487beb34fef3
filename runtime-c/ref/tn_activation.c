/*
 * tn_activation.c - ONNX activation and rounding functions: Elu, LeakyRelu, Selu, HardSigmoid,
 * HardSwish, Softplus, Softsign, Mish, Floor, Ceil, Round, Abs and PRelu. Each scalar function is the
 * step-by-step mirror of compiler/ops/onnx/activation.ts (docs/numerics.md, "Activations"); e^x,
 * ln x and tanh x are tn_math.c's.
 */
#include "tn_runtime.h"
#include "tn_math.h"

/* A zero result takes x's sign (x * 0 is +-0 for finite x), as IEEE floor, ceil and round do. */
static float tn_signed_zero(float r, float x) { return r == 0.0f ? x * 0.0f : r; }

static float tn_floorf(float x) {
  float r = tn_rintf(x);
  if (r > x) r = r - 1.0f;
  return tn_signed_zero(r, x);
}

static float tn_ceilf(float x) {
  float r = tn_rintf(x);
  if (r < x) r = r + 1.0f;
  return tn_signed_zero(r, x);
}

static float tn_roundf(float x) { return tn_signed_zero(tn_rintf(x), x); }

/* |x|: -0 -> +0, NaN stays NaN. */
static float tn_absf(float x) { return x < 0.0f ? -x : (x == 0.0f ? 0.0f : x); }

/* ln(1 + e^x) as max(x, 0) + ln(1 + e^-|x|): no overflow for large x. */
static float tn_softplusf(float x) {
  float l;
  if (x != x) return x;
  l = tn_logf(1.0f + tn_expf(-tn_absf(x)));
  return x > 0.0f ? x + l : l;
}

static float tn_hard_sigmoidf(float x, float alpha, float beta) {
  float v = alpha * x + beta;
  return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

#define TN_ACT0(NAME, EXPR)                                      \
  void NAME(const float *x, float *y, int32_t n) {               \
    int32_t i;                                                   \
    for (i = 0; i < n; ++i) {                                    \
      float v = x[i];                                            \
      y[i] = (EXPR);                                             \
    }                                                            \
  }

TN_ACT0(tn_floor_f32, tn_floorf(v))
TN_ACT0(tn_ceil_f32, tn_ceilf(v))
TN_ACT0(tn_round_f32, tn_roundf(v))
TN_ACT0(tn_abs_f32, tn_absf(v))
TN_ACT0(tn_softplus_f32, tn_softplusf(v))
TN_ACT0(tn_softsign_f32, v / (1.0f + tn_absf(v)))
TN_ACT0(tn_mish_f32, v * tn_tanhf(tn_softplusf(v)))
TN_ACT0(tn_hard_swish_f32, v * tn_hard_sigmoidf(v, 0x1.555556p-3f /* 1/6 */, 0.5f))

void tn_elu_f32(const float *x, float *y, int32_t n, float alpha) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? alpha * (tn_expf(x[i]) - 1.0f) : x[i];
}

void tn_leaky_relu_f32(const float *x, float *y, int32_t n, float alpha) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}

void tn_selu_f32(const float *x, float *y, int32_t n, float alpha, float gamma) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i] <= 0.0f ? gamma * (alpha * tn_expf(x[i]) - alpha) : gamma * x[i];
}

void tn_hard_sigmoid_f32(const float *x, float *y, int32_t n, float alpha, float beta) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = tn_hard_sigmoidf(x[i], alpha, beta);
}

/* Integer Abs wraps: |INT_MIN| is INT_MIN (computed in unsigned arithmetic, no overflow). */
#define TN_ABS_INT(NAME, T, UT)                                          \
  void NAME(const T *x, T *y, int32_t n) {                               \
    int32_t i;                                                           \
    for (i = 0; i < n; ++i) y[i] = x[i] < 0 ? (T)(UT)(0u - (UT)x[i]) : x[i]; \
  }
TN_ABS_INT(tn_abs_i8, int8_t, uint8_t)
TN_ABS_INT(tn_abs_i32, int32_t, uint32_t)
TN_ABS_INT(tn_abs_i64, int64_t, uint64_t)

void tn_abs_u8(const uint8_t *x, uint8_t *y, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i];
}

/* y = x < 0 ? slope * x : x; slope read at the broadcast strides over x's shape (rank <= 8). */
void tn_prelu_f32(const float *x, const float *slope, float *y, int32_t rank, const int32_t *shape,
                  const int32_t *slope_strides) {
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t n = 1, i, d, off;
  for (d = 0; d < rank; ++d) n *= shape[d];
  for (i = 0; i < n; ++i) {
    off = 0;
    for (d = 0; d < rank; ++d) off += idx[d] * slope_strides[d];
    y[i] = x[i] < 0.0f ? slope[off] * x[i] : x[i];
    for (d = rank - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

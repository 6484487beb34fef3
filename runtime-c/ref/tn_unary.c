/*
 * tn_unary.c - elementwise float32 functions (Sqrt, Erf, Sigmoid, Tanh, Gelu, Log, Exp): y[i] = f(x[i])
 * with the scalar functions of tn_math.c (docs/numerics.md gives each one's steps and accuracy).
 */
#include "tn_runtime.h"
#include "tn_math.h"

#define TN_UNARY(NAME, F)                                 \
  void NAME(const float *x, float *y, int32_t n) {        \
    int32_t i;                                            \
    for (i = 0; i < n; ++i) y[i] = F(x[i]);               \
  }

TN_UNARY(tn_sqrt_f32, tn_sqrtf)
TN_UNARY(tn_log_f32, tn_logf)
TN_UNARY(tn_exp_f32, tn_expf)
TN_UNARY(tn_erf_f32, tn_erff)
TN_UNARY(tn_sigmoid_f32, tn_sigmoidf)
TN_UNARY(tn_tanh_f32, tn_tanhf)
TN_UNARY(tn_gelu_erf_f32, tn_gelu_erff)
TN_UNARY(tn_gelu_tanh_f32, tn_gelu_tanhf)

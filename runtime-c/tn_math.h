/*
 * tn_math.h - internal to runtime-c (README.md): the scalar float32 functions of ref/tn_math.c, which
 * the ONNX kernels call per element. docs/numerics.md ("Scalar helpers") gives each one's steps and
 * its measured error; test/numerics.test.ts and test/numerics-ext.test.ts check them bit for bit
 * against compiler/numerics/f32.ts on every target (through test/c/math_check.c, math_ext_check.c).
 */
#ifndef TN_MATH_H
#define TN_MATH_H

#include "tn_runtime.h"

/* Round to the nearest integer, ties to even; |v| >= 2^23, inf and NaN are returned as they are. */
float tn_rintf(float v);
/* 2^k * p for -150 <= k <= 128, with at most one rounding. */
float tn_ldexpf(float p, int32_t k);
/* e^x: two-part ln2 range reduction and a degree-7 polynomial; about 2 ulp, bit-exact with tritc. */
float tn_expf(float x);
/* clamp(rint(v), -127, 127); NaN -> 0. */
int8_t tn_quant_i8(float v);

/* The functions of the ONNX ops (docs/numerics.md, "Scalar helpers", gives each one's steps and
 * its measured error against the true function). */
float tn_divf(float a, float b);       /* a / b; correct also for subnormal quotients on soft float */
float tn_sqrtf(float x);               /* correctly rounded; negative -> NaN */
float tn_logf(float x);                /* natural log; 0 -> -inf, negative -> NaN */
float tn_maxf(float a, float b);       /* IEEE 754-2019 maximum: NaN propagates, max(-0, +0) = +0 */
float tn_minf(float a, float b);       /* IEEE 754-2019 minimum: NaN propagates, min(-0, +0) = -0 */
float tn_tanhf(float x);
float tn_sigmoidf(float x);            /* 1 / (1 + e^-x) */
float tn_erff(float x);
float tn_gelu_erff(float x);           /* 0.5 x (1 + erf(x / sqrt(2))) */
float tn_gelu_tanhf(float x);          /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
float tn_powf(float x, float y);       /* x^y with the special cases of C99 Annex F */

#endif /* TN_MATH_H */

/*
 * tn_arith.c - elementwise arithmetic with NumPy broadcasting (Add, Sub, Mul, Div, Pow, Max, Min,
 * comparisons), Clip, Where and Cast, for float32, int8, uint8, int32 and int64 (docs/numerics.md, "Elementwise").
 *
 * Broadcasting: `shape` is the output's shape (rank <= 8) and each input has element strides over
 * it, 0 along the axes it is broadcast on. The output is written in row-major order.
 *
 * Integers wrap around like NumPy's fixed-width types: arithmetic is done in the unsigned type of
 * the same width (where wrap-around is defined in C) and converted back, which every compiler tritc
 * supports does modulo 2^N (the conversion is implementation-defined in C99, not undefined).
 * Integer division truncates toward zero; x / 0 is 0; INT_MIN / -1 wraps to INT_MIN.
 */
#include "tn_runtime.h"
#include "tn_math.h"

/* The body of a broadcasting binary kernel: y[i] = EXPR(va, vb) for every output index. */
#define TN_BCAST2(TA, TB, TY, EXPR)                                        \
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};                               \
  int32_t total = 1, i, d;                                                 \
  for (d = 0; d < rank; ++d) total *= shape[d];                            \
  for (i = 0; i < total; ++i) {                                            \
    int32_t ia = 0, ib = 0;                                                \
    for (d = 0; d < rank; ++d) {                                           \
      ia += idx[d] * a_strides[d];                                         \
      ib += idx[d] * b_strides[d];                                         \
    }                                                                      \
    {                                                                      \
      const TA va = a[ia];                                                 \
      const TB vb = b[ib];                                                 \
      y[i] = (TY)(EXPR);                                                   \
    }                                                                      \
    for (d = rank - 1; d >= 0; --d) { /* odometer increment of the output index */ \
      if (++idx[d] < shape[d]) break;                                      \
      idx[d] = 0;                                                          \
    }                                                                      \
  }

#define TN_BINARY(NAME, TA, TB, TY, EXPR)                                                          \
  void NAME(const TA *a, const TB *b, TY *y, int32_t rank, const int32_t *shape,                   \
            const int32_t *a_strides, const int32_t *b_strides) {                                  \
    TN_BCAST2(TA, TB, TY, EXPR)                                                                    \
  }

/* ---- scalar integer helpers: wrap-around and defined division ----------------------------------- */

static int32_t tn_sdiv32(int32_t a, int32_t b) {
  if (b == 0) return 0;
  if (b == -1) return (int32_t)(0u - (uint32_t)a); /* -INT32_MIN wraps to INT32_MIN */
  return a / b;
}

static int64_t tn_sdiv64(int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (b == -1) return (int64_t)(0u - (uint64_t)a);
  return a / b;
}

/* int8 and uint8 operands are promoted to int: no overflow there; the store wraps. */
static int32_t tn_div_small(int32_t a, int32_t b) { return b == 0 ? 0 : a / b; }

/* x^n with wrap-around; n < 0: 1 for x = 1, +-1 for x = -1, else 0 (also 0^n: defined as 0). */
static uint64_t tn_ipow(int64_t x, int64_t n, int bits) {
  uint64_t r = 1, base = (uint64_t)x, m = bits == 32 ? 0xffffffffu : ~(uint64_t)0;
  if (n < 0) {
    if (x == 1) return 1;
    if (x == -1) return (n & 1) ? (uint64_t)0 - 1u : 1;
    return 0;
  }
  while (n != 0) {
    if (n & 1) r = (r * base) & m;
    base = (base * base) & m;
    n >>= 1;
  }
  return r;
}

static int32_t tn_wrap_i32(uint64_t v) { return (int32_t)(uint32_t)v; }

/* An integer base with a float exponent: the integer power when the exponent is an integer, else
 * tn_powf on (float)x converted back by Cast's rule (truncation, saturating, NaN -> 0). */
static int64_t tn_ipow_f(int64_t x, float e, int bits) {
  float ae = e < 0.0f ? -e : e;
  if (ae < 0x1p31f && tn_rintf(e) == e) {
    uint64_t r = tn_ipow(x, (int64_t)e, bits);
    return bits == 32 ? (int64_t)tn_wrap_i32(r) : (int64_t)r;
  }
  {
    const float p = tn_powf((float)x, e);
    if (bits == 32) return tn_f32_to_i32(p);
    return tn_f32_to_i64(p);
  }
}

/* ---- Add, Sub, Mul, Div ----------------------------------------------------------------------- */

TN_BINARY(tn_sub_f32, float, float, float, va - vb)
TN_BINARY(tn_mul_f32, float, float, float, va * vb)
TN_BINARY(tn_div_f32, float, float, float, tn_divf(va, vb))

TN_BINARY(tn_add_i8, int8_t, int8_t, int8_t, va + vb)
TN_BINARY(tn_sub_i8, int8_t, int8_t, int8_t, va - vb)
TN_BINARY(tn_mul_i8, int8_t, int8_t, int8_t, va * vb)
TN_BINARY(tn_div_i8, int8_t, int8_t, int8_t, tn_div_small(va, vb))

TN_BINARY(tn_add_u8, uint8_t, uint8_t, uint8_t, va + vb)
TN_BINARY(tn_sub_u8, uint8_t, uint8_t, uint8_t, va - vb)
TN_BINARY(tn_mul_u8, uint8_t, uint8_t, uint8_t, va * vb)
TN_BINARY(tn_div_u8, uint8_t, uint8_t, uint8_t, tn_div_small(va, vb))

TN_BINARY(tn_add_i32, int32_t, int32_t, int32_t, (uint32_t)va + (uint32_t)vb)
TN_BINARY(tn_sub_i32, int32_t, int32_t, int32_t, (uint32_t)va - (uint32_t)vb)
TN_BINARY(tn_mul_i32, int32_t, int32_t, int32_t, (uint32_t)va * (uint32_t)vb)
TN_BINARY(tn_div_i32, int32_t, int32_t, int32_t, tn_sdiv32(va, vb))

TN_BINARY(tn_add_i64, int64_t, int64_t, int64_t, (uint64_t)va + (uint64_t)vb)
TN_BINARY(tn_sub_i64, int64_t, int64_t, int64_t, (uint64_t)va - (uint64_t)vb)
TN_BINARY(tn_mul_i64, int64_t, int64_t, int64_t, (uint64_t)va * (uint64_t)vb)
TN_BINARY(tn_div_i64, int64_t, int64_t, int64_t, tn_sdiv64(va, vb))

/* ---- Pow: base float32, int32 or int64; exponent float32 or an integer type ---------------------- */

TN_BINARY(tn_pow_f32_f32, float, float, float, tn_powf(va, vb))
TN_BINARY(tn_pow_f32_i8, float, int8_t, float, tn_powf(va, (float)vb))
TN_BINARY(tn_pow_f32_u8, float, uint8_t, float, tn_powf(va, (float)vb))
TN_BINARY(tn_pow_f32_i32, float, int32_t, float, tn_powf(va, (float)vb))
TN_BINARY(tn_pow_f32_i64, float, int64_t, float, tn_powf(va, (float)vb))
TN_BINARY(tn_pow_i32_f32, int32_t, float, int32_t, tn_ipow_f(va, vb, 32))
TN_BINARY(tn_pow_i32_i8, int32_t, int8_t, int32_t, tn_wrap_i32(tn_ipow(va, vb, 32)))
TN_BINARY(tn_pow_i32_u8, int32_t, uint8_t, int32_t, tn_wrap_i32(tn_ipow(va, vb, 32)))
TN_BINARY(tn_pow_i32_i32, int32_t, int32_t, int32_t, tn_wrap_i32(tn_ipow(va, vb, 32)))
TN_BINARY(tn_pow_i32_i64, int32_t, int64_t, int32_t, tn_wrap_i32(tn_ipow(va, vb, 32)))
TN_BINARY(tn_pow_i64_f32, int64_t, float, int64_t, tn_ipow_f(va, vb, 64))
TN_BINARY(tn_pow_i64_i8, int64_t, int8_t, int64_t, tn_ipow(va, vb, 64))
TN_BINARY(tn_pow_i64_u8, int64_t, uint8_t, int64_t, tn_ipow(va, vb, 64))
TN_BINARY(tn_pow_i64_i32, int64_t, int32_t, int64_t, tn_ipow(va, vb, 64))
TN_BINARY(tn_pow_i64_i64, int64_t, int64_t, int64_t, tn_ipow(va, vb, 64))

/* ---- Max, Min: two inputs (the importer chains ONNX's variadic form) ------------------------------
 * float32 through tn_maxf/tn_minf (tn_math.c: NaN propagates, -0 < +0); integers plain. */
TN_BINARY(tn_max_f32, float, float, float, tn_maxf(va, vb))
TN_BINARY(tn_min_f32, float, float, float, tn_minf(va, vb))
#define TN_MINMAX_INT(SUF, T)                                  \
  TN_BINARY(tn_max_##SUF, T, T, T, va > vb ? va : vb)          \
  TN_BINARY(tn_min_##SUF, T, T, T, va < vb ? va : vb)
TN_MINMAX_INT(i8, int8_t)
TN_MINMAX_INT(u8, uint8_t)
TN_MINMAX_INT(i32, int32_t)
TN_MINMAX_INT(i64, int64_t)

/* ---- Less, Greater, Equal, LessOrEqual, GreaterOrEqual: a bool (0/1 byte) result ---------------
 * C's comparisons are IEEE's: false when either operand is NaN, -0 == +0. Equal also takes bool
 * (bytes 0/1: the u8 kernel). */
#define TN_COMPARE(SUF, T)                                                 \
  TN_BINARY(tn_less_##SUF, T, T, uint8_t, va < vb)                         \
  TN_BINARY(tn_greater_##SUF, T, T, uint8_t, va > vb)                      \
  TN_BINARY(tn_equal_##SUF, T, T, uint8_t, va == vb)                       \
  TN_BINARY(tn_less_or_equal_##SUF, T, T, uint8_t, va <= vb)               \
  TN_BINARY(tn_greater_or_equal_##SUF, T, T, uint8_t, va >= vb)
TN_COMPARE(f32, float)
TN_COMPARE(i8, int8_t)
TN_COMPARE(u8, uint8_t)
TN_COMPARE(i32, int32_t)
TN_COMPARE(i64, int64_t)

/* ---- Relu on wider integers (float32 and int8 are in tn_elementwise.c) ------------------------ */

void tn_relu_i32(const int32_t *x, int32_t *y, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : 0;
}

void tn_relu_i64(const int64_t *x, int64_t *y, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : 0;
}

/* ---- Clip: y = x; if (y < lo) y = lo; if (y > hi) y = hi.  lo/hi may be NULL (no bound). -------- */

#define TN_CLIP(NAME, T)                                                  \
  void NAME(const T *x, const T *lo, const T *hi, T *y, int32_t n) {      \
    int32_t i;                                                            \
    for (i = 0; i < n; ++i) {                                             \
      T v = x[i];                                                         \
      if (lo && v < *lo) v = *lo;                                         \
      if (hi && v > *hi) v = *hi; /* min > max gives max, as ONNX says */ \
      y[i] = v;                                                           \
    }                                                                     \
  }

TN_CLIP(tn_clip_f32, float)
TN_CLIP(tn_clip_i8, int8_t)
TN_CLIP(tn_clip_u8, uint8_t)
TN_CLIP(tn_clip_i32, int32_t)
TN_CLIP(tn_clip_i64, int64_t)

/* ---- Where: out = cond ? x : y, any element size, three-way broadcasting ----------------------- */

void tn_where(const uint8_t *cond, const void *x, const void *y, void *out, int32_t elem_bytes, int32_t rank,
              const int32_t *shape, const int32_t *c_strides, const int32_t *x_strides, const int32_t *y_strides) {
  const uint8_t *xb = (const uint8_t *)x, *yb = (const uint8_t *)y;
  uint8_t *ob = (uint8_t *)out;
  int32_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t total = 1, i, d, k;
  for (d = 0; d < rank; ++d) total *= shape[d];
  for (i = 0; i < total; ++i) {
    int32_t ic = 0, ix = 0, iy = 0;
    const uint8_t *src;
    for (d = 0; d < rank; ++d) {
      ic += idx[d] * c_strides[d];
      ix += idx[d] * x_strides[d];
      iy += idx[d] * y_strides[d];
    }
    src = cond[ic] ? xb + (size_t)ix * (size_t)elem_bytes : yb + (size_t)iy * (size_t)elem_bytes;
    for (k = 0; k < elem_bytes; ++k) ob[(size_t)i * (size_t)elem_bytes + (size_t)k] = src[k];
    for (d = rank - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

/* ---- Cast ----------------------------------------------------------------------------------- */

/* float -> integer: NaN -> 0, truncation toward zero, saturation at the type's range. The range
 * checks come first, so the C conversion never sees an out-of-range value (which would be UB). */
int32_t tn_f32_to_i32(float v) {
  if (v != v) return 0;
  if (v >= 0x1p31f) return 2147483647;
  if (v < -0x1p31f) return -2147483647 - 1;
  return (int32_t)v;
}

int64_t tn_f32_to_i64(float v) {
  if (v != v) return 0;
  if (v >= 0x1p63f) return (int64_t)0x7fffffffffffffffLL;
  if (v < -0x1p63f) return -(int64_t)0x7fffffffffffffffLL - 1;
  return (int64_t)v;
}

static int64_t tn_load_int(const void *x, int32_t dtype, int32_t i) {
  switch (dtype) {
    case TN_DT_I8: return ((const int8_t *)x)[i];
    case TN_DT_U8:
    case TN_DT_BOOL: return ((const uint8_t *)x)[i];
    case TN_DT_I32: return ((const int32_t *)x)[i];
    default: return ((const int64_t *)x)[i];
  }
}

void tn_cast(const void *x, int32_t from, void *y, int32_t to, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    if (from == TN_DT_F32) {
      const float v = ((const float *)x)[i];
      int32_t t;
      switch (to) {
        case TN_DT_F32: ((float *)y)[i] = v; break;
        case TN_DT_BOOL: ((uint8_t *)y)[i] = v != 0.0f; break; /* NaN -> 1 */
        case TN_DT_I64: ((int64_t *)y)[i] = tn_f32_to_i64(v); break;
        case TN_DT_I32: ((int32_t *)y)[i] = tn_f32_to_i32(v); break;
        case TN_DT_I8:
          t = tn_f32_to_i32(v);
          ((int8_t *)y)[i] = (int8_t)(t < -128 ? -128 : t > 127 ? 127 : t);
          break;
        default: /* TN_DT_U8 */
          t = tn_f32_to_i32(v);
          ((uint8_t *)y)[i] = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);
          break;
      }
    } else {
      const int64_t v = tn_load_int(x, from, i);
      switch (to) {
        case TN_DT_F32: ((float *)y)[i] = (float)v; break; /* round to nearest even */
        case TN_DT_BOOL: ((uint8_t *)y)[i] = v != 0; break;
        case TN_DT_I64: ((int64_t *)y)[i] = v; break;
        case TN_DT_I32: ((int32_t *)y)[i] = (int32_t)(uint32_t)(uint64_t)v; break; /* wraps */
        case TN_DT_I8: ((int8_t *)y)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
        default: ((uint8_t *)y)[i] = (uint8_t)(uint64_t)v; break;
      }
    }
  }
}

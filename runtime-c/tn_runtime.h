/*
 * tn_runtime.h - tritc's C runtime: the kernels generated models call.
 *
 * Portable C99. No libc, no libm, no malloc: only <stdint.h> and <stddef.h>, which every freestanding
 * compiler has. Build with -ffp-contract=off (and never -ffast-math): the numerics contract
 * (docs/numerics.md) requires each float operation to be one IEEE-754 binary32 operation in the
 * order written, so that the results match tritc's reference interpreter bit for bit on every target.
 *
 * Files: ref/<op>.c hold the plain, obviously correct kernels. Optimised variants, when they exist,
 * keep the same signatures and differ only in a suffix (_neon, _m4, ...), and are tested against these.
 */
#ifndef TN_RUNTIME_H
#define TN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TN_ALIGNED(n) __attribute__((aligned(n)))
#else
#define TN_ALIGNED(n)
#endif

/* ---- scalar math (ref/tn_math.c) ----------------------------------------------------------- */

/* Round to the nearest integer, ties to even; |v| >= 2^23, inf and NaN are returned as they are. */
float tn_rintf(float v);
/* 2^k * p for -150 <= k <= 128, with at most one rounding. */
float tn_ldexpf(float p, int32_t k);
/* e^x: two-part ln2 range reduction and a degree-7 polynomial; about 2 ulp, bit-exact with tritc. */
float tn_expf(float x);
/* clamp(rint(v), -127, 127); NaN -> 0. */
int8_t tn_quant_i8(float v);

/* ---- activation (de)quantisation (ref/tn_quantize.c) -------------------------------------- */

/* Symmetric absmax int8 per row: rows x cols floats -> int8 codes and one scale per row
 * (scale = max(absmax, 1e-5) / 127). Per tensor is rows = 1, cols = all elements. */
void tn_quantize_i8(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols);
/* y = (float)q * scale[row]. */
void tn_dequantize_i8(const int8_t *q, const float *scale, float *y, int32_t rows, int32_t cols);

/* ---- static quantisation: QONNX Quant / BipolarQuant on activations (ref/tn_quantize_static.c) */

#define TN_PRE_ADD 0  /* t + c */
#define TN_PRE_SUB 1  /* t - c */
#define TN_PRE_RSUB 2 /* c - t */
#define TN_PRE_MUL 3  /* t * c */
#define TN_PRE_DIV 4  /* t / c */
#define TN_PRE_RDIV 5 /* c / t */
#define TN_ROUND_HALF_EVEN 0
#define TN_ROUND_CEIL 1
#define TN_ROUND_FLOOR 2
#define TN_ROUND_UP 3        /* away from zero */
#define TN_ROUND_DOWN 4      /* towards zero */
#define TN_ROUND_HALF_UP 5   /* ties away from zero */
#define TN_ROUND_HALF_DOWN 6 /* ties towards zero */
#define TN_ROUND_BIPOLAR 7   /* t >= 0 ? +1 : -1 */

/* y = round(clamp((x op c...) / scale + zero_point, qmin, qmax)) - zero_point as int8 codes, after the
 * n_pre fused scalar operations pre_ops[j] with operands pre_c[j] (either may be NULL when n_pre = 0). */
void tn_quantize_static(const float *x, int8_t *y, int32_t n, const float *pre_c, const uint8_t *pre_ops,
                        int32_t n_pre, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                        int32_t mode);

/* ---- low-bit linear layers (ref/tn_ternary_linear.c, ref/tn_binary_linear.c) -------------- */

#define TN_PER_TENSOR 0
#define TN_PER_ROW 1
#define TN_PER_GROUP 2

/* Weights of a low-bit linear layer: `planes` planes of n rows of k codes, row-major.
 * Ternary rows are (k + 3) / 4 bytes, 2 bits per code, first code in the low bits:
 *   00 -> 0, 01 -> +1, 10 -> -1.
 * Binary rows are (k + 7) / 8 bytes, 1 bit per code, first code in the low bit: 1 -> +1, 0 -> -1.
 * Scales: planes (per tensor), planes * n (per row) or planes * n * ceil(k / group) (per group). */
typedef struct tn_lowbit_weights {
  const uint8_t *codes;
  const float *scale;
  int32_t planes;
  int32_t n;
  int32_t k;
  int32_t granularity; /* TN_PER_TENSOR, TN_PER_ROW or TN_PER_GROUP */
  int32_t group;       /* codes per scale along k; k unless per group */
} tn_lowbit_weights;

/* y[t, n] = (sum over planes p, groups g of (float)acc[p,g] * ws[p,n,g]) * x_scale[t or 0] + bias[n]
 * with acc[p,g] = sum_{k in g} W[p,n,k] * x[t,k] exact. x: rows x k int8; y: rows x n float.
 * flush = 0: int32 accumulation (the compiler proved |acc| < 2^31); flush > 0: int32 partial sums
 * of at most `flush` codes are added into an int64 accumulator. bias may be NULL. */
void tn_ternary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                       const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* The shared driver of both (ref/tn_lowbit_linear.c): `dot` returns the exact sum of codes k0..k1-1
 * of one row times x, for one code format; row_bytes is the byte length of a row of codes. */
typedef int32_t (*tn_lowbit_dot_fn)(const int8_t *x, const uint8_t *codes, int32_t k0, int32_t k1);
void tn_lowbit_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, int32_t row_bytes, tn_lowbit_dot_fn dot,
                      const float *bias, int32_t flush, float *y);

/* ---- low-bit 2-D convolution (ref/tn_lowbit_conv.c) ---------------------------------------- */

/* Shapes of a convolution: x [n, c, h, w] -> y [n, m, oh, ow], weights [m, c / group, kh, kw]. */
typedef struct tn_conv2d_geometry {
  int32_t n, c, h, w;
  int32_t m, kh, kw, group;
  int32_t oh, ow;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;
  int32_t dilation_h, dilation_w;
} tn_conv2d_geometry;

/* y[n, m, oh, ow] = ((float)acc * w_scale[m or 0]) * x_scale + bias[m], acc the exact sum over the
 * window of codes times x (zero padding). codes: one row per m over (c, kh, kw), padded to bytes,
 * ternary 2-bit or binary 1-bit as for the linear layers. bias may be NULL. */
void tn_ternary_conv2d(const int8_t *x, float x_scale, const tn_conv2d_geometry *g, const uint8_t *codes,
                       const float *w_scale, int32_t per_channel, const float *bias, float *y);
void tn_binary_conv2d(const int8_t *x, float x_scale, const tn_conv2d_geometry *g, const uint8_t *codes,
                      const float *w_scale, int32_t per_channel, const float *bias, float *y);

/* ---- elementwise (ref/tn_elementwise.c) --------------------------------------------------- */

void tn_relu_f32(const float *x, float *y, int32_t n);
void tn_relu_i8(const int8_t *x, int8_t *y, int32_t n);
void tn_add_f32(const float *a, const float *b, float *y, int32_t n);
/* Copies n bytes (for outputs that are inputs or constants). */
void tn_copy_bytes(void *dst, const void *src, int32_t n);
/* y = a + b with broadcasting: shape is y's shape, a_strides/b_strides are element strides
 * (0 along broadcast axes). rank <= 8. */
void tn_add_f32_bcast(const float *a, const float *b, float *y, int32_t rank, const int32_t *shape,
                      const int32_t *a_strides, const int32_t *b_strides);

/* ---- reductions (ref/tn_softmax.c, ref/tn_argmax.c) -------------------------------------- */

/* Softmax along the middle axis of an outer x dim x inner view. */
void tn_softmax_f32(const float *x, float *y, int32_t outer, int32_t dim, int32_t inner);
/* Index of the first maximum along the middle axis, NaN never wins. */
void tn_argmax_f32(const float *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);
void tn_argmax_i8(const int8_t *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);
void tn_argmax_i32(const int32_t *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);

#endif /* TN_RUNTIME_H */

/*
 * tn_runtime.h - tritc's C runtime, the public part: what a generated model.c includes. The types and
 * constants of the kernels' arguments (the packed weight formats, tn_lowbit_weights, the dtype and
 * mode codes) and the prototype of every kernel a model calls. README.md in this directory says
 * where the kernels are, and which internal headers (tn_*.h, included by the runtime's .c files
 * only) hold what the kernels share.
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

#include "tn_numerics.h" /* no fused multiply-add, whatever the flags */

/* The generated model's arena and the LUT kernels' scratch are aligned with this. */
#if defined(__GNUC__) || defined(__clang__)
#define TN_ALIGNED(n) __attribute__((aligned(n)))
#else
#define TN_ALIGNED(n)
#endif

/* A static object in a named linker section (the arena in a memory region the compiler chose, e.g.
 * core-coupled RAM; the linker script places the section). */
#if defined(__GNUC__) || defined(__clang__)
#define TN_SECTION(name) __attribute__((section(name)))
#else
#define TN_SECTION(name)
#endif

/* ---- low-bit linear layers (ref/tn_ternary_linear.c, ref/tn_binary_linear.c) -------------- */

#define TN_PER_TENSOR 0
#define TN_PER_ROW 1
#define TN_PER_GROUP 2

/* Weights of a low-bit linear layer: `planes` planes of n rows of k codes, row-major.
 * Ternary rows are (k + 3) / 4 bytes, 2 bits per code, first code in the low bits:
 *   00 -> 0, 01 -> +1, 10 -> -1.
 * Binary rows are (k + 7) / 8 bytes, 1 bit per code, first code in the low bit: 1 -> +1, 0 -> -1.
 * (Those are the formats t2 and b1; the other formats, below, lay rows out differently.)
 * Scales: planes (per tensor), planes * n (per row) or planes * n * ceil(k / group) (per group).
 * The last three fields are for the kernels that need them and are 0 otherwise. */
typedef struct tn_lowbit_weights {
  const uint8_t *codes;
  const float *scale;
  int32_t planes;
  int32_t n;
  int32_t k;
  int32_t granularity; /* TN_PER_TENSOR, TN_PER_ROW or TN_PER_GROUP */
  int32_t group;       /* codes per scale along k; k unless per group */
  int32_t window;      /* t5w, t6w: LUT groups per table window (the offsets in the codes depend on it) */
  void *scratch;       /* LUT kernels: tables (and per-row sums); 16-byte aligned, scratch_bytes long */
  int32_t scratch_bytes;
} tn_lowbit_weights;

/* y[t, n] = (sum over planes p, groups g of (float)acc[p,g] * ws[p,n,g]) * x_scale[t or 0] + bias[n]
 * with acc[p,g] = sum_{k in g} W[p,n,k] * x[t,k] exact. x: rows x k int8; y: rows x n float.
 * flush = 0: int32 accumulation (the compiler proved |acc| < 2^31); flush > 0: int32 partial sums
 * of at most `flush` codes are added into an int64 accumulator. bias may be NULL. */
void tn_ternary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                       const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* ---- packed weight formats -------------------------------------------------------------- */
/*
 * Every format has a block-size constant TN_QK_<FMT> (codes per unit of storage) and a packer in
 * compiler/emit/pack.ts; the reference decoder of every format is tn_lowbit_code() in
 * ref/tn_lowbit_codes.c. Mapping comments give code -> weight. "u" is the offset code u = w + 1:
 * -1, 0, +1 -> 0, 1, 2. docs/kernels.md has the pictures.
 *
 * t2   TN_QK_T2 = 4 codes per byte, 2 bits each, first code in the low bits: 00 -> 0, 01 -> +1,
 *      10 -> -1. Rows padded to whole bytes (with 00).
 * t2b  TN_QK_T2B = 128 codes per 32-byte block, offset codes u (2 bits): byte m (0..31) of a block
 *      holds codes m, m+32, m+64, m+96 in bits [1:0], [3:2], [5:4], [7:6], so one 16- or 32-byte
 *      load and a shift give runs of contiguous codes. Rows padded to whole blocks with u = 1 (0),
 *      and interleaved in groups of 4 rows of a plane: block b of row 4 i + q of plane p is at
 *      (((p * ceil(n / 4) + i) * blocks + b) * 4 + q) * 32 (the last group padded with rows of
 *      u = 1), so the 4 rows a kernel works on are one stream (tn_t2b_row).
 * t5   TN_QK_T5 = 5 codes per byte (1.6 bits per weight): the byte is the LUT index of the 5 codes,
 *      (a >= 14 ? 126 : 0) + 14 b + a % 14 with a = u0 + 3 u1 + 9 u2 (0..26) and b = u3 + 3 u4
 *      (0..8). Codes are packed per scale group: each group of G codes (K for per tensor/row) takes
 *      ceil(G / 5) bytes, padded with u = 1; a row is its groups one after another.
 * t5w  TN_QK_T5W = 5 codes per 16-bit little-endian entry, in half tables (TN_LUT5W_ENTRIES):
 *      codes whose index i = a + 27 b is past the centre (i > 121, all codes 0) are stored as their
 *      mirror (u -> 2 - u, the negated weights: a -> 26 - a, b -> 8 - b) and their lookups subtract.
 *      Entry index = a < 14 ? 14 b + a : 70 + 14 b + (a - 14) (half 0: rows b = 0..4, half 1: rows
 *      b = 0..3). A row is its scale groups one after another (ceil(G / 5) units each, padded with
 *      u = 1); each group is split into windows of up to w->window units, and each window is a
 *      16-bit header, the number of added lookups, then its units as byte offsets
 *      2 * (j * TN_LUT5W_ENTRIES + index) (j: the unit's table in the window), the added ones first,
 *      then the subtracted ones, each in unit order. 3.2 bits per weight plus 16 per window: the
 *      MCU speed format.
 * t6w  TN_QK_T6W = 6 codes per 16-bit entry, the same with b = u3 + 3 u4 + 9 u5 (0..26), centre
 *      i = 364, mirror b -> 26 - b, index = a < 14 ? 14 b + a : 196 + 14 b + (a - 14) (half 0: rows
 *      0..13, half 1: rows 0..12), TN_LUT6W_ENTRIES per table. 2.67 bits per weight.
 * tbp  TN_QK_TBP = 32 codes per pair of 32-bit words (bit-planes, 2 bits per weight): a nonzero
 *      mask (bit j: code 32 i + j is not 0), then a sign mask (bit j: that code is -1; only where
 *      the nonzero bit is set). Rows padded with 0 codes to whole pairs. The compiler emits the
 *      words as a uint32_t array, so they are aligned and in the target's byte order. Kernels that
 *      visit only the set bits of the nonzero mask cost in proportion to the nonzero codes: the
 *      format for sparse ternary layers (sparse deltas, pruned weights).
 * b1   TN_QK_B1 = 8 codes per byte, first code in the low bit: 1 -> +1, 0 -> -1 (binary).
 *
 * The LUT tables (t5, t5w, t6w, b1 with a _lut kernel) hold, for one group of activations, the sum
 * for every combination of codes as a biased halfword 0x8000 + sum (|sum| <= 8 * 128), so that two
 * entries can be built with one 32-bit add. Ternary tables are two halves of R rows (R = 9 for t5;
 * t5w: 5 and 4, t6w: 14 and 13) of 14 entries (7 words): row b of half h holds a = 14 h .. 14 h + 13;
 * a = 27 is unused padding. A subtracted t5w/t6w lookup adds 0x10000 - (0x8000 + s) = 0x8000 - s.
 * Binary tables are 16 rows of 16 entries, index = the code byte.
 */
#define TN_QK_T2 4
#define TN_QK_T2B 128
#define TN_QK_T5 5
#define TN_QK_T5W 5
#define TN_QK_T6W 6
#define TN_QK_B1 8
#define TN_QK_TBP 32
#define TN_LUT5_ENTRIES 252 /* 28 * 9 */
#define TN_LUT5W_ENTRIES 126 /* 14 * (5 + 4) */
#define TN_LUT6W_ENTRIES 378 /* 14 * (14 + 13) */
#define TN_TW_MAX_WINDOW 96  /* t5w, t6w: the most units per window (the unrolled Thumb-2 and RV32 lookups) */
#define TN_LUT8_ENTRIES 256
#define TN_LUT_BIAS 0x8000u

#define TN_FMT_T2 0
#define TN_FMT_T2B 1
#define TN_FMT_T5 2
#define TN_FMT_T5W 3
#define TN_FMT_T6W 4
#define TN_FMT_B1 5
#define TN_FMT_TBP 6

/* ---- low-bit linear kernels --------------------------------------------------------------- */
/*
 * Every kernel below has the signature of tn_ternary_linear and computes exactly the same floats
 * (docs/numerics.md); they differ in the code format they read and in how they sum. `flush` is the
 * compiler's bound (0: int32 sums; > 0: groups are summed in int32 chunks of at most `flush` codes).
 *
 *   ref/      tn_ternary_linear_<fmt>            plain decode, one code at a time (the reference)
 *   opt/generic/ tn_..._<fmt>_lut                 LUT over groups of activations, portable C
 *   opt/generic/ tn_ternary_linear_tbp_sparse    bit-planes, visiting the nonzero codes only
 *   opt/x86/     tn_ternary_linear_t2b_avx2       AVX2 (runtime check; portable fallback)
 *   opt/arm/     tn_ternary_linear_t2b_neon       NEON, with SDOT when built with dotprod
 *   opt/riscv/   tn_ternary_linear_t2b_rvv        RISC-V vectors (RVV 1.0), when built with TN_RVV
 *   opt/armv7m/  tn_..._lut_armv7m                Cortex-M3/M4/M7/M33 (Thumb-2) LUT inner loops
 *   opt/rv32/    tn_..._lut_rv32                  32-bit RISC-V LUT inner loops
 */

/* Reference decoders (ref/tn_lowbit_codes.c). */
void tn_ternary_linear_t2b(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                          const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5w(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t6w(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_tbp(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* Bit-planes, the nonzero codes only (opt/generic/tn_bitplane.c). */
void tn_ternary_linear_tbp_sparse(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                  const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* LUT, portable C (opt/generic/tn_lut.c). */
void tn_ternary_linear_t5_lut(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                              const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5w_lut(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t6w_lut(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_b1_lut(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                             const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* LUT, Thumb-2 (opt/armv7m/tn_lut_armv7m.c). */
void tn_ternary_linear_t5_lut_armv7m(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                     const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5w_lut_armv7m(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t6w_lut_armv7m(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_b1_lut_armv7m(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* LUT, RV32 (opt/rv32/tn_lut_rv32.c). */
void tn_ternary_linear_t5_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                   const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5w_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t6w_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_b1_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                  const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* t2b with SIMD (opt/x86/tn_t2b_avx2.c, opt/arm/tn_t2b_neon.c, opt/riscv/tn_t2b_rvv.c). */
void tn_ternary_linear_t2b_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t2b_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t2b_rvv(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* Binary codes are ternary codes without 0: the t2b kernels take binary layers too, under these names. */
void tn_binary_linear_t2b(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                          const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_t2b_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_t2b_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_t2b_rvv(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                              const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

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

/* ---- activation (de)quantisation (ref/tn_quantize.c) -------------------------------------- */

/* Symmetric absmax int8 per row: rows x cols floats -> int8 codes and one scale per row
 * (scale = max(absmax, 1e-5) / 127). Per tensor is rows = 1, cols = all elements. */
void tn_quantize_i8(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols);
/* The same codes and scales, faster: AVX2 (opt/x86/tn_quantize_avx2.c, chosen at run time by CPUID)
 * and AArch64 NEON (opt/arm/tn_quantize_neon.c); elsewhere each is the reference. */
void tn_quantize_i8_avx2(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols);
void tn_quantize_i8_neon(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols);
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

/* QONNX Trunc on activations (float32 -> float32, docs/numerics.md "TruncStatic"):
 * t = rint(x / scale + zeropt); t = t / trunc_scale; clamp to [qmin, qmax]; round with the mode;
 * y = (t - zeropt / trunc_scale) * out_scale, each float operation rounded once. */
void tn_trunc_static(const float *x, float *y, int32_t n, float scale, float zeropt, float trunc_scale,
                     float out_scale, int32_t qmin, int32_t qmax, int32_t mode);


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

/* ---- ONNX elementwise ops (ref/tn_arith.c, ref/tn_unary.c) --------------------------------- */

/* dtype codes for kernels that take any type (Cast) */
#define TN_DT_F32 0
#define TN_DT_I8 1
#define TN_DT_U8 2
#define TN_DT_I32 3
#define TN_DT_I64 4
#define TN_DT_BOOL 5

/* Broadcasting binary kernels: y = a op b over y's shape (rank <= 8); a_strides/b_strides are element
 * strides of the inputs over that shape, 0 along broadcast axes. Integers wrap around; integer
 * division truncates toward zero, x / 0 = 0 and INT_MIN / -1 = INT_MIN. */
#define TN_DECLARE_BINARY(NAME, TA, TB, TY)                                                        \
  void NAME(const TA *a, const TB *b, TY *y, int32_t rank, const int32_t *shape,                   \
            const int32_t *a_strides, const int32_t *b_strides);
TN_DECLARE_BINARY(tn_sub_f32, float, float, float)
TN_DECLARE_BINARY(tn_mul_f32, float, float, float)
TN_DECLARE_BINARY(tn_div_f32, float, float, float)
TN_DECLARE_BINARY(tn_add_i8, int8_t, int8_t, int8_t)
TN_DECLARE_BINARY(tn_sub_i8, int8_t, int8_t, int8_t)
TN_DECLARE_BINARY(tn_mul_i8, int8_t, int8_t, int8_t)
TN_DECLARE_BINARY(tn_div_i8, int8_t, int8_t, int8_t)
TN_DECLARE_BINARY(tn_add_u8, uint8_t, uint8_t, uint8_t)
TN_DECLARE_BINARY(tn_sub_u8, uint8_t, uint8_t, uint8_t)
TN_DECLARE_BINARY(tn_mul_u8, uint8_t, uint8_t, uint8_t)
TN_DECLARE_BINARY(tn_div_u8, uint8_t, uint8_t, uint8_t)
TN_DECLARE_BINARY(tn_add_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_sub_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_mul_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_div_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_add_i64, int64_t, int64_t, int64_t)
TN_DECLARE_BINARY(tn_sub_i64, int64_t, int64_t, int64_t)
TN_DECLARE_BINARY(tn_mul_i64, int64_t, int64_t, int64_t)
TN_DECLARE_BINARY(tn_div_i64, int64_t, int64_t, int64_t)
/* Pow: float base with a float or integer exponent (converted to float); integer base with an
 * integer exponent (exact, wrapping; a negative exponent gives 1, +-1 or 0) or a float exponent
 * (the integer power if it is integral, else tn_powf converted back as Cast does). */
TN_DECLARE_BINARY(tn_pow_f32_f32, float, float, float)
TN_DECLARE_BINARY(tn_pow_f32_i8, float, int8_t, float)
TN_DECLARE_BINARY(tn_pow_f32_u8, float, uint8_t, float)
TN_DECLARE_BINARY(tn_pow_f32_i32, float, int32_t, float)
TN_DECLARE_BINARY(tn_pow_f32_i64, float, int64_t, float)
TN_DECLARE_BINARY(tn_pow_i32_f32, int32_t, float, int32_t)
TN_DECLARE_BINARY(tn_pow_i32_i8, int32_t, int8_t, int32_t)
TN_DECLARE_BINARY(tn_pow_i32_u8, int32_t, uint8_t, int32_t)
TN_DECLARE_BINARY(tn_pow_i32_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_pow_i32_i64, int32_t, int64_t, int32_t)
TN_DECLARE_BINARY(tn_pow_i64_f32, int64_t, float, int64_t)
TN_DECLARE_BINARY(tn_pow_i64_i8, int64_t, int8_t, int64_t)
TN_DECLARE_BINARY(tn_pow_i64_u8, int64_t, uint8_t, int64_t)
TN_DECLARE_BINARY(tn_pow_i64_i32, int64_t, int32_t, int64_t)
TN_DECLARE_BINARY(tn_pow_i64_i64, int64_t, int64_t, int64_t)

/* Max, Min: float32 as IEEE 754-2019 maximum/minimum (NaN propagates, -0 < +0); integers plain. */
#define TN_DECLARE_MINMAX(SUF, T) TN_DECLARE_BINARY(tn_max_##SUF, T, T, T) TN_DECLARE_BINARY(tn_min_##SUF, T, T, T)
TN_DECLARE_MINMAX(f32, float)
TN_DECLARE_MINMAX(i8, int8_t)
TN_DECLARE_MINMAX(u8, uint8_t)
TN_DECLARE_MINMAX(i32, int32_t)
TN_DECLARE_MINMAX(i64, int64_t)
/* Comparisons: y = a op b as a 0/1 byte (IEEE: false if either is NaN); bool inputs use the u8 kernels. */
#define TN_DECLARE_COMPARE(SUF, T)                                                                 \
  TN_DECLARE_BINARY(tn_less_##SUF, T, T, uint8_t) TN_DECLARE_BINARY(tn_greater_##SUF, T, T, uint8_t) \
  TN_DECLARE_BINARY(tn_equal_##SUF, T, T, uint8_t) TN_DECLARE_BINARY(tn_less_or_equal_##SUF, T, T, uint8_t) \
  TN_DECLARE_BINARY(tn_greater_or_equal_##SUF, T, T, uint8_t)
TN_DECLARE_COMPARE(f32, float)
TN_DECLARE_COMPARE(i8, int8_t)
TN_DECLARE_COMPARE(u8, uint8_t)
TN_DECLARE_COMPARE(i32, int32_t)
TN_DECLARE_COMPARE(i64, int64_t)

void tn_relu_i32(const int32_t *x, int32_t *y, int32_t n);
void tn_relu_i64(const int64_t *x, int64_t *y, int32_t n);

/* y = x; if (y < *lo) y = *lo; if (y > *hi) y = *hi (NaN passes; lo/hi NULL: no bound). */
void tn_clip_f32(const float *x, const float *lo, const float *hi, float *y, int32_t n);
void tn_clip_i8(const int8_t *x, const int8_t *lo, const int8_t *hi, int8_t *y, int32_t n);
void tn_clip_u8(const uint8_t *x, const uint8_t *lo, const uint8_t *hi, uint8_t *y, int32_t n);
void tn_clip_i32(const int32_t *x, const int32_t *lo, const int32_t *hi, int32_t *y, int32_t n);
void tn_clip_i64(const int64_t *x, const int64_t *lo, const int64_t *hi, int64_t *y, int32_t n);

/* out = cond ? x : y elementwise, elements of elem_bytes bytes, three-way broadcasting. */
void tn_where(const uint8_t *cond, const void *x, const void *y, void *out, int32_t elem_bytes, int32_t rank,
              const int32_t *shape, const int32_t *c_strides, const int32_t *x_strides, const int32_t *y_strides);

/* Cast n elements between TN_DT_* types: float -> int truncates and saturates (NaN -> 0),
 * int -> int wraps, int -> float rounds to nearest even, anything -> bool is (v != 0). */
void tn_cast(const void *x, int32_t from, void *y, int32_t to, int32_t n);
int32_t tn_f32_to_i32(float v);
int64_t tn_f32_to_i64(float v);

/* Unary float32 kernels: y[i] = f(x[i]) with the tn_math.c function of the same name. */
void tn_sqrt_f32(const float *x, float *y, int32_t n);
void tn_log_f32(const float *x, float *y, int32_t n);
void tn_exp_f32(const float *x, float *y, int32_t n);
void tn_erf_f32(const float *x, float *y, int32_t n);
void tn_sigmoid_f32(const float *x, float *y, int32_t n);
void tn_tanh_f32(const float *x, float *y, int32_t n);
void tn_gelu_erf_f32(const float *x, float *y, int32_t n);
void tn_gelu_tanh_f32(const float *x, float *y, int32_t n);

/* ---- activations and rounding (ref/tn_activation.c): y[i] = f(x[i]) ---------------------------- */
void tn_floor_f32(const float *x, float *y, int32_t n);
void tn_ceil_f32(const float *x, float *y, int32_t n);
void tn_round_f32(const float *x, float *y, int32_t n);      /* half to even */
void tn_softplus_f32(const float *x, float *y, int32_t n);
void tn_softsign_f32(const float *x, float *y, int32_t n);
void tn_mish_f32(const float *x, float *y, int32_t n);
void tn_hard_swish_f32(const float *x, float *y, int32_t n);
void tn_elu_f32(const float *x, float *y, int32_t n, float alpha);
void tn_leaky_relu_f32(const float *x, float *y, int32_t n, float alpha);
void tn_selu_f32(const float *x, float *y, int32_t n, float alpha, float gamma);
void tn_hard_sigmoid_f32(const float *x, float *y, int32_t n, float alpha, float beta);
void tn_abs_f32(const float *x, float *y, int32_t n);       /* -0 -> +0 */
void tn_abs_i8(const int8_t *x, int8_t *y, int32_t n);      /* integers wrap: |INT_MIN| = INT_MIN */
void tn_abs_u8(const uint8_t *x, uint8_t *y, int32_t n);
void tn_abs_i32(const int32_t *x, int32_t *y, int32_t n);
void tn_abs_i64(const int64_t *x, int64_t *y, int32_t n);
/* PRelu: y = x < 0 ? slope * x : x, slope read at slope_strides over x's shape (rank <= 8). */
void tn_prelu_f32(const float *x, const float *slope, float *y, int32_t rank, const int32_t *shape,
                  const int32_t *slope_strides);

/* ---- shape ops (ref/tn_shape.c): bytes moved elem_bytes at a time, any dtype ------------------ */

/* y[i] = x[offset + sum_d idx_d * strides[d]] for every index idx of `shape` in row-major order
 * (Transpose: permuted strides; Slice and Split: strides times steps, offset at the starts). */
void tn_strided_copy(const void *x, void *y, int32_t elem_bytes, int32_t rank, const int32_t *shape,
                     const int32_t *strides, int32_t offset);
/* Pad and Tile: for each output index, per axis d the kept input range sizes[d] from starts[d] sits at
 * before[d]; outside it mode 0 (constant) writes *value (zeros if NULL), 1 reflects, 2 repeats the
 * edge, 3 wraps around. strides are the input's element strides. */
void tn_pad(const void *x, void *y, const void *value, int32_t elem_bytes, int32_t mode, int32_t rank,
            const int32_t *out_shape, const int32_t *sizes, const int32_t *starts, const int32_t *before,
            const int32_t *strides);
/* Concat: for o < outer, copy x's chunk elements of row o to y at o * y_row + y_offset. */
void tn_concat_part(const void *x, void *y, int32_t elem_bytes, int32_t outer, int32_t chunk, int32_t y_row,
                    int32_t y_offset);
/* Gather along the middle axis of outer x dim x inner: y[o, j, :] = data[o, indices[j], :];
 * negative indices count from the end; an index out of range gives zeros. */
void tn_gather(const void *data, const void *indices, int32_t indices_are_i64, void *y, int32_t elem_bytes,
               int32_t outer, int32_t dim, int32_t inner, int32_t n_indices);

/* ---- MatMul and Gemm (ref/tn_matmul.c): dot products summed in index order from 0 ------------- */

/* y[batch, M, N] = a[batch, M, K] @ b[batch, K, N]; batch_shape is y's batch shape (rank <= 8) and
 * a_batch_strides/b_batch_strides count whole matrices (0 along broadcast axes). */
void tn_matmul_f32(const float *a, const float *b, float *y, int32_t batch_rank, const int32_t *batch_shape,
                   const int32_t *a_batch_strides, const int32_t *b_batch_strides, int32_t m_count, int32_t k_count,
                   int32_t n_count);
/* y = alpha * (A' B') + beta * C; C (may be NULL) is read at m * c_rs + n * c_cs (0 strides broadcast). */
void tn_gemm_f32(const float *a, const float *b, const float *c, float *y, int32_t m_count, int32_t n_count,
                 int32_t k_count, int32_t trans_a, int32_t trans_b, float alpha, float beta, int32_t c_rs, int32_t c_cs);

/* ---- reductions and normalisations (ref/tn_norm.c) ------------------------------------------ */

/* For each index of keep_shape (row-major): y = (sum over red_shape of x, in row-major order) / red_count. */
void tn_reduce_mean_f32(const float *x, float *y, int32_t keep_rank, const int32_t *keep_shape, const int32_t *keep_strides,
                        int32_t red_rank, const int32_t *red_shape, const int32_t *red_strides, int32_t red_count);
/* The same loops for ReduceSum (sum in order from 0; integers wrap), ReduceMax and ReduceMin (from the
 * first element; float32: NaN propagates, -0 < +0); red_count is unused. */
#define TN_DECLARE_REDUCE(NAME, T)                                                                                    \
  void NAME(const T *x, T *y, int32_t keep_rank, const int32_t *keep_shape, const int32_t *keep_strides, int32_t red_rank, \
            const int32_t *red_shape, const int32_t *red_strides, int32_t red_count);
#define TN_DECLARE_REDUCE3(SUF, T) \
  TN_DECLARE_REDUCE(tn_reduce_sum_##SUF, T) TN_DECLARE_REDUCE(tn_reduce_max_##SUF, T) TN_DECLARE_REDUCE(tn_reduce_min_##SUF, T) \
  TN_DECLARE_REDUCE(tn_reduce_prod_##SUF, T)
TN_DECLARE_REDUCE3(f32, float)
TN_DECLARE_REDUCE3(i8, int8_t)
TN_DECLARE_REDUCE3(u8, uint8_t)
TN_DECLARE_REDUCE3(i32, int32_t)
TN_DECLARE_REDUCE3(i64, int64_t)
/* LayerNormalization of rows x cols (cols = the normalised axes). scale/bias are read through strides
 * over norm_shape (0 along broadcast axes); bias, mean_out and inv_out may be NULL. */
void tn_layer_norm_f32(const float *x, const float *scale, const float *bias, float *y, float *mean_out, float *inv_out,
                       int32_t rows, int32_t cols, int32_t norm_rank, const int32_t *norm_shape, const int32_t *scale_strides,
                       const int32_t *bias_strides, float epsilon);
/* BatchNormalization, inference: y = ((x - mean[c]) / sqrt(var[c] + eps)) * scale[c] + bias[c]. */
void tn_batch_norm_f32(const float *x, const float *scale, const float *bias, const float *mean, const float *var, float *y,
                       int32_t batches, int32_t channels, int32_t inner, float epsilon);
/* LogSoftmax along the middle axis of outer x dim x inner: y = (x - max) - log(sum exp(x - max)). */
void tn_log_softmax_f32(const float *x, float *y, int32_t outer, int32_t dim, int32_t inner);

/* LRN across the channels of N x C x inner: y = x / (bias + alpha / size * sum of squares)^beta. */
void tn_lrn_f32(const float *x, float *y, int32_t n, int32_t c, int32_t inner, int32_t size, float alpha, float beta,
                float bias);

/* ArgMax/ArgMin with ONNX's options, any input dtype (TN_DT_*): the first extreme, or the last one with
 * select_last; NaN never wins; y is int32 or int64. */
void tn_argmax_any(const void *x, int32_t dtype, void *y, int32_t y_is_i64, int32_t select_last, int32_t outer,
                   int32_t dim, int32_t inner);
void tn_argmin_any(const void *x, int32_t dtype, void *y, int32_t y_is_i64, int32_t select_last, int32_t outer,
                   int32_t dim, int32_t inner);

/* ---- Interpolate: ONNX Resize and Upsample (ref/tn_resize.c) ----------------------------------- */

/* Axis d's output coordinate c has the taps offsets[bases[d] + c] ... offsets[bases[d] + c + 1] - 1
 * (input index taps[t], weight weights[t]); y is the nested weighted sum over the axes, outermost
 * first, each sum from 0 in tap order; no tap on some axis gives `extrapolation`. */
void tn_interpolate_f32(const float *x, float *y, int32_t rank, const int32_t *out_shape, const int32_t *bases,
                        const int32_t *strides, const int32_t *offsets, const int32_t *taps, const float *weights,
                        float extrapolation);
/* The same for nearest on any dtype (one tap of weight 1 per coordinate): elements are copied. */
void tn_interpolate_nearest(const void *x, void *y, int32_t elem_bytes, int32_t rank, const int32_t *out_shape,
                            const int32_t *bases, const int32_t *strides, const int32_t *offsets, const int32_t *taps);

/* ---- LSTM and GRU (ref/tn_rnn.c) ------------------------------------------------------------------ */

/* dims: seq, batch, input, hidden, directions, reverse, layout; acts: activation codes per direction
 * (0 Sigmoid, 1 Tanh, 2 Relu, 3 HardSigmoid, 4 LeakyRelu, 5 Elu, 6 Softsign, 7 Softplus, 8 Affine,
 * 9 ScaledTanh, 10 ThresholdedRelu) with their (alpha, beta) in act_params; clip 0: none. Optional
 * inputs and outputs may be NULL; scratch holds (2 + gates) * hidden floats. */
void tn_lstm_f32(const float *x, const float *w, const float *r, const float *bias, const int32_t *seq_lens, const float *h0,
                 const float *c0, const float *p, const float *act_params, float *y, float *y_h, float *y_c,
                 const int32_t *dims, const int32_t *acts, int32_t input_forget, float clip, float *scratch);
void tn_gru_f32(const float *x, const float *w, const float *r, const float *bias, const int32_t *seq_lens, const float *h0,
                const float *act_params, float *y, float *y_h, const int32_t *dims, const int32_t *acts,
                int32_t linear_before_reset, float clip, float *scratch);

/* ---- CumSum, TopK, ScatterND (ref/tn_index.c) ------------------------------------------------- */

/* CumSum along the middle axis of outer x dim x inner: running sum from 0 in order (from the end with
 * reverse; without the element itself with exclusive); integers wrap. */
#define TN_DECLARE_CUMSUM(SUF, T) \
  void tn_cumsum_##SUF(const T *x, T *y, int32_t outer, int32_t dim, int32_t inner, int32_t exclusive, int32_t reverse);
/* TopK along the middle axis: the k largest (smallest) values best first, ties lower index first;
 * indices (int64) may be NULL. */
#define TN_DECLARE_TOPK(SUF, T)                                                                     \
  void tn_topk_##SUF(const T *x, T *values, int64_t *indices, int32_t outer, int32_t dim, int32_t inner, int32_t k, \
                     int32_t largest);
/* ScatterND: y = data, then for each of `tuples` index tuples of q coordinates (int64 or int32; negative
 * from the end; out of range skipped) the slice of `slice` elements is replaced by (reduction 0) or
 * combined with (1 add, 2 mul, 3 max, 4 min) the updates, in tuple order. */
#define TN_DECLARE_SCATTER_ND(SUF, T)                                                               \
  void tn_scatter_nd_##SUF(const T *data, const void *indices, int32_t indices_i64, const T *updates, T *y, int32_t n, \
                           int32_t tuples, int32_t q, const int32_t *dims, int32_t slice, int32_t reduction);
#define TN_DECLARE_INDEX_OPS(SUF, T) TN_DECLARE_CUMSUM(SUF, T) TN_DECLARE_TOPK(SUF, T) TN_DECLARE_SCATTER_ND(SUF, T)
TN_DECLARE_INDEX_OPS(f32, float)
TN_DECLARE_INDEX_OPS(i8, int8_t)
TN_DECLARE_INDEX_OPS(u8, uint8_t)
TN_DECLARE_INDEX_OPS(i32, int32_t)
TN_DECLARE_INDEX_OPS(i64, int64_t)

/* ---- convolution and pooling (ref/tn_conv.c) --------------------------------------------------- */

/* geo: 21 int32 (input, output, kernel, strides, dilations, pads begin, pads end; each depth, height,
 * width; 1-D and 2-D use 1 for the missing axes). See tn_conv.c. */
/* y[n, m] = sum over the group's channels and the window of x * w, then + bias[m] (bias may be NULL). */
void tn_conv_f32(const float *x, const float *w, const float *bias, float *y, int32_t batches, int32_t in_channels,
                 int32_t out_channels, int32_t group, const int32_t *geo);
/* The same for a depthwise Conv (group = C = M), one output plane at a time through `scratch` (one
 * output plane of floats), so that y may start where x does (in place) when the output plane is no
 * larger than the input plane. */
void tn_conv_f32_depthwise(const float *x, const float *w, const float *bias, float *y, int32_t batches, int32_t channels,
                           const int32_t *geo, float *scratch);
/* planes = batches * channels; the maximum of the window's in-bounds elements (NaN never wins). */
void tn_max_pool_f32(const float *x, float *y, int32_t planes, const int32_t *geo);
void tn_max_pool_i8(const int8_t *x, int8_t *y, int32_t planes, const int32_t *geo);
void tn_max_pool_u8(const uint8_t *x, uint8_t *y, int32_t planes, const int32_t *geo);
/* The same, with ONNX's Indices (ind may be NULL: the plain MaxPool above calls this): the int64 flat index (over planes x spatial) of the maximum (the first
 * of equal ones; the first in-bounds element if none beats the lowest value); storage_order 1 orders
 * the spatial axes column-major. */
void tn_max_pool_idx_f32(const float *x, float *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order);
void tn_max_pool_idx_i8(const int8_t *x, int8_t *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order);
void tn_max_pool_idx_u8(const uint8_t *x, uint8_t *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order);
/* The window's in-bounds sum divided by the in-bounds count (or, with count_include_pad, the count
 * within the padded extent). */
void tn_avg_pool_f32(const float *x, float *y, int32_t planes, const int32_t *geo, int32_t count_include_pad);

/* ConvTranspose (geo as tn_conv_f32's, with `out` the transposed output): a gather, y[n, m, o] = sum over
 * the group's input channels, then the window, of x[n, c, i] * w[c, m mod (M/group), k] for the input
 * coordinates i = (o + pad - k dil) / stride that are whole and inside; then + bias[m] (may be NULL). */
void tn_conv_transpose_f32(const float *x, const float *w, const float *bias, float *y, int32_t batches,
                           int32_t in_channels, int32_t out_channels, int32_t group, const int32_t *geo);

/* ---- ONNX linear quantisation (ref/tn_qlinear.c) ------------------------------------------------ */

/* Scales and zero points per channel c of an outer x dim x inner view (dim = 1: per tensor).
 * Quantised dtypes: TN_DT_I8 or TN_DT_U8 (DequantizeLinear also TN_DT_I32). zp may be NULL (0). */
void tn_quantize_linear(const float *x, const float *scale, const void *zp, void *y, int32_t y_dtype, int32_t outer,
                        int32_t dim, int32_t inner);
void tn_dequantize_linear(const void *x, int32_t x_dtype, const float *scale, const void *zp, float *y, int32_t outer,
                          int32_t dim, int32_t inner);
/* Blocked quantisation: the same, with one scale (and zero point) per block of `block` elements along
 * the axis; parameters are an outer x ceil(dim / block) x inner array. */
void tn_quantize_blocked(const float *x, const float *scale, const void *zp, void *y, int32_t y_dtype, int32_t outer,
                         int32_t dim, int32_t inner, int32_t block);
void tn_dequantize_blocked(const void *x, int32_t x_dtype, const float *scale, const void *zp, float *y, int32_t outer,
                           int32_t dim, int32_t inner, int32_t block);
/* y (int32) = sum_k (a - a_zp) * (b - b_zp), batch broadcasting as tn_matmul_f32; zero points: 1, M
 * (per row of a) or N (per column of b) values, or NULL. */
void tn_matmul_integer(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, const void *a_zp, int32_t a_zp_count,
                       const void *b_zp, int32_t b_zp_count, int32_t *y, int32_t batch_rank, const int32_t *batch_shape,
                       const int32_t *a_batch_strides, const int32_t *b_batch_strides, int32_t m_count, int32_t k_count,
                       int32_t n_count);
/* The integer product requantised: saturate(rint(acc * ((a_scale * b_scale) / y_scale)) + y_zp). */
void tn_qlinear_matmul(const void *a, const float *a_scale, int32_t a_scale_count, const void *a_zp, int32_t a_dtype,
                       const void *b, const float *b_scale, int32_t b_scale_count, const void *b_zp, int32_t b_dtype,
                       const float *y_scale, const void *y_zp, void *y, int32_t y_dtype, int32_t batch_rank,
                       const int32_t *batch_shape, const int32_t *a_batch_strides, const int32_t *b_batch_strides,
                       int32_t m_count, int32_t k_count, int32_t n_count);
/* ConvInteger (y_scale NULL: int32 sums) and QLinearConv (requantised, with an int32 bias); geo as tn_conv_f32. */
void tn_qconv(const void *x, int32_t x_dtype, const void *x_zp, const float *x_scale, const void *w, int32_t w_dtype,
              const void *w_zp, int32_t w_zp_count, const float *w_scale, int32_t w_scale_count, const int32_t *bias,
              const float *y_scale,
              const void *y_zp, void *y, int32_t y_dtype, int32_t batches, int32_t in_channels, int32_t out_channels,
              int32_t group, const int32_t *geo);

/* ---- reductions (ref/tn_softmax.c, ref/tn_argmax.c) -------------------------------------- */

/* Softmax along the middle axis of an outer x dim x inner view. */
void tn_softmax_f32(const float *x, float *y, int32_t outer, int32_t dim, int32_t inner);
/* Index of the first maximum along the middle axis, NaN never wins. */
void tn_argmax_f32(const float *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);
void tn_argmax_i8(const int8_t *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);
void tn_argmax_i32(const int32_t *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);


#endif /* TN_RUNTIME_H */

/*
 * tn_lut.h - internal to runtime-c (README.md): what the LUT kernels of every ISA share
 * (opt/generic/tn_lut.c, opt/armv7m/tn_lut_armv7m.c, opt/rv32/tn_lut_rv32.c). The driver
 * tn_lut_linear runs the loops (tokens, planes, scale groups, windows), the exact sums and the float
 * epilogue; an ISA gives it, per format, a table build and a lookup routine (tn_lut_ops). Here: the
 * ops, the portable builds and lookups an ISA may reuse, the start of a table (the activations of a
 * group zero-padded, row 0 and the deltas between rows) and the kernels' entry points
 * (TN_LUT_KERNEL). The table layout is in tn_runtime.h ("packed weight formats").
 */
#ifndef TN_LUT_H
#define TN_LUT_H

#include "tn_lowbit.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "the LUT kernels build their tables as little-endian halfword pairs"
#endif

/* ---- the driver (opt/generic/tn_lut.c) --------------------------------------------------------- */

typedef struct tn_lut_ops {
  int32_t g;       /* activations (codes) per table: 5, 6 or 8 */
  int32_t entries; /* halfwords per table */
  int32_t wide;    /* 1: 16-bit pre-scaled byte offsets (t5w, t6w); 0: byte indices (t5, b1) */
  int32_t padded;  /* 1: codes packed per scale group (t5, t5w, t6w); 0: one bit stream per row (b1) */
  /* The table of x[0 .. len-1] (len may exceed g; missing activations count as 0). */
  void (*build)(const int8_t *x, int32_t len, uint32_t *table);
  /* acc[r] += the sum (mod 2^32) of row r's `count` lookups in a window of tables, r < nrows; row r's
   * codes start at rows0 + r * row_bytes. wide: the window's header (lookups that add), then the
   * offsets, table + offset; else table[j * entries + index]. Every lookup adds 0x8000 + its sum.
   * first != 0: acc[r] = the sum, acc is not read (the first window of a scale group: no zeroing
   * pass, no load per row). */
  void (*rows)(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
               int32_t entries, uint32_t *acc, int32_t first);
} tn_lut_ops;

/* The ops of each format, with an ISA's build and rows routines. */
#define TN_LUT_T5(build, rows) {5, TN_LUT5_ENTRIES, 0, 1, build, rows}
#define TN_LUT_T5W(build, rows) {5, TN_LUT5W_ENTRIES, 1, 1, build, rows}
#define TN_LUT_T6W(build, rows) {6, TN_LUT6W_ENTRIES, 1, 1, build, rows}
#define TN_LUT_B1(build, rows) {8, TN_LUT8_ENTRIES, 0, 0, build, rows}

/* Scratch of the LUT kernels: window tables of `entries` halfwords, then n uint32 accumulators,
 * then (when flush > 0 and a scale group spans windows) n int64 accumulators. The compiler chose
 * w->window so that window * g <= flush when flush > 0 (docs/kernels.md), so every window's sum is
 * exact in int32 and longer groups are summed in int64. */
void tn_lut_linear(const tn_lut_ops *ops, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                   const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* A LUT kernel (the signature of tn_ternary_linear, tn_runtime.h): the driver with one format's ops,
 * e.g. TN_LUT_KERNEL(tn_ternary_linear_t5_lut_rv32, TN_LUT_T5(tn_lut5_build_rv32, tn_lut_rows8)).
 * No semicolon after it (a function definition). */
#define TN_LUT_KERNEL(NAME, OPS)                                                                                \
  void NAME(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows, const tn_lowbit_weights *w, \
            const float *bias, int32_t flush, float *y) {                                                       \
    static const tn_lut_ops ops = OPS;                                                                          \
    tn_lut_linear(&ops, x, x_scale, x_per_row, rows, w, bias, flush, y);                                        \
  }

/* ---- the portable builds and lookups (opt/generic/tn_lut.c) ------------------------------------ */

void tn_lut5_build(const int8_t *x, int32_t len, uint32_t *table);
void tn_lut5w_build(const int8_t *x, int32_t len, uint32_t *table);
void tn_lut6w_build(const int8_t *x, int32_t len, uint32_t *table);
void tn_lut8_build(const int8_t *x, int32_t len, uint32_t *table);
void tn_lut_rows16(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                   int32_t entries, uint32_t *acc, int32_t first);
void tn_lut_rows8(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                  int32_t entries, uint32_t *acc, int32_t first);

/* ---- the start of a table ------------------------------------------------------------------------ */

/* (lo, hi) biased halfwords as one word. */
#define TN_PAIR(lo, hi) ((uint32_t)(TN_LUT_BIAS + (uint32_t)(lo)) | ((uint32_t)(TN_LUT_BIAS + (uint32_t)(hi)) << 16))
/* v in both halves of a word, for a two-entry add (mod 2^32). */
#define TN_TWICE(v) ((uint32_t)(int32_t)(v) * 0x10001u)

/* The activations of one group, widened: x[0 .. g-1], those at len and after (a short last group)
 * 0, and v[g .. 7] 0. */
static TN_INLINE void tn_lut_activations(const int8_t *x, int32_t len, int32_t g, int32_t v[8]) {
  int32_t i;
  if (len >= g) /* the common case: g loads */
    for (i = 0; i < 8; ++i) v[i] = i < g ? x[i] : 0;
  else
    for (i = 0; i < 8; ++i) v[i] = i < len ? x[i] : 0;
}

/* A build for a short last group (fewer than g activations; assembly builds): zero-padded, then the
 * whole-group build FULL. `used`: the assembly entry points jump to NAME by name. The pads call the
 * whole-group builds, not the checked entry points, so the call graph has no cycle (the stack
 * estimate stays bounded). No semicolon after it (a function definition). */
#define TN_LUT_PAD(NAME, FULL, G)                                                     \
  __attribute__((used)) static void NAME(const int8_t *x, int32_t len, uint32_t *t) { \
    int8_t v[8];                                                                      \
    int32_t i;                                                                        \
    for (i = 0; i < 8; ++i) v[i] = i < len && i < (G) ? x[i] : 0;                     \
    FULL(v, G, t);                                                                    \
  }

/* The 28 biased sums of 3 activations (a = u0 + 3 u1 + 9 u2, pad), plus `base`, as 14 halfword
 * pairs: row 0 of both halves of a ternary table, with base the sum of its other codes (all -1). */
void tn_lut_a27(int32_t x0, int32_t x1, int32_t x2, int32_t base, uint32_t *a);

/* A ternary table of g = 5 or 6 activations v: row 0 of both halves (a, 14 words) and the deltas
 * between rows (row b + 1 = row b + d in both halfwords of every word), with b's digits u3, u4 (, u5):
 *   d[0] = d0  u3 + 1                      X3
 *   d[1] = c1  u3 wraps 2 -> 0, u4 + 1     X4 - 2 X3
 *   d[2] = c2  u3, u4 wrap, u5 + 1 (g = 6) X5 - 2 X4 - 2 X3
 * with Xi = xi * 0x10001. The assembly builds of t5w/t6w compute the same row 0 in registers, from
 * P = l0 * 0x10001, l0 = 0x8000 - x3 - x4 (- x5) - x0 - x1:
 *   e0 = P + (x0 << 16)   e2 = P + 2 x0 + (x1 << 16)   e4 = e0 + X0 + X1   e6 = e0 + 2 X1
 *   half 0: e0 - X2, e2 - X2, e4 - X2, e6 - X2, P + 2 x0 + 2 x1 - x2, e0 + X0, e0 + X1
 *   half 1: e2 + X1, e4 + X1, e0 + X2, e2 + X2, e4 + X2, e6 + X2, P + 2 x0 + 2 x1 + x2 + ((x0 + x1) << 16) */
static TN_INLINE void tn_lut_ternary_start(const int32_t v[8], int32_t g, uint32_t a[14], uint32_t d[3]) {
  tn_lut_a27(v[0], v[1], v[2], -v[3] - v[4] - v[5], a); /* v[5] = 0 for g = 5 */
  d[0] = TN_TWICE(v[3]);
  d[1] = TN_TWICE(v[4] - 2 * v[3]);
  d[2] = g > 5 ? TN_TWICE(v[5] - 2 * v[4] - 2 * v[3]) : 0u;
}

/* A binary table of the 8 activations v: row 0 without its high nibble's part (a, 8 words: entry
 * m < 16 = sum_{i<4} (bit i of m ? x_i : -x_i)), then d[4] = that part of row 0 (all of x4..x7 -1),
 * added to every word, and the deltas to the next row as the high nibble b counts up (the bits that
 * carry go from 1 to 0, minus 2 x, the next bit from 0 to 1, plus 2 x): d[0] when bit 0 of b is
 * 0, d[1] when bit 1 is the lowest 0, d[2] bit 2, d[3] bit 3. */
static TN_INLINE void tn_lut8_start(const int32_t v[8], uint32_t a[8], uint32_t d[5]) {
  int32_t lo[16], i;
  lo[0] = -v[0] - v[1] - v[2] - v[3]; /* then by doubling */
  lo[1] = lo[0] + 2 * v[0];
  lo[2] = lo[0] + 2 * v[1];
  lo[3] = lo[1] + 2 * v[1];
  for (i = 0; i < 4; ++i) lo[4 + i] = lo[i] + 2 * v[2];
  for (i = 0; i < 8; ++i) lo[8 + i] = lo[i] + 2 * v[3];
  for (i = 0; i < 8; ++i) a[i] = TN_PAIR(lo[2 * i], lo[2 * i + 1]);
  d[0] = TN_TWICE(2 * v[4]);
  d[1] = TN_TWICE(2 * v[5] - 2 * v[4]);
  d[2] = TN_TWICE(2 * v[6] - 2 * v[5] - 2 * v[4]);
  d[3] = TN_TWICE(2 * v[7] - 2 * v[6] - 2 * v[5] - 2 * v[4]);
  d[4] = TN_TWICE(-v[4] - v[5] - v[6] - v[7]);
}

#endif /* TN_LUT_H */

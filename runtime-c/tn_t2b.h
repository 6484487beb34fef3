/*
 * tn_t2b.h - internal to runtime-c (README.md): what the t2b kernels share around their ISA's inner
 * loops (opt/x86/tn_t2b_avx2.c, opt/arm/tn_t2b_neon.c, opt/riscv/tn_t2b_rvv.c):
 *
 *   the row-block driver      tn_lowbit_rows: tokens, rows, planes, scale groups, flush chunks and
 *                             the float epilogue around a kernel's dot (opt/generic/tn_lowbit_rows.c)
 *   the offset codes          u = w + 1 makes every dot sum u x, so each kernel subtracts sum x over
 *                             its range: prefix sums per 128-block (tn_t2b_prep, tn_t2b_xsum)
 *   the portable path         tn_t2b_dot_c and tn_t2b_linear_portable, for builds or CPUs without the
 *                             ISA (same results)
 *   a range of codes          [k0, k1) as pieces of whole blocks read in place and partial blocks
 *                             read from zero-padded copies of x (the codes outside the range then
 *                             multiply zeros): tn_t2b_pieces, tn_t2b_piece_x
 *   the one-token GEMV        per (plane, scale group): scales, sum x and the padded copies once for
 *                             all rows (tn_t2b_group_init); per output the contract's order of terms
 *                             (tn_t2b_group_term); then * sx, + bias (tn_t2b_gemv_finish)
 *
 * A t2b block of one row is 32 bytes holding 128 codes (TN_QK_T2B; tn_runtime.h has the layout):
 * block b of row 4 i + q of a plane is at tn_t2b_row(w, p, 0) + i * group_bytes + 128 b + 32 q.
 */
#ifndef TN_T2B_H
#define TN_T2B_H

#include "tn_lowbit.h"

/* ---- the row-block driver (opt/generic/tn_lowbit_rows.c) ------------------------------------ */

/* A row-block kernel: dot() computes the exact sums of codes [k0, k1) of `nrows` consecutive rows
 * (plane p, rows n0..) times `ntok` token rows of x (stride k), acc[t * nrows + r]; k1 - k0 is at
 * most the compiler's flush bound. prep() (may be NULL) runs once per block of tokens first. */
typedef struct tn_rows_kernel {
  int32_t rows;   /* rows per dot() call, at most 8 */
  int32_t tokens; /* tokens per dot() call, at most 4 */
  void (*prep)(const tn_lowbit_weights *w, const int8_t *x, int32_t ntok);
  void (*dot)(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok, int32_t k0,
              int32_t k1, int32_t *acc);
} tn_rows_kernel;
/* Tokens in blocks, rows in blocks, planes, scale groups, flush chunks (int64 when flush > 0) and
 * the float epilogue in the contract's order. */
void tn_lowbit_rows(const tn_rows_kernel *kern, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* ---- offset codes and the portable path ------------------------------------------------------ */

/* Prefix sums of x per 128-block in w->scratch (tn_t2b_prefix_len ints per token), the sum of x
 * over a range, and the portable dot. */
int32_t tn_t2b_prefix_len(const tn_lowbit_weights *w);
void tn_t2b_prep(const tn_lowbit_weights *w, const int8_t *x, int32_t ntok);
int32_t tn_t2b_xsum(const tn_lowbit_weights *w, const int8_t *x, int32_t t, int32_t k0, int32_t k1);
void tn_t2b_dot_c(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok, int32_t k0,
                  int32_t k1, int32_t *acc);
/* The driver with the portable dot: what a t2b kernel runs where its ISA is missing. */
void tn_t2b_linear_portable(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                            const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* Rows per pass of a dot: `group` consecutive rows (a SIMD kernel's rows sharing the activation
 * loads) for one token when row n starts such a run and `left` rows remain, else one row (for every
 * token: the codes are decoded once per block). */
static TN_INLINE int32_t tn_t2b_rows_per_pass(int32_t ntok, int32_t n, int32_t left, int32_t group) {
  return ntok == 1 && n % group == 0 && left >= group ? group : 1;
}

/* ---- a range of codes as pieces ---------------------------------------------------------------- */

typedef struct tn_t2b_piece {
  int32_t b0, b1;  /* blocks [b0, b1) */
  int32_t partial; /* 1: one block that the range covers only in part */
} tn_t2b_piece;

/* [k0, k1) (k0 < k1) as at most 3 pieces, in order: a partial first block, the whole blocks, a partial
 * last block (a block the range starts and ends in is one partial piece). Returns how many. */
static TN_INLINE int32_t tn_t2b_pieces(int32_t k0, int32_t k1, tn_t2b_piece *pc) {
  const int32_t bf = k0 / TN_QK_T2B, bl = (k1 - 1) / TN_QK_T2B; /* the first and the last block touched */
  const int32_t head = k0 % TN_QK_T2B != 0 || (bf == bl && k1 % TN_QK_T2B != 0);
  const int32_t tail = !(head && bf == bl) && k1 % TN_QK_T2B != 0;
  const int32_t w0 = head ? bf + 1 : bf, w1 = tail ? bl : bl + 1; /* the whole blocks [w0, w1) */
  int32_t n = 0;
  if (head) {
    pc[n].b0 = bf;
    pc[n].b1 = bf + 1;
    pc[n++].partial = 1;
  }
  if (w0 < w1) {
    pc[n].b0 = w0;
    pc[n].b1 = w1;
    pc[n++].partial = 0;
  }
  if (tail) {
    pc[n].b0 = bl;
    pc[n].b1 = bl + 1;
    pc[n++].partial = 1;
  }
  return n;
}

/* The activations of piece pc for nt tokens, token t at + t * *ldx: x itself at block b0 (tokens k
 * apart), or for a partial block xc (`rows` x 128 bytes, rows >= nt; *ldx = 128) holding x inside
 * [k0, k1) and zeros elsewhere. Rows nt.. are zeroed too, so that no compiler sees uninitialised
 * bytes. */
static TN_INLINE const int8_t *tn_t2b_piece_x(const tn_t2b_piece *pc, const int8_t *x, size_t k, int32_t nt, int32_t rows,
                                              int32_t k0, int32_t k1, int8_t *xc, size_t *ldx) {
  const int32_t base = pc->b0 * TN_QK_T2B;
  int32_t t, i;
  if (!pc->partial) {
    *ldx = k;
    return x + (size_t)base;
  }
  for (t = 0; t < rows; ++t)
    for (i = 0; i < TN_QK_T2B; ++i)
      xc[t * TN_QK_T2B + i] = (t < nt && base + i >= k0 && base + i < k1) ? x[(size_t)t * k + (size_t)(base + i)] : 0;
  *ldx = TN_QK_T2B;
  return xc;
}

/* ---- the one-token GEMV ------------------------------------------------------------------------ */

/* One scale group g of plane p, for every row: the pieces of its range, their activations (in
 * place, or padded copies in the caller's `pad`, 2 x 128 bytes), output n's scale ws[n * stride],
 * and the sum of x over the range. (The copies are not in the struct: the ISA's routines get
 * pointers to them, and the struct's fields stay in registers only if its address does not escape.) */
typedef struct tn_t2b_group {
  const uint8_t *rows; /* plane p's codes: rows 4 i.. at rows + i * group_bytes */
  size_t group_bytes;
  tn_t2b_piece piece[3];
  const int8_t *x[3]; /* the pieces' activations */
  int32_t pieces;
  int32_t first; /* p == 0 && g == 0: the first term of every output */
  const float *ws;
  size_t stride;
  uint32_t xs; /* sum of x over the range (mod 2^32) */
} tn_t2b_group;

static TN_INLINE void tn_t2b_group_init(tn_t2b_group *s, int8_t *pad, const tn_lowbit_weights *w, const int8_t *x, int32_t p, int32_t g) {
  const int32_t K = w->k, G = w->group, groups = (K + G - 1) / G;
  const int32_t k0 = g * G, k1 = K - k0 > G ? k0 + G : K;
  uint32_t xs = 0;
  int32_t i, k, copies = 0;
  size_t ldx;
  s->rows = tn_t2b_row(w, p, 0);
  s->group_bytes = (size_t)TN_QK_T2B * (size_t)((K + TN_QK_T2B - 1) / TN_QK_T2B);
  s->pieces = tn_t2b_pieces(k0, k1, s->piece);
  for (i = 0; i < s->pieces; ++i) { /* at most a head and a tail are partial: pad, pad + 128 */
    s->x[i] = tn_t2b_piece_x(&s->piece[i], x, 0, 1, 1, k0, k1, pad + copies * TN_QK_T2B, &ldx);
    copies += s->piece[i].partial;
  }
  s->first = p == 0 && g == 0;
  s->ws = tn_lowbit_scales(w, p, g, groups, &s->stride);
  for (k = k0; k < k1; ++k) xs += tn_u32_of_i8(x[k]);
  s->xs = xs;
}

/* Output n's term from its sum u x over the range (mod 2^32): y[n] = (float)(sum u x - sum x) * ws,
 * or y[n] + that: the contract's order, planes outer, groups inner (docs/numerics.md). */
static TN_INLINE void tn_t2b_group_term(const tn_t2b_group *s, float *y, int32_t n, uint32_t sum_ux) {
  const float term = (float)(int32_t)(sum_ux - s->xs) * s->ws[(size_t)n * s->stride];
  y[n] = s->first ? term : y[n] + term; /* the first term starts the sum */
}

/* Then y[n] = y[n] * sx, + bias[n]. Two loops, not one with "if (bias)" inside: clang vectorises
 * that one with VMASKMOVPS loads of bias, and on Zen 3 a masked load whose masked-off lanes point at
 * an unmapped page (bias = NULL) takes a microcode assist: that loop took 40 % of an 8192 x 512
 * layer. */
static TN_INLINE void tn_t2b_gemv_finish(float *y, int32_t n_count, float sx, const float *bias) {
  int32_t n;
  if (bias)
    for (n = 0; n < n_count; ++n) {
      const float v = y[n] * sx;
      y[n] = v + bias[n];
    }
  else
    for (n = 0; n < n_count; ++n) y[n] = y[n] * sx;
}

#endif /* TN_T2B_H */

/*
 * tn_lut.c - lookup-table kernels for ternary (t5, t5w, t6w) and binary (b1) weights, portable C.
 *
 * For every group of g activations (g = 5, 6 or 8) a table holds the sum for every combination of
 * codes; each output row then costs one table lookup per g weights instead of g adds. The tables
 * are built once per input vector (per token) and shared by all rows, so their cost is divided by
 * the number of rows N. On a scalar core a lookup is three instructions (load the index, load the
 * entry, add): 0.6 per weight for g = 5, 0.5 for g = 6 (with 16-bit pre-scaled offsets), plus
 * about 0.6 * 126 / (5 N) for building t5w tables.
 *
 * Tables (tn_runtime.h, docs/kernels.md): halfword entries 0x8000 + sum. Ternary: with
 * a = u0 + 3 u1 + 9 u2 and b = u3 + 3 u4 (+ 9 u5), u = w + 1, the table is two halves of R rows
 * (R = 9 for t5; t5w and t6w keep only the codes up to the centre, the rest are subtracted
 * mirrors: 5 + 4 and 14 + 13 rows) of 7 words; row b of half h holds the 14 entries a = 14 h ..
 * 14 h + 13. Row b+1 is
 * row b plus a constant in both halves of every word, one 32-bit add per two entries: the bias keeps
 * each half in 0..65535, so no carry crosses from the low half into the high half, and a row is
 * 7 contiguous words (one store-multiple on ARM).
 * Binary (b1): index = the code byte itself (8 codes, bit set = +1), 16 rows of 16 entries.
 *
 * Sums: the lookups of one row add biased entries in uint32 (mod 2^32) into acc[row]; subtracting
 * 0x8000 per lookup leaves the exact sum, which the compiler proved fits int32 (every intermediate
 * is exact mod 2^32, so only the final value has to fit). Windows: the tables of w->window groups
 * are built at once into w->scratch and every row adds its lookups in them; a scale group longer
 * than a window adds over several windows. The rows routines set the sums in a group's first
 * window (no zeroing pass, no load per row: most groups fit one window) and add to them after.
 * When the compiler's flush bound is not 0 (the group's sum may not fit int32), each window's sum
 * (window * g <= flush codes) is taken exactly and the windows are summed in int64.
 */
#include "tn_runtime.h"
#include "tn_epilogue.h"
#include "tn_lut.h"

/* ---- table builds ---------------------------------------------------------------------------- */

/* The 27 sums of three activations, a = u0 + 3 u1 + 9 u2 -> (u0-1) x0 + (u1-1) x1 + (u2-1) x2,
 * plus a zero pad at a = 27, as 14 biased pairs. With l[i] = the 9 sums of x0, x1 plus the bias,
 * the pair (l[i] + c, l[i+1] + c) is l[i] + (l[i+1] << 16) + c * 0x10001 (mod 2^32): one add with
 * a shifted operand per word, then the blocks u2 = 0 and 2 are the block u2 = 1 minus / plus x2.
 * `base` is added to every entry (the offset of the table's row 0: all its other codes -1). */
void tn_lut_a27(int32_t x0, int32_t x1, int32_t x2, int32_t base, uint32_t *a) {
  const uint32_t b = TN_LUT_BIAS + (uint32_t)base; /* base: added to every entry (row 0's offset) */
  const uint32_t l0 = b - (uint32_t)x0 - (uint32_t)x1, l1 = l0 + (uint32_t)x0, l2 = l1 + (uint32_t)x0;
  const uint32_t l3 = l0 + (uint32_t)x1, l4 = l1 + (uint32_t)x1, l5 = l2 + (uint32_t)x1;
  const uint32_t l6 = l3 + (uint32_t)x1, l7 = l4 + (uint32_t)x1, l8 = l5 + (uint32_t)x1;
  const uint32_t x2x2 = TN_TWICE(x2);
  const uint32_t e0 = l0 + (l1 << 16), e2 = l2 + (l3 << 16), e4 = l4 + (l5 << 16), e6 = l6 + (l7 << 16);
  a[0] = e0 - x2x2; /* a = 0..8: u2 = 0 */
  a[1] = e2 - x2x2;
  a[2] = e4 - x2x2;
  a[3] = e6 - x2x2;
  a[4] = (l8 - (uint32_t)x2) + (l0 << 16); /* a = 8 (u2 = 0), 9 (u2 = 1) */
  a[5] = l1 + (l2 << 16);                   /* a = 10..17: u2 = 1 */
  a[6] = l3 + (l4 << 16);
  a[7] = l5 + (l6 << 16);
  a[8] = l7 + (l8 << 16);
  a[9] = e0 + x2x2; /* a = 18..26: u2 = 2 */
  a[10] = e2 + x2x2;
  a[11] = e4 + x2x2;
  a[12] = e6 + x2x2;
  a[13] = (l8 + (uint32_t)x2) + (b << 16); /* a = 26, and the pad (0) */
}

/* Rows b = 0 .. rows - 1 of one half table, 7 contiguous words each, from its row 0 (a) and the
 * deltas d (tn_lut_ternary_start): row b = a + sum_i (u_i - 1) d_i over the digits u_i of b. In
 * registers: each row is the previous one plus a delta that depends only on b (the carry pattern of
 * a base-3 counter). */
static void tn_lut_rows7(const uint32_t *a, uint32_t *t, const uint32_t *d, int32_t rows) {
  uint32_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6]; /* row 0 (all digits 0: weights -1) */
  int32_t b;
  for (b = 0; b < rows; ++b) {
    uint32_t e;
    t[0] = r0;
    t[1] = r1;
    t[2] = r2;
    t[3] = r3;
    t[4] = r4;
    t[5] = r5;
    t[6] = r6;
    t += 7;
    e = (b % 3 != 2) ? d[0] : (b % 9 != 8) ? d[1] : d[2];
    r0 += e;
    r1 += e;
    r2 += e;
    r3 += e;
    r4 += e;
    r5 += e;
    r6 += e;
  }
}

/* A ternary table of g activations: both halves, rows0 rows then rows1 rows (half 1 right after). */
static TN_INLINE void tn_lut_build7(const int8_t *x, int32_t len, int32_t g, uint32_t *t, int32_t rows0, int32_t rows1) {
  int32_t v[8];
  uint32_t a[14], d[3];
  tn_lut_activations(x, len, g, v);
  tn_lut_ternary_start(v, g, a, d);
  tn_lut_rows7(a, t, d, rows0);
  tn_lut_rows7(a + 7, t + 7 * rows0, d, rows1);
}

/* g = 5: TN_LUT5_ENTRIES halfwords (126 words) for x[0 .. len-1], missing activations are 0. */
void tn_lut5_build(const int8_t *x, int32_t len, uint32_t *t) {
  tn_lut_build7(x, len, 5, t, 9, 9);
}

/* t5w: the half table, TN_LUT5W_ENTRIES halfwords (63 words): rows 0..4 of half 0, 0..3 of half 1. */
void tn_lut5w_build(const int8_t *x, int32_t len, uint32_t *t) {
  tn_lut_build7(x, len, 5, t, 5, 4);
}

/* t6w: TN_LUT6W_ENTRIES halfwords (189 words): rows 0..13 of half 0, 0..12 of half 1. */
void tn_lut6w_build(const int8_t *x, int32_t len, uint32_t *t) {
  tn_lut_build7(x, len, 6, t, 14, 13);
}

/* Binary, 8 codes per byte: entry m = sum_i (bit i of m ? x_i : -x_i), 256 halfwords (128 words).
 * Row b (the high nibble) = the low nibble's 16 entries (8 words) + sum_{i=4..7} (bit ? x_i : -x_i),
 * in two halves of 4 words (rows at a stride of 8 words). */
void tn_lut8_build(const int8_t *x, int32_t len, uint32_t *t) {
  int32_t v[8], b, h;
  uint32_t a[8], d[5];
  tn_lut_activations(x, len, 8, v);
  tn_lut8_start(v, a, d);
  for (h = 0; h < 2; ++h) {
    uint32_t r0 = a[4 * h] + d[4], r1 = a[4 * h + 1] + d[4], r2 = a[4 * h + 2] + d[4], r3 = a[4 * h + 3] + d[4];
    uint32_t *o = t + 4 * h;
    for (b = 0; b < 16; ++b) {
      uint32_t e;
      o[0] = r0;
      o[1] = r1;
      o[2] = r2;
      o[3] = r3;
      o += 8;
      e = !(b & 1) ? d[0] : !(b & 2) ? d[1] : !(b & 4) ? d[2] : d[3]; /* b -> b + 1 */
      r0 += e;
      r1 += e;
      r2 += e;
      r3 += e;
    }
  }
}

/* ---- lookups --------------------------------------------------------------------------------- */

/* t5w, t6w: row r's window is a header h (lookups that add), then byte offsets: the first h
 * lookups add table + ix[j], the others subtract it. A subtracted biased entry plus 0x10000 is
 * 0x8000 - sum, so every lookup contributes 0x8000 + its signed sum, as in the other formats. */
static TN_INLINE void tn_lut_rows16_to(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                                       uint32_t *acc, int32_t first) {
  const uint8_t *tb = (const uint8_t *)table;
  int32_t r;
  for (r = 0; r < nrows; ++r) {
    const uint16_t *ix = (const uint16_t *)(const void *)(rows0 + (size_t)r * row_bytes);
    int32_t add = ix[0], sub = count - add;
    uint32_t s = (uint32_t)sub << 16;
    ++ix;
    for (; add >= 4; add -= 4, ix += 4) {
      s += *(const uint16_t *)(const void *)(tb + ix[0]);
      s += *(const uint16_t *)(const void *)(tb + ix[1]);
      s += *(const uint16_t *)(const void *)(tb + ix[2]);
      s += *(const uint16_t *)(const void *)(tb + ix[3]);
    }
    for (; add > 0; --add) s += *(const uint16_t *)(const void *)(tb + *ix++);
    for (; sub >= 4; sub -= 4, ix += 4) {
      s -= *(const uint16_t *)(const void *)(tb + ix[0]);
      s -= *(const uint16_t *)(const void *)(tb + ix[1]);
      s -= *(const uint16_t *)(const void *)(tb + ix[2]);
      s -= *(const uint16_t *)(const void *)(tb + ix[3]);
    }
    for (; sub > 0; --sub) s -= *(const uint16_t *)(const void *)(tb + *ix++);
    acc[r] = first ? s : acc[r] + s;
  }
}

/* The rows routines: one inlined copy per value of `first`, so that no row tests it. */
void tn_lut_rows16(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                   int32_t entries, uint32_t *acc, int32_t first) {
  (void)entries;
  if (first) tn_lut_rows16_to(rows0, row_bytes, nrows, count, table, acc, 1);
  else tn_lut_rows16_to(rows0, row_bytes, nrows, count, table, acc, 0);
}

/* t5, b1: row r's lookup j is table[j * entries + c_r[j]], four rows at a time. */
static TN_INLINE void tn_lut_rows8_to(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                                      int32_t entries, uint32_t *acc, int32_t first) {
  int32_t r = 0, j;
  for (; r + 4 <= nrows; r += 4) {
    const uint8_t *c0 = rows0 + (size_t)r * row_bytes, *c1 = c0 + row_bytes, *c2 = c1 + row_bytes, *c3 = c2 + row_bytes;
    const uint16_t *t = (const uint16_t *)(const void *)table;
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (j = 0; j < count; ++j, t += entries) {
      s0 += t[c0[j]];
      s1 += t[c1[j]];
      s2 += t[c2[j]];
      s3 += t[c3[j]];
    }
    if (!first) {
      s0 += acc[r];
      s1 += acc[r + 1];
      s2 += acc[r + 2];
      s3 += acc[r + 3];
    }
    acc[r] = s0;
    acc[r + 1] = s1;
    acc[r + 2] = s2;
    acc[r + 3] = s3;
  }
  for (; r < nrows; ++r) {
    const uint8_t *c = rows0 + (size_t)r * row_bytes;
    const uint16_t *t = (const uint16_t *)(const void *)table;
    uint32_t s = 0;
    for (j = 0; j < count; ++j, t += entries) s += t[c[j]];
    acc[r] = first ? s : acc[r] + s;
  }
}

void tn_lut_rows8(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                  int32_t entries, uint32_t *acc, int32_t first) {
  if (first) tn_lut_rows8_to(rows0, row_bytes, nrows, count, table, entries, acc, 1);
  else tn_lut_rows8_to(rows0, row_bytes, nrows, count, table, entries, acc, 0);
}

/* Several tokens (prefill): each code index is loaded once and looked up in every token's tables
 * (token t's window of tables at table + t * tstride words); acc[t * astride + r]. */
static void tn_lut_rows_multi(const tn_lut_ops *f, const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count,
                              const uint32_t *table, size_t tstride, int32_t ntok, uint32_t *acc, size_t astride, int32_t first) {
  const uint8_t *tb = (const uint8_t *)table;
  const size_t tbytes = 4 * tstride;
  int32_t r, j, t;
  for (r = 0; r < nrows; ++r) {
    const uint8_t *row = rows0 + (size_t)r * row_bytes;
    const uint16_t *ix = (const uint16_t *)(const void *)row;
    const int32_t added = f->wide ? ix[0] : count; /* wide: the header, then the offsets */
    uint32_t s[4] = {0, 0, 0, 0};
    for (t = 0; t < ntok; ++t) s[t] = (uint32_t)(count - added) << 16;
    for (j = 0; j < count; ++j) {
      /* wide: byte offset into the window; else halfword index into table j */
      const size_t off = f->wide ? (size_t)ix[1 + j] : 2 * ((size_t)j * (size_t)f->entries + row[j]);
      for (t = 0; t < ntok; ++t) {
        const uint32_t v = *(const uint16_t *)(const void *)(tb + (size_t)t * tbytes + off);
        s[t] = j < added ? s[t] + v : s[t] - v;
      }
    }
    for (t = 0; t < ntok; ++t) {
      uint32_t *a = acc + (size_t)t * astride + (size_t)r;
      *a = first ? s[t] : *a + s[t];
    }
  }
}

/* ---- the driver -------------------------------------------------------------------------------- */

/* The epilogue of one token when its sums are the only term of every output (one plane, one scale
 * group, int32 sums): y[n] = ((float)sum * ws) * sx (+ bias), the contract's order. A loop of its
 * own, without the general case's tests, so that compilers keep it in registers: about 10
 * instructions per output on a Cortex-M4F instead of about 20; without an FPU the multiplies take
 * tn_scale_i32's integer path (as in the int8 kernels of ref/tn_dense.c). */
static TN_NOINLINE void tn_lut_finish(const uint32_t *acc, uint32_t bias_all, const float *ws, size_t stride, float sx, const float *bias,
                                      int32_t n, float *y) {
  if (stride == 1) {
    tn_scale_rows(acc, bias_all, ws, sx, bias, y, n);
  } else {
    int32_t i;
    for (i = 0; i < n; ++i) {
      const float s = tn_scale_i32((int32_t)(acc[i] - bias_all), ws[(size_t)i * stride], sx);
      y[i] = bias ? s + bias[i] : s;
    }
  }
}

/* Bytes of scratch for ntok tokens (tables, uint32 sums, int64 sums when flush > 0). */
static size_t tn_lut_scratch(const tn_lut_ops *f, int32_t window, int32_t n, int32_t ntok, int32_t flush) {
  return (size_t)ntok * ((size_t)window * (size_t)f->entries * 2 + 4 * (size_t)(n + (n & 1)) + (flush > 0 ? 8 * (size_t)n : 0));
}

void tn_lut_linear(const tn_lut_ops *f, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                   const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  const int32_t G = w->group, K = w->k, N = w->n, g = f->g;
  const int32_t groups = (K + G - 1) / G;
  const int32_t units_full = f->padded ? (G + g - 1) / g : G / g; /* b1: the compiler requires G % 8 == 0 or one group */
  const int32_t last = K - (groups - 1) * G;
  const int32_t window = w->window > 0 ? w->window : 1;
  /* t5w, t6w: one 16-bit header per window of a scale group */
  const int32_t stride_full = units_full + (f->wide ? (units_full + window - 1) / window : 0);
  const int32_t units_last = (last + g - 1) / g;
  const int32_t units_row = (groups - 1) * stride_full + units_last + (f->wide ? (units_last + window - 1) / window : 0);
  const size_t unit_bytes = f->wide ? 2 : 1;
  const size_t row_bytes = (size_t)units_row * unit_bytes;
  const size_t table_words = (size_t)(f->entries / 2);
  const size_t tstride = (size_t)window * table_words; /* words of one token's window of tables */
  const size_t astride = (size_t)(N + (N & 1));
  const int32_t fused = w->planes == 1 && groups == 1; /* one term per output: finish in one pass */
  int32_t T = rows < 4 ? rows : 4, t0, t, p, sg, n, j;
  uint32_t *table = (uint32_t *)w->scratch, *acc;
  int64_t *acc64;
  /* Tokens per pass: as many (up to 4) as the compiler gave scratch for (docs/kernels.md). */
  while (T > 1 && tn_lut_scratch(f, window, N, T, flush) > (size_t)w->scratch_bytes) --T;
  acc = table + (size_t)T * tstride;
  acc64 = (int64_t *)(void *)(acc + (size_t)T * astride);
  for (t0 = 0; t0 < rows; t0 += T) {
    const int32_t nt = rows - t0 > T ? T : rows - t0;
    for (p = 0; p < w->planes; ++p) {
      for (sg = 0; sg < groups; ++sg) {
        const int32_t k0 = sg * G;
        const int32_t len = K - k0 > G ? G : K - k0;
        const int32_t units = (len + g - 1) / g;
        /* With flush > 0 only a window's sum is known to fit int32: sum windows in int64. */
        const int32_t wide_sum = flush > 0 && units > window;
        const uint32_t bias_all = TN_LUT_BIAS * (uint32_t)units;
        const uint8_t *codes = w->codes + (size_t)p * (size_t)N * row_bytes + (size_t)sg * (size_t)stride_full * unit_bytes;
        size_t stride;
        int32_t j0;
        const float *ws = tn_lowbit_scales(w, p, sg, groups, &stride);
        for (j0 = 0; j0 < units; j0 += window) {
          const int32_t count = units - j0 > window ? window : units - j0;
          /* The rows set the sums in a group's first window (and in every window of a wide sum,
           * whose windows are taken one at a time) and add to them in the others. */
          const int32_t first = j0 == 0 || wide_sum;
          for (t = 0; t < nt; ++t) {
            const int8_t *xt = x + (size_t)(t0 + t) * (size_t)K + k0;
            for (j = 0; j < count; ++j) {
              const int32_t at = (j0 + j) * g;
              f->build(xt + at, len - at, table + (size_t)t * tstride + (size_t)j * table_words);
            }
          }
          const uint8_t *at_codes = codes + (size_t)(j0 + (f->wide ? j0 / window : 0)) * unit_bytes;
          if (nt == 1) f->rows(at_codes, row_bytes, N, count, table, f->entries, acc, first);
          else tn_lut_rows_multi(f, at_codes, row_bytes, N, count, table, tstride, nt, acc, astride, first);
          if (wide_sum) {
            const uint32_t b = TN_LUT_BIAS * (uint32_t)count;
            for (t = 0; t < nt; ++t)
              for (n = 0; n < N; ++n) {
                const size_t i = (size_t)t * astride + (size_t)n;
                acc64[(size_t)t * (size_t)N + (size_t)n] = (j0 == 0 ? 0 : acc64[(size_t)t * (size_t)N + (size_t)n]) + (int32_t)(acc[i] - b);
              }
          }
        }
        for (t = 0; t < nt; ++t) {
          const float sx = x_scale[x_per_row ? t0 + t : 0];
          float *yt = y + (size_t)(t0 + t) * (size_t)N;
          const uint32_t *at = acc + (size_t)t * astride;
          const int64_t *at64 = acc64 + (size_t)t * (size_t)N;
          const int32_t term0 = p == 0 && sg == 0;
          if (fused && !wide_sum) {
            tn_lut_finish(at, bias_all, ws, stride, sx, bias, N, yt);
            continue;
          }
          for (n = 0; n < N; ++n) {
            const float sum = wide_sum ? (float)at64[n] : (float)(int32_t)(at[n] - bias_all);
            float s = sum * ws[(size_t)n * stride];
            if (fused) { /* the only term: then s * sx, then + bias */
              s = s * sx;
              if (bias) s = s + bias[n];
            } else if (!term0) {
              s = yt[n] + s; /* the first term starts the sum */
            }
            yt[n] = s;
          }
        }
      }
    }
    if (!fused) {
      for (t = 0; t < nt; ++t) {
        const float sx = x_scale[x_per_row ? t0 + t : 0];
        float *yt = y + (size_t)(t0 + t) * (size_t)N;
        for (n = 0; n < N; ++n) {
          float s = yt[n] * sx;
          if (bias) s = s + bias[n];
          yt[n] = s;
        }
      }
    }
  }
}

/* The portable kernels (tn_lut.h: the ops of each format, the driver, TN_LUT_KERNEL). */
TN_LUT_KERNEL(tn_ternary_linear_t5_lut, TN_LUT_T5(tn_lut5_build, tn_lut_rows8))
TN_LUT_KERNEL(tn_ternary_linear_t5w_lut, TN_LUT_T5W(tn_lut5w_build, tn_lut_rows16))
TN_LUT_KERNEL(tn_ternary_linear_t6w_lut, TN_LUT_T6W(tn_lut6w_build, tn_lut_rows16))
TN_LUT_KERNEL(tn_binary_linear_b1_lut, TN_LUT_B1(tn_lut8_build, tn_lut_rows8))

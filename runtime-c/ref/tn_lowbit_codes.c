/*
 * tn_lowbit_codes.c - the reference decoder of every weight format (one code at a time, the way the
 * packer in compiler/emit/pack.ts writes them) and the reference kernels of the formats that only
 * optimised kernels read otherwise (t2b, t5, t5w, t6w, tbp). Obviously correct, not fast.
 */
#include "tn_runtime.h"
#include "tn_lowbit.h"

/* Codes per unit of storage and bytes per unit, per format. */
static int32_t tn_fmt_codes(int32_t format) {
  switch (format) {
    case TN_FMT_T2: return TN_QK_T2;
    case TN_FMT_T2B: return TN_QK_T2B;
    case TN_FMT_T5: return TN_QK_T5;
    case TN_FMT_T5W: return TN_QK_T5W;
    case TN_FMT_T6W: return TN_QK_T6W;
    case TN_FMT_TBP: return TN_QK_TBP;
    default: return TN_QK_B1;
  }
}

/* t5, t5w, t6w are packed per scale group: ceil(group / codes) units per full group. */
static int32_t tn_fmt_units(int32_t format, const tn_lowbit_weights *w) {
  const int32_t q = tn_fmt_codes(format);
  const int32_t groups = (w->k + w->group - 1) / w->group;
  const int32_t last = w->k - (groups - 1) * w->group;
  return (groups - 1) * ((w->group + q - 1) / q) + (last + q - 1) / q;
}

/* t5w, t6w: 16-bit entries of one row: per scale group its units and one header per window. */
static int32_t tn_tw_units(int32_t format, const tn_lowbit_weights *w) {
  const int32_t q = tn_fmt_codes(format), window = w->window > 0 ? w->window : 1;
  const int32_t groups = (w->k + w->group - 1) / w->group;
  const int32_t full = (w->group + q - 1) / q, last = (w->k - (groups - 1) * w->group + q - 1) / q;
  return (groups - 1) * (full + (full + window - 1) / window) + last + (last + window - 1) / window;
}

int32_t tn_lowbit_row_bytes(int32_t format, const tn_lowbit_weights *w) {
  switch (format) {
    case TN_FMT_T2: return (w->k + 3) / 4;
    case TN_FMT_T2B: return 128 * ((w->k + TN_QK_T2B - 1) / TN_QK_T2B); /* a group of 4 rows */
    case TN_FMT_T5: return tn_fmt_units(format, w);
    case TN_FMT_T5W:
    case TN_FMT_T6W: return 2 * tn_tw_units(format, w);
    case TN_FMT_TBP: return 8 * ((w->k + TN_QK_TBP - 1) / TN_QK_TBP); /* word pairs */
    default: return (w->k + 7) / 8;
  }
}

/* Offset code u (0, 1, 2) -> weight: -1, 0, +1. */
static int32_t tn_u_to_w(int32_t u) {
  return u - 1;
}

/* Digit d of the LUT index of q codes: the table is two halves of R rows (R = 9 for q = 5, 27 for
 * q = 6) of 14 entries; index = (a >= 14 ? 14 R : 0) + 14 b + a % 14 with a = u0 + 3 u1 + 9 u2 and
 * b = u3 + 3 u4 (+ 9 u5). t5w/t6w entries (half tables) have R = 5 or 14 rows in half 0. */
static int32_t tn_lut_digit(int32_t index, int32_t rows0, int32_t d) {
  const int32_t half = 14 * rows0;
  const int32_t h = index >= half ? 1 : 0;
  const int32_t rest = index - h * half;
  int32_t v = d < 3 ? 14 * h + rest % 14 : rest / 14; /* a or b */
  int32_t i;
  for (i = 0; i < d % 3; ++i) v /= 3;
  return v % 3;
}

static uint32_t tn_u16(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8); /* little-endian */
}

/* t5w, t6w: the offset code u of digit `digit` of unit `unit` of scale group `sg`: find the unit's
 * window and, in it, the offset that names the unit's table; offsets after the header's count are
 * subtracted, i.e. hold the mirror codes 2 - u. */
static int32_t tn_tw_u(int32_t format, const tn_lowbit_weights *w, const uint8_t *row, int32_t sg, int32_t unit, int32_t digit) {
  const int32_t q = tn_fmt_codes(format), window = w->window > 0 ? w->window : 1;
  const int32_t entries = format == TN_FMT_T5W ? TN_LUT5W_ENTRIES : TN_LUT6W_ENTRIES;
  const int32_t full = (w->group + q - 1) / q;
  const int32_t len = w->k - sg * w->group < w->group ? w->k - sg * w->group : w->group;
  const int32_t units = (len + q - 1) / q;
  const int32_t seg = unit / window, j = unit % window;
  const int32_t count = units - seg * window < window ? units - seg * window : window;
  const uint8_t *at = row + 2 * (sg * (full + (full + window - 1) / window) + seg * (window + 1));
  const int32_t added = (int32_t)tn_u16(at);
  int32_t i;
  for (i = 0; i < count; ++i) {
    const int32_t e = (int32_t)tn_u16(at + 2 + 2 * i) / 2;
    if (e / entries == j) {
      const int32_t u = tn_lut_digit(e % entries, q == 5 ? 5 : 14, digit);
      return i < added ? u : 2 - u;
    }
  }
  return 1; /* not reached for well-formed codes */
}

int32_t tn_lowbit_code(int32_t format, const tn_lowbit_weights *w, const uint8_t *row, int32_t k) {
  int32_t unit, digit, q;
  switch (format) {
    case TN_FMT_T2: {
      const int32_t c = (row[k >> 2] >> ((k & 3) * 2)) & 3; /* 00 -> 0, 01 -> +1, 10 -> -1 */
      return c == 1 ? 1 : c == 2 ? -1 : 0;
    }
    case TN_FMT_T2B: {
      const int32_t i = k % TN_QK_T2B; /* byte i % 32 of block k / 128 (blocks 128 bytes apart), bits 2 * (i / 32) */
      const int32_t u = (row[(k / TN_QK_T2B) * 128 + (i & 31)] >> (2 * (i >> 5))) & 3;
      return tn_u_to_w(u); /* u: 0, 1, 2 -> -1, 0, +1 */
    }
    case TN_FMT_B1:
      return ((row[k >> 3] >> (k & 7)) & 1) ? 1 : -1; /* 1 -> +1, 0 -> -1 */
    case TN_FMT_TBP: {
      const uint32_t *pair = (const uint32_t *)(const void *)row + 2 * (k >> 5); /* nonzero mask, sign mask */
      const uint32_t bit = (uint32_t)1 << (k & 31);
      return (pair[0] & bit) ? ((pair[1] & bit) ? -1 : 1) : 0;
    }
    default:
      break;
  }
  /* t5, t5w, t6w: unit = the codes' group within the row's scale group, digit = position in it. */
  q = tn_fmt_codes(format);
  unit = (k / w->group) * ((w->group + q - 1) / q) + (k % w->group) / q;
  digit = (k % w->group) % q;
  if (format == TN_FMT_T5) {
    const int32_t entry = row[unit]; /* the LUT index */
    return tn_u_to_w(tn_lut_digit(entry, 9, digit)); /* u: 0, 1, 2 -> -1, 0, +1 */
  }
  return tn_u_to_w(tn_tw_u(format, w, row, k / w->group, (k % w->group) / q, digit)); /* u: 0, 1, 2 -> -1, 0, +1 */
}

/* The exact sum of codes k0..k1-1 of one row times x. |result| <= (k1 - k0) * 128 < 2^31 by the
 * compiler's choice of flush. */
static int32_t tn_code_dot(int32_t format, const tn_lowbit_weights *w, const uint8_t *row, const int8_t *x, int32_t k0, int32_t k1) {
  int32_t acc = 0, k;
  for (k = k0; k < k1; ++k) {
    const int32_t c = tn_lowbit_code(format, w, row, k);
    if (c > 0) acc += x[k];
    else if (c < 0) acc -= x[k];
  }
  return acc;
}

/* The reference driver for any format: the same loops as tn_lowbit_linear (ref/tn_lowbit_linear.c). */
static void tn_lowbit_linear_fmt(int32_t format, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                 const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  const int32_t groups = (w->k + w->group - 1) / w->group;
  const size_t row_bytes = (size_t)tn_lowbit_row_bytes(format, w);
  int32_t t, n, p, g;
  for (t = 0; t < rows; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)w->k;
    const float sx = x_scale[x_per_row ? t : 0];
    for (n = 0; n < w->n; ++n) {
      float s = 0.0f;
      for (p = 0; p < w->planes; ++p) {
        const uint8_t *row = format == TN_FMT_T2B ? tn_t2b_row(w, p, n) : w->codes + ((size_t)p * (size_t)w->n + (size_t)n) * row_bytes;
        for (g = 0; g < groups; ++g) {
          const int32_t k0 = g * w->group;
          const int32_t k1 = (w->k - k0 > w->group) ? k0 + w->group : w->k;
          float term, sum;
          if (flush == 0) {
            sum = (float)tn_code_dot(format, w, row, xt, k0, k1);
          } else {
            int64_t wide = 0;
            int32_t c0;
            for (c0 = k0; c0 < k1; c0 += flush) wide += tn_code_dot(format, w, row, xt, c0, (k1 - c0 > flush) ? c0 + flush : k1);
            sum = (float)wide;
          }
          term = sum * tn_lowbit_weight_scale(w, p, n, g, groups);
          s = (p == 0 && g == 0) ? term : s + term; /* the first term starts the sum */
        }
      }
      s = s * sx;
      if (bias) s = s + bias[n];
      y[(size_t)t * (size_t)w->n + (size_t)n] = s;
    }
  }
}

const uint8_t *tn_t2b_row(const tn_lowbit_weights *w, int32_t p, int32_t n) {
  const size_t groups = (size_t)(w->n + 3) / 4; /* groups of 4 rows per plane */
  const size_t group = (size_t)p * groups + (size_t)(n / 4);
  return w->codes + group * (size_t)tn_lowbit_row_bytes(TN_FMT_T2B, w) + (size_t)(n % 4) * 32;
}

void tn_ternary_linear_t2b(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_linear_fmt(TN_FMT_T2B, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

void tn_ternary_linear_t5(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                          const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_linear_fmt(TN_FMT_T5, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

void tn_ternary_linear_t5w(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_linear_fmt(TN_FMT_T5W, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

void tn_ternary_linear_t6w(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_linear_fmt(TN_FMT_T6W, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

/* Binary layers: the same kernel (binary codes are t2b codes 0 and 2). */
TN_LINEAR_ALIAS(tn_binary_linear_t2b, tn_ternary_linear_t2b)

void tn_ternary_linear_tbp(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_linear_fmt(TN_FMT_TBP, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

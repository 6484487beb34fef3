/*
 * tn_lowbit_rows.c - the driver of the streaming (non-LUT) optimised kernels: blocks of rows times
 * blocks of tokens, so that a SIMD kernel decodes each weight once for every token of the block (a
 * GEMM for prefill, a GEMV for one token), and the parts every kernel shares: planes, scale groups,
 * flush chunks (int64 when the compiler asks for it) and the float epilogue in the contract's order
 * (docs/numerics.md): per output, for p, for g: term = (float)acc * ws; s = first ? term : s + term;
 * then s * sx, then + bias.
 *
 * Also here: the t2b prefix sums of the activations (the offset codes u = w + 1 give
 * sum u x = sum w x + sum x, so every kernel subtracts sum x over its range), and the portable t2b
 * dot and kernel that the SIMD kernels fall back to. tn_t2b.h declares all of it.
 */
#include "tn_runtime.h"
#include "tn_t2b.h"

#define TN_ROWS_MAX_R 8
#define TN_ROWS_MAX_T 4

void tn_lowbit_rows(const tn_rows_kernel *kern, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  const int32_t K = w->k, N = w->n;
  const int32_t groups = (K + w->group - 1) / w->group;
  const int32_t R = kern->rows > TN_ROWS_MAX_R ? TN_ROWS_MAX_R : kern->rows;
  const int32_t T = kern->tokens > TN_ROWS_MAX_T ? TN_ROWS_MAX_T : kern->tokens;
  int32_t t0, n0, p, g, t, r;
  for (t0 = 0; t0 < rows; t0 += T) {
    const int32_t nt = rows - t0 > T ? T : rows - t0;
    const int8_t *xt = x + (size_t)t0 * (size_t)K;
    if (kern->prep) kern->prep(w, xt, nt);
    for (n0 = 0; n0 < N; n0 += R) {
      const int32_t nr = N - n0 > R ? R : N - n0;
      float s[TN_ROWS_MAX_T * TN_ROWS_MAX_R];
      int32_t acc[TN_ROWS_MAX_T * TN_ROWS_MAX_R];
      for (p = 0; p < w->planes; ++p) {
        for (g = 0; g < groups; ++g) {
          const int32_t k0 = g * w->group;
          const int32_t k1 = (K - k0 > w->group) ? k0 + w->group : K;
          const int32_t first = p == 0 && g == 0;
          if (flush == 0) {
            kern->dot(w, p, n0, nr, xt, nt, k0, k1, acc);
            for (t = 0; t < nt; ++t)
              for (r = 0; r < nr; ++r) {
                const float term = (float)acc[t * nr + r] * tn_lowbit_weight_scale(w, p, n0 + r, g, groups);
                s[t * nr + r] = first ? term : s[t * nr + r] + term; /* the first term starts the sum */
              }
          } else {
            int64_t wide[TN_ROWS_MAX_T * TN_ROWS_MAX_R];
            int32_t c0, i;
            for (i = 0; i < nt * nr; ++i) wide[i] = 0;
            for (c0 = k0; c0 < k1; c0 += flush) {
              kern->dot(w, p, n0, nr, xt, nt, c0, (k1 - c0 > flush) ? c0 + flush : k1, acc);
              for (i = 0; i < nt * nr; ++i) wide[i] += acc[i];
            }
            for (t = 0; t < nt; ++t)
              for (r = 0; r < nr; ++r) {
                const float term = (float)wide[t * nr + r] * tn_lowbit_weight_scale(w, p, n0 + r, g, groups);
                s[t * nr + r] = first ? term : s[t * nr + r] + term;
              }
          }
        }
      }
      for (t = 0; t < nt; ++t) {
        const float sx = x_scale[x_per_row ? t0 + t : 0];
        for (r = 0; r < nr; ++r) {
          /* cppcheck-suppress uninitvar ; plane 0, group 0 wrote every s (a weight has a plane and a group) */
          float v = s[t * nr + r] * sx;
          if (bias) v = v + bias[n0 + r];
          y[(size_t)(t0 + t) * (size_t)N + (size_t)(n0 + r)] = v;
        }
      }
    }
  }
}

/* ---- t2b: prefix sums of x and the portable dot ---------------------------------------------- */

int32_t tn_t2b_prefix_len(const tn_lowbit_weights *w) {
  return (w->k + TN_QK_T2B - 1) / TN_QK_T2B + 1;
}

/* scratch[t * len + b] = sum of x[t][0 .. 128 b - 1] (mod 2^32), b = 0 .. ceil(k / 128). */
void tn_t2b_prep(const tn_lowbit_weights *w, const int8_t *x, int32_t ntok) {
  const int32_t len = tn_t2b_prefix_len(w);
  int32_t *pre = (int32_t *)w->scratch;
  int32_t t, b, k;
  for (t = 0; t < ntok; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)w->k;
    uint32_t sum = 0;
    pre[t * len] = 0;
    for (b = 1; b < len; ++b) {
      const int32_t e = b * TN_QK_T2B < w->k ? b * TN_QK_T2B : w->k;
      for (k = (b - 1) * TN_QK_T2B; k < e; ++k) sum += tn_u32_of_i8(xt[k]);
      pre[t * len + b] = (int32_t)sum;
    }
  }
}

/* sum of x[t][k0 .. k1-1] from the prefix sums and at most two partial blocks. */
int32_t tn_t2b_xsum(const tn_lowbit_weights *w, const int8_t *x, int32_t t, int32_t k0, int32_t k1) {
  const int32_t len = tn_t2b_prefix_len(w);
  const int32_t *pre = (const int32_t *)w->scratch + (size_t)t * (size_t)len;
  const int8_t *xt = x + (size_t)t * (size_t)w->k;
  const int32_t b0 = (k0 + TN_QK_T2B - 1) / TN_QK_T2B, b1 = k1 / TN_QK_T2B;
  uint32_t s = 0;
  int32_t k;
  if (b0 > b1) { /* inside one block */
    for (k = k0; k < k1; ++k) s += tn_u32_of_i8(xt[k]);
    return (int32_t)s;
  }
  s = (uint32_t)pre[b1] - (uint32_t)pre[b0];
  for (k = k0; k < b0 * TN_QK_T2B; ++k) s += tn_u32_of_i8(xt[k]);
  for (k = b1 * TN_QK_T2B; k < k1; ++k) s += tn_u32_of_i8(xt[k]);
  return (int32_t)s;
}

/* Portable: sum u x over the range (u = the 2-bit offset code), minus sum x. */
void tn_t2b_dot_c(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok, int32_t k0,
                  int32_t k1, int32_t *acc) {
  int32_t r, t, k;
  for (t = 0; t < ntok; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)w->k;
    const int32_t xs = tn_t2b_xsum(w, x, t, k0, k1);
    for (r = 0; r < nrows; ++r) {
      const uint8_t *row = tn_t2b_row(w, p, n0 + r);
      uint32_t s = 0;
      for (k = k0; k < k1; ++k) {
        const int32_t i = k & (TN_QK_T2B - 1);
        const uint32_t u = (uint32_t)(row[(k >> 7) * 128 + (i & 31)] >> (2 * (i >> 5))) & 3u; /* 0, 1, 2 = w + 1 */
        s += u * tn_u32_of_i8(xt[k]);
      }
      acc[t * nrows + r] = (int32_t)(s - (uint32_t)xs);
    }
  }
}

void tn_t2b_linear_portable(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                            const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  static const tn_rows_kernel portable = {4, 4, tn_t2b_prep, tn_t2b_dot_c};
  tn_lowbit_rows(&portable, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

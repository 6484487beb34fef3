/*
 * tn_lm.c - reference kernels of the language-model ops (tn_lm.h): embedding, RMSNorm, RoPE,
 * attention over the KV cache, the gated FFN activation and the residual add. Plain loops in the
 * interpreter's order of float operations (compiler/ops/lm/, docs/numerics.md).
 */
#include "tn_lm.h"
#include "tn_half.h"
#include "tn_math.h"

/* ---- embedding ---------------------------------------------------------------------------- */

void tn_embed_f32(const int32_t *ids, int32_t n, const float *table, int32_t vocab, int32_t dim, float *y) {
  int32_t r, j;
  (void)vocab;
  for (r = 0; r < n; r++) {
    const float *row = table + ids[r] * dim;
    for (j = 0; j < dim; j++) y[r * dim + j] = row[j];
  }
}

void tn_embed_f16(const int32_t *ids, int32_t n, const uint16_t *table, int32_t vocab, int32_t dim, float *y) {
  int32_t r, j;
  (void)vocab;
  for (r = 0; r < n; r++) {
    const uint16_t *row = table + ids[r] * dim;
    for (j = 0; j < dim; j++) y[r * dim + j] = tn_f16_to_f32(row[j]);
  }
}

void tn_embed_q8(const int32_t *ids, int32_t n, const int8_t *codes, const float *scales, int32_t groups_per_row, int32_t group, int32_t vocab, int32_t dim, float *y) {
  int32_t r, j;
  (void)vocab;
  for (r = 0; r < n; r++) {
    const int8_t *row = codes + ids[r] * dim;
    const float *s = scales + ids[r] * groups_per_row;
    for (j = 0; j < dim; j++) y[r * dim + j] = (float)row[j] * s[j / group];
  }
}

/* ---- RMSNorm ------------------------------------------------------------------------------ */

void tn_rms_norm_f32(const float *x, int32_t n, const float *w, int32_t dim, float eps, float *y) {
  int32_t r, i;
  for (r = 0; r < n; r++) {
    const float *xr = x + r * dim;
    float *yr = y + r * dim;
    float ss = 0.0f, inv;
    for (i = 0; i < dim; i++) ss += xr[i] * xr[i];
    inv = tn_divf(1.0f, tn_sqrtf(tn_divf(ss, (float)dim) + eps));
    for (i = 0; i < dim; i++) yr[i] = (xr[i] * inv) * w[i];
  }
}

/* ---- RoPE --------------------------------------------------------------------------------- */

static void tn_rope(const float *x, int32_t n, const int32_t *pos, const float *cos_t, const float *sin_t, int32_t heads, int32_t head_dim, int32_t rope_dim, int half_split, float *y) {
  const int32_t half = rope_dim / 2, width = heads * head_dim;
  int32_t r, h, i;
  for (r = 0; r < n; r++) {
    const float *c = cos_t + (pos[0] + r) * half;
    const float *s = sin_t + (pos[0] + r) * half;
    if (y != x)
      for (i = 0; i < width; i++) y[r * width + i] = x[r * width + i];
    for (h = 0; h < heads; h++) {
      float *v = y + r * width + h * head_dim;
      for (i = 0; i < half; i++) {
        const int32_t ia = half_split ? i : 2 * i, ib = half_split ? i + half : 2 * i + 1;
        const float a = v[ia], b = v[ib];
        v[ia] = a * c[i] - b * s[i];
        v[ib] = a * s[i] + b * c[i];
      }
    }
  }
}

void tn_rope_adjacent_f32(const float *x, int32_t n, const int32_t *pos, const float *cos_t, const float *sin_t, int32_t heads, int32_t head_dim, int32_t rope_dim, float *y) {
  tn_rope(x, n, pos, cos_t, sin_t, heads, head_dim, rope_dim, 0, y);
}

void tn_rope_half_f32(const float *x, int32_t n, const int32_t *pos, const float *cos_t, const float *sin_t, int32_t heads, int32_t head_dim, int32_t rope_dim, float *y) {
  tn_rope(x, n, pos, cos_t, sin_t, heads, head_dim, rope_dim, 1, y);
}

/* ---- attention ---------------------------------------------------------------------------- */

/* The lane sum (docs/numerics.md) of q[d] * k[d]: eight partial sums, a fixed tree. */
static float tn_lane_dot_f32(const float *q, const float *k, int32_t len) {
  float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  int32_t d;
  for (d = 0; d < len; d++) acc[d & 7] += q[d] * k[d];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static float tn_lane_dot_f16(const float *q, const uint16_t *k, int32_t len) {
  float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  int32_t d;
  for (d = 0; d < len; d++) acc[d & 7] += q[d] * tn_f16_to_f32(k[d]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Softmax of s[0..m] in place: max, e^(s - max), their sum in order, each divided by the sum
 * (also ref/tn_attention_i8.c's). */
void tn_softmax_scores(float *s, int32_t m) {
  float mx = s[0], sum = 0.0f;
  int32_t j;
  for (j = 1; j <= m; j++)
    if (s[j] > mx) mx = s[j];
  for (j = 0; j <= m; j++) {
    s[j] = tn_expf(s[j] - mx);
    sum = j == 0 ? s[j] : sum + s[j];
  }
  for (j = 0; j <= m; j++) s[j] = tn_divf(s[j], sum);
}

void tn_attention_f32(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                      int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  const int32_t kvw = kv_heads * head_dim, group = heads / kv_heads, p0 = pos[0];
  int32_t r, h, j, d, i;
  (void)positions;
  for (r = 0; r < n; r++)
    for (i = 0; i < kvw; i++) {
      k_cache[(p0 + r) * kvw + i] = k[r * kvw + i];
      v_cache[(p0 + r) * kvw + i] = v[r * kvw + i];
    }
  for (r = 0; r < n; r++) {
    const int32_t m = p0 + r;
    for (h = 0; h < heads; h++) {
      const int32_t g = h / group;
      const float *qh = q + r * heads * head_dim + h * head_dim;
      float *yh = y + r * heads * head_dim + h * head_dim;
      for (j = 0; j <= m; j++) scores[j] = tn_lane_dot_f32(qh, k_cache + j * kvw + g * head_dim, head_dim) * scale;
      tn_softmax_scores(scores, m);
      for (d = 0; d < head_dim; d++) {
        float acc = 0.0f;
        for (j = 0; j <= m; j++) {
          const float t = scores[j] * v_cache[j * kvw + g * head_dim + d];
          acc = j == 0 ? t : acc + t;
        }
        yh[d] = acc;
      }
    }
  }
}

void tn_attention_f16cache(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache, int32_t positions,
                           int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  const int32_t kvw = kv_heads * head_dim, group = heads / kv_heads, p0 = pos[0];
  int32_t r, h, j, d, i;
  (void)positions;
  for (r = 0; r < n; r++)
    for (i = 0; i < kvw; i++) {
      k_cache[(p0 + r) * kvw + i] = tn_f32_to_f16(k[r * kvw + i]);
      v_cache[(p0 + r) * kvw + i] = tn_f32_to_f16(v[r * kvw + i]);
    }
  for (r = 0; r < n; r++) {
    const int32_t m = p0 + r;
    for (h = 0; h < heads; h++) {
      const int32_t g = h / group;
      const float *qh = q + r * heads * head_dim + h * head_dim;
      float *yh = y + r * heads * head_dim + h * head_dim;
      for (j = 0; j <= m; j++) scores[j] = tn_lane_dot_f16(qh, k_cache + j * kvw + g * head_dim, head_dim) * scale;
      tn_softmax_scores(scores, m);
      for (d = 0; d < head_dim; d++) {
        float acc = 0.0f;
        for (j = 0; j <= m; j++) {
          const float t = scores[j] * tn_f16_to_f32(v_cache[j * kvw + g * head_dim + d]);
          acc = j == 0 ? t : acc + t;
        }
        yh[d] = acc;
      }
    }
  }
}

/* ---- FFN activation and residual ---------------------------------------------------------- */

void tn_gated_silu_f32(const float *g, const float *u, int32_t n, int32_t width, float *y) {
  int32_t i;
  for (i = 0; i < n * width; i++) {
    const float gi = g[i];
    y[i] = tn_divf(gi, 1.0f + tn_expf(-gi)) * u[i];
  }
}

void tn_gated_relu2_f32(const float *g, const float *u, int32_t n, int32_t width, float *y) {
  int32_t i;
  for (i = 0; i < n * width; i++) {
    const float r = g[i] > 0.0f ? g[i] : 0.0f;
    y[i] = (r * r) * u[i];
  }
}

void tn_residual_f32(const float *x, const float *r, int32_t n, int32_t width, float *y) {
  int32_t i;
  for (i = 0; i < n * width; i++) y[i] = x[i] + r[i];
}

void tn_permute_columns(const float *x, int32_t n, const int32_t *index, int32_t k, float *y) {
  int32_t t, j;
  for (t = 0; t < n; t++)
    for (j = 0; j < k; j++) y[t * k + j] = x[t * k + index[j]];
}

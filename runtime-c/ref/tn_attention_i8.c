/*
 * tn_attention_i8.c - the Attention op over an int8 KV cache (tn_lm.h, tn_attention_i8cache;
 * docs/numerics.md, "Attention"): apart from ref/tn_lm.c because it quantizes with tn_quantize_i8
 * (ref/tn_quantize.c), which a model with a float cache does not link.
 */
#include "tn_runtime.h"
#include "tn_lm.h"

/* The lane sum of q[d] * (code[d] * s): an int8 cache row read back with its scale. */
static float tn_lane_dot_i8(const float *q, const int8_t *k, float s, int32_t len) {
  float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  int32_t d;
  for (d = 0; d < len; d++) acc[d & 7] += q[d] * ((float)k[d] * s);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* int8 cache: each KV head's head_dim values of a position quantized as one QuantizeInt8 row
 * (tn_quantize_i8: absmax / 127 into k_scale[position][head]), read back as (float)code * scale. */
void tn_attention_i8cache(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, int8_t *k_cache, int8_t *v_cache, float *k_scale,
                          float *v_scale, int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y) {
  const int32_t kvw = kv_heads * head_dim, group = heads / kv_heads, p0 = pos[0];
  int32_t r, h, j, d;
  (void)positions;
  for (r = 0; r < n; r++) {
    tn_quantize_i8(k + r * kvw, k_cache + (p0 + r) * kvw, k_scale + (p0 + r) * kv_heads, kv_heads, head_dim);
    tn_quantize_i8(v + r * kvw, v_cache + (p0 + r) * kvw, v_scale + (p0 + r) * kv_heads, kv_heads, head_dim);
  }
  for (r = 0; r < n; r++) {
    const int32_t m = p0 + r;
    for (h = 0; h < heads; h++) {
      const int32_t g = h / group;
      const float *qh = q + r * heads * head_dim + h * head_dim;
      float *yh = y + r * heads * head_dim + h * head_dim;
      for (j = 0; j <= m; j++) scores[j] = tn_lane_dot_i8(qh, k_cache + j * kvw + g * head_dim, k_scale[j * kv_heads + g], head_dim) * scale;
      tn_softmax_scores(scores, m);
      for (d = 0; d < head_dim; d++) {
        float acc = 0.0f;
        for (j = 0; j <= m; j++) {
          const float t = scores[j] * ((float)v_cache[j * kvw + g * head_dim + d] * v_scale[j * kv_heads + g]);
          acc = j == 0 ? t : acc + t;
        }
        yh[d] = acc;
      }
    }
  }
}

/*
 * tn_moe.c - reference kernels of the mixture-of-experts ops (tn_lm.h): the router (logits, top-k with
 * ties to the lower expert index, softmax gates) and the gated combine of the routed outputs, in the
 * interpreter's order of float operations (compiler/ops/lm/moe.ts, docs/numerics.md "Router").
 * The routed expert projections themselves are tn_linear_* calls on one row (ExpertLinear's body).
 */
#include "tn_lm.h"
#include "tn_math.h"

void tn_router_f32(const float *x, int32_t n, const float *w, int32_t experts, int32_t dim, int32_t top_k, int32_t normalize, float *logits, int32_t *idx,
                   float *gates) {
  int32_t t, j, e, i;
  for (t = 0; t < n; t++) {
    int32_t *ti = idx + t * top_k;
    float *tg = gates + t * top_k;
    float m, s = 0.0f;
    tn_linear_f32(x + t * dim, 1, w, experts, dim, logits);
    for (j = 0; j < top_k; j++) {
      int32_t best = -1;
      for (e = 0; e < experts; e++) {
        int32_t taken = 0;
        for (i = 0; i < j; i++) taken |= ti[i] == e;
        if (taken) continue;
        if (best < 0 || logits[e] > logits[best]) best = e;
      }
      ti[j] = best;
    }
    m = logits[ti[0]];
    for (j = 0; j < top_k; j++) tg[j] = tn_expf(logits[ti[j]] - m);
    if (normalize)
      for (j = 0; j < top_k; j++) s = j == 0 ? tg[j] : s + tg[j];
    else
      for (e = 0; e < experts; e++) s = e == 0 ? tn_expf(logits[e] - m) : s + tn_expf(logits[e] - m);
    for (j = 0; j < top_k; j++) tg[j] = tn_divf(tg[j], s);
  }
}

void tn_moe_combine_f32(const float *s, const float *gates, const float *const *ys, int32_t top_k, int32_t n, int32_t width, float *y) {
  int32_t t, i, j;
  for (t = 0; t < n; t++)
    for (i = 0; i < width; i++) {
      float v = s[t * width + i];
      for (j = 0; j < top_k; j++) v = v + gates[t * top_k + j] * ys[j][t * width + i];
      y[t * width + i] = v;
    }
}

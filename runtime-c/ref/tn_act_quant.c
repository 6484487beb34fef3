/*
 * tn_act_quant.c - TBT's activation quantizers (the ActQuant op, compiler/ops/lm/act_quant.ts;
 * docs/numerics.md "ActQuant"): each row of x [n, k] becomes the float values its codes stand for.
 * NaN inputs count as 0. Comparisons are the interpreter's, so zero signs and infinities agree;
 * `+ 0.0f` turns -0 into +0 as the interpreter does. y may be x (a row is read before it is written).
 */
#include "tn_lm.h"
#include "tn_math.h"

static float tn_aq_clean(float v) { return v == v ? v : 0.0f; }
static float tn_aq_clip(float v, float c) { return v > c ? c : (v < -c ? -c : v); }
/* clamp of a rounded value; NaN (inf - inf) goes to lo. */
static float tn_aq_clampq(float q, float lo, float hi) { return !(q > lo) ? lo : (q > hi ? hi : q); }

/* ElasticQuantBinarizerSigned: bits 2: step * clamp(rint(x / step), -1, 1); bits 1: step * sign(x). */
void tn_act_elastic_signed_f32(const float *x, int32_t n, int32_t k, int32_t bits, float step, float *y) {
  int32_t i;
  for (i = 0; i < n * k; i++) {
    const float v = tn_aq_clean(x[i]);
    const float q = bits == 1 ? (v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f)) : tn_aq_clampq(tn_rintf(tn_divf(v, step)), -1.0f, 1.0f);
    y[i] = q * step + 0.0f;
  }
}

/* ElasticQuantBinarizerUnsigned: bits 2: m = min(row); clamp(rint((x - m) / step), 0, 2) * step + m;
 * bits 1: clamp(rint(x / step), 0, 1) * step. */
void tn_act_elastic_unsigned_f32(const float *x, int32_t n, int32_t k, int32_t bits, float step, float *y) {
  int32_t r, i;
  for (r = 0; r < n; r++) {
    const float *xr = x + r * k;
    float *yr = y + r * k;
    float m = 0.0f;
    if (bits == 2 && k > 0) {
      m = tn_aq_clean(xr[0]);
      for (i = 1; i < k; i++) {
        const float v = tn_aq_clean(xr[i]);
        if (v < m) m = v;
      }
    }
    for (i = 0; i < k; i++) {
      const float v = tn_aq_clean(xr[i]);
      if (bits == 2) {
        const float q = tn_aq_clampq(tn_rintf(tn_divf(v - m, step)), 0.0f, 2.0f);
        yr[i] = (q * step + m) + 0.0f;
      } else {
        const float q = tn_aq_clampq(tn_rintf(tn_divf(v, step)), 0.0f, 1.0f);
        yr[i] = q * step + 0.0f;
      }
    }
  }
}

/* SymQuantizer, 8 bits: v = clamp(x, -c, c); s = 127 / max|v|; rint(v * s) / s (max 0: v). */
void tn_act_clip8_signed_f32(const float *x, int32_t n, int32_t k, float clip, float *y) {
  int32_t r, i;
  for (r = 0; r < n; r++) {
    const float *xr = x + r * k;
    float *yr = y + r * k;
    float amax = 0.0f, s;
    for (i = 0; i < k; i++) {
      const float v = tn_aq_clip(tn_aq_clean(xr[i]), clip);
      const float a = v < 0.0f ? -v : v;
      if (a > amax) amax = a;
    }
    s = tn_divf(127.0f, amax);
    for (i = 0; i < k; i++) {
      const float v = tn_aq_clip(tn_aq_clean(xr[i]), clip);
      yr[i] = amax == 0.0f ? v : tn_divf(tn_rintf(v * s), s) + 0.0f;
    }
  }
}

/* AsymQuantizer, 8 bits: v = clamp(x, -c, c); lo = min v; d = (max v - lo) + 1e-8;
 * rint(((v - lo) / d) * 255) / 255 * d + lo. */
void tn_act_clip8_unsigned_f32(const float *x, int32_t n, int32_t k, float clip, float *y) {
  int32_t r, i;
  for (r = 0; r < n && k > 0; r++) {
    const float *xr = x + r * k;
    float *yr = y + r * k;
    float lo = tn_aq_clip(tn_aq_clean(xr[0]), clip), hi = lo, d;
    for (i = 1; i < k; i++) {
      const float v = tn_aq_clip(tn_aq_clean(xr[i]), clip);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    d = (hi - lo) + 1e-8f;
    for (i = 0; i < k; i++) {
      const float v = tn_aq_clip(tn_aq_clean(xr[i]), clip);
      const float t = tn_divf(tn_rintf(tn_divf(v - lo, d) * 255.0f), 255.0f);
      yr[i] = (t * d + lo) + 0.0f;
    }
  }
}

/* The signed elastic quantizer's codes (-1, 0, +1) and a scale per row, the step (TBT's integer
 * form: the ternary projection then runs on the int8 kernels). q may be x (code i is byte i). */
void tn_act_elastic_signed_i8(const float *x, int32_t n, int32_t k, int32_t bits, float step, int8_t *q, float *scale) {
  int32_t r, i;
  for (r = 0; r < n; r++) {
    scale[r] = step;
    for (i = 0; i < k; i++) {
      const float v = tn_aq_clean(x[r * k + i]);
      const float c = bits == 1 ? (v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f)) : tn_aq_clampq(tn_rintf(tn_divf(v, step)), -1.0f, 1.0f);
      q[r * k + i] = (int8_t)c;
    }
  }
}

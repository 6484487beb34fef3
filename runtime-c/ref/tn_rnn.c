/*
 * tn_rnn.c - LSTM and GRU, float32 (compiler/ops/onnx/rnn.ts gives the order of every operation).
 * dims: seq, batch, input, hidden, directions, reverse (direction "reverse"), layout. Optional inputs
 * and outputs may be NULL. scratch: (2 + gates) * hidden floats (h, c and the gate values of one row).
 */
#include "tn_runtime.h"
#include "tn_math.h"

static float tn_rnn_act(int32_t code, float x, float alpha, float beta) {
  float v;
  switch (code) {
    case 0: return tn_sigmoidf(x);
    case 1: return tn_tanhf(x);
    case 2: return x > 0.0f ? x : 0.0f;
    case 3:
      v = alpha * x + beta;
      return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    case 4: return x < 0.0f ? alpha * x : x;
    case 5: return x < 0.0f ? alpha * (tn_expf(x) - 1.0f) : x;
    case 6: return x / (1.0f + (x < 0.0f ? -x : x));
    case 7:
      if (x != x) return x;
      v = tn_logf(1.0f + tn_expf(-(x < 0.0f ? -x : x)));
      return x > 0.0f ? x + v : v;
    case 8: return alpha * x + beta;
    case 9: return alpha * tn_tanhf(beta * x);
    default: return x >= alpha ? x : 0.0f;
  }
}

static float tn_rnn_clip(float v, float clip) {
  if (clip > 0.0f) return v < -clip ? -clip : (v > clip ? clip : v);
  return v;
}

/* sum_k v[k] m[j n + k] from 0 in order; v scaled elementwise by s when s is not NULL. */
static float tn_rnn_dot(const float *v, const float *s, const float *m, int32_t j, int32_t n) {
  float acc = 0.0f;
  int32_t k;
  for (k = 0; k < n; ++k) acc = acc + (s ? s[k] * v[k] : v[k]) * m[(size_t)j * (size_t)n + (size_t)k];
  return acc;
}

/* Offsets of X (times input), Y and the states (times hidden) for step t, direction d, row b. */
#define TN_X_AT(t, b) ((size_t)(layout ? (b) * seq + (t) : (t) * batch + (b)) * (size_t)in)
#define TN_Y_AT(t, d, b) ((size_t)(layout ? ((b) * seq + (t)) * dirs + (d) : ((t) * dirs + (d)) * batch + (b)) * (size_t)hid)
#define TN_S_AT(d, b) ((size_t)(layout ? (b) * dirs + (d) : (d) * batch + (b)) * (size_t)hid)

#define TN_RNN_PROLOGUE(G, NACT)                                                                  \
  const int32_t seq = dims[0], batch = dims[1], in = dims[2], hid = dims[3], dirs = dims[4];       \
  const int32_t layout = dims[6];                                                                 \
  float *h = scratch, *c = scratch + hid, *gates = scratch + 2 * hid;                             \
  int32_t d, b, s, j, i;                                                                          \
  if (y)                                                                                          \
    for (i = 0; i < seq * dirs * batch * hid; ++i) y[i] = 0.0f;                                   \
  for (d = 0; d < dirs; ++d) {                                                                    \
    const int32_t reverse = dims[5] || d == 1;                                                    \
    const float *wd = w + (size_t)d * (size_t)(G) * (size_t)hid * (size_t)in;                      \
    const float *rd = r + (size_t)d * (size_t)(G) * (size_t)hid * (size_t)hid;                     \
    const float *wb = bias ? bias + (size_t)d * 2 * (G) * (size_t)hid : NULL;                      \
    const float *rb = bias ? wb + (size_t)(G) * (size_t)hid : NULL;                                \
    const int32_t *ad = acts + d * (NACT);                                                        \
    const float *pd = act_params + 2 * d * (NACT);                                                \
    for (b = 0; b < batch; ++b) {                                                                 \
      const int32_t len = seq_lens ? seq_lens[b] : seq;                                           \
      for (j = 0; j < hid; ++j) {                                                                 \
        h[j] = h0 ? h0[TN_S_AT(d, b) + (size_t)j] : 0.0f;                                         \
        c[j] = TN_C0 ? TN_C0[TN_S_AT(d, b) + (size_t)j] : 0.0f;                                   \
      }                                                                                           \
      for (s = 0; s < seq; ++s) {                                                                 \
        const int32_t t = reverse ? len - 1 - s : s;                                              \
        const float *xt;                                                                          \
        if (t < 0 || t >= len) continue;                                                          \
        xt = x + TN_X_AT(t, b);

#define TN_RNN_EPILOGUE                                                                           \
        if (y)                                                                                    \
          for (j = 0; j < hid; ++j) y[TN_Y_AT(t, d, b) + (size_t)j] = h[j];                        \
      }                                                                                           \
      for (j = 0; j < hid; ++j) {                                                                 \
        if (y_h) y_h[TN_S_AT(d, b) + (size_t)j] = h[j];                                           \
        if (TN_YC) TN_YC[TN_S_AT(d, b) + (size_t)j] = c[j];                                       \
      }                                                                                           \
    }                                                                                             \
  }

/* pre = ((x.W[j] + h.R[j]) + Wb[j]) + Rb[j] */
#define TN_PRE(j, SCALE) \
  (((tn_rnn_dot(xt, NULL, wd, (j), in) + tn_rnn_dot(h, (SCALE), rd, (j), hid)) + (wb ? wb[j] : 0.0f)) + (rb ? rb[j] : 0.0f))
#define TN_ACT(k, v) tn_rnn_act(ad[k], (v), pd[2 * (k)], pd[2 * (k) + 1])

#define TN_C0 c0
#define TN_YC y_c
void tn_lstm_f32(const float *x, const float *w, const float *r, const float *bias, const int32_t *seq_lens, const float *h0,
                 const float *c0, const float *p, const float *act_params, float *y, float *y_h, float *y_c,
                 const int32_t *dims, const int32_t *acts, int32_t input_forget, float clip, float *scratch) {
  TN_RNN_PROLOGUE(4, 3)
  const float *pp = p ? p + (size_t)d * 3 * (size_t)hid : NULL;
  for (j = 0; j < 4 * hid; ++j) gates[j] = TN_PRE(j, NULL);
  for (j = 0; j < hid; ++j) {
    const float ig = TN_ACT(0, tn_rnn_clip(gates[j] + (pp ? pp[j] : 0.0f) * c[j], clip));
    const float fg = input_forget ? 1.0f - ig : TN_ACT(0, tn_rnn_clip(gates[2 * hid + j] + (pp ? pp[2 * hid + j] : 0.0f) * c[j], clip));
    const float gg = TN_ACT(1, tn_rnn_clip(gates[3 * hid + j], clip));
    const float cn = fg * c[j] + ig * gg;
    const float og = TN_ACT(0, tn_rnn_clip(gates[hid + j] + (pp ? pp[hid + j] : 0.0f) * cn, clip));
    c[j] = cn;
    gates[j] = og * TN_ACT(2, cn);
  }
  for (j = 0; j < hid; ++j) h[j] = gates[j];
  TN_RNN_EPILOGUE
}
#undef TN_C0
#undef TN_YC

#define TN_C0 ((const float *)NULL)
#define TN_YC ((float *)NULL)
void tn_gru_f32(const float *x, const float *w, const float *r, const float *bias, const int32_t *seq_lens, const float *h0,
                const float *act_params, float *y, float *y_h, const int32_t *dims, const int32_t *acts,
                int32_t linear_before_reset, float clip, float *scratch) {
  /* cppcheck-suppress nullPointer ; cppcheck 2.10 follows TN_C0 (NULL for a GRU) into the branch its test skips */
  TN_RNN_PROLOGUE(3, 2)
  for (j = 0; j < 2 * hid; ++j) gates[j] = TN_ACT(0, tn_rnn_clip(TN_PRE(j, NULL), clip));
  for (j = 0; j < hid; ++j) {
    const int32_t jh = 2 * hid + j;
    if (linear_before_reset)
      gates[jh] = TN_ACT(1, tn_rnn_clip((tn_rnn_dot(xt, NULL, wd, jh, in) +
                                         gates[hid + j] * (tn_rnn_dot(h, NULL, rd, jh, hid) + (rb ? rb[jh] : 0.0f))) +
                                            (wb ? wb[jh] : 0.0f),
                                        clip));
    else
      gates[jh] = TN_ACT(1, tn_rnn_clip(TN_PRE(jh, gates + hid), clip));
  }
  for (j = 0; j < hid; ++j) h[j] = (1.0f - gates[j]) * gates[2 * hid + j] + gates[j] * h[j];
  /* cppcheck-suppress nullPointer ; as above, TN_YC (NULL for a GRU) is only written when it is not */
  TN_RNN_EPILOGUE
}

/*
 * tn_sample.c - token sampling for language models, bit-exact with compiler/lm/sample.ts.
 *
 * The specification, step by step (docs/sampling.md has it with the reasons), for logits x[0..V):
 *   1. temperature T not > 0: argmax(x) (lowest index of the largest non-NaN logit, 0 if all are NaN);
 *      no random number is drawn.
 *   2. z[i] = x[i] / T.
 *   3. m = the largest non-NaN z[i]; if every z[i] is NaN: draw one number, return argmax(x).
 *   4. e[i] = 0 for a NaN z[i], 1 when z[i] == m, else tn_expf(z[i] - m).
 *   5. s = sum of e[i] in index order (s >= 1).
 *   6. p[i] = e[i] / s.
 *   7. kept list: with neither top-k (0 < top_k < V) nor top-p (0 < top_p < 1) on, every token in
 *      index order; otherwise tokens in the order (p descending, index ascending), at most top_k of
 *      them, accumulating c += p[t] and, with top-p on, stopping right after c > top_p.
 *   8. mass = the kept p summed in kept order (c).
 *   9. r = tn_rng_f32() * mass; walk the kept list with cdf += p[t], return the first t with r < cdf
 *      (the last kept one if none, which does not happen: r < mass).
 * Every float operation is one binary32 operation in the order written (-ffp-contract=off).
 * Divisions go through tn_divf, whose quotient is right also when subnormal on soft-float targets.
 */
#include "tn_sample.h"
#include "tn_math.h"

/* ---- PRNG: xorshift64* ------------------------------------------------------------------------ */

void tn_rng_seed(tn_rng *rng, uint64_t seed) { rng->state = seed != 0 ? seed : TN_RNG_SEED_ZERO_STATE; }

uint32_t tn_rng_u32(tn_rng *rng) {
  uint64_t s = rng->state;
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  rng->state = s;
  return (uint32_t)((s * UINT64_C(0x2545F4914F6CDD1D)) >> 32);
}

float tn_rng_f32(tn_rng *rng) { return (float)(tn_rng_u32(rng) >> 8) * 0x1p-24f; /* both steps exact */ }

/* ---- argmax ----------------------------------------------------------------------------------- */

int32_t tn_sample_argmax(const float *logits, int32_t vocab) {
  int32_t i, best = -1;
  for (i = 0; i < vocab; ++i) {
    const float v = logits[i];
    if (v != v) continue;                        /* NaN never wins */
    if (best < 0 || v > logits[best]) best = i; /* strictly greater: the first maximum wins */
  }
  return best < 0 ? 0 : best;
}

/* ---- the order of the kept list: a binary heap over token indices ------------------------------ */

/* a comes before b: higher probability, then lower index. Probabilities are never NaN here. */
/* cppcheck-suppress arrayIndexThenCheck ; a < b breaks ties between two indexes, it checks no bound */
static int tn_before(const float *p, int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); }

/* Move heap[i] down to its place in the heap heap[0..n). */
static void tn_sift_down(const float *p, int32_t *heap, int32_t i, int32_t n) {
  const int32_t t = heap[i];
  while (i < n / 2) { /* i < n / 2, so 2 i + 2 <= n cannot overflow */
    int32_t c = 2 * i + 1;
    if (c + 1 < n && tn_before(p, heap[c + 1], heap[c])) c++;
    if (!tn_before(p, heap[c], t)) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = t;
}

/* ---- sampling --------------------------------------------------------------------------------- */

int32_t tn_sample_token(const float *logits, int32_t vocab, float temperature, int32_t top_k, float top_p, tn_rng *rng,
                        float *scratch_probs, int32_t *scratch_index) {
  float *p = scratch_probs;
  int32_t *heap = scratch_index;
  float m = 0.0f, s = 0.0f, mass = 0.0f, r, cdf = 0.0f;
  int32_t i, kept = 0, limit, use_k, use_p, have_m = 0;

  if (vocab < 1) return -1;
  /* 1. argmax */
  if (!(temperature > 0.0f)) return tn_sample_argmax(logits, vocab);

  /* 2, 3. scaled logits and their largest non-NaN value */
  for (i = 0; i < vocab; ++i) {
    const float z = tn_divf(logits[i], temperature);
    p[i] = z;
    if (z == z && (!have_m || z > m)) {
      m = z;
      have_m = 1;
    }
  }
  if (!have_m) {
    (void)tn_rng_u32(rng); /* every sampling call draws exactly one number */
    return tn_sample_argmax(logits, vocab);
  }

  /* 4, 5, 6. softmax */
  for (i = 0; i < vocab; ++i) {
    const float z = p[i];
    const float e = z != z ? 0.0f : z == m ? 1.0f : tn_expf(z - m);
    p[i] = e;
    s = s + e;
  }
  for (i = 0; i < vocab; ++i) p[i] = tn_divf(p[i], s); /* s >= 1 */

  use_k = top_k > 0 && top_k < vocab;
  use_p = top_p > 0.0f && top_p < 1.0f; /* false for NaN */
  if (!use_k && !use_p) {
    /* 7, 8, 9 without filtering: every token, in index order */
    for (i = 0; i < vocab; ++i) mass = mass + p[i];
    r = tn_rng_f32(rng) * mass;
    for (i = 0; i < vocab; ++i) {
      cdf = cdf + p[i];
      if (r < cdf) return i;
    }
    return vocab - 1;
  }

  /* 7, 8. Heap sort, stopped early: each pop moves the top of heap[0..n) to heap[n - 1], so the kept
   * tokens end up at heap[vocab - 1], heap[vocab - 2], ... in kept order. O(vocab + kept log vocab). */
  for (i = 0; i < vocab; ++i) heap[i] = i;
  for (i = vocab / 2 - 1; i >= 0; --i) tn_sift_down(p, heap, i, vocab);
  limit = use_k ? top_k : vocab;
  while (kept < limit) {
    const int32_t n = vocab - kept, top = heap[0];
    heap[0] = heap[n - 1];
    heap[n - 1] = top;
    tn_sift_down(p, heap, 0, n - 1);
    kept++;
    mass = mass + p[top];
    if (use_p && mass > top_p) break;
  }

  /* 9. the draw */
  r = tn_rng_f32(rng) * mass;
  for (i = 0; i < kept; ++i) {
    const int32_t t = heap[vocab - 1 - i];
    cdf = cdf + p[t];
    if (r < cdf) return t;
  }
  return heap[vocab - kept];
}

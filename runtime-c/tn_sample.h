/*
 * tn_sample.h - token sampling for language models (ref/tn_sample.c): llama2.c's xorshift64* PRNG and
 * temperature / top-k / top-p sampling, bit-exact with tritc's compiler/lm/sample.ts. docs/sampling.md
 * gives the specification step by step; test/sampling.test.ts checks C against TypeScript.
 *
 * Portable C99: no libc, no libm, no malloc. The caller provides the scratch memory.
 * Build with -ffp-contract=off (docs/numerics.md).
 */
#ifndef TN_SAMPLE_H
#define TN_SAMPLE_H

#include <stdint.h>

#include "tn_numerics.h" /* no fused multiply-add, whatever the flags */

/* The state used for seed 0, which xorshift64* would never leave: 2^64 / golden ratio. */
#define TN_RNG_SEED_ZERO_STATE UINT64_C(0x9E3779B97F4A7C15)

/* The PRNG: one 64-bit state, never 0 once seeded. */
typedef struct tn_rng {
  uint64_t state;
} tn_rng;

/* state = seed, or TN_RNG_SEED_ZERO_STATE for seed 0. */
void tn_rng_seed(tn_rng *rng, uint64_t seed);
/* xorshift64* (llama2.c's random_u32): s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
 * returns (s * 0x2545F4914F6CDD1D) >> 32. */
uint32_t tn_rng_u32(tn_rng *rng);
/* (u32 >> 8) * 2^-24: a float in [0, 1) with 24 random bits, exact. */
float tn_rng_f32(tn_rng *rng);

/* The lowest index of the largest logit; NaN never wins; 0 when every logit is NaN (or vocab < 1). */
int32_t tn_sample_argmax(const float *logits, int32_t vocab);

/* One token id from logits[0..vocab):
 *   temperature not > 0 (0, negative, NaN): tn_sample_argmax, no random number drawn;
 *   otherwise softmax(logits / temperature), then top-k (0 < top_k < vocab) and top-p
 *   (0 < top_p < 1), then one draw of tn_rng_f32 (exactly one per call).
 * scratch_probs: vocab floats; scratch_index: vocab int32 (used only when top-k or top-p is on).
 * On return after a draw, scratch_probs holds the probabilities p[0..vocab) (docs/sampling.md, step 6)
 * unless every scaled logit was NaN. Returns -1 (and draws nothing) when vocab < 1. */
int32_t tn_sample_token(const float *logits, int32_t vocab, float temperature, int32_t top_k, float top_p, tn_rng *rng,
                        float *scratch_probs, int32_t *scratch_index);

#endif /* TN_SAMPLE_H */

/*
 * tn_lm.h - the kernels of the language-model ops (compiler/ops/lm/, docs/lm.md; semantics in
 * docs/numerics.md). Every kernel takes the rows of the call (n): a token-batched graph runs the
 * first n rows of its [max, ...] buffers. Float operations follow the interpreter's order exactly;
 * dot products use the lane sum (docs/numerics.md, "Lane sums"): eight interleaved partial sums
 * combined by a fixed tree.
 */
#ifndef TN_LM_H
#define TN_LM_H

#include <stdint.h>

#include "tn_numerics.h" /* no fused multiply-add, whatever the flags */

/* ---- ref/tn_act_quant.c: TBT's activation quantizers (ActQuant), per row of x [n, k]; y may be x - */

void tn_act_elastic_signed_f32(const float *x, int32_t n, int32_t k, int32_t bits, float step, float *y);
void tn_act_elastic_unsigned_f32(const float *x, int32_t n, int32_t k, int32_t bits, float step, float *y);
void tn_act_clip8_signed_f32(const float *x, int32_t n, int32_t k, float clip, float *y);
void tn_act_clip8_unsigned_f32(const float *x, int32_t n, int32_t k, float clip, float *y);
/* The signed elastic quantizer as int8 codes and a scale per row (the step); q may be x. */
void tn_act_elastic_signed_i8(const float *x, int32_t n, int32_t k, int32_t bits, float step, int8_t *q, float *scale);

/* ---- ref/tn_lm.c ------------------------------------------------------------------------ */

/* y[r] = row ids[r] of the table [vocab, dim]; ids are trusted (the driver checks them). */
void tn_embed_f32(const int32_t *ids, int32_t n, const float *table, int32_t vocab, int32_t dim, float *y);
void tn_embed_f16(const int32_t *ids, int32_t n, const uint16_t *table, int32_t vocab, int32_t dim, float *y);
/* int8 codes, scale index row * groups_per_row + col / group (groups_per_row 0: one scale). */
void tn_embed_q8(const int32_t *ids, int32_t n, const int8_t *codes, const float *scales, int32_t groups_per_row, int32_t group, int32_t vocab, int32_t dim, float *y);

/* y = x / sqrt(mean(x^2) + eps) * w per row; y may be x. */
void tn_rms_norm_f32(const float *x, int32_t n, const float *w, int32_t dim, float eps, float *y);

/* Rotary embedding of rows at positions pos[0] + r, from [positions, rope_dim / 2] tables; y may be x.
 * adjacent: pairs (2i, 2i + 1); half: pairs (i, i + rope_dim / 2). */
void tn_rope_adjacent_f32(const float *x, int32_t n, const int32_t *pos, const float *cos_t, const float *sin_t, int32_t heads, int32_t head_dim, int32_t rope_dim, float *y);
void tn_rope_half_f32(const float *x, int32_t n, const int32_t *pos, const float *cos_t, const float *sin_t, int32_t heads, int32_t head_dim, int32_t rope_dim, float *y);

/* Causal grouped-query attention: stores k, v of the n rows at positions pos[0] .. pos[0] + n - 1
 * of the caches [positions, kv_heads * head_dim], then attends; scores: positions floats of scratch. */
void tn_attention_f32(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                      int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);
void tn_attention_f16cache(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache, int32_t positions,
                           int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);
/* ref/tn_attention_i8.c: an int8 cache with a float scale per position and KV head ([positions,
 * kv_heads]): K and V of the n rows quantized per head as tn_quantize_i8 quantizes a row (needs
 * ref/tn_quantize.c and ref/tn_lm.c). */
void tn_attention_i8cache(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, int8_t *k_cache, int8_t *v_cache, float *k_scale,
                          float *v_scale, int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);

/* The same results bit for bit, faster: AVX2 + F16C (opt/x86/tn_attention_avx2.c, chosen at run
 * time by CPUID) and AArch64 NEON (opt/arm/tn_attention_neon.c); elsewhere each is the reference. */
void tn_attention_f32_avx2(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                           int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);
void tn_attention_f16cache_avx2(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache,
                                int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);
void tn_attention_f32_neon(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                           int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);
void tn_attention_f16cache_neon(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache,
                                int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);

/* Softmax of s[0..m] in place, as Attention takes it (internal: the attention kernels share it). */
void tn_softmax_scores(float *s, int32_t m);

/* y = act(g) * u elementwise: silu(g) = g / (1 + e^-g); relu2(g) = max(g, 0)^2. y may be g or u. */
void tn_gated_silu_f32(const float *g, const float *u, int32_t n, int32_t width, float *y);
/* opt/x86/tn_gated_avx2.c (AVX2, chosen at run time) and opt/arm/tn_gated_neon.c (AArch64 NEON):
 * tn_gated_silu_f32's results bit for bit, with ref/tn_lm.c and ref/tn_math.c beside them. */
void tn_gated_silu_f32_avx2(const float *g, const float *u, int32_t n, int32_t width, float *y);
void tn_gated_silu_f32_neon(const float *g, const float *u, int32_t n, int32_t width, float *y);
void tn_gated_relu2_f32(const float *g, const float *u, int32_t n, int32_t width, float *y);

/* y = x + r elementwise; y may be x or r. */
void tn_residual_f32(const float *x, const float *r, int32_t n, int32_t width, float *y);

/* y[t][j] = x[t][index[j]] (GPTQ act-order: activations permuted to the weight's stored column order). */
void tn_permute_columns(const float *x, int32_t n, const int32_t *index, int32_t k, float *y);

/* ---- ref/tn_moe.c: mixture of experts (compiler/ops/lm/moe.ts) ------------------------------- */

/* Per row: logits = x w^T (tn_linear_f32 into `logits`, experts floats), the top_k experts by logit
 * (ties to the lower index) into idx, and their gates: softmax over all experts' logits, or over the
 * top_k chosen ones when normalize is nonzero. */
void tn_router_f32(const float *x, int32_t n, const float *w, int32_t experts, int32_t dim, int32_t top_k, int32_t normalize, float *logits, int32_t *idx,
                   float *gates);
/* y = s + gates[:, 0] * ys[0] + gates[:, 1] * ys[1] + ... in order; y may be s. */
void tn_moe_combine_f32(const float *s, const float *gates, const float *const *ys, int32_t top_k, int32_t n, int32_t width, float *y);

/* ---- ref/tn_linear.c: y[n][rows] = x[n][k] times W[rows][k]^T, float activations ------------- */

void tn_linear_f32(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y);
void tn_linear_f16(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y);
/* Codes with float32 scales per group of `group` consecutive k (groups_per_row 0: one scale per
 * tensor, 1: per row): each group's lane sum times its scale, the groups added in order. */
void tn_linear_q8(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
/* Ternary codes in the t2 layout (tn_runtime.h): rows of ceil(k / 4) bytes. No multiply per weight. */
void tn_linear_t2(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
/* Ternary trit-planes ([planes][rows] t2 rows; at most TN_MAX_PLANES), unsigned b-bit codes with zero
 * points (layout ub), and the static bias added after any of them. */
#define TN_MAX_PLANES 4
void tn_linear_t2p(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                   float *y);
void tn_linear_ub(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                  int32_t rows, int32_t k, float *y);
void tn_linear_bias(float *y, int32_t n, const float *bias, int32_t rows);

/* ---- ref/tn_linear_c4.c: Fairy2i (WidelyLinear), y = U x + W conj(x) on the halves of x and y ----- */

/* Codes i^e (2 bits, layout c4) in `stages` planes of U and of W ([stages][2][rows/2] rows of
 * ceil(k/8) bytes), scales [stages][2][2]; rows and k even, stages at most TN_MAX_STAGES. */
#define TN_MAX_STAGES 4
void tn_linear_c4(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y);
/* opt/generic/tn_linear_c4_scalar.c: the same floats, one lane at a time with the sums in registers
 * (1 or 2 stages; more run tn_linear_c4, which it needs beside it). */
void tn_linear_c4_scalar(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y);

/* ---- opt/x86/tn_linear_avx2.c (AVX2 + F16C, chosen at run time; else the reference above) and
 * opt/arm/tn_linear_neon.c (AArch64 NEON; elsewhere the reference): the reference's results, bit for
 * bit (one vector of 8 lanes per output is the lane sum), faster. Both need ref/tn_linear.c. ------- */

void tn_linear_f32_avx2(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y);
void tn_linear_f16_avx2(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y);
void tn_linear_q8_avx2(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2_avx2(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2p_avx2(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                        int32_t k, float *y);
void tn_linear_ub_avx2(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                       int32_t rows, int32_t k, float *y);
/* Fairy2i (1 or 2 stages; more, or no AVX2, run tn_linear_c4_scalar, needed beside it). */
void tn_linear_c4_avx2(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y);
void tn_linear_f32_neon(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y);
void tn_linear_f16_neon(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y);
void tn_linear_q8_neon(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2_neon(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2p_neon(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                        int32_t k, float *y);
/* ub falls back to tn_linear_ub_scalar (opt/generic/tn_linear_scalar.c, needed beside these). */
void tn_linear_ub_neon(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                       int32_t rows, int32_t k, float *y);
void tn_linear_c4_neon(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y);

/* ---- opt/generic/tn_linear_scalar.c: the reference's results, bit for bit, with the eight lanes in
 * named locals (registers) and ternary codes decoded eight at a time: the kernels of the targets
 * without the two files above (microcontrollers, RISC-V, ARMv7), and of 'ub' weights everywhere.
 * Needs ref/tn_linear.c (groups that do not start on a whole byte of codes run it). ------------- */

void tn_linear_f32_scalar(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y);
void tn_linear_f16_scalar(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y);
void tn_linear_q8_scalar(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2_scalar(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2p_scalar(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                          int32_t k, float *y);
void tn_linear_ub_scalar(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                         int32_t rows, int32_t k, float *y);

/* ---- Int8Linear: int8 activation codes times int8 weight codes (docs/numerics.md, "Int8Linear") ----
 * ref/tn_int8_linear.c, opt/x86/tn_int8_linear_avx2.c (AVX2, VPDPBUSD where the CPU has AVX-VNNI or
 * AVX512-VNNI; chosen at run time), opt/arm/tn_int8_linear_neon.c (NEON, SDOT with dotprod): the same
 * results everywhere, since the sums are exact integers.
 * x: n rows of k codes in [-127, 127] with a scale per row (x_per_row) or one; w: rows x k codes with
 * float32 scales per group of `group` consecutive k (groups_per_row 0: one per tensor, 1: per row):
 *   acc[g] = sum over k in group g of w[r][k] * x[t][k], exact in int32 (the compiler checks
 *            group * 128 * 127 < 2^31);
 *   s = fl((float)acc[0] * scale[r, 0]), then s = fl(s + fl((float)acc[g] * scale[r, g])) in order of g;
 *   y[t][r] = fl(s * x_scale[t or 0]), then fl(y + bias[r]) where bias is not NULL. */
void tn_int8_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                    int32_t group, int32_t rows, int32_t k, const float *bias, float *y);
void tn_int8_linear_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                         int32_t group, int32_t rows, int32_t k, const float *bias, float *y);
void tn_int8_linear_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                         int32_t group, int32_t rows, int32_t k, const float *bias, float *y);
/* The vector files' driver (ref/tn_int8_linear.c): the reference's loops and float steps, with the
 * group sums of 4 rows at a time from `dot`: acc[q] = sum over j < len of w[q][j] x[j] (exact, or
 * wrapped modulo 2^32: the same where the sum fits int32). */
typedef void (*tn_int8_group4_fn)(const int8_t *const *w, const int8_t *x, int32_t len, int32_t *acc);
void tn_int8_linear_rows4(tn_int8_group4_fn dot, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales,
                          int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, const float *bias, float *y);
/* test/c/int8_linear_check.c: the AVX2 file's variants one by one (0: the reference, 1: AVX2,
 * 2: VPDPBUSD emulated in AVX2, 3: the CPU's own VPDPBUSD); returns 0, or -1 where this CPU (or
 * compiler) cannot run the variant. */
int tn_int8_linear_avx2_variant(int variant, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales,
                                int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, const float *bias, float *y);

#endif /* TN_LM_H */

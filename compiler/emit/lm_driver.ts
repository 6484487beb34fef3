// The language-model driver that model.c gets when the graph is a decoder (Graph.lm): the API a
// firmware or an application calls, around the graph's run function (docs/lm.md):
//
//   void    <p>_reset(void);                                         empty the KV cache
//   int     <p>_forward(const int32_t *tokens, int32_t n, float *logits);   logits of every token [n][vocab]
//   int     <p>_prefill(const int32_t *tokens, int32_t n, float *logits);   logits of the last token [vocab]
//   int     <p>_decode(int32_t token, float *logits);                       one step [vocab]
//   int32_t <p>_position(void);                                      tokens in the cache
//
// Each runs its tokens in chunks of the graph's rows (each weight is read once per chunk), from the
// cache position on. They return 0, or TN_LM_E_* without running anything: -1 the context is full,
// -2 a token id is outside the vocabulary, -3 n < 1. The model's static arena holds the cache (its
// state tensors), so these use the static arena.

import type { Graph } from '../ir.ts';
import type { MemoryPlan } from '../plan/planner.ts';

export function lmDriver(g: Graph, plan: MemoryPlan, prefix: string, run: string, arena: string): { header: string[]; source: string[] } {
  const lm = g.lm!;
  const P = prefix.toUpperCase();
  const chunk = g.rows!.max;
  const states = plan.placements.filter((p) => p.kind === 'state');
  const header = [
    `/* Language model (docs/lm.md): vocabulary ${lm.vocab}, context ${lm.context} positions, ${chunk} tokens per chunk. */`,
    `#define ${P}_VOCAB ${lm.vocab}`,
    `#define ${P}_CONTEXT ${lm.context}`,
    `#define ${P}_CHUNK ${chunk}`,
    `#define ${P}_E_CONTEXT_FULL (-1)`,
    `#define ${P}_E_BAD_TOKEN (-2)`,
    `#define ${P}_E_NO_TOKENS (-3)`,
    ``,
    `/* Empty the KV cache (also what the program starts with). */`,
    `void ${prefix}_reset(void);`,
    `/* Run n tokens from the cache position on; logits of every one: [n][${P}_VOCAB]. */`,
    `int ${prefix}_forward(const int32_t *tokens, int32_t n, float *logits);`,
    `/* Run a prompt of n tokens; the logits of the last one: [${P}_VOCAB]. */`,
    `int ${prefix}_prefill(const int32_t *tokens, int32_t n, float *logits);`,
    `/* One decoding step: the logits after token: [${P}_VOCAB]. */`,
    `int ${prefix}_decode(int32_t token, float *logits);`,
    `/* Tokens in the cache. */`,
    `int32_t ${prefix}_position(void);`,
  ];
  const source = [
    `/* ---- Language model driver (docs/lm.md) ------------------------------------------------- */`,
    ``,
    `/* Tokens in the KV cache. The cache itself is state in the arena: ${states.map((s) => `${s.name} [${s.offset}, +${s.bytes})`).join(', ') || 'none'}. */`,
    `static int32_t ${prefix}_pos;`,
    ``,
    `void ${prefix}_reset(void) {`,
    `  uint8_t *arena = (uint8_t *)${arena};`,
    `  int32_t i;`,
    ...(states.length
      ? [`  /* zero the KV cache */`, ...states.map((s) => `  for (i = 0; i < ${s.bytes}; i++) arena[${s.offset} + i] = 0; /* ${s.name} */`)]
      : ['  (void)arena;', '  (void)i;']),
    `  ${prefix}_pos = 0;`,
    `}`,
    ``,
    `int32_t ${prefix}_position(void) {`,
    `  return ${prefix}_pos;`,
    `}`,
    ``,
    `/* Runs tokens in chunks; out_rows: every token's logits (n), or the last token's only (1). */`,
    `static int ${prefix}_chunks(const int32_t *tokens, int32_t n, float *logits, int all) {`,
    `  int32_t done = 0, i;`,
    `  if (n < 1) return ${P}_E_NO_TOKENS;`,
    `  if (n > ${lm.context} - ${prefix}_pos) return ${P}_E_CONTEXT_FULL;`,
    `  for (i = 0; i < n; i++)`,
    `    if (tokens[i] < 0 || tokens[i] >= ${lm.vocab}) return ${P}_E_BAD_TOKEN;`,
    `  while (done < n) {`,
    `    const int32_t c = n - done < ${chunk} ? n - done : ${chunk};`,
    `    const int32_t out_rows = all ? c : (done + c == n ? 1 : 0);`,
    `    int32_t pos[1];`,
    `    int32_t ids[${chunk}];`,
    `    for (i = 0; i < c; i++) ids[i] = tokens[done + i];`,
    `    for (; i < ${chunk}; i++) ids[i] = 0;`,
    `    pos[0] = ${prefix}_pos;`,
    `    ${run}(ids, pos, logits, c, out_rows);`,
    `    if (all) logits += c * ${lm.vocab};`,
    `    ${prefix}_pos += c;`,
    `    done += c;`,
    `  }`,
    `  return 0;`,
    `}`,
    ``,
    `int ${prefix}_forward(const int32_t *tokens, int32_t n, float *logits) {`,
    `  return ${prefix}_chunks(tokens, n, logits, 1);`,
    `}`,
    ``,
    `int ${prefix}_prefill(const int32_t *tokens, int32_t n, float *logits) {`,
    `  return ${prefix}_chunks(tokens, n, logits, 0);`,
    `}`,
    ``,
    `int ${prefix}_decode(int32_t token, float *logits) {`,
    `  return ${prefix}_chunks(&token, 1, logits, 0);`,
    `}`,
  ];
  return { header, source };
}

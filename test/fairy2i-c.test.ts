// The Fairy2i kernel (runtime-c/opt/generic/tn_linear_c4_scalar.c over ref/tn_linear_c4.c, the
// WidelyLinear op) bit for bit against the interpreter: random decoders whose projections are Fairy2i codes of 1 to 3 stages on every target
// (the host and each QEMU target), and stories260K quantized to Fairy2i-W2 with its head (the head
// runs only the last rows of a call) on the host. Every
// position's logits of a prefill and the greedy decode steps' logits hashes must match exactly.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { runLmOnTarget } from '../compiler/harness/lm_run.ts';
import { logitsHash } from '../compiler/harness/lm_runner.ts';
import { cloneGraph, type Graph } from '../compiler/ir.ts';
import { buildLmGraph } from '../compiler/lm/build.ts';
import type { LmModel } from '../compiler/lm/model.ts';
import { argmaxToken } from '../compiler/lm/sample.ts';
import { LmSession } from '../compiler/lm/session.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { fairy2iQuantizeModel } from '../compiler/quantize/fairy2i.ts';
import { readLlama2c } from '../compiler/readers/llama2c/checkpoint.ts';
import { loadTargets, type TargetDesc } from '../compiler/targets.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { randomLm } from '../bench/gen/random_lm.ts';
import { workDir } from './support/differential.ts';

/** Build and run on `target`; one line per difference from the interpreter. */
async function differences(g: Graph, target: TargetDesc, prompt: number[], steps: number, dir: string): Promise<string[]> {
  const compiled = compileGraph(cloneGraph(g), { target, verify: true, skipFitCheck: true });
  const s = new LmSession(prepareGraph(cloneGraph(g)));
  const forward = s.forward(prompt);
  s.reset();
  let logits = s.prefill(prompt);
  const tokens: number[] = [];
  const hashes: bigint[] = [];
  for (let i = 0; i < steps; i++) {
    if (i > 0) logits = s.decode(tokens[i - 1]!);
    hashes.push(logitsHash(logits));
    tokens.push(argmaxToken(logits));
  }
  const run = await runLmOnTarget(
    compiled,
    [
      { mode: 'forward', tokens: prompt },
      { mode: 'generate', tokens: prompt, steps, temperature: 0 },
    ],
    target,
    dir,
  );
  const bad: string[] = [];
  forward.forEach((w, p) => {
    const got = run.results[0]!.logits[p]!;
    const j = w.findIndex((v, k) => !Object.is(v, got[k]));
    if (j >= 0) bad.push(`${g.name} on ${target.name}: position ${p} logit ${j}: ${got[j]}, the interpreter ${w[j]}`);
  });
  const gen = run.results[1]!;
  hashes.forEach((h, i) => {
    if (gen.hashes[i] !== h || gen.tokens[i] !== tokens[i])
      bad.push(`${g.name} on ${target.name}: decode step ${i}: token ${gen.tokens[i]} (hash ${gen.hashes[i]}), the interpreter ${tokens[i]} (${h})`);
  });
  return bad;
}

/** A random decoder whose even projections are Fairy2i, with at least one layer of each of 1, 2, 3 stages drawn somewhere across seeds. */
function fairyModel(seed: number): LmModel {
  return randomLm(seed, { projections: 'fairy2i' });
}

describe('Fairy2i (WidelyLinear, tn_linear_c4) bit for bit against the interpreter', () => {
  for (const target of loadTargets().values()) {
    it(`random decoders with Fairy2i projections on ${target.name}`, async () => {
      const bad: string[] = [];
      for (const seed of target.name === 'host' ? [11, 12, 13] : [20 + target.name.length]) {
        const m = fairyModel(seed);
        expect([...m.tensors.values()].some((t) => t.kind === 'fairy2i')).toBe(true);
        const g = buildLmGraph(m, { chunk: 1 + (seed % 3) });
        const prompt = Array.from({ length: 6 }, (_, i) => (i * 5 + 1) % m.config.vocabSize);
        bad.push(...(await differences(g, target, prompt, 5, workDir(`fairy2i-${target.name}-${seed}`))));
      }
      expect(bad).toEqual([]);
    });
  }

  it('stories260K in Fairy2i-W2, head included, on the host (prefill and 16 decode steps)', async () => {
    const base = readLlama2c(join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin'));
    const g = buildLmGraph(fairy2iQuantizeModel(base, { stages: 2, head: true }), { context: 32, chunk: 4 });
    const host = loadTargets().get('host')!;
    expect(await differences(g, host, [1, 403, 407, 261, 378, 8, 9], 16, workDir('fairy2i-stories-host'))).toEqual([]);
  });
});

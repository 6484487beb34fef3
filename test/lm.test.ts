// Language models end to end: every shared GGUF file and llama2.c's stories260K through the reader, the
// decoder builder, the interpreter (within 1e-4 of an independent float64 forward pass) and the C on
// the host (every position's logits and 32 greedy decode steps bit for bit); random small decoders
// (odd dimensions, GQA, both RoPE styles, sub-norms, relu2, every weight kind, float16 caches,
// chunk sizes) bit for bit on the host and a sample on every QEMU target.

import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph, writeFilesAtomically } from '../compiler/compile.ts';
import { runLmOnTarget } from '../compiler/harness/lm_run.ts';
import { logitsHash, type LmJob } from '../compiler/harness/lm_runner.ts';
import { cloneGraph, type Graph } from '../compiler/ir.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { buildLmGraph, type LmBuildOptions } from '../compiler/lm/build.ts';
import type { LmModel } from '../compiler/lm/model.ts';
import { argmaxToken } from '../compiler/lm/sample.ts';
import { LmSession } from '../compiler/lm/session.ts';
import { readGgufLm } from '../compiler/readers/gguf/lm.ts';
import { readLlama2c } from '../compiler/readers/llama2c/checkpoint.ts';
import { loadTargets, type TargetDesc } from '../compiler/targets.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { workDir } from './support/differential.ts';
import { referenceLogits } from './support/lm_reference.ts';
import { randomLm } from '../bench/gen/random_lm.ts';
import { scaled } from './support/tier.ts';

const GGUF = [
  'trilm-synth-f32',
  'trilm-synth-tq2_0',
  'trilm-synth-tq1_0',
  'bitnet-synth-f32',
  'bitnet-synth-tq2_0',
  'bitnet-synth-tq1_0',
  'bitnet-synth-i2_s',
  'stories260K-f32',
];

function loadShared(name: string): LmModel {
  return name === 'stories260K'
    ? readLlama2c(join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin'))
    : readGgufLm(join(SHARED_DATA, 'gguf', `${name}.gguf`));
}

/** What the C must reproduce: every position's logits from an empty cache, and greedy steps' hashes. */
function expectations(g: Graph, prompt: number[], steps: number): { forward: Float32Array[]; tokens: number[]; hashes: bigint[] } {
  const s = new LmSession(g);
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
  return { forward, tokens, hashes };
}

const EXPECTED = new WeakMap<Graph, Map<string, ReturnType<typeof expectations>>>();

/** Build and run on `target`; returns one line per difference from the interpreter. */
async function differences(g: Graph, target: TargetDesc, prompt: number[], steps: number, dir: string): Promise<string[]> {
  const compiled = compileGraph(cloneGraph(g), { target, verify: true, skipFitCheck: true });
  // The interpreter runs the graph the C was compiled from (after the passes, which change no value
  // but may regroup arithmetic: uniform-scales), the same for every target.
  const key = `${prompt.join(',')}/${steps}`;
  const byGraph = EXPECTED.get(g) ?? new Map<string, ReturnType<typeof expectations>>();
  EXPECTED.set(g, byGraph);
  const want = byGraph.get(key) ?? expectations(prepareGraph(cloneGraph(g)), prompt, steps);
  byGraph.set(key, want);
  const jobs: LmJob[] = [
    { mode: 'forward', tokens: prompt },
    { mode: 'generate', tokens: prompt, steps, temperature: 0 },
  ];
  const run = await runLmOnTarget(compiled, jobs, target, dir);
  const bad: string[] = [];
  want.forward.forEach((w, p) => {
    const got = run.results[0]!.logits[p]!;
    const j = w.findIndex((v, k) => !Object.is(v, got[k]));
    if (j >= 0) bad.push(`${g.name} on ${target.name}: position ${p} logit ${j}: ${got[j]}, the interpreter ${w[j]}`);
  });
  const gen = run.results[1]!;
  want.hashes.forEach((h, i) => {
    if (gen.hashes[i] !== h || gen.tokens[i] !== want.tokens[i])
      bad.push(
        `${g.name} on ${target.name}: decode step ${i}: token ${gen.tokens[i]} (logits hash ${gen.hashes[i]}), the interpreter ${want.tokens[i]} (${h})`,
      );
  });
  return bad;
}

const PROMPT = [1, 5, 9, 13, 17, 2, 7, 100, 200, 300, 400, 33];

describe('language models from the shared files', () => {
  const linux = ['host', 'rpi-aarch64', 'rpi-armv7', 'riscv64-linux'].map((n) => loadTargets().get(n)!);
  for (const name of [...GGUF, 'stories260K']) {
    it(`${name}: within 1e-4 of a float64 forward pass, and bit-exact on the four Linux targets (prefill, 32 decode steps)`, async () => {
      const model = loadShared(name);
      const g = buildLmGraph(model, { context: 64, chunk: 5 });
      const ref = referenceLogits(model, PROMPT);
      const got = new LmSession(g).forward(PROMPT);
      let worst = 0;
      got.forEach((l, p) => l.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[p]![j]!)))));
      expect(worst).toBeLessThan(1e-4);
      const bad: string[] = [];
      for (const t of linux) bad.push(...(await differences(g, t, PROMPT.slice(0, 7), 32, workDir(`lm-${name}-${t.name}`))));
      expect(bad).toEqual([]);
    });
  }

  it('prefill in chunks gives the same logits, bit for bit, as one token at a time', () => {
    const model = loadShared('bitnet-synth-tq1_0');
    const whole = new LmSession(buildLmGraph(model, { context: 32, chunk: 4 })).forward(PROMPT);
    const one = new LmSession(buildLmGraph(model, { context: 32, chunk: 1 }));
    PROMPT.forEach((t, p) => expect(Array.from(one.forward([t])[0]!)).toEqual(Array.from(whole[p]!)));
  });
});

describe('random decoders, bit for bit against the interpreter', () => {
  const targets = [...loadTargets().values()];
  // The cache type by turns: float16, float32 (also against the float64 reference), int8; odd seeds
  // with a float16 or int8 cache run with int8 activations (int8 weights on Int8Linear, ternary ones
  // on TernaryLinear).
  const buildOpts = (seed: number): LmBuildOptions => ({
    chunk: 1 + (seed % 4),
    kvCache: (['float16', 'float32', 'int8'] as const)[seed % 3],
    ...(seed % 2 === 1 && seed % 3 !== 1 ? { activations: 'int8-per-token' as const } : {}),
  });

  it(`on the host (${scaled(12)} models)`, async () => {
    const bad: string[] = [];
    for (let seed = 0; seed < scaled(12); seed++) {
      const m = randomLm(9000 + seed);
      const g = buildLmGraph(m, buildOpts(seed));
      if (buildOpts(seed).kvCache === 'float32') {
        // The float64 reference keeps its cache in float64: compare the float32-cache models with it.
        const ref = referenceLogits(
          m,
          [1, 2, 3].map((t) => t % m.config.vocabSize),
        );
        const got = new LmSession(g).forward([1, 2, 3].map((t) => t % m.config.vocabSize));
        const scale = Math.max(1, ...ref.flatMap((l) => Array.from(l, Math.abs)));
        got.forEach((l, p) => l.forEach((v, j) => expect(Math.abs(v - ref[p]![j]!) / scale, `${m.name} position ${p} logit ${j}`).toBeLessThan(1e-5)));
      }
      const prompt = Array.from({ length: Math.min(m.config.contextLength - 8, 9) }, (_, i) => (i * 7 + seed) % m.config.vocabSize);
      bad.push(
        ...(await differences(
          g,
          targets.find((t) => t.name === 'host')!,
          prompt,
          8,
          workDir(`lm-random-host-${seed}`),
        )),
      );
    }
    expect(bad).toEqual([]);
  });

  for (const target of targets.filter((t) => t.name !== 'host')) {
    it(`on ${target.name} (4 models: mixed weights, trit-planes, b-bit codes, int8 codes)`, async () => {
      const bad: string[] = [];
      const kinds = [undefined, 'planes', 'intb', 'int8'] as const;
      for (const [i, seed] of [100, 200, 300, 400].map((s) => s + target.name.length).entries()) {
        const m = randomLm(seed, { projections: kinds[i] });
        // Trit-planes and int8 codes run with int8 activations (TernaryLinear, Int8Linear), the others
        // with float activations on Linear.
        const int8 = kinds[i] === 'planes' || kinds[i] === 'int8';
        const g = buildLmGraph(m, { ...buildOpts(seed), activations: int8 ? 'int8-per-token' : 'float' });
        const prompt = Array.from({ length: 6 }, (_, i) => (i * 5 + 1) % m.config.vocabSize);
        bad.push(...(await differences(g, target, prompt, 5, workDir(`lm-random-${target.name}-${seed}`))));
      }
      expect(bad).toEqual([]);
    });
  }
});

describe("a compiled language model in the user's build", () => {
  it('its folder builds with its own Makefile and links into a program that calls the API', async () => {
    const dir = workDir('lm-user-build');
    const m = randomLm(4242, { projections: 'ternary' });
    const c = compileGraph(prepareGraph(buildLmGraph(m, { chunk: 3 })), { target: loadTargets().get('host')!, blobThreshold: 0 });
    writeFilesAtomically(c.files, join(dir, 'out'));
    const p = c.emitted.prefix;
    writeFileSync(
      join(dir, 'main.c'),
      `#include <stdio.h>
#include "out/model.h"
int main(void) {
  static float logits[${m.config.vocabSize}];
  const int32_t prompt[4] = {1, 2, 3, 4};
  int32_t i, best = 0;
  ${p}_reset();
  if (${p}_prefill(prompt, 4, logits) != 0) return 1;
  for (i = 1; i < ${m.config.vocabSize}; i++) if (logits[i] > logits[best]) best = i;
  if (${p}_decode(best, logits) != 0) return 2;
  if (${p}_decode(-1, logits) != ${p.toUpperCase()}_E_BAD_TOKEN) return 3;
  printf("%d %d\\n", (int)${p}_position(), (int)best);
  return 0;
}
`,
    );
    const run = (cmd: string) => execFileSync('bash', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
    run('make -s -C out');
    run(`cc -std=c99 -O2 main.c out/lib${p}.a -o prog`);
    const [pos] = run('./prog').trim().split(' ');
    expect(Number(pos)).toBe(5);
    expect(existsSync(join(dir, 'out', 'weights.bin'))).toBe(true);
  });
});

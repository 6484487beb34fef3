// MoTE, mixture of ternary experts (seed-methods 10, docs/formats.md "MoTE"): the router's top-k and
// tie rule, random MoE decoders against the float64 reference and bit for bit in C on the host (AVX2),
// cortex-m4, rv32imc and rpi-aarch64 (NEON), the Hugging Face MoE layout against the reference, the
// up-cycling of a dense model (zero perturbation: the dense model's logits, bit for bit; stories260K
// up-cycled in C), and what `inspect` says about experts.

import { join } from 'node:path';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { runLmOnTarget } from '../compiler/harness/lm_run.ts';
import { cloneGraph, type Graph } from '../compiler/ir.ts';
import { buildLmGraph } from '../compiler/lm/build.ts';
import type { LmModel } from '../compiler/lm/model.ts';
import { LmSession } from '../compiler/lm/session.ts';
import { routeRow } from '../compiler/ops/lm/moe.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { parseUpcycle, upcycleMoe } from '../compiler/lm/upcycle.ts';
import { readLlama2c } from '../compiler/readers/llama2c/checkpoint.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { readHfFolder } from '../compiler/readers/hf/folder.ts';
import { type HfTensorSpec, f32Bytes, llamaConfig, llamaProjections, tmpFolder, writeHfFolder } from './support/hf_writer.ts';
import { loadTargets, type TargetDesc } from '../compiler/targets.ts';
import { randomLm } from '../bench/gen/random_lm.ts';
import { workDir } from './support/differential.ts';
import { referenceLogits } from './support/lm_reference.ts';
import { scaled } from './support/tier.ts';

describe('the router', () => {
  const logits = (...v: number[]) => Float32Array.from(v);

  it('top-1 and top-2 take the largest logits; ties go to the lower expert index', () => {
    expect(routeRow(logits(0.5, 2, -1, 1), 1, false).index).toEqual([1]);
    expect(routeRow(logits(0.5, 2, -1, 1), 2, false).index).toEqual([1, 3]);
    expect(routeRow(logits(1, 3, 3, 3), 1, false).index).toEqual([1]);
    expect(routeRow(logits(1, 3, 3, 3), 2, true).index).toEqual([1, 2]);
    expect(routeRow(logits(0, 0, 0, 0), 2, false).index).toEqual([0, 1]);
    // +0 and -0 tie too.
    expect(routeRow(logits(-0, 0, -1), 2, false).index).toEqual([0, 1]);
  });

  it('gates: softmax over all experts at the chosen ones, or over the chosen ones (normalized)', () => {
    const l = logits(0, Math.log(3), -1e9, 0);
    const all = routeRow(l, 2, false);
    expect(all.index).toEqual([1, 0]);
    expect(all.gates[0]).toBeCloseTo(3 / 5, 6);
    expect(all.gates[1]).toBeCloseTo(1 / 5, 6);
    const norm = routeRow(l, 2, true);
    expect(norm.gates[0]).toBeCloseTo(3 / 4, 6);
    expect(norm.gates[1]).toBeCloseTo(1 / 4, 6);
    // top-1 normalized: the gate is exactly 1 (MoTE's g(p) is the unnormalized probability).
    expect(routeRow(l, 1, true).gates).toEqual([1]);
    expect(routeRow(logits(2, 2), 1, false).gates).toEqual([0.5]);
  });
});

/** Every position's logits on `target` against the interpreter; one line per difference. */
async function differences(g: Graph, target: TargetDesc, prompt: number[], dir: string): Promise<string[]> {
  const compiled = compileGraph(cloneGraph(g), { target, verify: true, skipFitCheck: true });
  const want = new LmSession(prepareGraph(cloneGraph(g))).forward(prompt);
  const run = await runLmOnTarget(compiled, [{ mode: 'forward', tokens: prompt }], target, dir);
  const bad: string[] = [];
  want.forEach((w, p) => {
    const got = run.results[0]!.logits[p]!;
    const j = w.findIndex((v, k) => !Object.is(v, got[k]));
    if (j >= 0) bad.push(`${g.name} on ${target.name}: position ${p} logit ${j}: ${got[j]}, the interpreter ${w[j]}`);
  });
  return bad;
}

/** The largest difference from the float64 reference, relative to the largest logit (at least 1). */
function referenceError(m: LmModel, g: Graph, tokens: number[]): number {
  const ref = referenceLogits(m, tokens);
  const got = new LmSession(g).forward(tokens);
  const scale = Math.max(1, ...ref.flatMap((l) => Array.from(l, Math.abs)));
  let worst = 0;
  got.forEach((l, p) => l.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[p]![j]!) / scale))));
  return worst;
}

describe('random MoE decoders', () => {
  const targets = loadTargets();
  const moeOf = (seed: number) => ({ experts: 2 + (seed % 4), topK: 1 + (seed % 2), normalizeGates: seed % 3 === 0 });

  it(`match the float64 reference and run bit for bit on the host (${scaled(4)} models, top-1 and top-2, float and int8 activations)`, async () => {
    const bad: string[] = [];
    let tiedRouters = 0;
    for (let seed = 0; seed < scaled(4); seed++) {
      const m = randomLm(7100 + seed, { moe: moeOf(seed) });
      for (const [name, t] of m.tensors) if (name.endsWith('ffn_gate_inp') && t.kind === 'float32' && t.data.every((v) => v === 0)) tiedRouters++;
      // Odd seeds: int8 activations, the ternary experts as BitLinear (ExpertLinear on int8 codes).
      const int8 = seed % 2 === 1;
      const g = buildLmGraph(m, { chunk: 1 + (seed % 3), activations: int8 ? 'int8-per-token' : 'float' });
      const tokens = [1, 2, 3, 4].map((t) => t % m.config.vocabSize);
      if (int8) expect(g.nodes.some((n) => n.op === 'ExpertLinear' && g.tensors.get(n.inputs[0]!)!.dtype === 'int8')).toBe(true);
      else expect(referenceError(m, g, tokens), m.name).toBeLessThan(1e-5);
      const prompt = Array.from({ length: 7 }, (_, i) => (i * 5 + seed) % m.config.vocabSize);
      bad.push(...(await differences(g, targets.get('host')!, prompt, workDir(`mote-host-${seed}`))));
    }
    expect(bad).toEqual([]);
    // All-zero routers make every logit tie: the tie rule runs in C too.
    expect(tiedRouters).toBeGreaterThan(0);
  });

  for (const name of ['cortex-m4', 'rv32imc', 'rpi-aarch64']) {
    it(`run bit for bit on ${name} (top-1 and top-2; float, then int8 activations)`, async () => {
      const bad: string[] = [];
      for (const seed of [11, 12]) {
        const m = randomLm(7200 + seed, { moe: moeOf(seed) });
        const g = buildLmGraph(m, { chunk: 2, activations: seed === 12 ? 'int8-per-token' : 'float' });
        const prompt = Array.from({ length: 5 }, (_, i) => (i * 3 + 1) % m.config.vocabSize);
        bad.push(...(await differences(g, targets.get(name)!, prompt, workDir(`mote-${name}-${seed}`))));
      }
      expect(bad).toEqual([]);
    });
  }
});

describe('up-cycling a dense model (stories260K)', () => {
  const stories = () => readLlama2c(join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin'));
  const PROMPT = [1, 5, 9, 13, 17, 2, 7];

  it("with zero perturbation the routed experts are zero: the logits are the dense model's, bit for bit (top-1 and top-2)", () => {
    const dense = stories();
    const want = new LmSession(buildLmGraph(dense, { context: 32, chunk: 4 })).forward(PROMPT);
    for (const topK of [1, 2]) {
      const m = upcycleMoe(dense, { experts: 4, topK, perturbation: 0 });
      const got = new LmSession(buildLmGraph(m, { context: 32, chunk: 4 })).forward(PROMPT);
      got.forEach((l, p) => expect(Array.from(l), `top-${topK} position ${p}`).toEqual(Array.from(want[p]!)));
    }
  });

  it('up-cycled 4:2 (perturbation 0.3) changes the logits, matches the float64 reference and runs bit for bit on the host', async () => {
    const dense = stories();
    const m = upcycleMoe(dense, { experts: 4, topK: 2, perturbation: 0.3 });
    const g = buildLmGraph(m, { context: 32, chunk: 4 });
    expect(referenceError(m, g, PROMPT)).toBeLessThan(1e-4);
    // The experts change the logits (the conversion is not a no-op).
    const denseLogits = new LmSession(buildLmGraph(dense, { context: 32, chunk: 4 })).forward(PROMPT);
    const moeLogits = new LmSession(g).forward(PROMPT);
    expect(moeLogits.some((l, p) => l.some((v, j) => v !== denseLogits[p]![j]))).toBe(true);
    expect(await differences(g, loadTargets().get('host')!, PROMPT, workDir('mote-stories-host'))).toEqual([]);
  });

  it('rejects what it cannot up-cycle, in one line', () => {
    const m = upcycleMoe(stories(), { experts: 2, topK: 1 });
    expect(() => upcycleMoe(m, { experts: 2, topK: 1 })).toThrow(/already a mixture of experts/);
    expect(() => upcycleMoe(stories(), { experts: 2, topK: 3 })).toThrow(/k must be from 1 to min\(E, 8\)/);
    expect(() => parseUpcycle('4x2')).toThrow(/is not E:k or E:k:p/);
    expect(parseUpcycle('8:2:0.05')).toEqual({ experts: 8, topK: 2, perturbation: 0.05 });
    // With int8 activations the ternary experts take int8 codes (MoTE's BitLinear experts).
    const g = buildLmGraph(upcycleMoe(stories(), { experts: 2, topK: 1 }), { activations: 'int8-per-token' });
    expect(g.nodes.filter((n) => n.op === 'ExpertLinear').every((n) => g.tensors.get(n.inputs[0]!)!.dtype === 'int8')).toBe(true);
  });
});

describe('the Hugging Face MoE layout (MoTEForCausalLM)', () => {
  const dim = 8;
  const hidden = 12;
  const expertHidden = 6;
  const experts = 3;
  const layers = 2;
  const r = rng(77);
  const floats = (n: number, std = 0.3) => Float32Array.from({ length: n }, () => std * (r() * 2 - 1));
  /** Ternary values gamma * code, exactly representable. */
  const ternaryValues = (n: number, gamma: number) => ({ codes: Int8Array.from({ length: n }, () => Math.floor(r() * 3) - 1), gamma });

  function writeMote(dir: string, extra: HfTensorSpec[] = [], drop?: string) {
    const tensors: HfTensorSpec[] = [];
    const add = (name: string, shape: number[], v: ArrayLike<number>) => tensors.push({ name, dtype: 'F32', shape, bytes: f32Bytes(v) });
    const exact = new Map<string, { codes: Int8Array; gamma: number }>();
    add('model.embed_tokens.weight', [10, dim], floats(10 * dim, 1));
    add('lm_head.weight', [10, dim], floats(10 * dim));
    add(
      'model.norm.weight',
      [dim],
      floats(dim, 1).map((v) => 1 + v),
    );
    for (let i = 0; i < layers; i++) {
      const L = `model.layers.${i}`;
      add(
        `${L}.input_layernorm.weight`,
        [dim],
        floats(dim).map((v) => 1 + v),
      );
      add(
        `${L}.post_attention_layernorm.weight`,
        [dim],
        floats(dim).map((v) => 1 + v),
      );
      for (const [suffix, n, k] of llamaProjections({ dim, hidden, q: dim, kv: dim / 2 })) {
        add(`${L}.${suffix.replace(/^mlp\./, 'mlp.shared_expert.')}`, [n, k], floats(n * k));
      }
      add(`${L}.mlp.gate.weight`, [experts, dim], floats(experts * dim, 1));
      for (let e = 0; e < experts; e++)
        for (const [p, n, k] of [
          ['gate', expertHidden, dim],
          ['up', expertHidden, dim],
          ['down', dim, expertHidden],
        ] as const) {
          const name = `${L}.mlp.experts.${e}.${p}_proj.weight`;
          if (e === 1)
            add(name, [n, k], floats(n * k)); // float: quantized at load
          else {
            const t = ternaryValues(n * k, 0.125 * (e + 1));
            exact.set(`blk.${i}.ffn_${p}_exps.${e}`, t);
            add(
              name,
              [n, k],
              Array.from(t.codes, (c) => c * t.gamma),
            );
          }
        }
    }
    writeHfFolder(dir, {
      config: llamaConfig({
        architectures: ['MoTEForCausalLM'],
        model_type: 'mote',
        intermediate_size: hidden,
        num_experts: experts,
        num_experts_per_tok: 2,
        moe_intermediate_size: expertHidden,
      }),
      tensors: [...tensors.filter((t) => t.name !== drop), ...extra],
    });
    return exact;
  }

  it('reads router, shared expert and routed experts under their names; the interpreter matches the float64 reference', () => {
    const dir = tmpFolder('mote');
    const exact = writeMote(dir);
    const m = readHfFolder(dir);
    expect(m.config.moe).toEqual({ experts, topK: 2, expertHiddenDim: expertHidden, normalizeGates: false });
    for (const [name, want] of exact) {
      const t = m.tensors.get(name)!;
      expect(t.kind, name).toBe('ternary');
      if (t.kind !== 'ternary') continue;
      expect(Array.from(t.codes), name).toEqual(Array.from(want.codes));
      expect(Array.from(t.scales), name).toEqual([want.gamma]);
    }
    const float = m.tensors.get('blk.0.ffn_up_exps.1')!;
    expect(float.kind === 'ternary' && float.granularity).toBe('per_tensor');
    expect(m.notes.join('\n')).toMatch(/MoTE: 3 routed experts per layer, top-2; 12 expert matrices stored ternary \(kept exactly\), 6 float/);
    const g = buildLmGraph(m, { chunk: 3 });
    expect(referenceError(m, g, [1, 2, 3, 4, 5])).toBeLessThan(1e-5);
  });

  it('says which tensor is missing or unexpected, in one line', () => {
    const dir = tmpFolder('mote-missing');
    writeMote(dir, [], 'model.layers.1.mlp.experts.2.down_proj.weight');
    expect(() => readHfFolder(dir)).toThrow(/model\.layers\.1\.mlp\.experts\.2\.down_proj\.weight.*is missing/);
    const dir2 = tmpFolder('mote-extra');
    writeMote(dir2, [{ name: 'model.layers.0.mlp.shared_expert_gate.weight', dtype: 'F32', shape: [1, dim], bytes: f32Bytes(floats(dim)) }]);
    expect(() => readHfFolder(dir2)).toThrow(/shared_expert_gate\.weight.*is not a tensor of a MoTEForCausalLM/);
  });
});

describe('inspect', () => {
  async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
    return { code: await main(argv, io), out, err };
  }
  const stories = join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin');

  it('shows flash per expert and the parameters a token reads', async () => {
    const r = await tritc('inspect', stories, '--upcycle-moe', '4:2', '--context', '32', '--json');
    expect(r.err).toBe('');
    const moe = JSON.parse(r.out).languageModel.moe;
    // stories260K: 5 layers, dim 64, FFN 172: an expert is 3 * 64 * 172 parameters per layer.
    const perLayer = 3 * 64 * 172;
    expect(moe.experts).toBe(4);
    expect(moe.topK).toBe(2);
    expect(moe.paramsPerExpertLayer).toBe(perLayer);
    expect(moe.activeParamsPerToken).toBe(moe.params - 5 * 2 * perLayer);
    // 2-bit codes, rows padded to whole bytes, one float scale per matrix, over 5 layers.
    const bytes = 5 * (2 * 172 * Math.ceil(64 / 4) + 64 * Math.ceil(172 / 4) + 3 * 4);
    expect(moe.flashPerExpert).toEqual([bytes, bytes, bytes, bytes]);
    const text = await tritc('inspect', stories, '--upcycle-moe', '4:2', '--context', '32');
    expect(text.out).toMatch(/mixture of experts: 4 routed experts per layer, top-2 per token; 33,024 parameters per expert and layer/);
    expect(text.out).toMatch(/flash per expert \(all layers\): #0 .*, #3 /);
    expect(text.out).toMatch(/active parameters per token: [\d,]+ of [\d,]+/);
    expect(text.out).toMatch(/l0\.router +Router +tn_router_f32/);
  });
});

// Random small decoder models (LmModel) for the differential tests: odd dimensions, grouped KV heads,
// both RoPE styles, partial rotary, sub-norms, squared ReLU, tied heads, and weights in every kind the
// builder takes (float32, float16, int8 groups, ternary per tensor / row / group, trit-planes, b-bit
// codes with zero points and act-order columns, static biases, Fairy2i widely-linear codes where
// both dimensions are even), and TBT's activation quantizers on some ternary projections' inputs.

import { rng } from '../../compiler/harness/inputs.ts';
import { blk, expectedShapes, type LmConfig, type LmModel, type LmTensor } from '../../compiler/lm/model.ts';
import { f32ToF16Bits } from '../../compiler/numerics/half.ts';
import type { ActQuantParams } from '../../compiler/ops/lm/act_quant.ts';

/** Sizes that replace the drawn ones (the campaign's shrinker makes a failing decoder small); the
 * other draws stay as the seed makes them. */
export interface LmSizes {
  nLayers?: number;
  nKvHeads?: number;
  /** Query heads per KV head. */
  headsPerKv?: number;
  headDim?: number;
  hiddenDim?: number;
  vocabSize?: number;
  contextLength?: number;
}

export interface RandomLmOptions {
  /** Force a weight kind for the projections. */
  projections?: 'float32' | 'float16' | 'int8' | 'ternary' | 'planes' | 'intb' | 'fairy2i';
  /**
   * A mixture of ternary experts (MoTE) in every layer: `experts` routed experts, top `topK`. The
   * routed experts are ternary (any granularity) unless `projections` says otherwise; a layer's router
   * is all zeros with probability 0.3, so that every logit ties (the lower expert indices win).
   */
  moe?: { experts: number; topK: number; normalizeGates?: boolean };
  sizes?: LmSizes;
}

export function randomLm(seed: number, opts: RandomLmOptions = {}): LmModel {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const z = opts.sizes ?? {};
  // Drawn whether or not a size replaces it, so that the draws after it stay the seed's.
  const draw = <T>(given: T | undefined, xs: readonly T[]): T => {
    const v = pick(xs);
    return given ?? v;
  };
  const kvHeads = draw(z.nKvHeads, [1, 2, 3]);
  const nHeads = kvHeads * draw(z.headsPerKv, [1, 2, 3]);
  const headDim = draw(z.headDim, [4, 6, 8, 10, 16]);
  const subNorms = r() < 0.4 && !opts.moe;
  const config: LmConfig = {
    arch: subNorms ? 'bitnet' : 'llama',
    dim: nHeads * headDim,
    hiddenDim: draw(z.hiddenDim, [7, 12, 20, 33, 48]),
    nLayers: draw(z.nLayers, [1, 2, 3]),
    nHeads,
    nKvHeads: kvHeads,
    headDim,
    vocabSize: draw(z.vocabSize, [11, 32, 50, 97]),
    contextLength: draw(z.contextLength, [12, 24, 40]),
    normEps: pick([1e-5, 1e-6]),
    ropeTheta: pick([10000, 500000]),
    ropeDim: pick([headDim, headDim - 2 >= 2 ? headDim - 2 : headDim]),
    ropeStyle: pick(['adjacent', 'half']),
    ffnAct: pick(['silu', 'relu2']),
    subNorms,
    tiedOutput: r() < 0.4,
    activations: 'float',
  };
  if (opts.moe)
    config.moe = {
      experts: opts.moe.experts,
      topK: opts.moe.topK,
      expertHiddenDim: pick([5, 8, 13, 24]),
      normalizeGates: opts.moe.normalizeGates ?? r() < 0.5,
    };
  const tensors = new Map<string, LmTensor>();
  const normal = () => {
    const u = Math.max(r(), 1e-9);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  };
  const floats = (n: number, std: number, mean = 0) => Float32Array.from({ length: n }, () => mean + std * normal());
  // TBT's input quantizers come from a stream of their own, so that every other draw stays the seed's.
  const rq = rng(seed * 31 + 17);
  const actQuant = (): ActQuantParams | undefined => {
    if (rq() >= 0.35) return undefined;
    const signed = rq() < 0.5;
    if (rq() < 0.35) return { method: 'clip8', bits: 8, signed, alpha: 1, clip: [0.05, 0.3, 2.5][Math.floor(rq() * 3)]! };
    return { method: 'elastic', bits: rq() < 0.5 ? 1 : 2, signed, alpha: [1e-6, 0.01, 0.05, 0.2][Math.floor(rq() * 4)]!, clip: 2.5 };
  };
  for (const [name, shape] of expectedShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (shape.length === 1) tensors.set(name, { kind: 'float32', shape, data: floats(n, 0.1, 1) });
    else if (name.endsWith('.ffn_gate_inp')) tensors.set(name, { kind: 'float32', shape, data: r() < 0.3 ? new Float32Array(n) : floats(n, 0.5) });
    else if (name === 'token_embd' || name === 'output') {
      const kind = pick(['float32', 'float16', 'int8']);
      const v = floats(n, 0.5);
      if (kind === 'float32') tensors.set(name, { kind, shape, data: v });
      else if (kind === 'float16') tensors.set(name, { kind, shape, bits: Uint16Array.from(v, f32ToF16Bits) });
      else tensors.set(name, int8Of(shape as [number, number], v, pick([4, 8, 32])));
    } else {
      const expert = /_exps\.\d+$/.test(name);
      const drawn = opts.projections ?? (expert ? 'ternary' : pick(['float32', 'float16', 'int8', 'ternary', 'ternary', 'planes', 'intb', 'fairy2i'] as const));
      // Fairy2i needs even dimensions (an odd layer stays float32, as Fairy2i's own code leaves it) and
      // is not an expert kind (experts stay ternary).
      const kind = drawn !== 'fairy2i' ? drawn : expert ? 'ternary' : shape[0]! % 2 !== 0 || shape[1]! % 2 !== 0 ? 'float32' : drawn;
      const v = floats(n, 0.3);
      if (kind === 'float32') tensors.set(name, { kind, shape, data: v });
      else if (kind === 'fairy2i') {
        const stages = pick([1, 2, 3]);
        tensors.set(name, {
          kind: 'fairy2i',
          shape: shape as [number, number],
          stages,
          codes: Uint8Array.from({ length: (stages * n) / 2 }, () => Math.floor(r() * 4)),
          scales: floats(stages * 4, 0.02, 0.2),
          source: 'random',
        });
      } else if (kind === 'float16') tensors.set(name, { kind, shape, bits: Uint16Array.from(v, f32ToF16Bits) });
      else if (kind === 'int8') tensors.set(name, int8Of(shape as [number, number], v, pick([3, 8, shape[1]!])));
      else if (kind === 'intb') {
        const [rows, cols] = shape as [number, number];
        const bits = pick([2, 3, 4, 8]);
        const group = pick([4, 5, 16, cols]);
        const groups = rows * Math.ceil(cols / group);
        const max = (1 << bits) - 1;
        const columns = r() < 0.5 && !expert ? shuffled(cols, r) : undefined;
        tensors.set(name, {
          kind: 'intb',
          bits,
          shape: [rows, cols],
          codes: Uint8Array.from({ length: n }, () => Math.floor(r() * (max + 1))),
          scales: floats(groups, 0.01, 0.05),
          zeros: Uint8Array.from({ length: groups }, () => Math.floor(r() * (max + 1))),
          groupSize: group,
          ...(columns ? { columns } : {}),
          ...(r() < 0.4 && !expert ? { bias: floats(rows, 0.1) } : {}),
          source: 'random',
        });
      } else {
        const [rows, cols] = shape as [number, number];
        const planes = kind === 'planes' ? pick([2, 3]) : 1;
        const codes = Int8Array.from({ length: n * planes }, () => Math.floor(r() * 3) - 1);
        const gran = pick(['per_tensor', 'per_row', 'per_group'] as const);
        const group = pick([4, 5, 16]);
        const count = gran === 'per_tensor' ? 1 : gran === 'per_row' ? rows : rows * Math.ceil(cols / group);
        tensors.set(name, {
          kind: 'ternary',
          shape: [rows, cols],
          codes,
          scales: floats(count * planes, 0.02, 0.2),
          granularity: gran,
          ...(gran === 'per_group' ? { groupSize: group } : {}),
          ...(planes > 1 ? { planes } : {}),
          ...(r() < 0.3 && !expert ? { bias: floats(rows, 0.1) } : {}),
          source: 'random',
        });
        const input = expert ? undefined : actQuant();
        if (input) tensors.set(name, { ...(tensors.get(name) as Extract<LmTensor, { kind: 'ternary' }>), input });
      }
    }
  }
  void blk;
  return { name: `rlm${seed}`, source: `random LM ${seed}`, format: 'gguf', sourceHash: `r${seed}`, config, tensors, notes: [] };
}

function int8Of(shape: [number, number], v: Float32Array, group: number): LmTensor {
  const [rows, cols] = shape;
  const gpr = Math.ceil(cols / group);
  const scales = new Float32Array(rows * gpr);
  const codes = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let g = 0; g < gpr; g++) {
      let m = 0;
      for (let c = g * group; c < Math.min(cols, (g + 1) * group); c++) m = Math.max(m, Math.abs(v[r * cols + c]!));
      const s = Math.fround(m / 127 || 1);
      scales[r * gpr + g] = s;
      for (let c = g * group; c < Math.min(cols, (g + 1) * group); c++) codes[r * cols + c] = Math.round(v[r * cols + c]! / s);
    }
  return { kind: 'int8', shape, codes, scales, groupSize: group };
}

/** A random permutation of 0..n-1. */
function shuffled(n: number, r: () => number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

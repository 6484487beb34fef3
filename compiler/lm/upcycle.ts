// Up-cycle a dense decoder into a MoTE model (`--upcycle-moe E:k[:p]`, docs/formats.md "MoTE"): every
// layer's FFN stays as the shared expert, untouched, and gains E routed ternary experts chosen top-k
// by a float router.
//
//   routed expert e, matrix W of the FFN (gate, up, down):   P = p * mean|W| * N(0, 1)   (seeded)
//     init 'delta' (default):  expert = absmean-ternarized P: a ternary perturbation added to the
//                              dense output; p = 0 gives all-zero experts, so the model computes
//                              exactly what the dense one does
//     init 'copy':             expert = absmean-ternarized (W + P): MoTE's initialisation from the
//                              dense checkpoint (the layer then adds a ternary copy of the FFN)
//   router [E, dim]: N(0, 1 / dim) (seeded); gates: softmax over all experts (MoTE's g(p)).
//
// A conversion for trying the layer on a real model before any training; the numbers it gives are
// those of an untrained MoE.

import { fail } from '../diagnostics.ts';
import { rng } from '../harness/inputs.ts';
import { f16BitsToF32, bf16BitsToF32 } from '../numerics/half.ts';
import { blk, type LmModel, type LmTensor } from './model.ts';
import { ternarizeTensor } from './ternarize.ts';

export interface UpcycleOptions {
  experts: number;
  topK: number;
  /** Perturbation size relative to each matrix's mean |W| (default 0.1). */
  perturbation?: number;
  init?: 'delta' | 'copy';
  normalizeGates?: boolean;
  seed?: number;
}

/** Parse `E:k` or `E:k:p` (experts, top-k, perturbation). */
export function parseUpcycle(spec: string): UpcycleOptions {
  const m = /^(\d+):(\d+)(?::(\d+(?:\.\d+)?(?:e-?\d+)?))?$/.exec(spec.trim());
  if (!m) fail('usage', '--upcycle-moe', `"${spec}" is not E:k or E:k:p (experts, experts per token, perturbation), e.g. 4:1 or 8:2:0.05`);
  return { experts: Number(m[1]), topK: Number(m[2]), ...(m[3] !== undefined ? { perturbation: Number(m[3]) } : {}) };
}

function floatValues(name: string, t: LmTensor): Float64Array {
  switch (t.kind) {
    case 'float32':
      return Float64Array.from(t.data);
    case 'float16':
      return Float64Array.from(t.bits, f16BitsToF32);
    case 'bfloat16':
      return Float64Array.from(t.bits, bf16BitsToF32);
    default:
      return fail('unsupported', name, `is ${t.kind}; up-cycling into experts needs the dense FFN in float (up-cycle before quantizing)`);
  }
}

export function upcycleMoe(model: LmModel, opts: UpcycleOptions): LmModel {
  const c = model.config;
  const { experts, topK } = opts;
  const p = opts.perturbation ?? 0.1;
  const init = opts.init ?? 'delta';
  if (c.moe) fail('usage', '--upcycle-moe', `${model.source} is already a mixture of experts`);
  if (c.subNorms) fail('unsupported', '--upcycle-moe', `${model.source} has BitNet sub-norms; up-cycling takes a Llama-style FFN`);
  if (!(Number.isInteger(experts) && experts >= 1 && experts <= 256)) fail('usage', '--upcycle-moe', `${experts} experts: give 1 to 256`);
  if (!(Number.isInteger(topK) && topK >= 1 && topK <= Math.min(experts, 8)))
    fail('usage', '--upcycle-moe', `top-${topK} of ${experts}: k must be from 1 to min(E, 8)`);
  if (!(p >= 0 && Number.isFinite(p))) fail('usage', '--upcycle-moe', `the perturbation ${p} must be a finite number >= 0`);
  const r = rng(opts.seed ?? 1);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  const tensors = new Map(model.tensors);
  for (let l = 0; l < c.nLayers; l++) {
    const routerStd = 1 / Math.sqrt(c.dim);
    tensors.set(blk(l, 'ffn_gate_inp'), {
      kind: 'float32',
      shape: [experts, c.dim],
      data: Float32Array.from({ length: experts * c.dim }, () => routerStd * normal()),
    });
    for (const m of ['ffn_gate', 'ffn_up', 'ffn_down']) {
      const dense = model.tensors.get(blk(l, m))!;
      const w = floatValues(blk(l, m), dense);
      let meanAbs = 0;
      for (const v of w) meanAbs += Math.abs(v);
      meanAbs /= w.length;
      for (let e = 0; e < experts; e++) {
        const v = Float32Array.from(w, (x) => (init === 'copy' ? x : 0) + p * meanAbs * normal());
        const name = blk(l, `${m}_exps.${e}`);
        const t = ternarizeTensor(name, { kind: 'float32', shape: dense.shape, data: v }, { kind: 'per_tensor' });
        tensors.set(name, { ...t, source: `up-cycled from ${m} (${init}, perturbation ${p}): absmean per tensor` });
      }
    }
  }
  return {
    ...model,
    name: `${model.name}_mote${experts}x${topK}`,
    config: { ...c, moe: { experts, topK, expertHiddenDim: c.hiddenDim, normalizeGates: opts.normalizeGates ?? false } },
    tensors,
    notes: [
      ...model.notes,
      `--upcycle-moe: each FFN is the shared expert of ${experts} routed ternary experts (top-${topK}, ${init} init, perturbation ${p} x mean|W|, seed ${opts.seed ?? 1}); router random`,
    ],
  };
}

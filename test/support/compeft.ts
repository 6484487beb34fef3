// Base and fine-tuned decoders for the ComPEFT delta tests: a random base (bench/gen/random_lm.ts)
// and "fine-tuned" float32 copies of it, each projection moved by its own random task vector.

import { rng } from '../../compiler/harness/inputs.ts';
import { deltaSlots } from '../../compiler/lm/delta/base.ts';
import type { TaskDelta } from '../../compiler/lm/delta/blob.ts';
import type { LmModel, LmTensor } from '../../compiler/lm/model.ts';
import { upcycleMoe } from '../../compiler/lm/upcycle.ts';
import { randomLm } from '../../bench/gen/random_lm.ts';
import { dequantize } from './lm_reference.ts';

/** A random base whose projections the delta supports (no act-order columns, no Fairy2i); deterministic from `seed`. */
export function deltaBase(seed: number, projections?: 'ternary' | 'float32'): LmModel {
  for (let s = seed; ; s++) {
    const m = randomLm(s, projections ? { projections } : {});
    // The float reference of a merged delta holds float32 projections: no act-order columns or Fairy2i
    // codes in the base, and its TBT input quantizers are dropped.
    if ([...m.tensors.values()].some((t) => (t.kind === 'intb' && t.columns) || t.kind === 'fairy2i')) continue;
    for (const [name, t] of m.tensors) if (t.kind === 'ternary' && t.input) m.tensors.set(name, { ...t, input: undefined });
    return m;
  }
}

/** A base of GPTQ-style b-bit projections, some with act-order columns (g_idx), without static biases (so that `merged` can take it). */
export function actOrderDeltaBase(seed: number): LmModel {
  for (let s = seed; ; s++) {
    const m = randomLm(s, { projections: 'intb' });
    if (![...m.tensors.values()].some((t) => t.kind === 'intb' && t.columns)) continue;
    for (const [name, t] of m.tensors) if (t.kind === 'intb' && t.bias) m.tensors.set(name, { ...t, bias: undefined });
    return m;
  }
}

/** A MoTE base: a float dense base without sub-norms (from `seed` on) up-cycled into 3 experts, top-2. */
export function moeDeltaBase(seed: number): LmModel {
  let dense = deltaBase(seed, 'float32');
  for (let s = seed + 1; dense.config.subNorms; s++) dense = deltaBase(s, 'float32');
  return upcycleMoe(dense, { experts: 3, topK: 2 });
}

/** The base with every projection as float32 (its dequantized values) plus Gaussian noise of `std`. */
export function tunedOf(base: LmModel, seed: number, std: number): LmModel {
  const r = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-9))) * Math.cos(2 * Math.PI * r());
  const tensors = new Map(base.tensors);
  for (const s of deltaSlots(base.config)) {
    const w = dequantize(base.tensors.get(s.name)!);
    tensors.set(s.name, { kind: 'float32', shape: [s.rows, s.cols], data: Float32Array.from(w, (v) => v + std * normal()) });
  }
  return { ...base, name: `${base.name}_tuned${seed}`, source: `${base.source} tuned ${seed}`, tensors };
}

/** The base with W + alpha * S merged into float32 projections (the float reference of a delta). */
export function merged(base: LmModel, d: TaskDelta): LmModel {
  const tensors = new Map<string, LmTensor>(base.tensors);
  const slots = deltaSlots(base.config);
  for (const t of d.tensors) {
    const s = slots[t.slot]!;
    const w = dequantize(base.tensors.get(s.name)!);
    for (let r = 0; r < t.rows; r++)
      for (let e = t.rowPtr[r]!; e < t.rowPtr[r + 1]!; e++) {
        const c = t.entries[e]!;
        w[r * t.cols + (c & 0x7fff)] += c & 0x8000 ? -t.alpha : t.alpha;
      }
    const bias = base.tensors.get(s.name)!;
    if ((bias.kind === 'ternary' || bias.kind === 'intb') && bias.bias) throw new Error('merged: a base with a static bias');
    tensors.set(s.name, { kind: 'float32', shape: [s.rows, s.cols], data: Float32Array.from(w) });
  }
  return { ...base, tensors };
}

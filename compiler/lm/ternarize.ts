// Ternarize a float checkpoint's linear layers on import (`--ternarize absmean[:granularity]`), as
// BitNet b1.58 and TriLM define it (seed-methods 1.1 and 6.1):
//
//   gamma = max(mean(|W|), 1e-5) over the scale's domain (BitNet's weight_quant clamps at 1e-5)
//   T     = clamp(round(W / gamma), -1, 1)          round half to even, as torch.round
//   W~    = gamma * T
//
// Granularity: per tensor (BitNet), per row, or per shard (TriLM: `shard:N`, N contiguous blocks of
// rows, each with its own gamma). Only the per-layer projections are ternarized (q, k, v, output,
// gate, up, down); the embedding, the head and the norms stay as they are, as both papers keep them.
// gamma is computed in double and rounded once to float32; the division W / gamma is done in double.

import { fail } from '../diagnostics.ts';
import { f16BitsToF32, bf16BitsToF32 } from '../numerics/half.ts';
import type { LmModel, LmTensor, LmTernary } from './model.ts';

export type TernarizeGranularity = { kind: 'per_tensor' } | { kind: 'per_row' } | { kind: 'shard'; shards: number };

/** The per-layer projections every quantizer touches. */
export const LM_PROJECTIONS = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];

/** Parse `absmean`, `absmean:per-tensor`, `absmean:per-row`, `absmean:shard:4`. */
export function parseTernarize(spec: string): TernarizeGranularity {
  const m = /^absmean(?::(per-tensor|per-row|shard:(\d+)))?$/.exec(spec.trim());
  if (!m) fail('usage', '--ternarize', `"${spec}" is not a method; use absmean, absmean:per-tensor, absmean:per-row or absmean:shard:N`);
  if (m[1] === 'per-row') return { kind: 'per_row' };
  if (m[2] !== undefined) {
    const shards = Number(m[2]);
    if (!(shards >= 1)) fail('usage', '--ternarize', `shard count must be at least 1, got ${m[2]}`);
    return { kind: 'shard', shards };
  }
  return { kind: 'per_tensor' };
}

/** A float tensor's values in double; undefined for a quantized one. */
export function floatValues(t: LmTensor): Float64Array | undefined {
  switch (t.kind) {
    case 'float32':
      return Float64Array.from(t.data);
    case 'float16':
      return Float64Array.from(t.bits, f16BitsToF32);
    case 'bfloat16':
      return Float64Array.from(t.bits, bf16BitsToF32);
    default:
      return undefined;
  }
}

/** Round half to even (torch.round). */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function ternarizeTensor(name: string, t: LmTensor, g: TernarizeGranularity): LmTernary {
  const w = floatValues(t);
  if (!w || t.shape.length !== 2) throw new Error(`internal: ternarize "${name}": not a float matrix`);
  const [rows, cols] = t.shape as [number, number];
  const domains = g.kind === 'per_tensor' ? 1 : g.kind === 'per_row' ? rows : g.shards;
  if (rows % domains !== 0) fail('usage', '--ternarize', `tensor "${name}" has ${rows} rows, which ${domains} shards do not divide`);
  const rowsPer = rows / domains;
  const scalesByDomain = new Float32Array(domains);
  const codes = new Int8Array(rows * cols);
  for (let d = 0; d < domains; d++) {
    let sum = 0;
    for (let i = d * rowsPer * cols; i < (d + 1) * rowsPer * cols; i++) sum += Math.abs(w[i]!);
    // BitNet's weight_quant: scale = 1 / mean|W|.clamp(min=1e-5); the eps only guards an all-zero domain.
    const gamma = Math.max(sum / (rowsPer * cols), 1e-5);
    scalesByDomain[d] = gamma;
    for (let i = d * rowsPer * cols; i < (d + 1) * rowsPer * cols; i++) codes[i] = Math.max(-1, Math.min(1, roundEven(w[i]! / gamma)));
  }
  const granularity = domains === 1 ? 'per_tensor' : 'per_row';
  const scales = domains === 1 ? scalesByDomain : Float32Array.from({ length: rows }, (_, r) => scalesByDomain[Math.floor(r / rowsPer)]!);
  const how = g.kind === 'per_tensor' ? 'per tensor' : g.kind === 'per_row' ? 'per row' : `${g.shards} shards of rows`;
  return { kind: 'ternary', shape: [rows, cols], codes, scales, granularity, source: `ternarized on import: absmean ${how} (was ${t.kind})` };
}

/** A copy of `model` whose float projections are ternary; others are left as they are, with a note. */
export function ternarizeModel(model: LmModel, g: TernarizeGranularity): LmModel {
  const tensors = new Map(model.tensors);
  let done = 0;
  for (const [name, t] of model.tensors) {
    if (!LM_PROJECTIONS.some((p) => name.endsWith(`.${p}`))) continue;
    if (t.kind === 'ternary') continue;
    if (t.kind === 'int8') fail('unsupported', model.source, `--ternarize: tensor "${name}" is int8; ternarize a float checkpoint`);
    tensors.set(name, ternarizeTensor(name, t, g));
    done++;
  }
  const notes = [
    ...model.notes,
    `--ternarize: ${done} projection${done === 1 ? '' : 's'} ternarized with absmean (${g.kind === 'shard' ? `${g.shards} shards` : g.kind.replace('_', ' ')}); embedding, head and norms unchanged`,
  ];
  return { ...model, tensors, notes };
}

/**
 * A copy of `model` whose float projections are int8 with one float32 scale per row (absmax /
 * 127, codes rint(w / scale) half to even): the int8 baseline the ternary builds are compared with.
 */
export function int8Model(model: LmModel): LmModel {
  const tensors = new Map(model.tensors);
  let done = 0;
  for (const [name, t] of model.tensors) {
    if (!LM_PROJECTIONS.some((p) => name.endsWith(`.${p}`))) continue;
    const w = floatValues(t);
    if (!w) continue;
    const [rows, cols] = t.shape as [number, number];
    const codes = new Int8Array(rows * cols);
    const scales = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let m = 0;
      for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]!));
      const s = Math.fround(m > 0 ? m / 127 : 1);
      scales[r] = s;
      for (let c = 0; c < cols; c++) codes[r * cols + c] = Math.max(-127, Math.min(127, roundEven(w[r * cols + c]! / s)));
    }
    tensors.set(name, { kind: 'int8', shape: [rows, cols], codes, scales, groupSize: cols });
    done++;
  }
  return { ...model, tensors, notes: [...model.notes, `--weights int8: ${done} projections quantized to int8, absmax per row`] };
}

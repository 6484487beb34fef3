// The rows of the quality table (bench:formats): each a way to make a model from the float one.

import type { Graph } from '../../compiler/ir.ts';
import type { LmModel } from '../../compiler/lm/model.ts';
import { int8Model, ternarizeModel } from '../../compiler/lm/ternarize.ts';
import { planesOf, weightBytes } from '../../compiler/ops/lm/weights.ts';
import { fairy2iBytes } from '../../compiler/ops/lm/widely_linear.ts';
import { fairy2iQuantizeModel } from '../../compiler/quantize/fairy2i.ts';

export const PROJECTIONS = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];

/** What a quantizer may use besides the weights: token sequences from the float model. */
export interface Calibration {
  sequences: number[][];
}

export interface FormatMethod {
  name: string;
  note: string;
  /** What the projections take (default float, as the weight-only methods define it). */
  activations?: 'float' | 'int8-per-token';
  make(base: LmModel, calibration: Calibration): LmModel;
}

export const FORMAT_METHODS: FormatMethod[] = [
  { name: 'float32', note: 'as trained', make: (m) => m },
  { name: 'int8 absmax per row', note: 'the int8 baseline', make: (m) => int8Model(m) },
  { name: 'ternary absmean per tensor', note: 'BitNet b1.58 weights, float activations', make: (m) => ternarizeModel(m, { kind: 'per_tensor' }) },
  {
    name: 'ternary absmean per tensor, int8 activations',
    note: 'BitNet b1.58 as defined (absmax per token)',
    activations: 'int8-per-token',
    make: (m) => ternarizeModel(m, { kind: 'per_tensor' }),
  },
  { name: 'ternary absmean per row', note: 'one scale per output row', make: (m) => ternarizeModel(m, { kind: 'per_row' }) },
  { name: 'Fairy2i-W1', note: 'widely-linear, codes {±1, ±i}, 1 stage', make: (m) => fairy2iQuantizeModel(m, { stages: 1 }) },
  { name: 'Fairy2i-W2', note: 'widely-linear, codes {±1, ±i}, 2 stages', make: (m) => fairy2iQuantizeModel(m, { stages: 2 }) },
];

/** Bits per weight of the projections as compiled: codes, scales, zero points, biases and column orders. */
export function projectionBits(g: Graph): number {
  let bits = 0;
  let params = 0;
  for (const node of g.nodes) {
    if (node.op !== 'Linear' && node.op !== 'TernaryLinear' && node.op !== 'WidelyLinear') continue;
    const name = node.inputs[1]!;
    if (!PROJECTIONS.some((p) => name.endsWith(`.${p}`))) continue;
    const w = g.tensors.get(name)!;
    if (node.op === 'WidelyLinear') {
      // Fairy2i codes [stages, U | W, N/2, K/2] stand for N x K real weights.
      params += (w.shape.reduce((a, b) => a * b, 1) / w.shape[0]!) * 2;
      bits += fairy2iBytes(w) * 8;
      continue;
    }
    params += w.shape.reduce((a, b) => a * b, 1) / planesOf(w);
    bits += weightBytes(w) * 8;
    for (const extra of [`${name}.bias`, `${name}.columns`]) if (g.tensors.has(extra)) bits += g.tensors.get(extra)!.shape[0]! * 32;
  }
  return bits / params;
}

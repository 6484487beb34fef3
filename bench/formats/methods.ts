// The rows of the quality table (bench:formats): each a way to make a model from the float one,
// through the same quantizeLmModel that `tritc quantize` runs.

import type { LmModel } from '../../compiler/lm/model.ts';
import { int8Model } from '../../compiler/lm/ternarize.ts';
import { upcycleMoe } from '../../compiler/lm/upcycle.ts';
import { quantizeLmModel, type QuantizeSpec } from '../../compiler/quantize/model.ts';

/** What a quantizer may use besides the weights: sequences sampled from the float model. */
export interface Calibration {
  count: number;
  length: number;
  seed: number;
}

export interface FormatMethod {
  name: string;
  note: string;
  /** What the projections take (default float, as the weight-only methods define it). */
  activations?: 'float' | 'int8-per-token';
  /** The `tritc quantize` options that make this row. */
  spec?: QuantizeSpec;
  /** Other rows (float32). */
  make?: (base: LmModel) => LmModel;
  /**
   * ComPEFT: the model made above is a base, compiled with run-time deltas, and runs with a delta of
   * this density toward the float model (the task vector float - base) loaded.
   */
  deltaDensity?: number;
}

export const FORMAT_METHODS: FormatMethod[] = [
  { name: 'float32', note: 'as trained', make: (m) => m },
  { name: 'int8 absmax per row', note: 'the int8 baseline', spec: { method: 'int8' } },
  {
    name: 'int8 absmax per row, int8 activations',
    note: 'the int8 baseline in integers (Int8Linear)',
    activations: 'int8-per-token',
    spec: { method: 'int8' },
  },
  { name: 'ternary absmean per tensor', note: 'BitNet b1.58 weights, float activations', spec: { method: 'absmean' } },
  {
    name: 'ternary absmean per tensor, int8 activations',
    note: 'BitNet b1.58 as defined (absmax per token)',
    activations: 'int8-per-token',
    spec: { method: 'absmean' },
  },
  { name: 'ternary absmean per row', note: 'one scale per output row', spec: { method: 'absmean', granularity: 'per_row' } },
  { name: 'TBT ternary', note: '4/3 mean|W| per row', spec: { method: 'tbt' } },
  { name: 'TBT ternary W2A8', note: "TBT's 8-bit activations, clip 2.5 (its default)", spec: { method: 'tbt', actBits: 8 } },
  { name: 'TBT ternary W2A8 clip 8', note: 'the same, clip 8', spec: { method: 'tbt', actBits: 8, actClip: 8 } },
  { name: 'TBT ternary W2A2', note: 'elastic ternary activations, step from calibration', spec: { method: 'tbt', actBits: 2 } },
  { name: 'TBT binary W1A1', note: 'binary weights, elastic 1-bit activations', spec: { method: 'tbt', binary: true, actBits: 1 } },
  { name: 'Tequila g64', note: 'ternary + deadzone bias', spec: { method: 'tequila', groupSize: 64 } },
  { name: 'PTQTP', note: 'two trit-planes, scales per row', spec: { method: 'ptqtp' } },
  { name: 'PTQTP g32', note: 'two trit-planes, scales per 32 columns', spec: { method: 'ptqtp', groupSize: 32 } },
  { name: 'RTN int4 g32', note: 'round to nearest, the GPTQ baseline', spec: { method: 'rtn', bits: 4, groupSize: 32 } },
  { name: 'GPTQ int4 g32', note: 'calibrated', spec: { method: 'gptq', bits: 4, groupSize: 32 } },
  { name: 'GPTQ int3 g32', note: 'calibrated', spec: { method: 'gptq', bits: 3, groupSize: 32 } },
  { name: 'GPTQ int2 g32', note: 'calibrated', spec: { method: 'gptq', bits: 2, groupSize: 32 } },
  { name: 'GPTQ int4 g32 act-order', note: 'desc_act', spec: { method: 'gptq', bits: 4, groupSize: 32, actOrder: true } },
  { name: 'RTN trits', note: "GPTQ's ternary grid, no feedback", spec: { method: 'rtn', trits: true } },
  { name: 'GPTQ trits', note: "GPTQ's ternary grid {xmin, 0, xmax} per row", spec: { method: 'gptq', trits: true } },
  { name: 'Fairy2i-W1', note: 'widely-linear, codes {±1, ±i}, 1 stage', spec: { method: 'fairy2i', stages: 1 } },
  { name: 'Fairy2i-W2', note: 'widely-linear, codes {±1, ±i}, 2 stages', spec: { method: 'fairy2i', stages: 2 } },
  {
    name: 'ternary absmean per tensor + ComPEFT delta d 0.1',
    note: 'the BitNet row as a base, a run-time delta toward the float model (top 10 % of the task vector, alpha = std)',
    spec: { method: 'absmean' },
    deltaDensity: 0.1,
  },
  {
    name: 'ternary absmean per tensor + ComPEFT delta d 0.3',
    note: 'the same, top 30 %',
    spec: { method: 'absmean' },
    deltaDensity: 0.3,
  },
  // MoTE as `--upcycle-moe E:k --weights int8` makes it (examples/stories260k-mote): the dense FFN
  // kept as the shared expert, routed experts that are untrained ternary perturbations of it.
  {
    name: 'MoTE 4 experts top-1',
    note: 'up-cycled, untrained: int8 shared FFN and attention, 4 ternary experts',
    make: (m) => int8Model(upcycleMoe(m, { experts: 4, topK: 1 })),
  },
  {
    name: 'MoTE 4 experts top-2',
    note: 'the same, 2 experts per token',
    make: (m) => int8Model(upcycleMoe(m, { experts: 4, topK: 2 })),
  },
  {
    name: 'MoTE 4 experts top-1, int8 activations',
    note: "the paper's BitLinear experts: int8 codes per token into the experts and every int8 projection",
    activations: 'int8-per-token',
    make: (m) => int8Model(upcycleMoe(m, { experts: 4, topK: 1 })),
  },
];

export function makeModel(method: FormatMethod, base: LmModel, calibration: Calibration): LmModel {
  if (method.make) return method.make(base);
  const s = method.spec!;
  const calibrated = s.method === 'gptq' || (s.method === 'tbt' && (s.actBits === 1 || s.actBits === 2));
  const spec = calibrated ? { ...s, calibration } : s;
  return quantizeLmModel(base, spec).model;
}

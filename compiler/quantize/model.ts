// Quantize a whole decoder: every float projection of every layer (q, k, v, output, gate, up, down)
// by one method, the embedding, head and norms left as trained (as every seed paper keeps them).
// `tritc quantize` and bench:formats both go through here, so the table measures what users get.
//
// Methods that need activations (GPTQ) take calibration sequences sampled from the float model
// (compiler/lm/calibrate.ts) and accumulate each projection's input Hessian in one pass over the
// float model. GPTQ's own scripts feed layer l the outputs of the already-quantized layers < l; this
// uses the float model's inputs for every layer (one pass instead of one per layer), a choice
// written in docs/formats.md.

import { fail } from '../diagnostics.ts';
import { captureProjectionInputs, sampleSequences } from '../lm/calibrate.ts';
import type { LmModel, LmTensor } from '../lm/model.ts';
import { floatValues, int8Model, LM_PROJECTIONS, ternarizeModel } from '../lm/ternarize.ts';
import { fairy2iQuantizeModel } from './fairy2i.ts';
import { accumulateHessian, gptqQuantize, newHessian, roundToNearest, type GptqOptions, type Hessian } from './gptq.ts';
import { ptqtpQuantize } from './ptqtp.ts';
import { elasticAlphaFromMean, tbtBinary, tbtTernary } from './tbt.ts';
import type { ActQuantParams } from '../ops/lm/act_quant.ts';
import { tequilaQuantize } from './tequila.ts';

export const QUANTIZE_METHODS = ['absmean', 'int8', 'rtn', 'gptq', 'ptqtp', 'tequila', 'tbt', 'fairy2i'] as const;
export type QuantizeMethod = (typeof QUANTIZE_METHODS)[number];

export interface QuantizeSpec {
  method: QuantizeMethod;
  /** absmean: one scale per tensor (BitNet b1.58) or per row. Default per_tensor. */
  granularity?: 'per_tensor' | 'per_row';
  /** gptq / rtn: bits per code (2, 3, 4, 8); ignored with trits. Default 4. */
  bits?: 2 | 3 | 4 | 8;
  /** gptq / rtn: GPTQ's ternary grid {xmin, 0, xmax}. */
  trits?: boolean;
  /** gptq / rtn / ptqtp / tequila: columns per scale group (gptq/rtn -1 = per row). */
  groupSize?: number;
  /** gptq: desc_act. */
  actOrder?: boolean;
  /** gptq / rtn: symmetric grid (default: AutoGPTQ's, symmetric for b bits, asymmetric for trits). */
  sym?: boolean;
  /** tequila: the deadzone weight lambda. */
  lambda?: number;
  /** tbt: binary weights instead of ternary. */
  binary?: boolean;
  /**
   * tbt: quantize each projection's input as TBT's QuantizeLinear does: 8 (clip then absmax, W2A8),
   * 2 or 1 (the elastic quantizers, step initialised from calibration inputs). Absent: float inputs.
   */
  actBits?: 1 | 2 | 8;
  /** tbt: the symmetric quantizer for the FFN's down projection too (sym_quant_ffn_attn); default unsigned, as TBT. */
  actSigned?: boolean;
  /** tbt: the 8-bit quantizer's clip (TBT's clip_val, default 2.5). */
  actClip?: number;
  /** fairy2i: recursive residual stages (W1, W2, ...), 1 to 4. Default 1. */
  stages?: number;
  /** Calibration sequences for gptq: how many, tokens each, seed. */
  calibration?: { count: number; length: number; seed: number };
}

/** A step of a long quantization, for a progress bar. */
export type QuantizeProgress = (what: string, done: number, total: number) => void;

export interface QuantizeResult {
  model: LmModel;
  /** Projections quantized. */
  count: number;
  /** Calibration sequences used (gptq), else 0. */
  calibrationSequences: number;
}

export const DEFAULT_CALIBRATION = { count: 32, length: 64, seed: 1 };

/** A short description of the spec, for notes and tables: "gptq int4 g32 act-order". */
export function describeSpec(s: QuantizeSpec): string {
  const parts: string[] = [s.method];
  if (s.method === 'absmean') parts.push((s.granularity ?? 'per_tensor').replace('_', ' '));
  if (s.method === 'gptq' || s.method === 'rtn') parts.push(s.trits ? 'trits' : `int${s.bits ?? 4}`);
  if (s.groupSize !== undefined && s.groupSize !== -1) parts.push(`g${s.groupSize}`);
  if (s.actOrder) parts.push('act-order');
  if (s.sym !== undefined) parts.push(s.sym ? 'sym' : 'asym');
  if (s.method === 'tbt') parts.push(s.binary ? 'binary' : 'ternary');
  if (s.actBits !== undefined) parts.push(`A${s.actBits}${s.actSigned ? ' signed' : ''}${s.actClip !== undefined ? ` clip ${s.actClip}` : ''}`);
  if (s.method === 'fairy2i') parts.push(`W${s.stages ?? 1}`);
  return parts.join(' ');
}

/**
 * TBT's act quantizer for one projection (QuantizeLinear with quantize_act): symmetric for q, k, v,
 * output, gate and up; unsigned (the min added back) for the FFN's down projection, whose input
 * follows the gated activation (TBT's fc2 after GELU, sym_quant_ffn_attn = False), unless actSigned.
 */
function tbtInputQuantizer(spec: QuantizeSpec, name: string, stats: { sum: number; count: number } | undefined): ActQuantParams {
  const signed = spec.actSigned === true || !name.endsWith('.ffn_down');
  if (spec.actBits === 8) return { method: 'clip8', bits: 8, signed, alpha: 1, clip: spec.actClip ?? 2.5 };
  const bits = spec.actBits as 1 | 2;
  if (!stats || stats.count === 0) throw new Error(`internal: no calibration inputs reached ${name}`);
  return { method: 'elastic', bits, signed, alpha: elasticAlphaFromMean(Math.fround(stats.sum / stats.count), bits, signed), clip: 2.5 };
}

function projectionsOf(model: LmModel): { name: string; t: LmTensor; w: Float64Array; rows: number; cols: number }[] {
  const out = [];
  for (const [name, t] of model.tensors) {
    if (!LM_PROJECTIONS.some((p) => name.endsWith(`.${p}`))) continue;
    const w = floatValues(t);
    if (!w) fail('unsupported', model.source, `tensor "${name}" is ${t.kind}; quantize a float checkpoint (float32, float16 or bfloat16 projections)`);
    out.push({ name, t, w, rows: t.shape[0]!, cols: t.shape[1]! });
  }
  return out;
}

function gptqOptions(s: QuantizeSpec, name: string, onProgress?: GptqOptions['onProgress']): GptqOptions {
  return {
    bits: s.bits ?? 4,
    trits: s.trits ?? false,
    groupSize: s.groupSize ?? -1,
    actOrder: s.actOrder ?? false,
    ...(s.sym !== undefined ? { sym: s.sym } : {}),
    name,
    onProgress,
  };
}

/** The command-line names of the spec's keys where they differ (messages name what the user typed). */
const OPTION_NAMES: Partial<Record<keyof QuantizeSpec, string>> = {
  groupSize: '--group',
  actOrder: '--act-order',
  actBits: '--act-bits',
  actSigned: '--act-signed',
  actClip: '--act-clip',
  binary: '--binary',
  bits: '--bits',
  stages: '--stages',
  lambda: '--lambda',
  trits: '--trits',
  granularity: '--granularity',
  calibration: '--calibration',
};

function checkSpec(s: QuantizeSpec, where: string): void {
  if (!QUANTIZE_METHODS.includes(s.method)) fail('usage', where, `unknown method "${String(s.method)}"; expected one of ${QUANTIZE_METHODS.join(', ')}`);
  if (s.bits !== undefined && ![2, 3, 4, 8].includes(s.bits)) fail('usage', where, `bits must be 2, 3, 4 or 8, got ${s.bits}`);
  if (s.groupSize !== undefined && !(s.groupSize === -1 || (Number.isSafeInteger(s.groupSize) && s.groupSize > 0)))
    fail('usage', where, `group size must be a positive integer (or -1 for one group per row), got ${s.groupSize}`);
  const only: [keyof QuantizeSpec, QuantizeMethod[]][] = [
    ['granularity', ['absmean']],
    ['bits', ['gptq', 'rtn']],
    ['trits', ['gptq', 'rtn']],
    ['actOrder', ['gptq']],
    ['sym', ['gptq', 'rtn']],
    ['groupSize', ['gptq', 'rtn', 'ptqtp', 'tequila']],
    ['lambda', ['tequila']],
    ['binary', ['tbt']],
    ['actBits', ['tbt']],
    ['actSigned', ['tbt']],
    ['actClip', ['tbt']],
    ['stages', ['fairy2i']],
    ['calibration', ['gptq', 'tbt']],
  ];
  if (s.actBits !== undefined && ![1, 2, 8].includes(s.actBits)) fail('usage', where, `activation bits must be 1, 2 or 8 (TBT's quantizers), got ${s.actBits}`);
  if ((s.actSigned !== undefined || s.actClip !== undefined) && s.actBits === undefined)
    fail('usage', where, '--act-signed and --act-clip need activation bits (--act-bits)');
  if (s.actClip !== undefined && (s.actBits !== 8 || !(Number.isFinite(s.actClip) && s.actClip > 0)))
    fail('usage', where, `the activation clip applies to 8-bit activations and must be positive, got ${s.actClip} with ${s.actBits} bits`);
  if (s.calibration && s.method === 'tbt' && !(s.actBits === 1 || s.actBits === 2))
    fail('usage', where, 'tbt takes calibration sequences for the elastic activation steps (--act-bits 1 or 2) only');
  for (const [key, methods] of only)
    if (s[key] !== undefined && !methods.includes(s.method))
      fail('usage', where, `${OPTION_NAMES[key] ?? key} applies to ${methods.join(', ')}, not ${s.method}`);
}

/** Quantize `model`'s float projections by `spec`. */
export function quantizeLmModel(model: LmModel, spec: QuantizeSpec, onProgress?: QuantizeProgress): QuantizeResult {
  checkSpec(spec, 'quantize');
  const note = (count: number) => `quantized by tritc: ${describeSpec(spec)}, ${count} projections; embedding, head and norms unchanged`;
  if (spec.method === 'absmean' || spec.method === 'int8') {
    const count = projectionsOf(model).length;
    const m = spec.method === 'int8' ? int8Model(model) : ternarizeModel(model, { kind: spec.granularity ?? 'per_tensor' });
    return { model: { ...m, notes: [...model.notes, note(count)] }, count, calibrationSequences: 0 };
  }
  if (spec.method === 'fairy2i') {
    const count = projectionsOf(model).length;
    const m = fairy2iQuantizeModel(model, { stages: spec.stages ?? 1, onProgress: (done, total) => onProgress?.('Fairy2i', done, total) });
    return { model: { ...m, notes: [...model.notes, note(count)] }, count, calibrationSequences: 0 };
  }
  const projections = projectionsOf(model);
  let hessians: Map<string, Hessian> | undefined;
  let calibrationSequences = 0;
  /** One pass of the float model over calibration sequences: every projection's inputs to `onRows`. */
  const calibrate = (what: string, onRows: (weight: string, x: Float32Array, rows: number, k: number) => void): void => {
    const cal = spec.calibration ?? DEFAULT_CALIBRATION;
    onProgress?.('calibration sequences', 0, cal.count);
    const sequences = sampleSequences(model, cal);
    calibrationSequences = sequences.length;
    const tokens = sequences.reduce((a, s) => a + s.length, 0);
    let seen = 0;
    captureProjectionInputs(model, sequences, (weight, x, rows, k) => {
      onRows(weight, x, rows, k);
      if (weight === projections[0]!.name) onProgress?.(what, (seen += rows), tokens);
    });
  };
  const meanAbs = new Map<string, { sum: number; count: number }>();
  if (spec.method === 'tbt' && (spec.actBits === 1 || spec.actBits === 2)) {
    for (const p of projections) meanAbs.set(p.name, { sum: 0, count: 0 });
    calibrate('activation statistics', (weight, x, rows, k) => {
      const m = meanAbs.get(weight);
      if (!m) return;
      for (let i = 0; i < rows * k; i++) m.sum += Math.abs(x[i]!);
      m.count += rows * k;
    });
  }
  if (spec.method === 'gptq') {
    hessians = new Map(projections.map((p) => [p.name, newHessian(p.cols)]));
    calibrate('Hessians', (weight, x, rows, k) => {
      const h = hessians!.get(weight);
      if (h) accumulateHessian(h, x, rows, k);
    });
  }
  const tensors = new Map(model.tensors);
  projections.forEach((p, i) => {
    onProgress?.(`${p.name} (${i + 1}/${projections.length})`, i, projections.length);
    let q: LmTensor;
    switch (spec.method) {
      case 'gptq':
        q = gptqQuantize(p.w, p.rows, p.cols, hessians!.get(p.name)!, gptqOptions(spec, p.name)).tensor;
        break;
      case 'rtn':
        q = roundToNearest(p.w, p.rows, p.cols, gptqOptions(spec, p.name)).tensor;
        break;
      case 'ptqtp':
        q = ptqtpQuantize(p.w, p.rows, p.cols, spec.groupSize !== undefined ? { groupSize: spec.groupSize } : {}).tensor;
        break;
      case 'tequila':
        q = tequilaQuantize(p.w, p.rows, p.cols, {
          ...(spec.groupSize !== undefined ? { groupSize: spec.groupSize } : {}),
          ...(spec.lambda !== undefined ? { lambda: spec.lambda } : {}),
        });
        break;
      case 'tbt': {
        const t = spec.binary ? tbtBinary(p.w, p.rows, p.cols) : tbtTernary(p.w, p.rows, p.cols);
        q = spec.actBits === undefined ? t : { ...t, input: tbtInputQuantizer(spec, p.name, meanAbs.get(p.name)) };
        break;
      }
      default:
        throw new Error(`internal: method ${spec.method}`);
    }
    tensors.set(p.name, q);
  });
  onProgress?.('done', projections.length, projections.length);
  return { model: { ...model, tensors, notes: [...model.notes, note(projections.length)] }, count: projections.length, calibrationSequences };
}

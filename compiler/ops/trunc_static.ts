// TruncStatic: QONNX `Trunc` on activations, float32 -> float32 with constant parameters.
//
//   X      float32, any shape
//   S      float32 constant, one value: the input scale
//   Z      float32 constant, one value: the input zero point
//   T      float32 constant, one value: the truncation scale, a power of two (the importer computes
//          it: 2^(in_bitwidth - out_bitwidth) for Trunc v1, 2^round(log2(out_scale / S)) for v2)
//   OS     float32 constant, one value: the output scale
//   Y      float32, X's shape
//
// For each element (docs/numerics.md, "TruncStatic"), every float operation rounded once, in the
// order of the spec's reference implementation:
//   r = x / S + Z
//   t = rint(r)                      (ties to even; a zero takes r's sign, as NumPy's round)
//   t = t / T
//   if t is not NaN: t = clamp(t, qmin, qmax); t = round(t) with the mode (a zero takes t's sign)
//   y = (t - Z / T) * OS
// NaN stays NaN (the spec's np.where comparisons are false for NaN).

import { elementCount, shapeStr } from '../ir.ts';
import { add, div, mul, rintf, sub } from '../numerics/f32.ts';
import { attrInt, attrString, type OpDef } from './op.ts';
import { ROUNDING_MODES, roundClamped, type RoundingMode } from './quantize_static.ts';

export const TRUNC_MODES = ROUNDING_MODES.filter((m) => m !== 'BIPOLAR');

/** One element of TruncStatic (shared by the interpreter and the importer's constant folding). */
export function truncStaticValue(
  x: number,
  scale: number,
  zp: number,
  truncScale: number,
  outScale: number,
  qmin: number,
  qmax: number,
  mode: RoundingMode,
): number {
  const r = add(div(x, scale), zp);
  let t = rintf(r);
  if (t === 0) t = r * 0; // signed zero, like C's r * 0.0f
  t = div(t, truncScale);
  if (t === t) {
    if (t > qmax) t = qmax;
    if (t < qmin) t = qmin;
    const k = roundClamped(t, mode);
    t = k === 0 ? t * 0 : k;
  }
  return mul(sub(t, div(zp, truncScale)), outScale);
}

const MODE_C: Record<string, string> = {
  ROUND: 'TN_ROUND_HALF_EVEN',
  CEIL: 'TN_ROUND_CEIL',
  FLOOR: 'TN_ROUND_FLOOR',
  UP: 'TN_ROUND_UP',
  DOWN: 'TN_ROUND_DOWN',
  HALF_UP: 'TN_ROUND_HALF_UP',
  HALF_DOWN: 'TN_ROUND_HALF_DOWN',
};

const PARAMS = ['scale', 'zero point', 'truncation scale', 'output scale'];

export const TruncStatic: OpDef = {
  op: 'TruncStatic',
  summary: 'QONNX Trunc on activations: float32 -> float32, constant scales and bit widths',
  inputs: { names: ['X', 'S', 'Z', 'T', 'OS'], min: 5 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    qmin: { kind: 'int', default: -128, doc: 'smallest integer of the output bit width (signed/narrow applied)' },
    qmax: { kind: 'int', default: 127, doc: 'largest integer of the output bit width' },
    rounding: { kind: 'string', default: 'FLOOR', oneOf: TRUNC_MODES, doc: 'rounding of the truncated value (ROUND = half to even)' },
  },
  infer(ctx) {
    const [x] = ctx.inputs;
    if (!x) return [];
    const { node } = ctx;
    if (x.dtype !== 'float32') ctx.error(`input 0 "${x.name}" must be float32, found ${x.dtype}`, 'dtype');
    ctx.inputs.slice(1).forEach((c, j) => {
      if (c && (c.dtype !== 'float32' || c.kind !== 'constant' || elementCount(c.shape) !== 1))
        ctx.error(`input ${j + 1} "${c.name}" (${PARAMS[j]}) must be a float32 constant with one value, found ${c.kind} ${c.dtype} ${shapeStr(c.shape)}`);
    });
    const qmin = attrInt(node, 'qmin');
    const qmax = attrInt(node, 'qmax');
    if (qmin > qmax || qmin < -(2 ** 24) || qmax > 2 ** 24) ctx.error(`the range [${qmin}, ${qmax}] must be ordered and within [-2^24, 2^24]`);
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const { node } = ctx;
    const x = ctx.readNum(node.inputs[0]!);
    const [s, z, t, os] = node.inputs.slice(1).map((c) => ctx.readNum(c)[0]!);
    const mode = attrString(node, 'rounding') as RoundingMode;
    const qmin = attrInt(node, 'qmin');
    const qmax = attrInt(node, 'qmax');
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = truncStaticValue(x[i]!, s!, z!, t!, os!, qmin, qmax, mode);
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const { node } = ctx;
    const n = elementCount(ctx.input(0).shape);
    const mode = attrString(node, 'rounding');
    ctx.annotate('range', `[${attrInt(node, 'qmin')}, ${attrInt(node, 'qmax')}], ${mode.toLowerCase().replace('round', 'half-even')}`);
    return {
      kernel: 'tn_trunc_static',
      runtime: ['ref/tn_quantize_static.c', 'ref/tn_math.c'],
      body: [
        `tn_trunc_static(${ctx.in(0)}, ${ctx.out(0)}, ${n}, ${ctx.in(1)}[0], ${ctx.in(2)}[0], /* trunc scale */ ${ctx.in(3)}[0], /* out scale */ ${ctx.in(4)}[0], /* qmin */ ${attrInt(node, 'qmin')}, /* qmax */ ${attrInt(node, 'qmax')}, ${MODE_C[mode]});`,
      ],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
};

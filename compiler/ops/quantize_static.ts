// QuantizeStatic: float32 -> int8 codes with a constant (static) scale: QONNX `Quant` / `BipolarQuant`
// on activations, as integer codes instead of float emulation.
//
//   X      float32, any shape
//   S      float32 constant, one value: the scale (real value = code * S)
//   C...   float32 constants, one value each: the operands of the `pre` operations
//   Y      int8, X's shape (or `shape`, same element count), quant {scale: S, per_tensor},
//          range [qmin - zero_point, qmax - zero_point]
//
// For each element (docs/numerics.md, "QuantizeStatic"), every float operation rounded once:
//   t = x
//   for each pre operation j (in order): t = t + c | t - c | c - t | t * c | t / c | c / t
//   mode "bipolar":  code = t >= 0 ? +1 : -1                       (QONNX BipolarQuant; NaN -> -1)
//   otherwise:       t = t / S;  if zero_point != 0: t = t + zero_point
//                    NaN -> code = 0
//                    t = clamp(t, qmin, qmax)                       (QONNX clamps, then rounds)
//                    r = round(t) with the mode (ROUND = half to even, CEIL, FLOOR, UP, DOWN,
//                        HALF_UP, HALF_DOWN), done on the clamped value, exactly
//                    code = r - zero_point
// The `pre` operations are scalar elementwise ops the importer fused from the graph (e.g. MNIST's
// 2 * x - 1) in their original order, so the result is the one the unfused graph computes.

import { elementCount, shapeStr } from '../ir.ts';
import { add, div, mul, sub } from '../numerics/f32.ts';
import { attrInt, attrString, type OpDef } from './op.ts';

export const ROUNDING_MODES = ['ROUND', 'CEIL', 'FLOOR', 'UP', 'DOWN', 'HALF_UP', 'HALF_DOWN', 'BIPOLAR'] as const;
export type RoundingMode = (typeof ROUNDING_MODES)[number];
const PRE_OPS = ['add', 'sub', 'rsub', 'mul', 'div', 'rdiv'] as const;
export type PreOp = (typeof PRE_OPS)[number];

function preOpsOf(attr: string): PreOp[] {
  return attr === '' ? [] : (attr.split(',') as PreOp[]);
}

function applyPreOp(op: PreOp, t: number, c: number): number {
  switch (op) {
    case 'add':
      return add(t, c);
    case 'sub':
      return sub(t, c);
    case 'rsub':
      return sub(c, t);
    case 'mul':
      return mul(t, c);
    case 'div':
      return div(t, c);
    case 'rdiv':
      return div(c, t);
  }
}

/**
 * Round a float that lies in [qmin, qmax] (so |t| < 2^23) to an integer with the given mode.
 * Exact: i = trunc(t) and f = t - i are exact in float32 for such t; the C kernel does the same.
 */
export function roundClamped(t: number, mode: RoundingMode): number {
  const i = Math.trunc(t);
  const f = t - i; // exact, |f| < 1, same sign as t (or 0)
  switch (mode) {
    case 'FLOOR':
      return f < 0 ? i - 1 : i;
    case 'CEIL':
      return f > 0 ? i + 1 : i;
    case 'DOWN':
      return i;
    case 'UP':
      return f > 0 ? i + 1 : f < 0 ? i - 1 : i;
    case 'HALF_UP': // ties away from zero
      return f >= 0.5 ? i + 1 : f <= -0.5 ? i - 1 : i;
    case 'HALF_DOWN': // ties towards zero
      return f > 0.5 ? i + 1 : f < -0.5 ? i - 1 : i;
    default: {
      // ROUND: ties to even
      if (f > 0.5 || (f === 0.5 && (i & 1) !== 0)) return i + 1;
      if (f < -0.5 || (f === -0.5 && (i & 1) !== 0)) return i - 1;
      return i;
    }
  }
}

/** One element of QuantizeStatic (shared by the interpreter and the importer's constant folding). */
export function quantizeStaticValue(
  x: number,
  pre: readonly PreOp[],
  consts: ArrayLike<number>,
  scale: number,
  zp: number,
  qmin: number,
  qmax: number,
  mode: RoundingMode,
): number {
  let t = x;
  for (let j = 0; j < pre.length; j++) t = applyPreOp(pre[j]!, t, consts[j]!);
  if (mode === 'BIPOLAR') return t >= 0 ? 1 : -1;
  t = div(t, scale);
  if (zp !== 0) t = add(t, zp);
  if (t !== t) return 0;
  if (t > qmax) t = qmax;
  if (t < qmin) t = qmin;
  return roundClamped(t, mode) - zp;
}

/** The integer range [qmin, qmax] of a QONNX Quant (before subtracting the zero point). */
export function quantRange(bits: number, signed: boolean, narrow: boolean): [number, number] {
  if (signed) return [narrow ? -(2 ** (bits - 1)) + 1 : -(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
  return [0, narrow ? 2 ** bits - 2 : 2 ** bits - 1];
}

const MODE_C: Record<RoundingMode, string> = {
  ROUND: 'TN_ROUND_HALF_EVEN',
  CEIL: 'TN_ROUND_CEIL',
  FLOOR: 'TN_ROUND_FLOOR',
  UP: 'TN_ROUND_UP',
  DOWN: 'TN_ROUND_DOWN',
  HALF_UP: 'TN_ROUND_HALF_UP',
  HALF_DOWN: 'TN_ROUND_HALF_DOWN',
  BIPOLAR: 'TN_ROUND_BIPOLAR',
};
const PRE_C: Record<PreOp, string> = { add: 'TN_PRE_ADD', sub: 'TN_PRE_SUB', rsub: 'TN_PRE_RSUB', mul: 'TN_PRE_MUL', div: 'TN_PRE_DIV', rdiv: 'TN_PRE_RDIV' };

export const QuantizeStatic: OpDef = {
  op: 'QuantizeStatic',
  summary: 'float32 -> int8 codes with a constant scale (QONNX Quant/BipolarQuant on activations)',
  inputs: { names: ['X', 'S', 'C0', 'C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    qmin: { kind: 'int', default: -1, doc: 'smallest integer before the zero point is subtracted' },
    qmax: { kind: 'int', default: 1, doc: 'largest integer before the zero point is subtracted' },
    zero_point: { kind: 'int', default: 0, doc: 'integer zero point: code = round(x / S + zero_point) - zero_point' },
    rounding: { kind: 'string', default: 'ROUND', oneOf: ROUNDING_MODES, doc: 'rounding mode (ROUND = half to even); BIPOLAR: code = x >= 0 ? 1 : -1' },
    pre: { kind: 'string', default: '', doc: 'comma-separated scalar operations applied first, one per input C0, C1, ...: add, sub, rsub, mul, div, rdiv' },
    shape: { kind: 'ints', default: [], doc: 'output shape (same element count); empty: the input shape' },
  },
  infer(ctx) {
    const [x, s] = ctx.inputs;
    if (!x || !s) return [];
    const { node } = ctx;
    if (x.dtype !== 'float32') ctx.error(`input 0 "${x.name}" must be float32, found ${x.dtype}`, 'dtype');
    if (s.dtype !== 'float32' || s.kind !== 'constant' || elementCount(s.shape) !== 1)
      ctx.error(`input 1 "${s.name}" (scale) must be a float32 constant with one value, found ${s.kind} ${s.dtype} ${shapeStr(s.shape)}`);
    else if (!(Number((s.data as Float32Array)[0]) > 0) && attrString(node, 'rounding') !== 'BIPOLAR')
      ctx.error(`scale "${s.name}" must be positive, found ${(s.data as Float32Array)[0]}`);
    const pre = preOpsOf(attrString(node, 'pre'));
    if (pre.some((p) => !(PRE_OPS as readonly string[]).includes(p)))
      ctx.error(`attribute pre "${attrString(node, 'pre')}" must list operations among ${PRE_OPS.join(', ')}`);
    if (pre.length !== ctx.inputs.length - 2)
      ctx.error(`attribute pre lists ${pre.length} operations but the node has ${ctx.inputs.length - 2} operand inputs`);
    ctx.inputs.slice(2).forEach((c, j) => {
      if (c && (c.dtype !== 'float32' || c.kind !== 'constant' || elementCount(c.shape) !== 1))
        ctx.error(`input ${j + 2} "${c.name}" must be a float32 constant with one value`);
    });
    const qmin = attrInt(node, 'qmin');
    const qmax = attrInt(node, 'qmax');
    const zp = attrInt(node, 'zero_point');
    const bipolar = attrString(node, 'rounding') === 'BIPOLAR';
    const lo = bipolar ? -1 : qmin - zp;
    const hi = bipolar ? 1 : qmax - zp;
    if (qmin > qmax || lo < -128 || hi > 127) ctx.error(`codes [${qmin} - ${zp}, ${qmax} - ${zp}] must lie in the int8 range [-128, 127]`);
    const shape = node.attrs.shape as number[];
    const outShape = shape.length ? [...shape] : [...x.shape];
    if (elementCount(outShape) !== elementCount(x.shape))
      ctx.error(
        `attribute shape ${shapeStr(shape)} has ${elementCount(outShape)} elements, input "${x.name}" ${shapeStr(x.shape)} has ${elementCount(x.shape)}`,
      );
    return [{ dtype: 'int8', shape: outShape, quant: { scale: s.name, granularity: 'per_tensor' }, range: [lo, hi] }];
  },
  interpret(ctx) {
    const { node } = ctx;
    const x = ctx.readNum(node.inputs[0]!);
    const scale = ctx.readNum(node.inputs[1]!)[0]!;
    const pre = preOpsOf(attrString(node, 'pre'));
    const consts = node.inputs.slice(2).map((c) => ctx.readNum(c)[0]!);
    const mode = attrString(node, 'rounding') as RoundingMode;
    const qmin = attrInt(node, 'qmin');
    const qmax = attrInt(node, 'qmax');
    const zp = attrInt(node, 'zero_point');
    const y = new Int8Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = quantizeStaticValue(x[i]!, pre, consts, scale, zp, qmin, qmax, mode);
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const { node } = ctx;
    const pre = preOpsOf(attrString(node, 'pre'));
    const n = elementCount(ctx.input(0).shape);
    const mode = attrString(node, 'rounding') as RoundingMode;
    const lines: string[] = [];
    let preArgs = 'NULL, NULL, 0';
    if (pre.length) {
      lines.push(`const float pre_c[${pre.length}] = { ${pre.map((_, j) => `${ctx.in(j + 2)}[0]`).join(', ')} };`);
      lines.push(`static const uint8_t pre_ops[${pre.length}] = { ${pre.map((p) => PRE_C[p]).join(', ')} };`);
      preArgs = `pre_c, pre_ops, ${pre.length}`;
    }
    ctx.annotate(
      'codes',
      mode === 'BIPOLAR'
        ? 'bipolar {-1, +1}'
        : `[${attrInt(node, 'qmin') - attrInt(node, 'zero_point')}, ${attrInt(node, 'qmax') - attrInt(node, 'zero_point')}], ${mode.toLowerCase().replace('round', 'half-even')}`,
    );
    lines.push(
      `tn_quantize_static(${ctx.in(0)}, ${ctx.out(0)}, ${n}, ${preArgs}, ${ctx.in(1)}[0], /* zero point */ ${attrInt(node, 'zero_point')}, /* qmin */ ${attrInt(node, 'qmin')}, /* qmax */ ${attrInt(node, 'qmax')}, ${MODE_C[mode]});`,
    );
    return { kernel: 'tn_quantize_static', runtime: ['ref/tn_quantize_static.c'], body: lines };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
};

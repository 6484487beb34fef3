// ONNX activation and rounding functions: Elu, LeakyRelu, Selu, Softplus, Softsign, HardSigmoid,
// HardSwish, Mish, Floor, Ceil, Round (float32), Abs (float32 and integers) and PRelu (float32, slope
// broadcast to X). y[i] = f(x[i]) with the steps below, which runtime-c/ref/tn_activation.c follows
// operation for operation (docs/numerics.md, "Activations"); exp, log and tanh are tn_math.c's.

import { attrF32, checkDtype, count, inTensor, SUFFIX } from './common.ts';
import { add, div, expf, fround, logf, mul, rintf, sub, tanhf } from '../../numerics/f32.ts';
import { hexFloat } from '../../emit/cliterals.ts';
import { broadcastIndexMaps, broadcastShapes, broadcastStrides } from '../broadcast.ts';
import { shapeStr, type DType } from '../../ir.ts';
import type { OpDef } from '../op.ts';

// ---- the scalar functions (mirrors of tn_activation.c) ----------------------------------------------

/** A zero result takes x's sign (x * 0 is +-0 for finite x), as IEEE floor/ceil/round do. */
const signedZero = (r: number, x: number): number => (r === 0 ? mul(x, 0) : r);

function floorf(x: number): number {
  x = fround(x);
  let r = rintf(x);
  if (r > x) r = sub(r, 1);
  return signedZero(r, x);
}

function ceilf(x: number): number {
  x = fround(x);
  let r = rintf(x);
  if (r < x) r = add(r, 1);
  return signedZero(r, x);
}

/** Round half to even (ONNX Round). */
const roundf = (x: number): number => signedZero(rintf(fround(x)), fround(x));

/** |x| (-0 -> +0, NaN stays NaN). */
const absf = (x: number): number => (x < 0 ? -x : x === 0 ? 0 : x);

/** ln(1 + e^x) as max(x, 0) + ln(1 + e^-|x|): no overflow for large x. */
export function softplusf(x: number): number {
  x = fround(x);
  if (x !== x) return x;
  const l = logf(add(1, expf(-absf(x))));
  return x > 0 ? add(x, l) : l;
}

const softsignf = (x: number): number => div(x, add(1, absf(x)));
const mishf = (x: number): number => mul(x, tanhf(softplusf(x)));

/** max(0, min(1, alpha x + beta)); NaN passes. */
function hardSigmoidf(x: number, alpha: number, beta: number): number {
  const v = add(mul(alpha, x), beta);
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

const SIXTH = fround(1 / 6);
const hardSwishf = (x: number): number => mul(x, hardSigmoidf(x, SIXTH, 0.5));
const eluf = (x: number, alpha: number): number => (x < 0 ? mul(alpha, sub(expf(x), 1)) : x);
const leakyReluf = (x: number, alpha: number): number => (x < 0 ? mul(alpha, x) : x);
/** gamma (alpha e^x - alpha) for x <= 0, gamma x otherwise. */
const seluf = (x: number, alpha: number, gamma: number): number => (x <= 0 ? mul(gamma, sub(mul(alpha, expf(x)), alpha)) : mul(gamma, x));

// ---- the ops -----------------------------------------------------------------------------------------

interface Param {
  name: string;
  default: number;
  doc: string;
}

/** A float32 op y = f(x, params...); the C kernel is `tn_<kernel>_f32(x, y, n, params...)`. */
function activation(op: string, summary: string, kernel: string, params: Param[], fn: (x: number, ...p: number[]) => number): OpDef {
  return {
    op,
    summary,
    inputs: { names: ['X'], min: 1 },
    outputs: { names: ['Y'], min: 1 },
    attrs: Object.fromEntries(params.map((p) => [p.name, { kind: 'float', default: p.default, doc: p.doc }])),
    infer(ctx) {
      const x = ctx.inputs[0];
      if (!x || !checkDtype(ctx, 0, ['float32'], ['X'])) return [];
      return [{ dtype: 'float32', shape: [...x.shape] }];
    },
    interpret(ctx) {
      const x = ctx.readNum(inTensor(ctx, 0).name);
      const p = params.map((q) => attrF32(ctx.node, q.name));
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = fn(fround(x[i]!), ...p);
      ctx.write(ctx.node.outputs[0]!, y);
    },
    emit(ctx) {
      const fnName = `tn_${kernel}_f32`;
      const p = params.map((q) => `/* ${q.name} */ ${hexFloat(attrF32(ctx.node, q.name))}`);
      return {
        kernel: fnName,
        runtime: ['ref/tn_activation.c', 'ref/tn_math.c'],
        body: [`${fnName}(${[ctx.in(0), ctx.out(0), String(count(ctx.input(0))), ...p].join(', ')});`],
      };
    },
    cost: () => ({ macs: 0, weightBytes: 0 }),
    inPlace: [{ input: 0, output: 0 }],
  };
}

const ALPHA = (d: number, doc = 'the slope or scale of the negative side'): Param => ({ name: 'alpha', default: d, doc });

export const Elu = activation('Elu', 'x < 0 ? alpha (e^x - 1) : x', 'elu', [ALPHA(1)], eluf);
export const LeakyRelu = activation('LeakyRelu', 'x < 0 ? alpha x : x', 'leaky_relu', [ALPHA(0.01)], leakyReluf);
export const Selu = activation(
  'Selu',
  'gamma (alpha e^x - alpha) for x <= 0, gamma x otherwise',
  'selu',
  [ALPHA(1.67326319217681884765625), { name: 'gamma', default: 1.05070102214813232421875, doc: 'the scale' }],
  seluf,
);
export const HardSigmoid = activation(
  'HardSigmoid',
  'max(0, min(1, alpha x + beta))',
  'hard_sigmoid',
  [ALPHA(0.2, 'the slope'), { name: 'beta', default: 0.5, doc: 'the offset' }],
  hardSigmoidf,
);
export const HardSwish = activation('HardSwish', 'x max(0, min(1, x / 6 + 1/2)) (x times HardSigmoid with alpha 1/6)', 'hard_swish', [], hardSwishf);
export const Softplus = activation('Softplus', 'ln(1 + e^x), as max(x, 0) + ln(1 + e^-|x|)', 'softplus', [], softplusf);
export const Softsign = activation('Softsign', 'x / (1 + |x|)', 'softsign', [], softsignf);
export const Mish = activation('Mish', 'x tanh(softplus(x))', 'mish', [], mishf);
export const Floor = activation('Floor', 'the largest integer <= x (a zero keeps the sign of x)', 'floor', [], floorf);
export const Ceil = activation('Ceil', 'the smallest integer >= x (a zero keeps the sign of x)', 'ceil', [], ceilf);
export const Round = activation('Round', 'the nearest integer, ties to even (a zero keeps the sign of x)', 'round', [], roundf);

const ABS_TYPES: readonly DType[] = ['float32', 'int8', 'uint8', 'int32', 'int64'];

export const Abs: OpDef = {
  op: 'Abs',
  summary: '|x| (float32: -0 -> +0; integers wrap: |INT_MIN| = INT_MIN)',
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ABS_TYPES, ['X'])) return [];
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  interpret(ctx) {
    const x = ctx.read(inTensor(ctx, 0).name);
    const y = x.slice();
    if (y instanceof BigInt64Array) y.forEach((v, i) => (y[i] = BigInt.asIntN(64, v < 0n ? -v : v)));
    else if (y instanceof Float32Array) y.forEach((v, i) => (y[i] = absf(v)));
    else y.forEach((v, i) => ((y as Int32Array)[i] = v < 0 ? -v : v)); // the typed array wraps -INT_MIN
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const fn = `tn_abs_${SUFFIX[ctx.input(0).dtype]}`;
    return { kernel: fn, runtime: ['ref/tn_activation.c', 'ref/tn_math.c'], body: [`${fn}(${ctx.in(0)}, ${ctx.out(0)}, ${count(ctx.input(0))});`] };
  },
  cost: () => ({ macs: 0, weightBytes: 0 }),
  inPlace: [{ input: 0, output: 0 }],
};

export const PRelu: OpDef = {
  op: 'PRelu',
  summary: 'x < 0 ? slope x : x, slope broadcast to X (unidirectional)',
  inputs: { names: ['X', 'slope'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const [x, s] = ctx.inputs;
    if (!x || !s || !checkDtype(ctx, 0, ['float32'], ['X', 'slope']) || !checkDtype(ctx, 1, ['float32'], ['X', 'slope'])) return [];
    const out = broadcastShapes(x.shape, s.shape);
    if (!out || shapeStr(out) !== shapeStr(x.shape)) {
      ctx.error(`slope "${s.name}" ${shapeStr(s.shape)} does not broadcast to X "${x.name}" ${shapeStr(x.shape)}`);
      return [];
    }
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const xt = inTensor(ctx, 0);
    const st = inTensor(ctx, 1);
    const x = ctx.readNum(xt.name);
    const s = ctx.readNum(st.name);
    const [, ms] = broadcastIndexMaps(xt.shape, [xt.shape, st.shape]);
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = leakyReluf(x[i]!, s[ms![i]!]!);
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const shape = ctx.intTable('shape', x.shape);
    const strides = ctx.intTable('slope_strides', broadcastStrides(ctx.input(1).shape, x.shape));
    return {
      kernel: 'tn_prelu_f32',
      runtime: ['ref/tn_activation.c', 'ref/tn_math.c'],
      body: [`tn_prelu_f32(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.out(0)}, /* rank */ ${x.shape.length}, ${shape}, ${strides});`],
    };
  },
  cost: () => ({ macs: 0, weightBytes: 0 }),
  inPlace: [{ input: 0, output: 0 }],
};

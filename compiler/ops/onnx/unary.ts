// ONNX float32 elementwise functions: Sqrt, Log, Exp, Erf, Sigmoid, Tanh, Gelu (approximate 'none' or
// 'tanh'). y[i] = f(x[i]) with the scalar functions of compiler/numerics/f32.ts, which runtime-c's
// tn_math.c mirrors step by step (docs/numerics.md, "Scalar helpers", has each one's accuracy).

import { attrString, type OpDef } from '../op.ts';
import { erff, expf, geluErff, geluTanhf, logf, sigmoidf, sqrtf, tanhf } from '../../numerics/f32.ts';
import { checkDtype, count, inTensor } from './common.ts';

function unaryOp(op: string, summary: string, fn: (x: number) => number, kernel: string): OpDef {
  return {
    op,
    summary,
    inputs: { names: ['X'], min: 1 },
    outputs: { names: ['Y'], min: 1 },
    attrs: {},
    infer(ctx) {
      const x = ctx.inputs[0];
      if (!x || !checkDtype(ctx, 0, ['float32'], ['X'])) return [];
      return [{ dtype: 'float32', shape: [...x.shape] }];
    },
    interpret(ctx) {
      const x = ctx.readNum(inTensor(ctx, 0).name);
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = fn(x[i]!);
      ctx.write(ctx.node.outputs[0]!, y);
    },
    emit(ctx) {
      return { kernel, runtime: ['ref/tn_unary.c', 'ref/tn_math.c'], body: [`${kernel}(${ctx.in(0)}, ${ctx.out(0)}, ${count(ctx.input(0))});`] };
    },
    cost: () => ({ macs: 0, weightBytes: 0 }),
  };
}

export const Sqrt = unaryOp('Sqrt', 'square root, correctly rounded (negative -> NaN)', sqrtf, 'tn_sqrt_f32');
export const Log = unaryOp('Log', 'natural logarithm (0 -> -inf, negative -> NaN)', logf, 'tn_log_f32');
export const Exp = unaryOp('Exp', 'e^x (the expf Softmax uses; above 88.72 -> +inf, below -103.97 -> 0)', expf, 'tn_exp_f32');
export const Erf = unaryOp('Erf', 'the error function', erff, 'tn_erf_f32');
export const Sigmoid = unaryOp('Sigmoid', '1 / (1 + e^-x)', sigmoidf, 'tn_sigmoid_f32');
export const Tanh = unaryOp('Tanh', 'hyperbolic tangent', tanhf, 'tn_tanh_f32');

const GeluErf = unaryOp('Gelu', '', geluErff, 'tn_gelu_erf_f32');
const GeluTanh = unaryOp('Gelu', '', geluTanhf, 'tn_gelu_tanh_f32');
const tanhForm = (node: { attrs: Record<string, unknown> }) => node.attrs.approximate === 'tanh';

export const Gelu: OpDef = {
  ...GeluErf,
  summary: "0.5 x (1 + erf(x / sqrt 2)), or with approximate = 'tanh' 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
  attrs: { approximate: { kind: 'string', default: 'none', oneOf: ['none', 'tanh'], doc: "'none' (erf) or 'tanh'" } },
  interpret: (ctx) => (tanhForm(ctx.node) ? GeluTanh : GeluErf).interpret(ctx),
  emit: (ctx) => (attrString(ctx.node, 'approximate') === 'tanh' ? GeluTanh : GeluErf).emit(ctx),
};

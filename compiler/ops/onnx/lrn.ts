// LRN, local response normalisation across channels (AlexNet, Inception v1), float32 rank >= 3:
//   s = 0; s = s + x[c']^2 for c' from max(0, c - floor((size-1)/2)) to min(C-1, c + ceil((size-1)/2))
//   y = x / tn_powf(bias + (alpha / size) * s, beta)      (alpha / size one float32 division; tn_divf)
// runtime-c/ref/tn_norm.c, tn_lrn_f32, follows the same steps.

import { hexFloat } from '../../emit/cliterals.ts';
import { elementCount, shapeStr } from '../../ir.ts';
import { add, div, mul, powf } from '../../numerics/f32.ts';
import { attrInt, type OpDef } from '../op.ts';
import { attrF32, checkDtype, inTensor } from './common.ts';

export const LRN: OpDef = {
  op: 'LRN',
  summary: 'x / (bias + alpha / size * sum of squares over `size` neighbouring channels)^beta',
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    size: { kind: 'int', doc: 'channels in the window' },
    alpha: { kind: 'float', default: 0.0001, doc: 'scale' },
    beta: { kind: 'float', default: 0.75, doc: 'exponent' },
    bias: { kind: 'float', default: 1, doc: 'offset' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ['float32'], ['X'])) return [];
    if (x.shape.length < 3) ctx.error(`X "${x.name}" ${shapeStr(x.shape)} must have rank 3 or more (N, C, D1, ...)`);
    if (!(attrInt(ctx.node, 'size') >= 1)) ctx.error(`size ${attrInt(ctx.node, 'size')} must be at least 1`);
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const xt = inTensor(ctx, 0);
    const x = ctx.readNum(xt.name);
    const [n, c] = xt.shape as [number, number];
    const inner = elementCount(xt.shape.slice(2));
    const size = attrInt(ctx.node, 'size');
    const k = div(attrF32(ctx.node, 'alpha'), size);
    const [bias, beta] = [attrF32(ctx.node, 'bias'), attrF32(ctx.node, 'beta')];
    const lo = Math.floor((size - 1) / 2);
    const hi = Math.ceil((size - 1) / 2);
    const y = new Float32Array(x.length);
    for (let b = 0; b < n; b++)
      for (let ch = 0; ch < c; ch++)
        for (let i = 0; i < inner; i++) {
          let s = 0;
          for (let q = Math.max(0, ch - lo); q <= Math.min(c - 1, ch + hi); q++) {
            const v = x[(b * c + q) * inner + i]!;
            s = add(s, mul(v, v));
          }
          const at = (b * c + ch) * inner + i;
          y[at] = div(x[at]!, powf(add(bias, mul(k, s)), beta));
        }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const f = (a: string) => hexFloat(attrF32(ctx.node, a));
    return {
      kernel: 'tn_lrn_f32',
      runtime: ['ref/tn_norm.c', 'ref/tn_math.c'],
      body: [
        `tn_lrn_f32(${ctx.in(0)}, ${ctx.out(0)}, /* N */ ${x.shape[0]}, /* C */ ${x.shape[1]}, /* inner */ ${elementCount(x.shape.slice(2))}, /* size */ ${attrInt(ctx.node, 'size')}, /* alpha */ ${f('alpha')}, /* beta */ ${f('beta')}, /* bias */ ${f('bias')});`,
      ],
    };
  },
  cost: (g, node) => ({ macs: elementCount(g.tensors.get(node.inputs[0]!)!.shape) * attrInt(node, 'size'), weightBytes: 0 }),
};

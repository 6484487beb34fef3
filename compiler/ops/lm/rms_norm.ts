// RmsNorm: y = x / sqrt(mean(x^2) + eps) * w, per row (LLaMA's RMSNorm, llama.cpp's rms_norm then mul).
//
//   X  float32 [T, D],  W  float32 [D] (constant),  Y  float32 [T, D]
// Per row (docs/numerics.md, "RmsNorm"):  ss = sum_i fl(x_i * x_i) in order;  m = fl(ss / D);
// inv = fl(1 / sqrtf(fl(m + eps)));  y_i = fl(fl(x_i * inv) * w_i).  eps is rounded to float32.

import { hexFloat } from '../../emit/cliterals.ts';
import { shapeStr } from '../../ir.ts';
import { add, div, fround, mul, sqrtf } from '../../numerics/f32.ts';
import { at, type OpDef } from '../op.ts';
import { ROWS_ATTR, rowArgs, rowSpan } from './rows.ts';

export const RmsNorm: OpDef = {
  op: 'RmsNorm',
  summary: 'RMS normalisation of each row, times a weight vector',
  inputs: { names: ['X', 'W'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: { eps: { kind: 'float', default: 1e-5, doc: 'added to the mean square (rounded to float32)' }, rows: ROWS_ATTR },
  rows: true,
  infer(ctx) {
    const [x, w] = ctx.inputs;
    if (!x || !w) return [];
    if (x.dtype !== 'float32' || x.shape.length !== 2) ctx.error(`input 0 "${x.name}" must be float32 [T, D], found ${x.dtype} ${shapeStr(x.shape)}`, 'dtype');
    else if (w.dtype !== 'float32' || w.shape.length !== 1 || w.shape[0] !== x.shape[1])
      ctx.error(`input 1 "${w.name}" must be float32 [${x.shape[1]}], found ${w.dtype} ${shapeStr(w.shape)}`);
    else if (!(Number(ctx.node.attrs.eps) > 0)) ctx.error(`eps ${ctx.node.attrs.eps} must be positive`);
    else return [{ dtype: 'float32', shape: [...x.shape] }];
    return [];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const x = ctx.readNum(xT.name);
    const w = ctx.readNum(node.inputs[1]!);
    const [total, d] = xT.shape as [number, number];
    const eps = fround(Number(node.attrs.eps));
    const y = new Float32Array(total * d);
    const { from, count } = rowSpan(node, ctx.rows, total);
    for (let r = 0; r < count; r++) {
      const base = (from + r) * d;
      let ss = 0;
      for (let i = 0; i < d; i++) {
        const v = at(x, base + i, xT.name);
        ss = add(ss, mul(v, v));
      }
      const inv = div(1, sqrtf(add(div(ss, d), eps)));
      for (let i = 0; i < d; i++) y[r * d + i] = mul(mul(at(x, base + i, xT.name), inv), at(w, i, node.inputs[1]!));
    }
    ctx.write(node.outputs[0]!, y);
  },
  // Each row is read whole before it is written.
  inPlace: [{ input: 0, output: 0, when: (_g, node) => node.attrs.rows !== 'last' }],
  emit(ctx) {
    const [total, d] = ctx.input(0).shape as [number, number];
    const { x: xin, rows } = rowArgs(ctx.node, !!ctx.graph.rows, ctx.in(0), d, ctx.rows(total), ctx.outRows(total));
    return {
      kernel: 'tn_rms_norm_f32',
      runtime: ['ref/tn_lm.c', 'ref/tn_math.c'],
      body: [`tn_rms_norm_f32(${xin}, ${rows}, ${ctx.in(1)}, /* dim */ ${d}, /* eps */ ${hexFloat(fround(Number(ctx.node.attrs.eps)))}, ${ctx.out(0)});`],
    };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    return { macs: x.shape[0]! * x.shape[1]! * 2, weightBytes: x.shape[1]! * 4 };
  },
};

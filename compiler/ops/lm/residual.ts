// Residual: y = fl(x + r) elementwise over each row, the residual stream's update.
//
//   X, R  float32 [T, D]     Y  float32 [T, D]

import { shapeStr } from '../../ir.ts';
import { add } from '../../numerics/f32.ts';
import { at, type OpDef } from '../op.ts';
import { rowSpan } from './rows.ts';

export const Residual: OpDef = {
  op: 'Residual',
  summary: 'x + r elementwise (the residual connection of a decoder block)',
  inputs: { names: ['X', 'R'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  rows: true,
  infer(ctx) {
    const [x, r] = ctx.inputs;
    if (!x || !r) return [];
    if (x.dtype !== 'float32' || r.dtype !== 'float32' || x.shape.length !== 2 || shapeStr(x.shape) !== shapeStr(r.shape))
      ctx.error(
        `X "${x.name}" and R "${r.name}" must be float32 [T, D] of the same shape, found ${x.dtype} ${shapeStr(x.shape)} and ${r.dtype} ${shapeStr(r.shape)}`,
      );
    else return [{ dtype: 'float32', shape: [...x.shape] }];
    return [];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const x = ctx.readNum(xT.name);
    const r = ctx.readNum(node.inputs[1]!);
    const [total, d] = xT.shape as [number, number];
    const y = new Float32Array(total * d);
    const { count } = rowSpan(node, ctx.rows, total);
    for (let i = 0; i < count * d; i++) y[i] = add(at(x, i, xT.name), at(r, i, node.inputs[1]!));
    ctx.write(node.outputs[0]!, y);
  },
  inPlace: [
    { input: 0, output: 0 },
    { input: 1, output: 0 },
  ],
  emit(ctx) {
    const [total, d] = ctx.input(0).shape as [number, number];
    return {
      kernel: 'tn_residual_f32',
      runtime: ['ref/tn_lm.c', 'ref/tn_math.c'],
      body: [`tn_residual_f32(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.rows(total)}, /* width */ ${d}, ${ctx.out(0)});`],
    };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    return { macs: x.shape[0]! * x.shape[1]!, weightBytes: 0 };
  },
};

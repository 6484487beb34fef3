// Add: elementwise sum with NumPy broadcasting (the residual connection).  y = a + b
// float32 (one rounding), or int8/uint8/int32/int64 with wrap-around (compiler/ops/onnx/elementwise.ts).

import { elementCount, getTensor, shapeStr } from '../ir.ts';
import { add } from '../numerics/f32.ts';
import { at, type OpDef } from './op.ts';
import { broadcastShapes, broadcastStrides } from './broadcast.ts';
import { arithEmit, arithInfer, arithInterpret } from './onnx/elementwise.ts';
import { INTEGER } from './onnx/common.ts';

export { broadcastShapes, broadcastStrides } from './broadcast.ts';

export const Add: OpDef = {
  op: 'Add',
  summary: 'a + b with NumPy broadcasting: float32, or integers with wrap-around',
  inputs: { names: ['A', 'B'], min: 2 },
  outputs: { names: ['C'], min: 1 },
  attrs: {},
  infer(ctx) {
    const [a, b] = ctx.inputs;
    if (!a || !b) return [];
    if (INTEGER.includes(a.dtype)) return arithInfer(ctx, INTEGER);
    if (a.dtype !== 'float32' || b.dtype !== 'float32') {
      ctx.error(
        `inputs must both be float32, or both the same integer dtype (int8, uint8, int32, int64), found ${a.dtype} "${a.name}" and ${b.dtype} "${b.name}"`,
      );
      return [];
    }
    const out = broadcastShapes(a.shape, b.shape);
    if (!out) {
      ctx.error(`shapes ${shapeStr(a.shape)} of "${a.name}" and ${shapeStr(b.shape)} of "${b.name}" do not broadcast`);
      return [];
    }
    return [{ dtype: 'float32', shape: out }];
  },
  interpret(ctx) {
    if (ctx.graph.tensors.get(ctx.node.inputs[0]!)!.dtype !== 'float32') return arithInterpret(ctx, 'Add');
    const [an, bn] = ctx.node.inputs as [string, string];
    const aT = ctx.graph.tensors.get(an)!;
    const bT = ctx.graph.tensors.get(bn)!;
    const out = broadcastShapes(aT.shape, bT.shape)!;
    const sa = broadcastStrides(aT.shape, out);
    const sb = broadcastStrides(bT.shape, out);
    const a = ctx.readNum(an);
    const b = ctx.readNum(bn);
    const y = new Float32Array(elementCount(out));
    const idx = new Array<number>(out.length).fill(0);
    for (let i = 0; i < y.length; i++) {
      let ia = 0;
      let ib = 0;
      for (let d = 0; d < out.length; d++) {
        ia += idx[d]! * sa[d]!;
        ib += idx[d]! * sb[d]!;
      }
      y[i] = add(at(a, ia, an), at(b, ib, bn));
      for (let d = out.length - 1; d >= 0; d--) {
        if (++idx[d]! < out[d]!) break;
        idx[d] = 0;
      }
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const a = ctx.input(0);
    const b = ctx.input(1);
    if (a.dtype !== 'float32') return arithEmit(ctx, 'Add');
    const out = ctx.output(0).shape;
    const same = shapeStr(a.shape) === shapeStr(b.shape);
    if (same)
      return {
        kernel: 'tn_add_f32',
        runtime: ['ref/tn_elementwise.c'],
        body: [`tn_add_f32(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.out(0)}, ${elementCount(out)});`],
      };
    const shape = ctx.intTable('shape', out);
    const sa = ctx.intTable('a_strides', broadcastStrides(a.shape, out));
    const sb = ctx.intTable('b_strides', broadcastStrides(b.shape, out));
    return {
      kernel: 'tn_add_f32_bcast',
      runtime: ['ref/tn_elementwise.c'],
      body: [`tn_add_f32_bcast(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.out(0)}, ${out.length}, ${shape}, ${sa}, ${sb});`],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
  // y[i] = a[ia] + b[ib]; an operand that is not broadcast has ia == i, so y may overwrite it.
  // A broadcast operand is read repeatedly and never shares.
  inPlace: [
    { input: 0, output: 0, when: (g, n) => elementCount(getTensor(g, n.inputs[0]!).shape) === elementCount(getTensor(g, n.outputs[0]!).shape) },
    { input: 1, output: 0, when: (g, n) => elementCount(getTensor(g, n.inputs[1]!).shape) === elementCount(getTensor(g, n.outputs[0]!).shape) },
  ],
};

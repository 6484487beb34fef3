// Add: float32 elementwise sum with NumPy broadcasting (the residual connection).  y = a + b

import { elementCount, getTensor, shapeStr } from '../ir.ts';
import { add } from '../numerics/f32.ts';
import { at, type OpDef } from './op.ts';

/** NumPy broadcast of two shapes, or undefined if they are incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element strides of `shape` seen through the broadcast `out` shape (0 along broadcast axes). */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const oi = out.length - shape.length + i;
    strides[oi] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

export const Add: OpDef = {
  op: 'Add',
  summary: 'float32 a + b with NumPy broadcasting (residual connections)',
  inputs: { names: ['A', 'B'], min: 2 },
  outputs: { names: ['C'], min: 1 },
  attrs: {},
  infer(ctx) {
    const [a, b] = ctx.inputs;
    if (!a || !b) return [];
    if (a.dtype !== 'float32' || b.dtype !== 'float32') {
      ctx.error(`inputs must be float32, found ${a.dtype} "${a.name}" and ${b.dtype} "${b.name}"`);
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
    const [an, bn] = ctx.node.inputs as [string, string];
    const aT = ctx.graph.tensors.get(an)!;
    const bT = ctx.graph.tensors.get(bn)!;
    const out = broadcastShapes(aT.shape, bT.shape)!;
    const sa = broadcastStrides(aT.shape, out);
    const sb = broadcastStrides(bT.shape, out);
    const a = ctx.read(an);
    const b = ctx.read(bn);
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
    const out = ctx.output(0).shape;
    const same = shapeStr(a.shape) === shapeStr(b.shape);
    if (same) return { kernel: 'tn_add_f32', runtime: ['ref/tn_elementwise.c'], body: [`tn_add_f32(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.out(0)}, ${elementCount(out)});`] };
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

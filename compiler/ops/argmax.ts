// ArgMax over one axis (default: the last): the index of the first maximum, as int32.
//   best = x_0, idx = 0; for i: if (x_i > best) best = x_i, idx = i     (NaN never wins)
// keepdims (default false) keeps the reduced axis with size 1.

import { at, attrInt, normalizeAxis, type OpDef } from './op.ts';
import { axisView } from './softmax.ts';

function outShape(shape: readonly number[], axis: number, keep: boolean): number[] {
  return keep ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

export const ArgMax: OpDef = {
  op: 'ArgMax',
  summary: 'index of the first maximum along one axis, int32',
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    axis: { kind: 'int', default: -1, doc: 'the axis to reduce (negative counts from the end)' },
    keepdims: { kind: 'bool', default: false, doc: 'keep the reduced axis with size 1' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (x.dtype !== 'float32' && x.dtype !== 'int8' && x.dtype !== 'int32') ctx.error(`input 0 "${x.name}" must be float32, int8 or int32, found ${x.dtype}`, 'dtype');
    const axis = normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length);
    if (axis === undefined) {
      ctx.error(`axis ${attrInt(ctx.node, 'axis')} is out of range for rank ${x.shape.length}`);
      return [];
    }
    if (x.shape[axis] === 0) ctx.error(`cannot take ArgMax over an empty axis`);
    return [{ dtype: 'int32', shape: outShape(x.shape, axis, ctx.node.attrs.keepdims === true), range: [0, Math.max(0, x.shape[axis]! - 1)] }];
  },
  interpret(ctx) {
    const name = ctx.node.inputs[0]!;
    const shape = ctx.graph.tensors.get(name)!.shape;
    const { outer, dim, inner } = axisView(shape, normalizeAxis(attrInt(ctx.node, 'axis'), shape.length)!);
    const x = ctx.readNum(name);
    const y = new Int32Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * dim * inner + j;
        let best = at(x, base, name);
        let idx = 0;
        for (let i = 1; i < dim; i++) {
          const v = x[base + i * inner]!;
          if (v > best) {
            best = v;
            idx = i;
          }
        }
        y[o * inner + j] = idx;
      }
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const { outer, dim, inner } = axisView(x.shape, normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length)!);
    const fn = { float32: 'tn_argmax_f32', int8: 'tn_argmax_i8', int32: 'tn_argmax_i32' }[x.dtype as 'float32' | 'int8' | 'int32'];
    return {
      kernel: fn,
      runtime: ['ref/tn_argmax.c'],
      body: [`${fn}(${ctx.in(0)}, ${ctx.out(0)}, /* outer */ ${outer}, /* dim */ ${dim}, /* inner */ ${inner});`],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
};

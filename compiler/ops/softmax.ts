// Softmax over one axis (default: the last), float32, in this order for each slice:
//   m = x_0; for i: if (x_i > m) m = x_i          (first maximum; NaN never replaces m)
//   e_i = tn_expf(x_i - m);  s = 0; for i: s = s + e_i;   y_i = e_i / s

import { elementCount } from '../ir.ts';
import { add, div, expf, sub } from '../numerics/f32.ts';
import { at, attrInt, normalizeAxis, type OpDef } from './op.ts';

/** outer * dim * inner view of a shape around one axis. */
export function axisView(shape: readonly number[], axis: number): { outer: number; dim: number; inner: number } {
  return { outer: elementCount(shape.slice(0, axis)), dim: shape[axis]!, inner: elementCount(shape.slice(axis + 1)) };
}

export const Softmax: OpDef = {
  op: 'Softmax',
  summary: "float32 softmax along one axis, with runtime-c's tn_expf",
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y'], min: 1 },
  attrs: { axis: { kind: 'int', default: -1, doc: 'the axis to normalise (negative counts from the end)' } },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (x.dtype !== 'float32') ctx.error(`input 0 "${x.name}" must be float32, found ${x.dtype}`, 'dtype');
    if (normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length) === undefined)
      ctx.error(`axis ${attrInt(ctx.node, 'axis')} is out of range for rank ${x.shape.length}`);
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const name = ctx.node.inputs[0]!;
    const shape = ctx.graph.tensors.get(name)!.shape;
    const { outer, dim, inner } = axisView(shape, normalizeAxis(attrInt(ctx.node, 'axis'), shape.length)!);
    const x = ctx.readNum(name);
    const y = new Float32Array(x.length);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * dim * inner + j;
        let m = at(x, base, name);
        for (let i = 1; i < dim; i++) if (x[base + i * inner]! > m) m = x[base + i * inner]!;
        let s = 0;
        for (let i = 0; i < dim; i++) {
          const e = expf(sub(at(x, base + i * inner, name), m));
          y[base + i * inner] = e;
          s = add(s, e);
        }
        for (let i = 0; i < dim; i++) y[base + i * inner] = div(y[base + i * inner]!, s);
      }
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const shape = ctx.input(0).shape;
    const { outer, dim, inner } = axisView(shape, normalizeAxis(attrInt(ctx.node, 'axis'), shape.length)!);
    return {
      kernel: 'tn_softmax_f32',
      runtime: ['ref/tn_softmax.c', 'ref/tn_math.c'],
      body: [`tn_softmax_f32(${ctx.in(0)}, ${ctx.out(0)}, /* outer */ ${outer}, /* dim */ ${dim}, /* inner */ ${inner});`],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
  // Per slice the kernel reads x (max, then x[i] just before writing y[i] = e_i) and then only y, and
  // slices are disjoint, so y may overwrite x.
  inPlace: [{ input: 0, output: 0 }],
};

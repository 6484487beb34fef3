// ArgMax over one axis (default: the last): the index of the first maximum, as int32.
//   best = x_0, idx = 0; for i: if (x_i > best) best = x_i, idx = i     (NaN never wins)
// keepdims (default false) keeps the reduced axis with size 1. For ONNX: select_last_index (>= instead
// of >, the last maximum wins) and output_dtype int64 (ONNX's type); uint8 and int64 inputs too.
// ArgMin (ONNX) is the same with < and <=; it always runs the general kernel (tn_argmin_any).

import { attrInt, normalizeAxis, type OpDef } from './op.ts';
import { axisView } from './softmax.ts';
import { DT_CODE, elemAt } from './onnx/common.ts';

function outShape(shape: readonly number[], axis: number, keep: boolean): number[] {
  return keep ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

function argOp(op: 'ArgMax' | 'ArgMin'): OpDef {
  const min = op === 'ArgMin';
  return {
    op,
    summary: `index of the first ${min ? 'minimum' : 'maximum'} along one axis, int32`,
    inputs: { names: ['X'], min: 1 },
    outputs: { names: ['Y'], min: 1 },
    attrs: {
      axis: { kind: 'int', default: -1, doc: 'the axis to reduce (negative counts from the end)' },
      keepdims: { kind: 'bool', default: false, doc: 'keep the reduced axis with size 1' },
      select_last_index: { kind: 'bool', default: false, doc: 'the last maximum wins instead of the first' },
      output_dtype: { kind: 'string', default: 'int32', oneOf: ['int32', 'int64'], doc: 'int32 (native) or int64 (ONNX)' },
    },
    infer(ctx) {
      const x = ctx.inputs[0];
      if (!x) return [];
      if (!['float32', 'int8', 'uint8', 'int32', 'int64'].includes(x.dtype))
        ctx.error(`input 0 "${x.name}" must be float32, int8, uint8, int32 or int64, found ${x.dtype}`, 'dtype');
      const axis = normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length);
      if (axis === undefined) {
        ctx.error(`axis ${attrInt(ctx.node, 'axis')} is out of range for rank ${x.shape.length}`);
        return [];
      }
      if (x.shape[axis] === 0) ctx.error(`cannot take ${op} over an empty axis`);
      const dtype = ctx.node.attrs.output_dtype === 'int64' ? 'int64' : 'int32';
      return [{ dtype, shape: outShape(x.shape, axis, ctx.node.attrs.keepdims === true), range: [0, Math.max(0, x.shape[axis]! - 1)] }];
    },
    interpret(ctx) {
      const name = ctx.node.inputs[0]!;
      const shape = ctx.graph.tensors.get(name)!.shape;
      const { outer, dim, inner } = axisView(shape, normalizeAxis(attrInt(ctx.node, 'axis'), shape.length)!);
      const x = ctx.read(name);
      const last = ctx.node.attrs.select_last_index === true;
      const y = ctx.node.attrs.output_dtype === 'int64' ? new BigInt64Array(outer * inner) : new Int32Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          const base = o * dim * inner + j;
          let best = elemAt(x, base, name);
          let idx = 0;
          for (let i = 1; i < dim; i++) {
            const v = elemAt(x, base + i * inner, name);
            if (min ? (last ? v <= best : v < best) : last ? v >= best : v > best) {
              best = v;
              idx = i;
            }
          }
          if (y instanceof BigInt64Array) y[o * inner + j] = BigInt(idx);
          else y[o * inner + j] = idx;
        }
      }
      ctx.write(ctx.node.outputs[0]!, y);
    },
    emit(ctx) {
      const x = ctx.input(0);
      const { outer, dim, inner } = axisView(x.shape, normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length)!);
      const last = ctx.node.attrs.select_last_index === true;
      const i64 = ctx.node.attrs.output_dtype === 'int64';
      if (min || last || i64 || x.dtype === 'uint8' || x.dtype === 'int64') {
        const fn = min ? 'tn_argmin_any' : 'tn_argmax_any';
        return {
          kernel: fn,
          runtime: ['ref/tn_argmax.c'],
          body: [
            `${fn}(${ctx.in(0)}, ${DT_CODE[x.dtype]}, ${ctx.out(0)}, /* int64 out */ ${i64 ? 1 : 0}, /* select last */ ${last ? 1 : 0}, /* outer */ ${outer}, /* dim */ ${dim}, /* inner */ ${inner});`,
          ],
        };
      }
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
}

export const ArgMax = argOp('ArgMax');
export const ArgMin = argOp('ArgMin');

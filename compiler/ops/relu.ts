// Relu: y = x > 0 ? x : 0, for float32 (a -0.0 or NaN input gives +0.0), for int8, where the
// output keeps the input's scale tensor (max(q, 0) * s == max(q * s, 0) for s > 0), and for int32
// and int64 (ONNX).

import { elementCount } from '../ir.ts';
import type { OpDef } from './op.ts';

export const Relu: OpDef = {
  op: 'Relu',
  summary: 'max(x, 0) on float32, int32, int64, or on int8 keeping the scale',
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (x.dtype === 'float32') return [{ dtype: 'float32', shape: [...x.shape] }];
    if (x.dtype === 'int8') {
      const [, hi] = x.range ?? [-128, 127];
      return [{ dtype: 'int8', shape: [...x.shape], quant: x.quant ? { ...x.quant } : undefined, range: [0, Math.max(0, hi)] }];
    }
    if (x.dtype === 'int32' || x.dtype === 'int64')
      return [{ dtype: x.dtype, shape: [...x.shape], range: x.range ? [Math.max(0, x.range[0]), Math.max(0, x.range[1])] : undefined }];
    ctx.error(`input 0 "${x.name}" must be float32, int8, int32 or int64, found ${x.dtype}`, 'dtype');
    return [];
  },
  interpret(ctx) {
    const raw = ctx.read(ctx.node.inputs[0]!);
    if (raw instanceof BigInt64Array) {
      ctx.write(
        ctx.node.outputs[0]!,
        raw.map((v) => (v > 0n ? v : 0n)),
      );
      return;
    }
    if (raw instanceof Int32Array) {
      ctx.write(
        ctx.node.outputs[0]!,
        raw.map((v) => (v > 0 ? v : 0)),
      );
      return;
    }
    const x = ctx.readNum(ctx.node.inputs[0]!);
    const y = x instanceof Int8Array ? new Int8Array(x.length) : new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i]! > 0 ? x[i]! : 0;
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const fn = { int8: 'tn_relu_i8', int32: 'tn_relu_i32', int64: 'tn_relu_i64' }[x.dtype as 'int8'] ?? 'tn_relu_f32';
    const file = x.dtype === 'int32' || x.dtype === 'int64' ? ['ref/tn_arith.c', 'ref/tn_math.c'] : ['ref/tn_elementwise.c'];
    return { kernel: fn, runtime: file, body: [`${fn}(${ctx.in(0)}, ${ctx.out(0)}, ${elementCount(x.shape)});`] };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
  // y[i] depends on x[i] alone, same element size.
  inPlace: [{ input: 0, output: 0 }],
};

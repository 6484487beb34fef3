// DequantizeInt8: int8 with a scale -> float32.   y_k = (float)q_k * scale[row or 0]

import { elementCount } from '../ir.ts';
import { i2f, mul } from '../numerics/f32.ts';
import { at, type OpDef } from './op.ts';
import { lastDim, rowsOf } from '../ir.ts';

export const DequantizeInt8: OpDef = {
  op: 'DequantizeInt8',
  summary: "int8 -> float32 using the tensor's own scale (per tensor or per row)",
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (x.dtype !== 'int8') ctx.error(`input 0 "${x.name}" must be int8, found ${x.dtype}`, 'dtype');
    else if (!x.quant) ctx.error(`input 0 "${x.name}" is int8 without a scale`);
    else if (x.quant.granularity === 'per_group') ctx.error(`input 0 "${x.name}" must be quantised per tensor or per row`);
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const xT = ctx.graph.tensors.get(ctx.node.inputs[0]!)!;
    const q = ctx.readNum(xT.name);
    const s = ctx.readNum(xT.quant!.scale);
    const perRow = xT.quant!.granularity === 'per_row';
    const cols = perRow ? lastDim(xT.shape) : Math.max(1, q.length);
    const y = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) y[i] = mul(i2f(q[i]!), at(s, perRow ? Math.floor(i / cols) : 0, xT.quant!.scale));
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const perRow = x.quant!.granularity === 'per_row';
    const rows = perRow ? rowsOf(x.shape) : 1;
    const cols = perRow ? lastDim(x.shape) : elementCount(x.shape);
    return {
      kernel: 'tn_dequantize_i8',
      runtime: ['ref/tn_quantize.c', 'ref/tn_math.c'],
      body: [`tn_dequantize_i8(${ctx.in(0)}, ${ctx.inScale(0)}, ${ctx.out(0)}, ${rows}, ${cols});`],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
  // int8 -> float32 grows 4x, so not over the start of q; with q at the end of y's bytes, y[i]
  // (bytes 4i..4i+3) stays below q[i+1] (byte 3n + i + 1) for every i < n.
  inPlace: [{ input: 0, output: 0, align: 'end' }],
};

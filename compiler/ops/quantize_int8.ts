// QuantizeInt8: float32 -> int8, symmetric absmax, per tensor or per row (the last axis is a row).
//   amax  = max(max_k |x_k|, 1e-5f)
//   scale = amax / 127            (the dequantisation scale: x ~ q * scale)
//   inv   = 127 / amax
//   q_k   = clamp(rint_half_even(x_k * inv), -127, 127)   NaN -> 0
// Outputs: Y (int8, same shape, quant {scale: Y_scale}) and Y_scale (float32 [rows] or [1]).

import { elementCount, lastDim, rowsOf, type Granularity } from '../ir.ts';
import { C, div, mul, quantI8 } from '../numerics/f32.ts';
import { vectorIsa } from '../targets.ts';
import { attrString, type OpDef } from './op.ts';
import { LEADING_ROWS_ATTR, leadingRows, leadingRowsC } from './lm/rows.ts';

/** Reference absmax quantisation of one row (shared with the ops that quantise internally): codes of
 * x[start ..] into q[qStart ..] (q[start ..] by default), the scale into scaleOut[scaleIndex]. */
export function quantizeRow(x: ArrayLike<number>, start: number, len: number, q: Int8Array, scaleOut: Float32Array, scaleIndex: number, qStart = start): void {
  let amax = 0;
  for (let i = start; i < start + len; i++) {
    const a = Math.abs(x[i]!);
    if (a > amax) amax = a;
  }
  if (!(amax >= C.ACT_AMAX_FLOOR)) amax = C.ACT_AMAX_FLOOR; // also catches amax = NaN (never set)
  scaleOut[scaleIndex] = div(amax, 127);
  const inv = div(127, amax);
  for (let i = 0; i < len; i++) q[qStart + i] = quantI8(mul(x[start + i]!, inv));
}

export const QuantizeInt8: OpDef = {
  op: 'QuantizeInt8',
  summary: 'float32 -> int8 with a symmetric absmax scale per tensor or per row',
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y', 'Y_scale'], min: 2 },
  attrs: {
    granularity: { kind: 'string', default: 'per_tensor', oneOf: ['per_tensor', 'per_row'], doc: 'one scale for the whole tensor, or one per row (last axis)' },
    rows: LEADING_ROWS_ATTR,
  },
  // Per row in a token-batched graph: the call's rows only (the others hold no token).
  rows: true,
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (x.dtype !== 'float32') ctx.error(`input 0 "${x.name}" must be float32, found ${x.dtype}`, 'dtype');
    const granularity = attrString(ctx.node, 'granularity') as Granularity;
    if (ctx.graph.rows && granularity !== 'per_row') ctx.error('a token-batched graph quantizes per row (per token), not per tensor');
    const rows = granularity === 'per_row' ? rowsOf(x.shape) : 1;
    return [
      { dtype: 'int8', shape: [...x.shape], quant: { scale: ctx.node.outputs[1]!, granularity }, range: [-127, 127] },
      { dtype: 'float32', shape: [rows] },
    ];
  },
  interpret(ctx) {
    const { node } = ctx;
    const x = ctx.readNum(node.inputs[0]!);
    const shape = ctx.graph.tensors.get(node.inputs[0]!)!.shape;
    const perRow = attrString(node, 'granularity') === 'per_row';
    const rows = perRow ? rowsOf(shape) : 1;
    const cols = perRow ? lastDim(shape) : x.length;
    const q = new Int8Array(x.length);
    const scale = new Float32Array(rows);
    const count = leadingRows(node, ctx.rows, rows);
    for (let r = 0; r < count; r++) quantizeRow(x, r * cols, cols, q, scale, r);
    ctx.write(node.outputs[0]!, q);
    ctx.write(node.outputs[1]!, scale);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const perRow = attrString(ctx.node, 'granularity') === 'per_row';
    const rows = perRow ? rowsOf(x.shape) : 1;
    const cols = perRow ? lastDim(x.shape) : elementCount(x.shape);
    // The vector kernels give the reference's codes and scales (test/lm-attention.test.ts), in place too.
    const isa = vectorIsa(ctx.target);
    const fn = `tn_quantize_i8${isa ? `_${isa}` : ''}`;
    return {
      kernel: fn,
      runtime: [
        'ref/tn_quantize.c',
        'ref/tn_math.c',
        ...(isa === 'avx2' ? ['opt/x86/tn_quantize_avx2.c'] : isa === 'neon' ? ['opt/arm/tn_quantize_neon.c'] : []),
      ],
      body: [`${fn}(${ctx.in(0)}, ${ctx.out(0)}, ${ctx.out(1)}, ${perRow ? leadingRowsC(ctx.node, ctx.rows(rows), ctx.outRows(rows)) : rows}, ${cols});`],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
  // q[i] is byte i, x[j] bytes 4j..4j+3: writing q[i] only touches x elements <= i/4, which the row's
  // second pass has already read (and later rows start beyond it). Y_scale never shares: scale[r] is
  // written before row r's codes.
  inPlace: [{ input: 0, output: 0 }],
};

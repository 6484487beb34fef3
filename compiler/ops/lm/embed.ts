// Embed: the rows of a token table for a list of token ids (the LM's first step).
//
//   ids    int32 [T]
//   table  [V, D] constant: float32, float16, int8 with scales (per row or per group) or ternary
//   Y      float32 [T, D]:  Y[t] = value of table row ids[t], exactly (f16 widened; code * scale as
//          one float32 multiply)
// An id outside [0, V) is an error in the interpreter; the generated driver checks the ids before it
// runs the graph (docs/lm.md), so the kernel can trust them.

import { shapeStr } from '../../ir.ts';
import { mul } from '../../numerics/f32.ts';
import { f16BitsToF32 } from '../../numerics/half.ts';
import { at, type OpDef } from '../op.ts';
import { rowSpan } from './rows.ts';
import { checkWeight, groupSize, groupsPerRow, scaleOf, weightBytes, weightKernelSuffix } from './weights.ts';

export const Embed: OpDef = {
  op: 'Embed',
  summary: 'rows of a token table (float32, float16, int8 or ternary) for token ids',
  inputs: { names: ['ids', 'table'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  rows: true,
  infer(ctx) {
    const [ids, table] = ctx.inputs;
    if (!ids || !table) return [];
    if (ids.dtype !== 'int32' || ids.shape.length !== 1)
      ctx.error(`input 0 "${ids.name}" must be int32 [T], found ${ids.dtype} ${shapeStr(ids.shape)}`, 'dtype');
    if (!checkWeight(ctx, table, 1)) return [];
    if (table.dtype === 'ternary') {
      ctx.error(`input 1 "${table.name}": a ternary token table is not supported (float32, float16 or int8)`, 'unsupported');
      return [];
    }
    return [{ dtype: 'float32', shape: [ids.shape[0]!, table.shape[1]!] }];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const t = graph.tensors.get(node.inputs[1]!)!;
    const ids = ctx.readNum(node.inputs[0]!);
    const codes = ctx.readNum(t.name);
    const [v, d] = t.shape as [number, number];
    const total = ids.length;
    const y = new Float32Array(total * d);
    const { count } = rowSpan(node, ctx.rows, total);
    const scales = t.quant ? ctx.readNum(t.quant.scale) : undefined;
    for (let r = 0; r < count; r++) {
      const id = at(ids, r, node.inputs[0]!);
      if (!(id >= 0 && id < v)) throw new Error(`internal: Embed "${node.name}": token id ${id} outside [0, ${v})`);
      for (let j = 0; j < d; j++) {
        const c = at(codes, id * d + j, t.name);
        y[r * d + j] = t.dtype === 'float32' ? c : t.dtype === 'float16' ? f16BitsToF32(c) : mul(c, at(scales!, scaleOf(t, id, j), t.quant!.scale));
      }
    }
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const t = ctx.input(1);
    const [v, d] = t.shape as [number, number];
    const suffix = weightKernelSuffix(t);
    const table = ctx.in(1);
    const rows = ctx.rows(ctx.input(0).shape[0]!);
    const body =
      suffix === 'q8'
        ? `tn_embed_q8(${ctx.in(0)}, ${rows}, ${table}, ${ctx.inScale(1)}, /* groups per row */ ${groupsPerRow(t)}, /* group */ ${groupSize(t)}, /* vocab */ ${v}, /* dim */ ${d}, ${ctx.out(0)});`
        : `tn_embed_${suffix}(${ctx.in(0)}, ${rows}, ${table}, /* vocab */ ${v}, /* dim */ ${d}, ${ctx.out(0)});`;
    return { kernel: `tn_embed_${suffix}`, runtime: ['ref/tn_lm.c', 'ref/tn_math.c'], body: [body] };
  },
  cost(graph, node) {
    return { macs: 0, weightBytes: weightBytes(graph.tensors.get(node.inputs[1]!)!) };
  },
};

// PermuteColumns: y[t, j] = x[t, index[j]], a gather along the last axis by a constant permutation.
// GPTQ's act-order quantizes a weight's columns in a data-dependent order; the compiler stores the
// weight with its groups contiguous (LmIntB.columns) and permutes the activations to match, once per
// projection, instead of looking up a group per column in the kernel.
//
//   X  float32 [T, K]     I  int32 [K] constant, a permutation of 0..K-1     Y  float32 [T, K]

import { shapeStr } from '../../ir.ts';
import type { OpDef } from '../op.ts';
import { ROWS_ATTR, rowArgs, rowSpan } from './rows.ts';

export const PermuteColumns: OpDef = {
  op: 'PermuteColumns',
  summary: 'y[t, j] = x[t, index[j]]: columns gathered by a constant permutation (GPTQ act-order)',
  inputs: { names: ['X', 'I'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: { rows: ROWS_ATTR },
  rows: true,
  infer(ctx) {
    const [x, i] = ctx.inputs;
    if (!x || !i) return [];
    if (x.dtype !== 'float32' || x.shape.length !== 2) {
      ctx.error(`input 0 "${x.name}" must be float32 [T, K], found ${x.dtype} ${shapeStr(x.shape)}`, 'dtype');
      return [];
    }
    const k = x.shape[1]!;
    if (i.dtype !== 'int32' || i.kind !== 'constant' || i.shape.length !== 1 || i.shape[0] !== k) {
      ctx.error(`input 1 "${i.name}" must be a constant int32 [${k}], found ${i.kind} ${i.dtype} ${shapeStr(i.shape)}`, 'dtype');
      return [];
    }
    const seen = new Uint8Array(k);
    for (const v of i.data as Int32Array) {
      if (!(v >= 0 && v < k) || seen[v]) {
        ctx.error(`input 1 "${i.name}" is not a permutation of 0..${k - 1} (${v} ${seen[v] ? 'repeats' : 'is out of range'})`);
        return [];
      }
      seen[v] = 1;
    }
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const x = ctx.readNum(xT.name);
    const index = ctx.readNum(node.inputs[1]!);
    const [total, k] = xT.shape as [number, number];
    const y = new Float32Array(total * k);
    const { from, count } = rowSpan(node, ctx.rows, total);
    for (let r = 0; r < count; r++) for (let j = 0; j < k; j++) y[r * k + j] = x[(from + r) * k + index[j]!]!;
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const [total, k] = ctx.input(0).shape as [number, number];
    const { x, rows } = rowArgs(ctx.node, !!ctx.graph.rows, ctx.in(0), k, ctx.rows(total), ctx.outRows(total));
    return {
      kernel: 'tn_permute_columns',
      runtime: ['ref/tn_lm.c', 'ref/tn_math.c'],
      body: [`tn_permute_columns(${x}, ${rows}, ${ctx.in(1)}, /* k */ ${k}, ${ctx.out(0)});`],
    };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    return { macs: 0, weightBytes: x.shape[1]! * 4 };
  },
};

// DeltaAdd: a run-time delta's term added to a product computed without it, for the projections
// whose Linear reads permuted activations (GPTQ act-order, PermuteColumns): the delta is in the
// model's column order, so its term reads the activations before the permutation.
//
//   X  float32 [T, K]  the projection's input, in the model's column order
//   Y  float32 [T, N]  the base product (Linear without bias or delta)
//   B  float32 [N]     optional: the projection's static bias
//   ->                 float32 [T, N]
//
// y = Y; with a delta loaded in `delta_slot`, the term of delta_term.ts (y = fl(y + fl(alpha * s)) on
// the rows with entries); then y = fl(y + B[n]). The same operations in the same order as a Linear
// with the delta and the bias (docs/numerics.md, "Linear"), so an act-order base takes a delta as
// any other does.

import { shapeStr } from '../../ir.ts';
import { add } from '../../numerics/f32.ts';
import type { OpDef } from '../op.ts';
import { applyDeltaTerm } from './delta_term.ts';
import { ROWS_ATTR, rowArgs, rowSpan } from './rows.ts';

export const DeltaAdd: OpDef = {
  op: 'DeltaAdd',
  summary: "a run-time delta's sparse ternary term of X added to a base product Y (then a bias): deltas over act-order GPTQ projections",
  inputs: { names: ['X', 'Y', 'B'], min: 2 },
  outputs: { names: ['Z'], min: 1 },
  attrs: {
    rows: ROWS_ATTR,
    delta_slot: { kind: 'int', doc: 'the run-time delta slot (ComPEFT task vectors, docs/formats.md) whose term is added' },
  },
  rows: true,
  inPlace: [{ input: 1, output: 0 }],
  infer(ctx) {
    const [x, y, b] = ctx.inputs;
    if (!x || !y) return [];
    if (x.dtype !== 'float32' || x.shape.length !== 2 || y.dtype !== 'float32' || y.shape.length !== 2 || y.shape[0] !== x.shape[0]) {
      ctx.error(
        `X "${x.name}" and Y "${y.name}" must be float32 [T, K] and [T, N], found ${x.dtype} ${shapeStr(x.shape)} and ${y.dtype} ${shapeStr(y.shape)}`,
        'dtype',
      );
      return [];
    }
    const n = y.shape[1]!;
    if (b && (b.dtype !== 'float32' || b.shape.length !== 1 || b.shape[0] !== n)) {
      ctx.error(`input 2 "${b.name}" (bias) must be float32 [${n}], found ${b.dtype} ${shapeStr(b.shape)}`, 'dtype');
      return [];
    }
    return [{ dtype: 'float32', shape: [...y.shape] }];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const [total, k] = xT.shape as [number, number];
    const n = graph.tensors.get(node.inputs[1]!)!.shape[1]!;
    const { from, count } = rowSpan(node, ctx.rows, total);
    const y = Float32Array.from(ctx.readNum(node.inputs[1]!));
    const delta = ctx.delta(node.attrs.delta_slot as number);
    if (delta) applyDeltaTerm(delta, ctx.readNum(xT.name), from, count, k, y);
    if (node.inputs[2]) {
      const bias = ctx.readNum(node.inputs[2]);
      for (let r = 0; r < count; r++) for (let o = 0; o < n; o++) y[r * n + o] = add(y[r * n + o]!, bias[o]!);
    }
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const [total, k] = ctx.input(0).shape as [number, number];
    const n = ctx.input(1).shape[1]!;
    const { x, rows } = rowArgs(ctx.node, !!ctx.graph.rows, ctx.in(0), k, ctx.rows(total), ctx.outRows(total));
    const z = ctx.out(0);
    return {
      kernel: 'tn_delta_apply',
      runtime: ['ref/tn_delta.c', 'ref/tn_linear.c'],
      body: [
        `if (${z} != ${ctx.in(1)}) { /* the planner may give Z its own buffer */`,
        `  int32_t i_;`,
        `  for (i_ = 0; i_ < (${rows}) * ${n}; i_++) ${z}[i_] = ${ctx.in(1)}[i_];`,
        `}`,
        `tn_delta_apply(${x}, ${rows}, &${ctx.deltaSlots()}[${ctx.node.attrs.delta_slot as number}], /* n */ ${n}, /* k */ ${k}, ${z});`,
        ...(ctx.hasInput(2) ? [`tn_linear_bias(${z}, ${rows}, ${ctx.in(2)}, /* n */ ${n});`] : []),
      ],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
};

// How to add an op (copy this file to compiler/ops/<your_op>.ts and replace TEMPLATE):
//
// 1. Write down its exact semantics in docs/numerics.md first: dtypes, the order of every float
//    operation, what happens at the edges (NaN, empty axes, ties).
// 2. infer: check the inputs (dtype, rank, shapes) with ctx.error(message, code), naming the input
//    and what was expected, and return one OutputSpec per output.
// 3. interpret: the reference semantics, obviously correct. Use compiler/numerics/f32.ts for every
//    float operation (one fround per operation, in the documented order) and `at()` for reads.
// 4. Write the C kernel in runtime-c/ref/tn_<op>.c with its prototype in runtime-c/tn_runtime.h,
//    following the same order of operations; no libc, no libm.
// 5. emit: return the C statements that call the kernel, using ctx.in/out/inScale for pointers and
//    ctx.constant for weights, and list the runtime files.
// 6. Memory: if the kernel reads every input element before overwriting it and writes elements no
//    larger than it reads, declare `inPlace` so the planner may put the output over the input; if
//    it needs working memory, declare `scratch` (bytes) and use ctx.scratch() in emit.
// 7. Register it in compiler/ops/index.ts, add it to the random graphs in
//    bench/gen/random_graph.ts (so the differential tests cover it on every target), and to the
//    op table in docs/format.md.
//
// This file is not registered; it only type-checks.

import { elementCount } from '../ir.ts';
import type { OpDef } from './op.ts';

export const TEMPLATE: OpDef = {
  op: 'TEMPLATE',
  summary: 'one line for docs and errors',
  inputs: { names: ['X'], min: 1 }, // spec names: they become the C parameter names
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    // axis: { kind: 'int', default: -1, doc: 'the axis to ...' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (x.dtype !== 'float32') ctx.error(`input 0 "${x.name}" must be float32, found ${x.dtype}`, 'dtype');
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const x = ctx.readNum(ctx.node.inputs[0]!);
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i]!; // the semantics, one fround per float op
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    return {
      kernel: 'tn_TEMPLATE_f32',
      runtime: ['ref/tn_TEMPLATE.c'],
      body: [`tn_TEMPLATE_f32(${ctx.in(0)}, ${ctx.out(0)}, ${elementCount(ctx.input(0).shape)});`],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
};

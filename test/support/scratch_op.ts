// A synthetic op that needs kernel scratch, so that the scratch hook (OpDef.scratch, ctx.scratch())
// is exercised end to end before any real kernel needs it: it copies X into its scratch and writes
// Y as X reversed from there. If the planner put the scratch over a live tensor, or the emitter
// passed the wrong pointer, the differential tests would see it.

import { elementCount } from '../../compiler/ir.ts';
import { registerOp } from '../../compiler/ops/index.ts';
import type { OpDef } from '../../compiler/ops/op.ts';

const ScratchReverse: OpDef = {
  op: 'TestScratchReverse',
  summary: 'test only: y = x reversed (float32), staged through kernel scratch',
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (x.dtype !== 'float32') ctx.error(`input 0 "${x.name}" must be float32, found ${x.dtype}`, 'dtype');
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const x = ctx.readNum(ctx.node.inputs[0]!);
    ctx.write(ctx.node.outputs[0]!, Float32Array.from(x).reverse());
  },
  emit(ctx) {
    const n = elementCount(ctx.input(0).shape);
    const s = ctx.scratch();
    return {
      kernel: 'inline reverse through scratch',
      runtime: [],
      body: [
        `float *tmp = (float *)(void *)${s};`,
        `int32_t i;`,
        `for (i = 0; i < ${n}; ++i) tmp[i] = ${ctx.in(0)}[i];`,
        `for (i = 0; i < ${n}; ++i) ${ctx.out(0)}[i] = tmp[${n} - 1 - i];`,
      ],
    };
  },
  cost() {
    return { macs: 0, weightBytes: 0 };
  },
  scratch(g, node) {
    return 4 * elementCount(g.tensors.get(node.inputs[0]!)!.shape);
  },
};

export function registerTestOps(): void {
  registerOp(ScratchReverse);
}

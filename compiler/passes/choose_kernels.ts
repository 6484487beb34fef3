// choose-kernels: for every low-bit layer, the kernel and weight format for this target (with the
// reason and the accumulator plan), written onto the node as `node.choice`. Emit, `inspect` and the
// report only read it. The kernels' scratch budget is the RAM that the arena (at its lower bound
// without scratch), the inputs and outputs and the stack leave, and at most a quarter of the RAM.

import { stackReserve } from '../targets.ts';
import { tensorBytes } from '../ir.ts';
import { chooseKernels } from '../kernels/choose.ts';
import { buffersFor, lowerBound } from '../plan/liveness.ts';
import { problemFromGraph } from '../plan/problem.ts';
import type { Pass } from './pass.ts';

export const chooseKernelsPass: Pass = {
  name: 'choose-kernels',
  doc: "pick each low-bit layer's kernel and weight format for the target (node.choice)",
  needsTarget: true,
  run(g, ctx) {
    const target = ctx.target!;
    const mem = target.memory;
    const ioTotal = g.inputs.concat(g.outputs).reduce((a, n) => a + tensorBytes(g.tensors.get(n)!), 0);
    const arenaEstimate = lowerBound(buffersFor(problemFromGraph(g, target)), g.nodes.length).bytes;
    chooseKernels(g, target, {
      spec: ctx.kernels.spec,
      scratchBudget: Math.min(
        ctx.kernels.maxScratch ?? Infinity,
        mem ? Math.min(mem.ram / 4, mem.ram - arenaEstimate - ioTotal - stackReserve(mem.ram)) : 64 * 2 ** 20,
      ),
      // Weights may use the flash the code leaves (a rough 64 KiB for runtime and application).
      flashBudget: mem ? mem.flash - 65536 : undefined,
      forceFlush: ctx.kernels.forceFlush,
      maxLutWindow: ctx.kernels.maxLutWindow,
    });
  },
};

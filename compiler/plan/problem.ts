// What the memory planner sees: steps that read and write named tensors, the byte size of every
// tensor that lives in the arena, kernel scratch requests and in-place permissions. Nothing else
// about the graph. Graphs become problems here; the benchmark also builds problems directly for
// layers the IR has no ops for yet (convolutions, attention).

import { nodeReads, tensorBytes, type Graph } from '../ir.ts';
import { getOp } from '../ops/index.ts';
import type { TargetDesc } from '../targets.ts';

export interface PlanStep {
  name: string;
  /** Every tensor the step reads (arena or not): dependencies come from these. */
  reads: string[];
  writes: string[];
  /** Bytes of kernel working memory during this step (0: none). */
  scratch: number;
  /** Output `output` may take `input`'s bytes when this step is the input's last reader; `atEnd`:
   * the input sits at the end of the (larger) output instead of at its start. */
  inPlace: { input: string; output: string; atEnd?: boolean }[];
}

export interface PlanProblem {
  name: string;
  /** Arena tensors and their bytes. Tensors not listed live elsewhere (the caller's buffers, flash). */
  tensors: Map<string, number>;
  /** In the given (file) order, which must be topological. */
  steps: PlanStep[];
  /** Tensors (in `tensors`) live for the whole run and between runs: a model's state (KV cache). */
  persistent?: string[];
}

/** Tensors that live in the arena: produced by a node and not a graph output. */
function arenaTensors(g: Graph): string[] {
  const names: string[] = [];
  for (const node of g.nodes) {
    for (const o of node.outputs) if (!g.outputs.includes(o) && !names.includes(o)) names.push(o);
  }
  return names;
}

/** The planning problem of a graph in its current node order. `target` is needed for scratch sizes. */
export function problemFromGraph(g: Graph, target?: TargetDesc): PlanProblem {
  const tensors = new Map<string, number>();
  for (const name of arenaTensors(g)) tensors.set(name, tensorBytes(g.tensors.get(name)!));
  const persistent = [...g.tensors.values()].filter((t) => t.kind === 'state').map((t) => t.name);
  for (const name of persistent) tensors.set(name, tensorBytes(g.tensors.get(name)!));
  const steps = g.nodes.map((node): PlanStep => {
    const def = getOp(node.op);
    const inPlace = (def.inPlace ?? [])
      .filter((r) => node.inputs[r.input] && node.outputs[r.output] && (!r.when || r.when(g, node)))
      .map((r) => ({ input: node.inputs[r.input]!, output: node.outputs[r.output]!, ...(r.align === 'end' ? { atEnd: true } : {}) }));
    const scratch = def.scratch ? def.scratch(g, node, target) : 0;
    return { name: node.name, reads: nodeReads(g, node), writes: [...node.outputs], scratch, inPlace };
  });
  return { name: g.name, tensors, steps, ...(persistent.length ? { persistent } : {}) };
}

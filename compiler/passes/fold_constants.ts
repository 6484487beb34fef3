// fold-constants: a node whose every input is a constant is run once, now, by the interpreter (the
// op's reference semantics), and its outputs become constants. The ONNX reader folds the same way as
// it reads (shape computations must be known before the nodes that use them can be read), through
// `foldNode`; the pass catches what other readers and earlier passes leave.

import { interpret } from '../interpret.ts';
import { nodeReads, type Graph, type Node } from '../ir.ts';
import type { Pass } from './pass.ts';

/** Does `node` read constants only (and at least one)? */
export function readsOnlyConstants(g: Graph, node: Node): boolean {
  const reads = nodeReads(g, node);
  return reads.length > 0 && reads.every((r) => g.tensors.get(r)?.kind === 'constant');
}

/** Evaluate `node` (whose inputs are constants, and whose outputs have tensors) and make its outputs constants. */
export function foldNode(g: Graph, node: Node): void {
  const tmp: Graph = { ...g, inputs: [], outputs: node.outputs.filter((o) => o), nodes: [node] };
  const values = interpret(tmp, new Map());
  for (const o of node.outputs) {
    if (!o) continue;
    const t = g.tensors.get(o)!;
    t.kind = 'constant';
    t.data = values.get(o)!;
  }
}

export const foldConstants: Pass = {
  name: 'fold-constants',
  doc: 'evaluate nodes whose inputs are all constants at compile time',
  run(g) {
    const keep: Node[] = [];
    for (const node of g.nodes) {
      // A graph output stays computed by a node only if it is not a constant; folding it is fine
      // too (the emitter copies constant outputs), so every constant-only node folds.
      if (readsOnlyConstants(g, node)) foldNode(g, node);
      else keep.push(node);
    }
    g.nodes = keep;
  },
};

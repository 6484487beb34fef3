// Shape and dtype inference: run each op's `infer` in schedule order and create its output tensors.
// Every problem is collected and reported together.

import { DiagnosticBag } from '../diagnostics.ts';
import type { Graph, Node, Tensor } from '../ir.ts';
import { getOp } from '../ops/index.ts';
import { MAX_ELEMENTS } from '../limits.ts';
import { elementCount, shapeStr } from '../ir.ts';

export function inferShapes(g: Graph, where: (n: Node) => string): void {
  const bag = new DiagnosticBag();
  for (const node of g.nodes) {
    const def = getOp(node.op);
    const inputs: (Tensor | undefined)[] = node.inputs.map((t) => (t === '' ? undefined : g.tensors.get(t)));
    const missing = node.inputs.some((t, i) => t !== '' && !inputs[i]);
    if (missing) continue; // an earlier node failed; its error is already reported
    let failed = false;
    const specs = def.infer({
      graph: g,
      node,
      inputs,
      error: (message, code) => {
        failed = true;
        bag.error(code ?? 'shape', where(node), message);
      },
    });
    if (failed) continue;
    specs.forEach((spec, j) => {
      const name = node.outputs[j];
      if (name === undefined) return;
      if (elementCount(spec.shape) > MAX_ELEMENTS) bag.error('limit', where(node), `output "${name}" ${shapeStr(spec.shape)} has more than 2^31 - 1 elements`);
      g.tensors.set(name, { name, dtype: spec.dtype, shape: spec.shape, kind: 'activation', quant: spec.quant, range: spec.range });
    });
  }
  bag.throwIfAny();
}

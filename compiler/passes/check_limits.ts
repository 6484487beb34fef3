// check-limits: what the kernels need proven before code is generated.
//   - K of a low-bit layer within the format limit (2^24), where accumulators can still be bounded;
//   - every tensor addressable by the generated C: elements and bytes within int32_t (inference
//     checks what nodes make; this also covers inputs and constants from any reader).

import { DiagnosticBag } from '../diagnostics.ts';
import { shapeStr } from '../ir.ts';
import { MAX_K } from '../limits.ts';
import { lowBitGeometry } from '../lowbit.ts';
import { outputLimitProblem } from './infer.ts';
import type { Pass } from './pass.ts';

export const checkLimits: Pass = {
  name: 'check-limits',
  doc: 'every tensor within the C index types; K of low-bit layers within the format limit',
  run(g) {
    const bag = new DiagnosticBag();
    for (const t of g.tensors.values()) {
      const p = outputLimitProblem(t.name, t);
      if (p) bag.error(p.code, `${g.source}: ${t.kind} "${t.name}"`, p.message.replace(/^output /, `${t.kind} `));
    }
    for (const n of g.nodes) {
      if (n.op !== 'TernaryLinear' && n.op !== 'BinaryLinear') continue;
      const w = g.tensors.get(n.inputs[1]!)!;
      const { k } = lowBitGeometry(w);
      if (k > MAX_K)
        bag.error('limit', `${g.source}: node "${n.name}"`, `K = ${k} (weight "${w.name}" ${shapeStr(w.shape)}) is above the format limit of ${MAX_K} (2^24)`);
    }
    bag.throwIfAny();
  },
};

// Bits per weight of a compiled decoder's projections: codes, scales, zero points, biases and
// column orders, as the emitted C stores them (the quality table's and `tritc quantize`'s figure).
// A mixture of experts counts every routed expert's weights once (stored, not active per token).

import type { Graph } from '../ir.ts';
import { LM_PROJECTIONS } from '../lm/ternarize.ts';
import { planesOf, weightBytes } from '../ops/lm/weights.ts';
import { fairy2iBytes } from '../ops/lm/widely_linear.ts';

/** Bits per weight of the projections as compiled: codes, scales, zero points, biases and column orders. */
export function projectionBits(g: Graph): number {
  let bits = 0;
  let params = 0;
  const experts = new Set<string>();
  for (const node of g.nodes)
    if (node.op === 'ExpertLinear')
      for (const name of node.inputs.slice(2)) {
        if (experts.has(name)) continue;
        experts.add(name);
        const w = g.tensors.get(name)!;
        params += w.shape.reduce((a, b) => a * b, 1) / planesOf(w);
        bits += weightBytes(w) * 8;
      }
  for (const node of g.nodes) {
    if (node.op !== 'Linear' && node.op !== 'TernaryLinear' && node.op !== 'Int8Linear' && node.op !== 'WidelyLinear') continue;
    const name = node.inputs[1]!;
    if (!LM_PROJECTIONS.some((p) => name.endsWith(`.${p}`))) continue;
    const w = g.tensors.get(name)!;
    if (node.op === 'WidelyLinear') {
      // Fairy2i codes [stages, U | W, N/2, K/2] stand for N x K real weights.
      params += (w.shape.reduce((a, b) => a * b, 1) / w.shape[0]!) * 2;
      bits += fairy2iBytes(w) * 8;
      continue;
    }
    params += w.shape.reduce((a, b) => a * b, 1) / planesOf(w);
    bits += weightBytes(w) * 8;
    for (const extra of [`${name}.bias`, `${name}.columns`]) if (g.tensors.has(extra)) bits += g.tensors.get(extra)!.shape[0]! * 32;
  }
  return bits / params;
}

// uniform-scales: a weight quantized per row or per group whose scales are all the same value becomes
// per tensor, with that one scale. llama-quantize's TQ1_0/TQ2_0 store a scale per 256 weights even
// for TriLM's one-scale-per-tensor weights: kept, they would cost 2 bytes per 256 weights in flash,
// a multiply per group and output, and megabytes of C. The values are unchanged; the arithmetic
// groups the whole row (one lane sum or one integer sum, then one multiply), as per-tensor weights do.

import { freshName } from '../ir.ts';
import type { Pass } from './pass.ts';

export const uniformScales: Pass = {
  name: 'uniform-scales',
  doc: 'weights whose per-row or per-group scales are all equal get one scale per tensor',
  run(g) {
    for (const t of [...g.tensors.values()]) {
      // 2-D weights only: with planes ([P, N, K]) or a convolution's rank, per tensor means a scale
      // per plane or the shapes differ, so those keep their layout. Codes with zero points keep theirs
      // (a zero point per group).
      if (t.kind !== 'constant' || !t.quant || t.quant.zeroPoint || t.quant.granularity === 'per_tensor' || t.shape.length !== 2) continue;
      const s = g.tensors.get(t.quant.scale);
      if (!s || s.kind !== 'constant' || s.dtype !== 'float32' || !s.data || s.data.length === 0) continue;
      const v = s.data as Float32Array;
      if (!v.every((x) => Object.is(x, v[0]))) continue;
      const name = freshName(g, `${t.quant.scale}.uniform`);
      g.tensors.set(name, { name, dtype: 'float32', shape: [1], kind: 'constant', data: Float32Array.of(v[0]!) });
      t.quant = { scale: name, granularity: 'per_tensor' };
    }
  },
};

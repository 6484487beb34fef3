// Tequila (arXiv 2509.23809; seed-methods 2): ternary weights with one scale per (row, group of 128
// columns) and the deadzone weights folded into a static bias, as Tencent/AngelSlim (branch tequila)
// `TernaryQuant/models/utils_quant.py` UltraQuantV2 computes them (read in the public code index):
//
//   alpha_g = mean |w| over the group;  Delta = alpha_g / 2
//   t = +1 if w >= Delta, -1 if w <= -Delta, else 0       (the comparison form, not round())
//   C[n] = lambda * sum of w over the deadzone (t = 0) of row n   (ones(T, K) B^T, B = lambda w there)
//
// so y = x (alpha t)^T + C. lambda is the training run's eps (1e-3 in the released recipe); it must be
// the one the latent weights were trained with.
//
// Choices (docs/formats.md, "Tequila"): alpha is the float64 mean rounded once to float32, the
// scale stored; Delta = alpha / 2 is exact, and the comparison is on the weights' own values. The
// reference reshapes the weight to (-1, 128), so its groups are 128 consecutive columns of a row only
// when 128 divides K; here a row's last group is shorter when it does not (a group never spans two
// rows). An all-zero group has alpha = 0, so the comparison form gives t = +1 with scale 0 (value 0),
// as the reference does. C is summed in float64 and rounded once to float32.

import type { LmTernary } from '../lm/model.ts';
import { checkMatrix, columnGroups } from './matrix.ts';

export interface TequilaOptions {
  /** Columns per scale group. Default 128. */
  groupSize?: number;
  /** The deadzone weight lambda (the training eps). Default 1e-3; 0 leaves the bias out. */
  lambda?: number;
}

export function tequilaQuantize(w: ArrayLike<number>, rows: number, cols: number, opts: TequilaOptions = {}): LmTernary {
  checkMatrix('tequilaQuantize', w, rows, cols);
  const { size: G, count: groups } = columnGroups('tequilaQuantize', cols, opts.groupSize ?? 128);
  const lambda = opts.lambda ?? 1e-3;
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const bias = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let dead = 0;
    for (let g = 0; g < groups; g++) {
      const from = r * cols + g * G;
      const to = r * cols + Math.min((g + 1) * G, cols);
      let sum = 0;
      for (let i = from; i < to; i++) sum += Math.abs(w[i]!);
      const alpha = Math.fround(sum / (to - from));
      const delta = alpha / 2;
      scales[r * groups + g] = alpha;
      for (let i = from; i < to; i++) {
        const v = w[i]!;
        const t = v >= delta ? 1 : v <= -delta ? -1 : 0;
        codes[i] = t;
        if (t === 0) dead += v;
      }
    }
    bias[r] = Math.fround(lambda * dead);
  }
  return {
    kind: 'ternary',
    shape: [rows, cols],
    codes,
    scales,
    granularity: 'per_group',
    groupSize: G,
    ...(lambda !== 0 ? { bias } : {}),
    source: `Tequila ternary, scale per row and group of ${G}, deadzone bias lambda ${lambda}`,
  };
}

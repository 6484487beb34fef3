// PTQTP, post-training quantization to two trit-planes (arXiv 2509.16989; seed-methods 9):
//
//   W ~ diag(a1) T1 + diag(a2) T2,   T1, T2 in {-1, 0, +1}^(N x K)
//
// with (a1, a2) one pair per row, or per (row, group of G consecutive columns) when a group size is
// given. The authors' code is unreleased; what the summaries describe (a 2x2 ridge regression for the
// scales alternated with a search over the trits) is implemented as follows, every choice recorded in
// docs/formats.md ("PTQTP"). Each group (a row when there are no groups) is its own problem:
//
//   start (a1, a2, T1, T2), three of them (see `starts`): the absmean one (T1 = absmean ternary of w,
//         T2 = absmean ternary of the residual w - a1 T1), and two evenly spaced grids over max|w|
//         with a2 = a1/3 and a2 = a1/2, their trits by (b)
//   loop  (a) (a1, a2) = (S^T S + lambda I)^-1 S^T w,  S = [T1 T2]  (2x2, closed form), rounded to
//             float32 (the scales stored, so (b) is exact for them)
//         (b) per weight, the (t1, t2) of the 9 states minimising (w - a1 t1 - a2 t2)^2
//         until the squared error stops decreasing by more than `tolerance` (relative), or
//         `maxIterations`; the best state is kept, and the best of the three runs.
//
// lambda defaults to 1e-4: S^T S counts trits (integers up to G), so this shifts a scale by about
// 1e-4 / (nonzero trits) relative; it is only there to keep the system invertible when a plane of a
// group is empty or the two planes are equal. Ties in (b) go to the state with fewer nonzero trits,
// then to plane 1 (enumeration order below). Negative scales are made positive by flipping that
// plane's trits in the group. Rounding is half to even; sums are float64. The extra starts exist
// because the alternation stops at local optima: from the absmean start alone it fits
// W = 0.75 T1 + 0.25 T2 with a1/a2 near 0.55/0.33 and 2 % relative error, from a2 = a1/3 exactly.

import type { LmTernary } from '../lm/model.ts';
import { roundEven } from '../lm/ternarize.ts';
import { checkMatrix, columnGroups } from './matrix.ts';

export interface PtqtpOptions {
  /** Columns per scale group; absent: one pair of scales per row. */
  groupSize?: number;
  /** Ridge term of the 2x2 scale fit. Default 1e-4. */
  lambda?: number;
  /** Alternations at most. Default 50. */
  maxIterations?: number;
  /** Stop when an alternation lowers the error by less than this fraction. Default 1e-7. */
  tolerance?: number;
  /** Called after each row with the rows done and the total (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

export interface PtqtpResult {
  tensor: LmTernary;
  /**
   * ||W - W~||^2 after the start, then after each alternation: the sum over groups of each group's
   * best error so far (a group that has stopped counts with its final error).
   */
  errors: number[];
}

/** The 9 states (t1, t2), fewest nonzero trits first (the tie-break of step (b)). */
const STATES: readonly (readonly [number, number])[] = [
  [0, 0],
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [1, 1],
  [1, -1],
  [-1, 1],
  [-1, -1],
];

/** Absmean ternary of `v`: its scale, and the codes written into `codes`. */
function absmeanTrits(v: Float64Array, codes: Int8Array): number {
  let sum = 0;
  for (const x of v) sum += Math.abs(x);
  const a = Math.fround(sum / v.length);
  for (let i = 0; i < v.length; i++) codes[i] = a > 0 ? Math.max(-1, Math.min(1, roundEven(v[i]! / a))) : 0;
  return a;
}

/** One group's fit: its two scales, its trits, and the error after the start and each alternation. */
interface GroupFit {
  a1: number;
  a2: number;
  t1: Int8Array;
  t2: Int8Array;
  trace: number[];
}

function groupError(v: Float64Array, a1: number, a2: number, t1: Int8Array, t2: Int8Array): number {
  let e = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v[i]! - a1 * t1[i]! - a2 * t2[i]!;
    e += d * d;
  }
  return e;
}

/** Step (b): the best (t1, t2) of the 9 states for each weight, given the scales. */
function searchTrits(v: Float64Array, a1: number, a2: number, t1: Int8Array, t2: Int8Array): void {
  for (let i = 0; i < v.length; i++) {
    let bestE = Infinity;
    let bestS = 0;
    for (let s = 0; s < STATES.length; s++) {
      const d = v[i]! - a1 * STATES[s]![0] - a2 * STATES[s]![1];
      if (d * d < bestE) {
        bestE = d * d;
        bestS = s;
      }
    }
    t1[i] = STATES[bestS]![0];
    t2[i] = STATES[bestS]![1];
  }
}

/** Step (a): the 2x2 ridge regression (S^T S + lambda I)^-1 S^T v, rounded to float32. */
function fitScales(v: Float64Array, t1: Int8Array, t2: Int8Array, lambda: number): [number, number] {
  let s11 = lambda;
  let s12 = 0;
  let s22 = lambda;
  let b1 = 0;
  let b2 = 0;
  for (let i = 0; i < v.length; i++) {
    const x = t1[i]!;
    const y = t2[i]!;
    s11 += x * x;
    s12 += x * y;
    s22 += y * y;
    b1 += x * v[i]!;
    b2 += y * v[i]!;
  }
  const det = s11 * s22 - s12 * s12;
  return [Math.fround((s22 * b1 - s12 * b2) / det), Math.fround((s11 * b2 - s12 * b1) / det)];
}

/** The alternation from one start, keeping the best state; the trace holds the best error so far. */
function alternate(v: Float64Array, start: GroupFit, o: Required<Omit<PtqtpOptions, 'groupSize' | 'onProgress'>>): GroupFit {
  let best = start;
  let { a1, a2 } = start;
  const t1 = Int8Array.from(start.t1);
  const t2 = Int8Array.from(start.t2);
  const trace = [...start.trace];
  for (let it = 0; it < o.maxIterations; it++) {
    [a1, a2] = fitScales(v, t1, t2, o.lambda);
    searchTrits(v, a1, a2, t1, t2);
    const e = groupError(v, a1, a2, t1, t2);
    const prev = trace[trace.length - 1]!;
    if (e < prev) best = { a1, a2, t1: Int8Array.from(t1), t2: Int8Array.from(t2), trace };
    trace.push(Math.min(e, prev));
    if (!(e < prev * (1 - o.tolerance))) break;
  }
  return { ...best, trace };
}

/**
 * The starts tried for each group, the best final fit kept: the absmean start (plane 1 the absmean
 * ternary of w, plane 2 that of the residual), and the two grids the alternation cannot easily reach
 * from it: a2 = a1 / 3 (nine evenly spaced levels spanning max|w|) and a2 = a1 / 2 (seven).
 */
function starts(v: Float64Array): GroupFit[] {
  const n = v.length;
  const t1 = new Int8Array(n);
  const t2 = new Int8Array(n);
  const a1 = absmeanTrits(v, t1);
  const a2 = absmeanTrits(
    v.map((x, i) => x - a1 * t1[i]!),
    t2,
  );
  const out: GroupFit[] = [{ a1, a2, t1, t2, trace: [groupError(v, a1, a2, t1, t2)] }];
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  for (const [k1, k2] of [
    [3, 1],
    [2, 1],
  ] as const) {
    const c = m / (k1 + k2);
    const b1 = Math.fround(k1 * c);
    const b2 = Math.fround(k2 * c);
    const u1 = new Int8Array(n);
    const u2 = new Int8Array(n);
    searchTrits(v, b1, b2, u1, u2);
    out.push({ a1: b1, a2: b2, t1: u1, t2: u2, trace: [groupError(v, b1, b2, u1, u2)] });
  }
  return out;
}

export function ptqtpQuantize(w: ArrayLike<number>, rows: number, cols: number, opts: PtqtpOptions = {}): PtqtpResult {
  checkMatrix('ptqtpQuantize', w, rows, cols);
  const { size: G, count: groups } = columnGroups('ptqtpQuantize', cols, opts.groupSize);
  const o = { lambda: opts.lambda ?? 1e-4, maxIterations: opts.maxIterations ?? 50, tolerance: opts.tolerance ?? 1e-7 };
  if (!(o.lambda > 0)) throw new Error(`internal: PTQTP lambda ${o.lambda} must be positive`);
  const n = rows * cols;
  // codes [2, rows, cols]; scales [2, rows, groups]
  const codes = new Int8Array(2 * n);
  const scales = new Float32Array(2 * rows * groups);
  const traces: number[][] = [];
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const from = r * cols + g * G;
      const to = r * cols + Math.min((g + 1) * G, cols);
      const v = Float64Array.from({ length: to - from }, (_, i) => w[from + i]!);
      let fit: GroupFit | undefined;
      for (const s of starts(v)) {
        const f = alternate(v, s, o);
        if (!fit || f.trace[f.trace.length - 1]! < fit.trace[fit.trace.length - 1]!) fit = f;
      }
      // Positive scales: a plane whose scale came out negative has its trits flipped.
      const k = r * groups + g;
      const flip1 = fit!.a1 < 0 ? -1 : 1;
      const flip2 = fit!.a2 < 0 ? -1 : 1;
      scales[k] = Math.abs(fit!.a1);
      scales[rows * groups + k] = Math.abs(fit!.a2);
      for (let i = 0; i < to - from; i++) {
        codes[from + i] = flip1 * fit!.t1[i]!;
        codes[n + from + i] = flip2 * fit!.t2[i]!;
      }
      traces.push(fit!.trace);
    }
    opts.onProgress?.(r + 1, rows);
  }
  // The tensor's error after the start and after each alternation (a group that stopped keeps its last).
  const iterations = Math.max(...traces.map((t) => t.length)) - 1;
  const errors = Array.from({ length: iterations + 1 }, (_, i) => traces.reduce((s, t) => s + t[Math.min(i, t.length - 1)]!, 0));
  const perGroup = groups > 1;
  return {
    tensor: {
      kind: 'ternary',
      shape: [rows, cols],
      codes,
      scales,
      granularity: perGroup ? 'per_group' : 'per_row',
      ...(perGroup ? { groupSize: G } : {}),
      planes: 2,
      source: `PTQTP 2 trit-planes, scales per ${perGroup ? `row and group of ${G}` : 'row'} (up to ${iterations} alternation${iterations === 1 ? '' : 's'}, lambda ${o.lambda})`,
    },
    errors,
  };
}

// Ternary and binary detection, and folding of affine ops into low-bit layers.
//
// A weight is ternary when every value is s_n * t with t in {-1, 0, +1} for one positive scale s_n
// per output channel n; binary when t is only ever -1 or +1. It does not matter how the values got
// there: a QONNX Quant (folded at import), a DequantizeLinear of int8 codes, or a plain float
// constant: the test is on the values, exactly (s_n * t must reproduce each value bit for bit).
//
// Folding: a BatchNormalization, or a Mul/Div/Add/Sub by a constant that varies at most along the
// output channels, right after a low-bit linear layer (and read by nothing else) becomes part of the
// layer's per-channel scale and bias:  y' = a[n] * y + b[n]  ->  ws'[n] = ws[n] * a[n],
// bias'[n] = bias[n] * a[n] + b[n]  (computed in double, rounded once to float32).

import { elementCount, type Graph, type Node, type Tensor } from '../../ir.ts';
import type { Const } from './fold.ts';

export interface LowBitWeight {
  kind: 'ternary' | 'binary';
  /** Codes [N, K], row n = output channel n. */
  codes: Int8Array;
  n: number;
  k: number;
  /** One scale (per tensor) or N (per row). */
  scales: Float32Array;
}

/**
 * Detect a ternary/binary weight in a float32 constant. `b` is [K, N] (MatMul's B) unless
 * `nk` says it is [N, K] (Gemm with transB). Returns undefined when the values are not of that form.
 */
export function detectLowBit(b: Const, nk: boolean): LowBitWeight | undefined {
  if (b.dtype !== 'float32' || b.shape.length !== 2) return undefined;
  const v = b.data as Float32Array;
  const [d0, d1] = b.shape as [number, number];
  const n = nk ? d0 : d1;
  const k = nk ? d1 : d0;
  const at = (row: number, col: number) => (nk ? v[row * k + col]! : v[col * n + row]!);
  const scales = new Float32Array(n);
  const codes = new Int8Array(n * k);
  let zeros = false;
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const a = Math.abs(at(r, c));
      if (a !== 0) {
        if (s === 0) s = a;
        else if (a !== s) return undefined;
      }
    }
    for (let c = 0; c < k; c++) {
      const x = at(r, c);
      const t = x === 0 ? 0 : x > 0 ? 1 : -1;
      if (Number.isNaN(x)) return undefined;
      if (t === 0) zeros = true;
      codes[r * k + c] = t;
    }
    scales[r] = s;
  }
  const nonzero = Array.from(scales).filter((s) => s !== 0);
  if (nonzero.length === 0) return undefined; // an all-zero weight: nothing to gain
  for (let r = 0; r < n; r++) if (scales[r] === 0) scales[r] = nonzero[0]!;
  const common = nonzero.every((s) => s === nonzero[0]);
  return { kind: zeros ? 'ternary' : 'binary', codes, n, k, scales: common ? new Float32Array([nonzero[0]!]) : scales };
}

const LOWBIT_OPS = ['TernaryLinear', 'BinaryLinear', 'TernaryConv', 'BinaryConv'];

/** The low-bit linear or convolution node that produced IR tensor `name`, if any. */
export function lowBitProducer(g: Graph, name: string): Node | undefined {
  const p = g.nodes.find((n) => n.outputs[0] === name);
  return p && LOWBIT_OPS.includes(p.op) ? p : undefined;
}

/** The axis of a low-bit node's output that holds its output channels. */
export function channelAxis(p: Node, outRank: number): number {
  return p.op.endsWith('Conv') ? 1 : outRank - 1;
}

/**
 * Per-channel view of a constant that broadcasts against an output of shape `outShape` varying at
 * most along `axis` (default: the last): one value, or one per channel. undefined otherwise.
 */
export function channelValues(c: Const, outShape: readonly number[], axis = outShape.length - 1): number[] | undefined {
  const count = elementCount(c.shape);
  if (c.dtype !== 'float32' || c.shape.length > outShape.length) return undefined;
  if (count === 1) return [Number(c.data[0])];
  const off = outShape.length - c.shape.length;
  const ok = c.shape.every((d, i) => (i + off === axis ? d === outShape[axis] : d === 1));
  return ok ? Array.from(c.data as Float32Array) : undefined;
}

/**
 * Fold y' = a * y + b (a, b: one value or one per channel) into the low-bit layer `p`, whose
 * output is renamed `newOut`. `fresh` makes IR names.
 */
export function foldAffine(g: Graph, p: Node, a: number[], b: number[], newOut: string, fresh: (base: string) => string, what: string): boolean {
  const w = g.tensors.get(p.inputs[1]!)!;
  const ws = g.tensors.get(w.quant!.scale)!.data as Float32Array;
  const n = p.op.endsWith('Conv') ? w.shape[0]! : w.shape[w.shape.length - 2]!;
  const perRow = w.quant!.granularity === 'per_row';
  const biasName = p.inputs[2];
  const bias = biasName ? (g.tensors.get(biasName)!.data as Float32Array) : undefined;
  const ch = (arr: ArrayLike<number>, i: number) => (arr.length === 1 ? arr[0]! : arr[i]!);
  const scale = new Float32Array(n);
  const newBias = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    scale[i] = Math.fround((perRow ? ws[i]! : ws[0]!) * ch(a, i));
    newBias[i] = Math.fround((bias ? bias[i]! : 0) * ch(a, i) + ch(b, i));
  }
  // A division by zero or a degenerate BatchNorm would give infinite scales: leave such ops unfolded.
  if (![...scale, ...newBias].every(Number.isFinite)) return false;
  const uniform = scale.every((s) => s === scale[0]);
  const scaleName = fresh(`${p.name}.scale`);
  g.tensors.set(scaleName, { name: scaleName, dtype: 'float32', shape: [uniform ? 1 : n], kind: 'constant', data: uniform ? new Float32Array([scale[0]!]) : scale });
  const wName = fresh(`${p.name}.weight`);
  const nw: Tensor = { ...w, name: wName, quant: { scale: scaleName, granularity: uniform ? 'per_tensor' : 'per_row' } };
  g.tensors.set(wName, nw);
  const bName = fresh(`${p.name}.bias`);
  g.tensors.set(bName, { name: bName, dtype: 'float32', shape: [n], kind: 'constant', data: newBias });
  p.inputs = [p.inputs[0]!, wName, bName];
  const old = p.outputs[0]!;
  const t = g.tensors.get(old)!;
  g.tensors.delete(old);
  g.tensors.set(newOut, { ...t, name: newOut });
  p.outputs = [newOut];
  p.annotations = { ...p.annotations, folded: p.annotations.folded ? `${p.annotations.folded}, ${what}` : what };
  return true;
}

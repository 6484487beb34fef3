// fold-into-lowbit: a BatchNormalization, or a Mul/Div/Add/Sub by a constant that varies at most along
// the output channels, right after a low-bit linear or convolution layer (and the only reader of its
// output) becomes part of the layer's per-channel scale and bias:
//   y' = a[n] * y + b[n]   ->   ws'[n] = ws[n] * a[n],   bias'[n] = bias[n] * a[n] + b[n]
// computed in double and rounded once to float32. Repeats down a chain (Mul then Add then BN...).
// The same for `Linear` with b-bit codes (detect-bbit), whose bias is added after the product.

import { elementCount, freshName, readersOf, type Graph, type Node, type Tensor } from '../ir.ts';
import type { Pass } from './pass.ts';
import { lowBitGeometry, scaleCount, weightScaleIndex } from '../lowbit.ts';

const LOWBIT_OPS = ['TernaryLinear', 'BinaryLinear', 'TernaryConv', 'BinaryConv'];

/**
 * The low-bit linear or convolution node that produced tensor `name`, if any: also `Linear` with b-bit
 * codes outside language models (an ONNX layer the detect-bbit pass made).
 */
function lowBitProducer(g: Graph, name: string): Node | undefined {
  const p = g.nodes.find((n) => n.outputs[0] === name);
  if (p?.op === 'Linear') return !g.rows && g.tensors.get(p.inputs[1]!)?.quant?.zeroPoint ? p : undefined;
  return p && LOWBIT_OPS.includes(p.op) ? p : undefined;
}

/** The axis of a low-bit node's output that holds its output channels. */
function channelAxis(p: Node, outRank: number): number {
  return p.op.endsWith('Conv') ? 1 : outRank - 1;
}

/**
 * Per-channel view of a float32 constant that broadcasts against an output of shape `outShape`
 * varying at most along `axis` (default: the last): one value, or one per channel; else undefined.
 */
export function channelValues(c: Tensor, outShape: readonly number[], axis = outShape.length - 1): number[] | undefined {
  const count = elementCount(c.shape);
  if (c.kind !== 'constant' || c.dtype !== 'float32' || c.shape.length > outShape.length) return undefined;
  if (count === 1) return [Number(c.data![0])];
  const off = outShape.length - c.shape.length;
  const ok = c.shape.every((d, i) => (i + off === axis ? d === outShape[axis] : d === 1));
  return ok ? Array.from(c.data as Float32Array) : undefined;
}

/**
 * Fold y' = a * y + b (a, b: one value or one per channel) into the low-bit layer `p`, whose output becomes `newOut`.
 * Every scale of output channel i (each plane's, each group's) is multiplied by a[i]: a per-tensor scale
 * becomes per row, a per-row or per-group one keeps its layout.
 */
function foldAffine(g: Graph, p: Node, a: number[], b: number[], newOut: string, what: string): boolean {
  const w = g.tensors.get(p.inputs[1]!)!;
  const ws = g.tensors.get(w.quant!.scale)!.data as Float32Array;
  const conv = p.op.endsWith('Conv');
  const geo = conv ? { planes: 1, n: w.shape[0]!, k: 0, group: 0, groups: 1 } : lowBitGeometry(w);
  const n = geo.n;
  const granularity = w.quant!.granularity === 'per_group' ? 'per_group' : 'per_row';
  const scaled = { ...w, quant: { ...w.quant!, granularity } } as Tensor;
  const biasName = p.inputs[2];
  const bias = biasName ? (g.tensors.get(biasName)!.data as Float32Array) : undefined;
  const ch = (arr: ArrayLike<number>, i: number) => (arr.length === 1 ? arr[0]! : arr[i]!);
  const scale = new Float32Array(scaleCount(scaled, geo));
  for (let pl = 0; pl < geo.planes; pl++)
    for (let i = 0; i < n; i++)
      for (let gr = 0; gr < geo.groups; gr++)
        scale[weightScaleIndex(scaled, geo, pl, i, gr)] = Math.fround(ws[weightScaleIndex(w, geo, pl, i, gr)]! * ch(a, i));
  const newBias = new Float32Array(n);
  for (let i = 0; i < n; i++) newBias[i] = Math.fround((bias ? bias[i]! : 0) * ch(a, i) + ch(b, i));
  // A division by zero or a degenerate BatchNorm would give infinite scales: leave such ops unfolded.
  if (![...scale, ...newBias].every(Number.isFinite)) return false;
  // b-bit codes keep a scale per row (one per zero point).
  const uniform = geo.planes === 1 && granularity === 'per_row' && !w.quant!.zeroPoint && scale.every((s) => s === scale[0]);
  const scaleName = freshName(g, `${p.name}.scale`);
  g.tensors.set(scaleName, {
    name: scaleName,
    dtype: 'float32',
    shape: [uniform ? 1 : scale.length],
    kind: 'constant',
    data: uniform ? new Float32Array([scale[0]!]) : scale,
  });
  const wName = freshName(g, `${p.name}.weight`);
  g.tensors.set(wName, { ...w, name: wName, quant: { ...scaled.quant!, scale: scaleName, granularity: uniform ? 'per_tensor' : granularity } });
  const bName = freshName(g, `${p.name}.bias`);
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

/** y = a * x + b as per-channel (a, b) for an elementwise node on a low-bit output, or undefined. */
function affineOf(g: Graph, node: Node, p: Node, xi: number): [number[], number[]] | undefined {
  const x = g.tensors.get(node.inputs[xi]!)!;
  const axis = channelAxis(p, x.shape.length);
  if (node.op === 'BatchNormalization') {
    if (xi !== 0 || x.shape.length < 2 || axis !== 1) return undefined;
    const params = [1, 2, 3, 4].map((i) => g.tensors.get(node.inputs[i]!));
    const c = x.shape[1]!;
    const vals = params.map((t) =>
      t && t.kind === 'constant' && t.dtype === 'float32' && t.shape.length === 1 && (t.shape[0] === c || t.shape[0] === 1)
        ? Array.from(t.data as Float32Array)
        : undefined,
    );
    if (vals.some((v) => !v)) return undefined;
    const [gamma, beta, mean, variance] = vals as number[][];
    const eps = node.attrs.epsilon as number;
    const ch = (arr: number[], i: number) => (arr.length === 1 ? arr[0]! : arr[i]!);
    const a = Array.from({ length: c }, (_, i) => ch(gamma!, i) / Math.sqrt(ch(variance!, i) + eps));
    return [a, Array.from({ length: c }, (_, i) => ch(beta!, i) - ch(mean!, i) * a[i]!)];
  }
  const other = g.tensors.get(node.inputs[1 - xi]!);
  if (!other || other.kind !== 'constant') return undefined;
  const c = channelValues(other, x.shape, axis);
  if (!c || (node.op === 'Div' && xi === 1)) return undefined;
  const ones = c.map(() => 1);
  const zeros = c.map(() => 0);
  switch (node.op) {
    case 'Mul':
      return [c, zeros];
    case 'Div':
      return [c.map((v) => 1 / v), zeros];
    case 'Add':
      return [ones, c];
    case 'Sub':
      return xi === 0 ? [ones, c.map((v) => -v)] : [c.map(() => -1), c];
  }
  return undefined;
}

export const foldIntoLowBit: Pass = {
  name: 'fold-into-lowbit',
  doc: 'BatchNormalization and per-channel Mul/Div/Add/Sub after a low-bit layer fold into its scale and bias',
  lowBitOnly: true,
  run(g) {
    const removed = new Set<Node>();
    for (const node of g.nodes) {
      if (!['Mul', 'Div', 'Add', 'Sub', 'BatchNormalization'].includes(node.op)) continue;
      for (const xi of node.op === 'BatchNormalization' ? [0] : [0, 1]) {
        const x = node.inputs[xi]!;
        const p = lowBitProducer(g, x);
        if (!p || g.outputs.includes(x) || readersOf(g, x).length !== 1) continue;
        const ab = affineOf(g, node, p, xi);
        if (!ab) continue;
        const out = node.outputs[0]!;
        const outTensor = g.tensors.get(out)!;
        g.tensors.delete(out); // foldAffine re-creates it as the layer's output
        if (!foldAffine(g, p, ab[0], ab[1], out, `${node.op} "${node.name}"`)) {
          g.tensors.set(out, outTensor);
          continue;
        }
        removed.add(node);
        break;
      }
    }
    g.nodes = g.nodes.filter((n) => !removed.has(n));
  },
};

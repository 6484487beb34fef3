// detect-lowbit: a MatMul, Gemm or 2-D Conv whose input is dequantized int8 codes and whose weight is
// a constant with ternary or binary values becomes TernaryLinear / BinaryLinear / TernaryConv /
// BinaryConv on the codes themselves, with the weight's codes and scales. The DequantizeInt8 it read
// is left to eliminate-dead-nodes if nothing else reads it.
//
// A weight is ternary when every value is s_n * t with t in {-1, 0, +1} for one positive scale s_n
// per output channel n; binary when t is only ever -1 or +1. How the values got there does not
// matter (a QONNX Quant folded by the reader, a DequantizeLinear of int8 codes, a plain float
// constant): the test is on the values, exactly (s_n * t reproduces each value bit for bit).

import { freshName, type Graph, type Node, type Tensor, type TypedData } from '../ir.ts';
import { convGeometry } from '../ops/onnx/conv.ts';
import { withDefaults } from '../ops/op.ts';
import { getOp } from '../ops/index.ts';
import { channelValues } from './fold_affine.ts';
import { inferNode, setOutputs } from './infer.ts';
import type { Pass } from './pass.ts';

interface LowBitWeight {
  kind: 'ternary' | 'binary';
  /** Codes [N, K], row n = output channel n. */
  codes: Int8Array;
  n: number;
  k: number;
  /** One scale (per tensor) or N (per row). */
  scales: Float32Array;
}

/**
 * Detect a ternary/binary weight in float32 values of shape [d0, d1]: [K, N] (MatMul's B) unless
 * `nk` says [N, K]. undefined when the values are not of that form.
 */
function detectLowBit(values: Float32Array, d0: number, d1: number, nk: boolean): LowBitWeight | undefined {
  const n = nk ? d0 : d1;
  const k = nk ? d1 : d0;
  const at = (row: number, col: number) => (nk ? values[row * k + col]! : values[col * n + row]!);
  const scales = new Float32Array(n);
  const codes = new Int8Array(n * k);
  let zeros = false;
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const a = Math.abs(at(r, c));
      if (Number.isNaN(a)) return undefined;
      if (a !== 0) {
        if (s === 0) s = a;
        else if (a !== s) return undefined;
      }
    }
    for (let c = 0; c < k; c++) {
      const x = at(r, c);
      const t = x === 0 ? 0 : x > 0 ? 1 : -1;
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

/** The int8 codes a float tensor was dequantized from (its producer is DequantizeInt8), if so. */
function codesBehind(g: Graph, name: string): Tensor | undefined {
  const p = g.nodes.find((n) => n.outputs[0] === name);
  if (!p || p.op !== 'DequantizeInt8') return undefined;
  const x = g.tensors.get(p.inputs[0]!);
  return x?.dtype === 'int8' && x.quant && x.quant.granularity !== 'per_group' ? x : undefined;
}

function constF32(g: Graph, name: string | undefined): Tensor | undefined {
  const t = name ? g.tensors.get(name) : undefined;
  return t?.kind === 'constant' && t.dtype === 'float32' ? t : undefined;
}

function addConstant(g: Graph, base: string, shape: number[], data: TypedData, rest: Partial<Tensor> = {}): string {
  const name = freshName(g, base);
  g.tensors.set(name, { name, dtype: 'float32', shape, kind: 'constant', data, ...rest });
  return name;
}

/** The weight tensor (codes with their scale) for `w`, named after the layer. */
function addWeight(g: Graph, layer: string, w: LowBitWeight, shape: number[], scale: Float32Array): string {
  const scaleName = addConstant(g, `${layer}.scale`, [scale.length], scale);
  return addConstant(g, `${layer}.weight`, shape, w.codes, {
    dtype: w.kind,
    quant: { scale: scaleName, granularity: scale.length === 1 ? 'per_tensor' : 'per_row' },
  });
}

/** The low-bit node that replaces `node`, or undefined. Adds its constants to `g`. */
function lowBitVersion(g: Graph, node: Node): Node | undefined {
  const xq = codesBehind(g, node.inputs[0]!);
  if (!xq) return undefined;
  const wT = constF32(g, node.inputs[1]);
  if (!wT) return undefined;
  let op: string;
  let inputs: string[];
  let attrs: Record<string, number | number[]> = {};
  let w: LowBitWeight | undefined;
  if (node.op === 'MatMul' || node.op === 'Gemm') {
    if (wT.shape.length !== 2) return undefined;
    const gemm = node.op === 'Gemm';
    if (gemm && (node.attrs.transA !== 0 || xq.shape.length !== 2)) return undefined;
    const nk = gemm && node.attrs.transB !== 0;
    w = detectLowBit(wT.data as Float32Array, wT.shape[0]!, wT.shape[1]!, nk);
    if (!w) return undefined;
    const alpha = gemm ? (node.attrs.alpha as number) : 1;
    let bias: Float32Array | undefined;
    if (gemm && node.inputs[2]) {
      const c = constF32(g, node.inputs[2]);
      const cv = c && channelValues(c, [xq.shape[0]!, w.n]);
      if (!cv) return undefined;
      const beta = node.attrs.beta as number;
      bias = Float32Array.from({ length: w.n }, (_, i) => Math.fround(beta * (cv.length === 1 ? cv[0]! : cv[i]!)));
    }
    const weight = addWeight(
      g,
      node.name,
      w,
      [w.n, w.k],
      w.scales.map((s) => Math.fround(s * alpha)),
    );
    inputs = [xq.name, weight];
    if (bias) inputs.push(addConstant(g, `${node.name}.bias`, [w.n], bias));
    op = w.kind === 'ternary' ? 'TernaryLinear' : 'BinaryLinear';
  } else if (node.op === 'Conv') {
    if (xq.quant!.granularity !== 'per_tensor' || xq.shape.length !== 4 || wT.shape.length !== 4) return undefined;
    const b = node.inputs[2];
    if (b && g.tensors.get(b)?.kind !== 'constant') return undefined;
    const win = convGeometry(xq, wT, node.attrs);
    if (typeof win === 'string') return undefined;
    const [m, cg, kh, kw] = wT.shape as [number, number, number, number];
    w = detectLowBit(wT.data as Float32Array, m, cg * kh * kw, true);
    if (!w) return undefined;
    const weight = addWeight(g, node.name, w, [m, cg, kh, kw], w.scales);
    inputs = b ? [xq.name, weight, b] : [xq.name, weight];
    attrs = { strides: win.strides, pads: [...win.padBegin, ...win.padEnd], dilations: win.dilations, group: node.attrs.group as number };
    op = w.kind === 'ternary' ? 'TernaryConv' : 'BinaryConv';
  } else return undefined;
  const source = typeof node.annotations.weightSource === 'string' ? node.annotations.weightSource : 'float constant';
  const { weightSource: _, ...annotations } = node.annotations;
  const out: Node = {
    name: node.name,
    op,
    inputs,
    outputs: [...node.outputs],
    attrs: withDefaults(getOp(op), attrs),
    annotations: { ...annotations, weights: `${w.kind} from ${source}, scale ${w.scales.length === 1 ? 'per tensor' : 'per channel'}` },
  };
  const { specs, problems } = inferNode(g, out, `${g.source}: node "${node.name}"`);
  if (problems.length) throw new Error(`internal: detect-lowbit made an invalid ${op} for "${node.name}": ${problems.map((p) => p.message).join('; ')}`);
  setOutputs(g, out, specs);
  return out;
}

export const detectLowBitPass: Pass = {
  name: 'detect-lowbit',
  doc: 'MatMul/Gemm/Conv of int8 codes by ternary or binary constant weights become low-bit layers',
  lowBitOnly: true,
  run(g) {
    g.nodes = g.nodes.map((n) => lowBitVersion(g, n) ?? n);
  },
};

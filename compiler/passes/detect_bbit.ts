// detect-bbit: a MatMul or Gemm on float32 activations whose constant weight came from a quantiser
// (a QONNX Quant of 2 to 8 bits, a DequantizeLinear of int8/uint8 codes) becomes `Linear` with
// unsigned b-bit codes, a zero point and a scale per output channel (the 'ub' weight form of
// compiler/ops/lm/weights.ts), packed at b bits in flash instead of float32. Runs after
// detect-lowbit, so ternary/binary weights on int8 codes keep their integer kernels.
//
// The test is on the values, exactly: row n of the weight must be v = fl(q * s_n) for one float32
// scale s_n and integers q that, with 0, span at most 256 values (fl: rounding to float32, what the importer's
// folding of Quant and DequantizeLinear computes). The codes are then q - lo with lo = min(q, 0), the
// zero point -lo, and b the fewest bits (2 to 8) holding every row's codes. Linear then computes
// y = s_n * sum fl(x * q) (lane sums): the float graph's sum of fl(x * v) up to float rounding.
//
// A linear layer whose weight stays float32 gets a `weights` annotation saying why (tritc inspect).

import { freshName, shapeStr, type Graph, type Node, type Tensor, type TypedData } from '../ir.ts';
import { withDefaults } from '../ops/op.ts';
import { getOp } from '../ops/index.ts';
import { channelValues } from './fold_affine.ts';
import { inferNode, setOutputs } from './infer.ts';
import type { Pass } from './pass.ts';

/** Weight sources (the importer's `weightSource` note) whose values are quantiser outputs. */
const QUANTISERS = ['Quant', 'IntQuant', 'DequantizeLinear'];

interface BBitWeight {
  /** Unsigned codes [N, K], row n = output channel n. */
  codes: Uint8Array;
  /** One zero point and one scale per row: value = (code - zero) * scale. */
  zeros: Uint8Array;
  scales: Float32Array;
  bits: number;
  n: number;
  k: number;
}

/** The integers q with fl(q * s) === v for every value of a row, and their span, or undefined. */
function gridOf(row: (c: number) => number, k: number, s: number, q: Int32Array): { lo: number; hi: number } | undefined {
  let lo = 0;
  let hi = 0;
  for (let c = 0; c < k; c++) {
    const v = row(c);
    const r = Math.round(v / s);
    if (Math.fround(r * s) !== v) return undefined;
    q[c] = r;
    if (r < lo) lo = r;
    if (r > hi) hi = r;
    if (hi - lo > 255) return undefined;
  }
  return { lo, hi };
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The positive float32 `d` steps (ulps) from `v`. */
function ulpStep(v: number, d: number): number {
  F32[0] = v;
  U32[0] = U32[0]! + d;
  return F32[0]!;
}

/**
 * Codes, zero points and scales for float32 values of shape [d0, d1] ([K, N], MatMul's B, unless
 * `nk` says [N, K]), or why there are none.
 */
function detectBBit(values: Float32Array, d0: number, d1: number, nk: boolean): BBitWeight | string {
  const n = nk ? d0 : d1;
  const k = nk ? d1 : d0;
  const codes = new Uint8Array(n * k);
  const zeros = new Uint8Array(n);
  const scales = new Float32Array(n);
  const q = new Int32Array(k);
  let bits = 2;
  for (let o = 0; o < n; o++) {
    const row = (c: number) => (nk ? values[o * k + c]! : values[c * n + o]!);
    // The smallest magnitude is m * s for the smallest |q| = m of the row (1 unless the row skips it).
    let a = Infinity;
    for (let c = 0; c < k; c++) {
      const v = Math.abs(row(c));
      if (!Number.isFinite(v)) return 'it has NaN or infinite values';
      if (v !== 0 && v < a) a = v;
    }
    let span: { lo: number; hi: number } | undefined;
    let s = 1;
    if (a === Infinity) span = { lo: 0, hi: 0 };
    else {
      // The previous row's scale first (a scale per tensor), then a / m and its float32 neighbours
      // (fl(fl(m * s) / m) may be an ulp or two off s).
      const tries = function* () {
        if (o > 0) yield scales[o - 1]!;
        for (let m = 1; m <= 255; m++) {
          const c = Math.fround(a / m);
          yield c;
          if (m > 1) for (const d of [1, -1, 2, -2]) yield ulpStep(c, d);
        }
      };
      for (const c of tries()) {
        if (!(c > 0)) continue;
        span = gridOf(row, k, c, q);
        if (span) {
          s = c;
          break;
        }
      }
    }
    if (!span) return `row ${o} is not (code - zero) x scale with codes of at most 8 bits`;
    if (a === Infinity) q.fill(0);
    scales[o] = s;
    zeros[o] = -span.lo;
    for (let c = 0; c < k; c++) codes[o * k + c] = q[c]! - span.lo;
    bits = Math.max(bits, Math.ceil(Math.log2(span.hi - span.lo + 1)));
  }
  return { codes, zeros, scales, bits, n, k };
}

function addConstant(g: Graph, base: string, dtype: Tensor['dtype'], shape: number[], data: TypedData, rest: Partial<Tensor> = {}): string {
  const name = freshName(g, base);
  g.tensors.set(name, { name, dtype, shape, kind: 'constant', data, ...rest });
  return name;
}

function constF32(g: Graph, name: string | undefined): Tensor | undefined {
  const t = name ? g.tensors.get(name) : undefined;
  return t?.kind === 'constant' && t.dtype === 'float32' ? t : undefined;
}

/** The Linear node that replaces `node`, or why the weight stays float32. Adds its constants to `g`. */
function bbitVersion(g: Graph, node: Node, source: string): Node | string {
  const base = source.split(' ')[0]!;
  if (!QUANTISERS.includes(base)) return 'a plain float constant (not from a quantiser)';
  if (node.op === 'Conv') return 'b-bit convolution weights are not supported (ternary and binary only, on int8 codes)';
  const x = g.tensors.get(node.inputs[0]!)!;
  const wT = constF32(g, node.inputs[1])!;
  if (x.dtype !== 'float32' || x.shape.length !== 2) return `the input ${x.dtype} ${shapeStr(x.shape)} is not float32 [rows, K]`;
  if (wT.shape.length !== 2) return `the weight ${shapeStr(wT.shape)} is not 2-D`;
  const gemm = node.op === 'Gemm';
  if (gemm && node.attrs.transA !== 0) return 'Gemm with transA = 1';
  const w = detectBBit(wT.data as Float32Array, wT.shape[0]!, wT.shape[1]!, gemm && node.attrs.transB !== 0);
  if (typeof w === 'string') return w;
  let bias: Float32Array | undefined;
  if (gemm && node.inputs[2]) {
    const c = constF32(g, node.inputs[2]);
    const cv = c && channelValues(c, [x.shape[0]!, w.n]);
    if (!cv || (cv.length !== 1 && cv.length !== w.n)) return 'Gemm whose C is not a constant per output channel';
    const beta = node.attrs.beta as number;
    bias = Float32Array.from({ length: w.n }, (_, i) => Math.fround(beta * (cv.length === 1 ? cv[0]! : cv[i]!)));
  }
  const alpha = gemm ? (node.attrs.alpha as number) : 1;
  const scale = addConstant(
    g,
    `${node.name}.scale`,
    'float32',
    [w.n],
    w.scales.map((s) => Math.fround(s * alpha)),
  );
  const zero = addConstant(g, `${node.name}.zero`, 'uint8', [w.n], w.zeros);
  const weight = addConstant(g, `${node.name}.weight`, 'uint8', [w.n, w.k], w.codes, {
    quant: { scale, granularity: 'per_row', zeroPoint: zero, bits: w.bits },
  });
  const inputs = [x.name, weight];
  if (bias) inputs.push(addConstant(g, `${node.name}.bias`, 'float32', [w.n], bias));
  const { weightSource: _, ...annotations } = node.annotations;
  const out: Node = {
    name: node.name,
    op: 'Linear',
    inputs,
    outputs: [...node.outputs],
    attrs: withDefaults(getOp('Linear'), {}),
    annotations: { ...annotations, weights: `${w.bits}-bit codes from ${source}, zero point and scale per channel` },
  };
  const { specs, problems } = inferNode(g, out, `${g.source}: node "${node.name}"`);
  if (problems.length) throw new Error(`internal: detect-bbit made an invalid Linear for "${node.name}": ${problems.map((p) => p.message).join('; ')}`);
  setOutputs(g, out, specs);
  return out;
}

/** Say why a linear layer's weight stays float32, in its `weights` annotation. */
function keepFloat(node: Node, source: string, why: string): Node {
  const { weightSource: _, ...annotations } = node.annotations;
  return { ...node, annotations: { ...annotations, weights: `float32 (${source}): ${why}` } };
}

export const detectBBitPass: Pass = {
  name: 'detect-bbit',
  doc: 'MatMul/Gemm by quantiser-made constant weights of 2 to 8 bits become Linear with packed b-bit codes',
  run(g, ctx) {
    g.nodes = g.nodes.map((n) => {
      // A node already annotated was decided by an earlier run (compile runs the passes again).
      if (!['MatMul', 'Gemm', 'Conv'].includes(n.op) || !constF32(g, n.inputs[1]) || n.annotations.weights !== undefined) return n;
      const source = typeof n.annotations.weightSource === 'string' ? n.annotations.weightSource : 'float constant';
      if (!ctx.lowBit) return keepFloat(n, source, '--no-lowbit');
      const r = bbitVersion(g, n, source);
      return typeof r === 'string' ? keepFloat(n, source, r) : r;
    });
  },
};

// Random ONNX graphs for the onnxruntime oracle (test/onnx-oracle.test.ts).
//
// Each graph is a chain of blocks over a [B, K] activation. The low-bit block is the standard ONNX
// QDQ pattern (QuantizeLinear -> DequantizeLinear) feeding a MatMul or Gemm whose weight is ternary or
// binary (an exact float constant, or DequantizeLinear of int8 codes), so onnxruntime runs exactly
// what tritc turns into QuantizeStatic + TernaryLinear/BinaryLinear. Scales feeding a later
// quantisation are powers of two, so that every float sum onnxruntime does is exact and no rounding
// tie can fall differently; the last layer takes arbitrary scales. Blocks that need an IR op this
// build lacks are skipped, so the graphs grow with the op library.

import { rng } from '../../compiler/harness/inputs.ts';
import { OPS } from '../../compiler/ops/index.ts';
import type { ModelSpecOnnx, NodeSpec, TensorSpec } from '../../compiler/readers/onnx/write.ts';

export interface RandomOnnx {
  name: string;
  spec: ModelSpecOnnx;
  /** Input shape of the one graph input "x". */
  shape: number[];
  /** The ops used, for messages. */
  ops: string[];
}

export function randomOnnxModel(seed: number): RandomOnnx {
  const r = rng(seed * 7919 + 17);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const pow2 = (lo: number, hi: number) => 2 ** int(lo, hi);
  const opset = pick([11, 13, 17, 19, 21]);
  const nodes: NodeSpec[] = [];
  const inits: (TensorSpec & { name: string })[] = [];
  const ops: string[] = [];
  let t = 0;
  const fresh = (stem: string) => `${stem}${t++}`;
  const init = (stem: string, spec: Omit<TensorSpec, 'name'>) => {
    const name = fresh(stem);
    inits.push({ ...spec, name });
    return name;
  };
  const node = (op: string, inputs: string[], attrs?: NodeSpec['attrs'], outs = 1): string => {
    const o = fresh(op.toLowerCase());
    nodes.push({ op, inputs, outputs: outs === 1 ? [o] : Array.from({ length: outs }, (_, i) => `${o}_${i}`), attrs, name: `${op}_${nodes.length}` });
    ops.push(op);
    return outs === 1 ? o : `${o}_0`;
  };

  if (r() < 0.35) return randomConvModel(seed, r, opset);
  const batch = int(1, 3);
  let k = int(3, 40);
  const shape = [batch, k];
  let cur = 'x';
  const layers = int(1, 3);
  for (let l = 0; l < layers; l++) {
    const last = l === layers - 1;
    // QDQ activation quantisation: int8 with zero point 0, or uint8 with zero point 128.
    const signed = r() < 0.6;
    const sx = pow2(-6, -2);
    const xs = init('sx', { dtype: 'float32', shape: [], data: [sx] });
    const xz = init('zx', { dtype: signed ? 'int8' : 'uint8', shape: [], data: [signed ? 0 : 128] });
    const q = node('QuantizeLinear', [cur, xs, xz]);
    const dq = node('DequantizeLinear', [q, xs, xz]);
    // A ternary or binary weight [K, N], scale per tensor or per output column.
    const n = int(2, 24);
    const binary = r() < 0.35;
    const codes = Array.from({ length: k * n }, () => (binary ? (r() < 0.5 ? -1 : 1) : int(-1, 1)));
    if (!binary && !codes.includes(0)) codes[0] = 0;
    const viaDequantize = r() < 0.5;
    // Per-axis DequantizeLinear exists from opset 13.
    const perColumn = r() < 0.5 && (!viaDequantize || opset >= 13);
    const colScale = Array.from({ length: n }, () => (last && r() < 0.5 ? Math.fround(0.01 + r()) : pow2(-4, 1)));
    const scales = perColumn ? colScale : colScale.map(() => colScale[0]!);
    let w: string;
    if (!viaDequantize) {
      w = init('w', { dtype: 'float32', shape: [k, n], data: codes.map((c, i) => Math.fround(c * scales[i % n]!)) });
    } else {
      const wq = init('wq', { dtype: 'int8', shape: [k, n], data: codes });
      const ws = init('ws', { dtype: 'float32', shape: perColumn ? [n] : [], data: perColumn ? scales : [scales[0]!] });
      w = node('DequantizeLinear', [wq, ws], perColumn ? { axis: 1 } : undefined);
    }
    const bias = Array.from({ length: n }, () => Math.fround((r() * 2 - 1) * (last ? 1 : 0.25)));
    const useGemm = r() < 0.4;
    if (useGemm) {
      // Gemm with B transposed ([N, K]) through a constant Transpose, alpha a power of two, and C.
      const wt = node('Transpose', [w], { perm: [1, 0] });
      const c = init('c', { dtype: 'float32', shape: [n], data: bias });
      cur = node('Gemm', [dq, wt, c], { transB: 1, alpha: { f: pow2(-1, 1) }, beta: { f: 1 } });
    } else {
      cur = node('MatMul', [dq, w]);
      if (r() < 0.6) cur = node('Add', [cur, init('b', { dtype: 'float32', shape: [n], data: bias })]);
    }
    if (last && r() < 0.4 && OPS.has('BatchNormalization')) {
      const p = (lo: number, hi: number) => Array.from({ length: n }, () => Math.fround(lo + r() * (hi - lo)));
      cur = node(
        'BatchNormalization',
        [cur, ...[p(0.5, 2), p(-1, 1), p(-1, 1), p(0.5, 2)].map((d, i) => init(`bn${i}`, { dtype: 'float32', shape: [n], data: d }))],
        { epsilon: { f: 1e-5 } },
      );
    }
    if (!last || r() < 0.5) cur = node('Relu', [cur]);
    if (!last && r() < 0.3) cur = node('Add', [cur, init('a', { dtype: 'float32', shape: [1], data: [pow2(-4, -1)] })]);
    k = n;
  }
  if (r() < 0.5) cur = node('Softmax', [cur], opset >= 13 || r() < 0.5 ? { axis: -1 } : { axis: 1 });
  // A tail of the elementwise and reduction ops (drawn after everything above, so that the graphs
  // before it stay those of earlier seeds): variadic Max/Min/Sum with broadcasting, a comparison
  // feeding Where, or a reduction subtracted back (Softmax written out: ReduceMax, Sub, Exp,
  // ReduceSum, Div). Axes are an attribute or an input, as the opset says.
  const tail = r();
  const row = (stem: string) => init(stem, { dtype: 'float32', shape: [k], data: Array.from({ length: k }, () => Math.fround(r() * 2 - 1)) });
  const scalar = (stem: string) => init(stem, { dtype: 'float32', shape: [1], data: [Math.fround(r() - 0.5)] });
  const reduce = (op: string, x: string, axesInput: number) =>
    opset >= axesInput ? node(op, [x, init('axes', { dtype: 'int64', shape: [1], data: [-1] })], { keepdims: 1 }) : node(op, [x], { axes: [-1], keepdims: 1 });
  if (tail < 0.15) cur = node(pick(['Max', 'Min']), [cur, row('m'), scalar('s')]);
  else if (tail < 0.25) cur = node('Sum', [cur, row('s'), scalar('s')]);
  else if (tail < 0.4) {
    const cmp = pick(opset >= 12 ? ['Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Equal'] : ['Less', 'Greater', 'Equal']);
    cur = node('Where', [node(cmp, [cur, row('t')]), cur, scalar('e')]);
  } else if (tail < 0.5) {
    const e = node('Exp', [node('Sub', [cur, reduce('ReduceMax', cur, 18)])]);
    cur = node('Div', [e, reduce('ReduceSum', e, 13)]);
  } else if (tail < 0.55) cur = node('Sub', [cur, reduce('ReduceMin', cur, 18)]);
  const out = [batch, k];
  nodes[nodes.length - 1]!.outputs = ['y'];
  return {
    name: `onnx_random_${seed}`,
    shape,
    ops,
    spec: { opset, inputs: [{ name: 'x', dtype: 'float32', shape }], outputs: [{ name: 'y', dtype: 'float32', shape: out }], initializers: inits, nodes },
  };
}

/** A small CNN: QDQ -> Conv (ternary/binary weights, strides, pads or auto_pad, dilations, groups) -> [BN] -> Relu, repeated. */
function randomConvModel(seed: number, r: () => number, opset: number): RandomOnnx {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pow2 = (lo: number, hi: number) => 2 ** int(lo, hi);
  const nodes: NodeSpec[] = [];
  const inits: (TensorSpec & { name: string })[] = [];
  const ops: string[] = [];
  let t = 0;
  const fresh = (stem: string) => `${stem}${t++}`;
  const init = (stem: string, spec: Omit<TensorSpec, 'name'>) => {
    const name = fresh(stem);
    inits.push({ ...spec, name });
    return name;
  };
  const node = (op: string, inputs: string[], attrs?: NodeSpec['attrs']): string => {
    const o = fresh(op.toLowerCase());
    nodes.push({ op, inputs, outputs: [o], attrs, name: `${op}_${nodes.length}` });
    ops.push(op);
    return o;
  };
  let c = int(1, 4);
  let h = int(3, 9);
  let w = int(3, 9);
  const shape = [1, c, h, w];
  let cur = 'x';
  const layers = int(1, 2);
  for (let l = 0; l < layers; l++) {
    const last = l === layers - 1;
    const signed = r() < 0.6;
    const xs = init('sx', { dtype: 'float32', shape: [], data: [pow2(-6, -2)] });
    const xz = init('zx', { dtype: signed ? 'int8' : 'uint8', shape: [], data: [signed ? 0 : 128] });
    cur = node('DequantizeLinear', [node('QuantizeLinear', [cur, xs, xz]), xs, xz]);
    const group = c % 2 === 0 && r() < 0.3 ? 2 : 1;
    const m = group * int(1, 3);
    const kh = Math.min(int(1, 3), h);
    const kw = Math.min(int(1, 3), w);
    const binary = r() < 0.35;
    const cg = c / group;
    const codes = Array.from({ length: m * cg * kh * kw }, () => (binary ? (r() < 0.5 ? -1 : 1) : int(-1, 1)));
    if (!binary && !codes.includes(0)) codes[0] = 0;
    const perChannel = r() < 0.5;
    const chScale = Array.from({ length: m }, () => (last && r() < 0.5 ? Math.fround(0.01 + r()) : pow2(-4, 1)));
    const scales = perChannel ? chScale : chScale.map(() => chScale[0]!);
    const per = cg * kh * kw;
    const wt = init('w', { dtype: 'float32', shape: [m, cg, kh, kw], data: codes.map((v, i) => Math.fround(v * scales[Math.floor(i / per)]!)) });
    const inputs = [cur, wt];
    if (r() < 0.5) inputs.push(init('b', { dtype: 'float32', shape: [m], data: Array.from({ length: m }, () => Math.fround((r() * 2 - 1) * 0.25)) }));
    const strides = [int(1, 2), int(1, 2)];
    const dilations = r() < 0.3 ? [int(1, 2), int(1, 2)] : [1, 1];
    const attrs: NodeSpec['attrs'] = { strides, dilations, group, kernel_shape: [kh, kw] };
    const effH = (kh - 1) * dilations[0]! + 1;
    const effW = (kw - 1) * dilations[1]! + 1;
    if (r() < 0.3 && dilations[0] === 1 && dilations[1] === 1) attrs.auto_pad = r() < 0.5 ? 'SAME_UPPER' : 'SAME_LOWER';
    else attrs.pads = [int(0, 1), int(0, 1), int(0, 1), int(0, 1)];
    const p = (attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
    let oh = attrs.auto_pad ? Math.ceil(h / strides[0]!) : Math.floor((h + p[0]! + p[2]! - effH) / strides[0]!) + 1;
    let ow = attrs.auto_pad ? Math.ceil(w / strides[1]!) : Math.floor((w + p[1]! + p[3]! - effW) / strides[1]!) + 1;
    if (oh < 1 || ow < 1) {
      attrs.pads = [effH, effW, effH, effW];
      delete attrs.auto_pad;
      oh = Math.floor((h + 2 * effH - effH) / strides[0]!) + 1;
      ow = Math.floor((w + 2 * effW - effW) / strides[1]!) + 1;
    }
    cur = node('Conv', inputs, attrs);
    if (last && r() < 0.4 && OPS.has('BatchNormalization')) {
      const pv = (lo: number, hi: number) => Array.from({ length: m }, () => Math.fround(lo + r() * (hi - lo)));
      cur = node(
        'BatchNormalization',
        [cur, ...[pv(0.5, 2), pv(-1, 1), pv(-1, 1), pv(0.5, 2)].map((d, i) => init(`bn${i}`, { dtype: 'float32', shape: [m], data: d }))],
        { epsilon: { f: 1e-5 } },
      );
    }
    if (!last || r() < 0.5) cur = node('Relu', [cur]);
    c = m;
    h = oh;
    w = ow;
  }
  nodes[nodes.length - 1]!.outputs = ['y'];
  return {
    name: `onnx_random_${seed}`,
    shape,
    ops,
    spec: {
      opset,
      inputs: [{ name: 'x', dtype: 'float32', shape }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, c, h, w] }],
      initializers: inits,
      nodes,
    },
  };
}

// Linear: float32 activations times a weight matrix, the projections of a language model as
// llama.cpp runs them with float activations.
//
//   X  float32 [T, K]
//   W  [N, K] constant: float32, float16, int8 codes or ternary codes, with float32 scales per
//      tensor, row or group of G consecutive k (weights.ts)
//   Y  float32 [T, N]
//
// For each row t and output n (docs/numerics.md, "Linear"):
//   float weights:  Y = lane sum over k of fl(X[t,k] * W[n,k])                (W f16: widened exactly)
//   codes:          per scale group g:  d_g = lane sum over k in g of the term (ternary: +X, -X or +0;
//                   int8: fl(X * code)),  v_g = fl(scale[n,g] * d_g);  Y = v_0 + v_1 + ... in order
// The lane sum is compiler/numerics/dot.ts: eight interleaved partial sums and a fixed tree, the
// order SIMD kernels keep. Ternary weights need no multiply in the inner loop.

import { shapeStr, type NumericData, type Tensor } from '../../ir.ts';
import { add, mul } from '../../numerics/f32.ts';
import { combineLanes } from '../../numerics/dot.ts';
import { f16BitsToF32 } from '../../numerics/half.ts';
import type { OpDef } from '../op.ts';
import { ROWS_ATTR, rowArgs, rowSpan } from './rows.ts';
import { checkWeight, groupSize, groupsPerRow, weightBytes, weightKernelSuffix } from './weights.ts';

export const Linear: OpDef = {
  op: 'Linear',
  summary: 'float32 activations times a float32, float16, int8 or ternary weight matrix (lane-sum dot products)',
  inputs: { names: ['X', 'W'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: { rows: ROWS_ATTR },
  rows: true,
  infer(ctx) {
    const [x, w] = ctx.inputs;
    if (!x || !w) return [];
    if (x.dtype !== 'float32' || x.shape.length !== 2) {
      ctx.error(`input 0 "${x.name}" must be float32 [T, K], found ${x.dtype} ${shapeStr(x.shape)}`, 'dtype');
      return [];
    }
    if (!checkWeight(ctx, w, 1)) return [];
    if (w.shape[1] !== x.shape[1]) {
      ctx.error(`input 0 "${x.name}" ${shapeStr(x.shape)} does not match weight "${w.name}" ${shapeStr(w.shape)} (K = ${w.shape[1]})`);
      return [];
    }
    return [{ dtype: 'float32', shape: [x.shape[0]!, w.shape[0]!] }];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const wT = graph.tensors.get(node.inputs[1]!)!;
    const x = ctx.readNum(xT.name);
    const [total, k] = xT.shape as [number, number];
    const n = wT.shape[0]!;
    const w = weightValues(wT, ctx.readNum(wT.name));
    if (x.length !== total * k || w.length !== n * k)
      throw new Error(`internal: Linear "${node.name}": ${x.length} activations, ${w.length} weights for ${shapeStr(xT.shape)} x ${shapeStr(wT.shape)}`);
    const y = new Float32Array(total * n);
    const { from, count } = rowSpan(node, ctx.rows, total);
    const scales = wT.quant ? ctx.readNum(wT.quant.scale) : undefined;
    const g = groupSize(wT);
    const gpr = groupsPerRow(wT);
    const ternary = wT.dtype === 'ternary';
    // The lane sum of compiler/numerics/dot.ts, inlined (a Float32Array rounds each sum to float32).
    const lanes = new Float32Array(8);
    for (let r = 0; r < count; r++) {
      const xr = (from + r) * k;
      for (let o = 0; o < n; o++) {
        const wr = o * k;
        let v = 0;
        for (let k0 = 0; k0 < k; k0 += scales ? g : k) {
          const k1 = scales ? Math.min(k, k0 + g) : k;
          lanes.fill(0);
          if (ternary)
            for (let kk = k0; kk < k1; kk++) {
              const c = w[wr + kk]!;
              lanes[(kk - k0) & 7] += c > 0 ? x[xr + kk]! : c < 0 ? -x[xr + kk]! : 0;
            }
          else for (let kk = k0; kk < k1; kk++) lanes[(kk - k0) & 7] += Math.fround(x[xr + kk]! * w[wr + kk]!);
          const d = combineLanes(lanes);
          if (!scales) v = d;
          else {
            const vg = mul(scales[o * gpr + k0 / g]!, d);
            v = k0 === 0 ? vg : add(v, vg);
          }
        }
        y[r * n + o] = v;
      }
    }
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const w = ctx.input(1);
    const [total, k] = x.shape as [number, number];
    const n = w.shape[0]!;
    const suffix = weightKernelSuffix(w);
    const { x: xin, rows } = rowArgs(ctx.node, !!ctx.graph.rows, ctx.in(0), k, ctx.rows(total), ctx.outRows(total));
    const weights = suffix === 't2' ? ctx.constant(w.name, 't2', k) : ctx.in(1);
    const scales = w.quant ? `${ctx.inScale(1)}, /* groups per row */ ${groupsPerRow(w)}, /* group */ ${groupSize(w)}, ` : '';
    // The same results on every kernel (lane sums); the vector ones where the target has them.
    const features = ctx.target.features;
    const isa = features.includes('x86_64') ? 'avx2' : features.includes('aarch64') ? 'neon' : undefined;
    const fn = `tn_linear_${suffix}${isa ? `_${isa}` : ''}`;
    return {
      kernel: fn,
      runtime: ['ref/tn_linear.c', ...(isa === 'avx2' ? ['opt/x86/tn_linear_avx2.c'] : isa === 'neon' ? ['opt/arm/tn_linear_neon.c'] : [])],
      body: [`${fn}(${xin}, ${rows}, ${weights}, ${scales}/* n */ ${n}, /* k */ ${k}, ${ctx.out(0)});`],
    };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    const w = graph.tensors.get(node.inputs[1]!)!;
    return { macs: x.shape[0]! * w.shape[0]! * w.shape[1]!, weightBytes: weightBytes(w) };
  },
};

const WIDENED = new WeakMap<object, Float32Array>();

/** The weight's values as the term uses them: float16 widened exactly (once per tensor), else as stored. */
function weightValues(w: Tensor, data: NumericData): NumericData {
  if (w.dtype !== 'float16') return data;
  let f = WIDENED.get(data);
  if (!f) {
    f = Float32Array.from(data, f16BitsToF32);
    WIDENED.set(data, f);
  }
  return f;
}

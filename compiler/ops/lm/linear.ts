// Linear: float32 activations times a weight matrix, the projections of a language model as
// llama.cpp runs them with float activations.
//
//   X  float32 [T, K]
//   W  [N, K] constant: float32, float16, int8 codes, ternary codes ([P, N, K]: P trit-planes), or
//      uint8 b-bit codes with zero points, with float32 scales per tensor, row or group of G
//      consecutive k (weights.ts)
//   B  float32 [N], optional: a static bias (Tequila's folded deadzone term, GPTQ's bias)
//   Y  float32 [T, N]
//
// For each row t and output n (docs/numerics.md, "Linear"):
//   float weights:  Y = lane sum over k of fl(X[t,k] * W[n,k])                (W f16: widened exactly)
//   codes:          per scale group g:  d_g = lane sum over k in g of the term (ternary: +X, -X or +0;
//                   int8: fl(X * code); b-bit: fl(X * (float)(code - zero_g))),  v_g = fl(scale[n,g] * d_g);
//                   y = v_0 + v_1 + ... in order
//   planes:         y_p as above for each plane, Y = y_0 + y_1 + ... in order (the kernel reads X once
//                   for all planes)
//   delta:          with `delta_slot` >= 0 and a run-time delta loaded in that slot, the sparse ternary
//                   term of delta_term.ts is added next (ComPEFT task vectors, docs/formats.md)
//   bias:           Y = Y + B[n]
// The lane sum is compiler/numerics/dot.ts: eight interleaved partial sums and a fixed tree, the
// order SIMD kernels keep. Ternary weights need no multiply in the inner loop.

import { shapeStr, type NumericData, type Tensor } from '../../ir.ts';
import { add, mul } from '../../numerics/f32.ts';
import { combineLanes } from '../../numerics/dot.ts';
import { f16BitsToF32 } from '../../numerics/half.ts';
import type { EmitNodeContext } from '../../emit/context.ts';
import { vectorIsa } from '../../targets.ts';
import type { InterpretContext, OpDef } from '../op.ts';
import { applyDeltaTerm } from './delta_term.ts';
import { ROWS_ATTR, rowArgs, rowSpan } from './rows.ts';
import { checkWeight, colsOfWeight, groupSize, groupsPerRow, planesOf, rowsOfWeight, scalesPerPlane, weightBytes, weightKernelSuffix } from './weights.ts';

/** The most trit-planes one kernel pass reads (it keeps an accumulator set per plane). */
export const MAX_PLANES = 4;

export const Linear: OpDef = {
  op: 'Linear',
  summary: 'float32 activations times a float32, float16, int8, ternary (trit-planes) or b-bit weight matrix (lane-sum dot products), plus an optional bias',
  inputs: { names: ['X', 'W', 'B'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    rows: ROWS_ATTR,
    delta_slot: {
      kind: 'int',
      default: -1,
      doc: 'a run-time delta slot (ComPEFT task vectors, docs/formats.md): the delta loaded there adds its sparse ternary term; -1: none',
    },
  },
  rows: true,
  infer(ctx) {
    const [x, w, b] = ctx.inputs;
    if (!x || !w) return [];
    if (x.dtype !== 'float32' || x.shape.length !== 2) {
      ctx.error(`input 0 "${x.name}" must be float32 [T, K], found ${x.dtype} ${shapeStr(x.shape)}`, 'dtype');
      return [];
    }
    if (!checkWeight(ctx, w, 1, { planes: true, zeroPoints: true })) return [];
    if (planesOf(w) > MAX_PLANES) {
      ctx.error(`input 1 "${w.name}" has ${planesOf(w)} trit-planes; at most ${MAX_PLANES} are supported`);
      return [];
    }
    if (colsOfWeight(w) !== x.shape[1]) {
      ctx.error(`input 0 "${x.name}" ${shapeStr(x.shape)} does not match weight "${w.name}" ${shapeStr(w.shape)} (K = ${colsOfWeight(w)})`);
      return [];
    }
    const n = rowsOfWeight(w);
    if (b && (b.dtype !== 'float32' || b.shape.length !== 1 || b.shape[0] !== n)) {
      ctx.error(`input 2 "${b.name}" (bias) must be float32 [${n}], found ${b.dtype} ${shapeStr(b.shape)}`, 'dtype');
      return [];
    }
    return [{ dtype: 'float32', shape: [x.shape[0]!, n] }];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const x = ctx.readNum(xT.name);
    const [total, k] = xT.shape as [number, number];
    const w = linearWeight(ctx, node.inputs[1]!, node.inputs[2]);
    if (x.length !== total * k) throw new Error(`internal: Linear "${node.name}": ${x.length} activations for ${shapeStr(xT.shape)}`);
    const y = new Float32Array(total * w.n);
    const { from, count } = rowSpan(node, ctx.rows, total);
    const slot = node.attrs.delta_slot as number;
    const delta = slot >= 0 ? ctx.delta(slot) : undefined;
    if (!delta) {
      for (let r = 0; r < count; r++) linearRow(w, x, (from + r) * k, y, r * w.n);
    } else {
      // The delta's term comes before the bias (the order in the header).
      const { bias, ...noBias } = w;
      for (let r = 0; r < count; r++) linearRow(noBias, x, (from + r) * k, y, r * w.n);
      applyDeltaTerm(delta, x, from, count, k, y);
      if (bias) for (let r = 0; r < count; r++) for (let o = 0; o < w.n; o++) y[r * w.n + o] = add(y[r * w.n + o]!, bias[o]!);
    }
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const [total, k] = x.shape as [number, number];
    const { x: xin, rows } = rowArgs(ctx.node, !!ctx.graph.rows, ctx.in(0), k, ctx.rows(total), ctx.outRows(total));
    const call = linearCall(ctx, 1, ctx.node.inputs[2] ? 2 : undefined, xin, rows, ctx.out(0), ctx.node.attrs.delta_slot as number);
    return { kernel: call.fn, runtime: call.runtime, body: call.body };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    const w = graph.tensors.get(node.inputs[1]!)!;
    return { macs: x.shape[0]! * planesOf(w) * rowsOfWeight(w) * colsOfWeight(w), weightBytes: weightBytes(w) };
  },
};

/** A weight of Linear as the term reads it, with its scales, zero points and bias. */
export interface LinearWeight {
  name: string;
  n: number;
  k: number;
  planes: number;
  w: NumericData;
  scales?: NumericData;
  zeros?: NumericData;
  bias?: NumericData;
  group: number;
  gpr: number;
  perPlane: number;
  ternary: boolean;
}

/** Weight `name` (and optional bias) of a Linear-like node, read from the interpreter. */
export function linearWeight(ctx: InterpretContext, name: string, bias?: string): LinearWeight {
  const wT = ctx.graph.tensors.get(name)!;
  const n = rowsOfWeight(wT);
  const k = colsOfWeight(wT);
  const planes = planesOf(wT);
  const w = weightValues(wT, ctx.readNum(name));
  if (w.length !== planes * n * k) throw new Error(`internal: Linear weight "${name}": ${w.length} values for ${shapeStr(wT.shape)}`);
  return {
    name,
    n,
    k,
    planes,
    w,
    ...(wT.quant ? { scales: ctx.readNum(wT.quant.scale) } : {}),
    ...(wT.quant?.zeroPoint ? { zeros: ctx.readNum(wT.quant.zeroPoint) } : {}),
    ...(bias ? { bias: ctx.readNum(bias) } : {}),
    group: groupSize(wT),
    gpr: groupsPerRow(wT),
    perPlane: scalesPerPlane(wT),
    ternary: wT.dtype === 'ternary',
  };
}

// The lane sum of compiler/numerics/dot.ts, inlined (a Float32Array rounds each sum to float32).
const lanes = new Float32Array(8);

/** One row: y[yOff .. yOff + n) = the term for x[xOff .. xOff + k) (the order in the header). */
export function linearRow(lw: LinearWeight, x: NumericData, xOff: number, y: Float32Array, yOff: number): void {
  const { n, k, planes, w, scales, zeros, bias, group: g, gpr, perPlane, ternary } = lw;
  for (let o = 0; o < n; o++) {
    let yv = 0;
    for (let p = 0; p < planes; p++) {
      const wr = (p * n + o) * k;
      let v = 0;
      for (let k0 = 0; k0 < k; k0 += scales ? g : k) {
        const k1 = scales ? Math.min(k, k0 + g) : k;
        const si = p * perPlane + o * gpr + k0 / g;
        lanes.fill(0);
        if (ternary)
          for (let kk = k0; kk < k1; kk++) {
            const c = w[wr + kk]!;
            lanes[(kk - k0) & 7] += c > 0 ? x[xOff + kk]! : c < 0 ? -x[xOff + kk]! : 0;
          }
        else if (zeros) {
          const z = zeros[si]!;
          for (let kk = k0; kk < k1; kk++) lanes[(kk - k0) & 7] += Math.fround(x[xOff + kk]! * (w[wr + kk]! - z));
        } else for (let kk = k0; kk < k1; kk++) lanes[(kk - k0) & 7] += Math.fround(x[xOff + kk]! * w[wr + kk]!);
        const d = combineLanes(lanes);
        if (!scales) v = d;
        else {
          const vg = mul(scales[si]!, d);
          v = k0 === 0 ? vg : add(v, vg);
        }
      }
      yv = p === 0 ? v : add(yv, v);
    }
    y[yOff + o] = bias ? add(yv, bias[o]!) : yv;
  }
}

/**
 * The C call of the Linear kernel for weight input `wi` (and bias input `bi`) on `rows` rows of `x`
 * into `y`: the same results on every kernel (lane sums), the vector ones where the target has them.
 * `deltaSlot` >= 0 adds that run-time delta slot's term before the bias.
 */
export function linearCall(
  ctx: EmitNodeContext,
  wi: number,
  bi: number | undefined,
  x: string,
  rows: string,
  y: string,
  deltaSlot = -1,
): { fn: string; runtime: string[]; body: string[] } {
  const w = ctx.input(wi);
  const n = rowsOfWeight(w);
  const k = colsOfWeight(w);
  const suffix = weightKernelSuffix(w);
  const bits = w.quant?.bits ?? 8;
  const weights =
    suffix === 't2' || suffix === 't2p'
      ? ctx.constant(w.name, 't2', k)
      : suffix === 'ub'
        ? `${ctx.constant(w.name, 'ub', k, { bits })}, /* bits */ ${bits}`
        : ctx.in(wi);
  const planes = suffix === 't2p' ? ` /* planes */ ${planesOf(w)},` : '';
  const zeros = suffix === 'ub' ? ` ${ctx.constant(w.quant!.zeroPoint!, 'u8')},` : '';
  const scales = w.quant ? `${ctx.inScale(wi)},${zeros} /* groups per row */ ${groupsPerRow(w)}, /* group */ ${groupSize(w)}, ` : '';
  const isa = vectorIsa(ctx.target) || 'scalar';
  const fn = `tn_linear_${suffix}_${isa}`;
  const body = [`${fn}(${x}, ${rows}, ${weights},${planes} ${scales}/* n */ ${n}, /* k */ ${k}, ${y});`];
  if (deltaSlot >= 0) body.push(`tn_delta_apply(${x}, ${rows}, &${ctx.deltaSlots()}[${deltaSlot}], /* n */ ${n}, /* k */ ${k}, ${y});`);
  if (bi !== undefined) body.push(`tn_linear_bias(${y}, ${rows}, ${ctx.in(bi)}, /* n */ ${n});`);
  return { fn, runtime: [...(deltaSlot >= 0 ? ['ref/tn_delta.c'] : []), ...linearRuntime(isa)], body };
}

/**
 * The runtime files of the Linear kernels of `isa` ('avx2', 'neon' or 'scalar'). The vector files
 * also hold Fairy2i's kernel and fall back to the scalar ones (b-bit groups that are not whole bytes
 * of 8 codes, Fairy2i with more than 2 stages, a CPU without AVX2), so those come with them.
 */
export function linearRuntime(isa: string): string[] {
  const scalar = ['ref/tn_linear.c', 'opt/generic/tn_linear_scalar.c', 'ref/tn_linear_c4.c', 'opt/generic/tn_linear_c4_scalar.c'];
  if (isa === 'avx2') return [...scalar, 'opt/x86/tn_linear_avx2.c'];
  if (isa === 'neon') return [...scalar, 'opt/arm/tn_linear_neon.c'];
  return ['ref/tn_linear.c', 'opt/generic/tn_linear_scalar.c'];
}

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

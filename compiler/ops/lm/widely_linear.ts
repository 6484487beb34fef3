// WidelyLinear: float32 activations times a Fairy2i weight (docs/formats.md "Fairy2i"), the real
// layer [N, K] in its widely-linear complex form y = U x + W conj(x), U and W [N/2, K/2] complex, each
// a sum over S stages of codes in {+1, +i, -1, -i} with a real and an imaginary scale per matrix and
// stage. x = x[:K/2] + i x[K/2:] and y = y[:N/2] + i y[N/2:] (the halves of the real vectors).
//
//   X  float32 [T, K]
//   C  uint8 [S, 2, N/2, K/2] constant: the exponent e of the code i^e (0: +1, 1: +i, 2: -1, 3: -i),
//      U's codes then W's per stage; emitted 2 bits per code (layout c4)
//   S  float32 [S, 2, 2] constant: (s_re, s_im) of U, then of W, per stage
//   Y  float32 [T, N]
//
// For each row t, complex output i and (stage s, matrix U or W), four lane sums over j < K/2 of what
// the code picks, with xr = X[t, j], xi = X[t, K/2 + j] (docs/numerics.md, "WidelyLinear"):
//   code +1: a += xr, c += xi     code -1: a += -xr, c += -xi
//   code +i: d += xr, b += xi     code -i: d += -xr, b += -xi
// (a = sum P xr, b = sum Q xi, c = sum P xi, d = sum Q xr for the code's real part P and imaginary Q),
// then per stage, each product rounded, left to right:
//   re_s = ((sU_re aU - sU_im bU) + sW_re aW) + sW_im bW
//   im_s = ((sU_re cU + sU_im dU) - sW_re cW) + sW_im dW
// Y[t, i] = re_0 + re_1 + ...,  Y[t, N/2 + i] = im_0 + im_1 + ... in order. The inner loop adds,
// subtracts and swaps; 8 multiplies per complex output and stage.

import { shapeStr, type Tensor } from '../../ir.ts';
import { FAIRY2I_MAX_STAGES } from '../../lm/model.ts';
import { add, mul, sub } from '../../numerics/f32.ts';
import { combineLanes } from '../../numerics/dot.ts';
import { vectorIsa } from '../../targets.ts';
import type { OpDef } from '../op.ts';
import { linearRuntime } from './linear.ts';
import { ROWS_ATTR, rowArgs, rowSpan } from './rows.ts';

export const WidelyLinear: OpDef = {
  op: 'WidelyLinear',
  summary: 'float32 activations times a Fairy2i weight: y = U x + W conj(x) with U, W sums of stages of codes in {+1, +i, -1, -i} (adds and swaps only)',
  inputs: { names: ['X', 'C', 'S'], min: 3 },
  outputs: { names: ['Y'], min: 1 },
  attrs: { rows: ROWS_ATTR },
  rows: true,
  infer(ctx) {
    const [x, c, s] = ctx.inputs;
    if (!x || !c || !s) return [];
    if (x.dtype !== 'float32' || x.shape.length !== 2) {
      ctx.error(`input 0 "${x.name}" must be float32 [T, K], found ${x.dtype} ${shapeStr(x.shape)}`, 'dtype');
      return [];
    }
    if (c.kind !== 'constant' || c.dtype !== 'uint8' || c.shape.length !== 4 || c.shape[1] !== 2) {
      ctx.error(`input 1 "${c.name}" must be constant uint8 Fairy2i codes [stages, 2, N/2, K/2], found ${c.kind} ${c.dtype} ${shapeStr(c.shape)}`, 'dtype');
      return [];
    }
    const [stages, , n, m] = c.shape as [number, number, number, number];
    if (stages < 1 || stages > FAIRY2I_MAX_STAGES) {
      ctx.error(`input 1 "${c.name}" has ${stages} Fairy2i stages; 1 to ${FAIRY2I_MAX_STAGES} are supported`);
      return [];
    }
    if (2 * m !== x.shape[1]) {
      ctx.error(`input 0 "${x.name}" ${shapeStr(x.shape)} does not match Fairy2i codes "${c.name}" ${shapeStr(c.shape)} (K = ${2 * m})`);
      return [];
    }
    const bad = (c.data as Uint8Array).findIndex((v) => v > 3);
    if (bad >= 0) {
      ctx.error(`input 1 "${c.name}": code ${(c.data as Uint8Array)[bad]} at index ${bad} is not 0..3 (the exponent e of i^e)`);
      return [];
    }
    if (s.kind !== 'constant' || s.dtype !== 'float32' || s.shape.length !== 3 || s.shape[0] !== stages || s.shape[1] !== 2 || s.shape[2] !== 2) {
      ctx.error(`input 2 "${s.name}" must be constant float32 scales [${stages}, 2, 2], found ${s.kind} ${s.dtype} ${shapeStr(s.shape)}`, 'dtype');
      return [];
    }
    return [{ dtype: 'float32', shape: [x.shape[0]!, 2 * n] }];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const cT = graph.tensors.get(node.inputs[1]!)!;
    const x = ctx.readNum(xT.name);
    const codes = ctx.readNum(cT.name);
    const scales = ctx.readNum(node.inputs[2]!);
    const [total, k] = xT.shape as [number, number];
    const [stages, , n, m] = cT.shape as [number, number, number, number];
    const y = new Float32Array(total * 2 * n);
    const { from, count } = rowSpan(node, ctx.rows, total);
    // Lanes of the sums a, b, c, d (in that order) of each (stage, matrix); a Float32Array rounds each add.
    const lanes = new Float32Array(stages * 2 * 4 * 8);
    const sums = new Float64Array(stages * 2 * 4);
    for (let r = 0; r < count; r++) {
      const xr = (from + r) * k;
      for (let i = 0; i < n; i++) {
        lanes.fill(0);
        for (let j = 0; j < m; j++) {
          const re = x[xr + j]!;
          const im = x[xr + m + j]!;
          const lane = j & 7;
          for (let p = 0; p < stages * 2; p++) {
            const e = codes[(p * n + i) * m + j]!;
            const base = p * 32 + lane;
            // a: +8 * 0, b: 8, c: 16, d: 24
            if (e === 0) {
              lanes[base] += re;
              lanes[base + 16] += im;
            } else if (e === 1) {
              lanes[base + 24] += re;
              lanes[base + 8] += im;
            } else if (e === 2) {
              lanes[base] += -re;
              lanes[base + 16] += -im;
            } else {
              lanes[base + 24] += -re;
              lanes[base + 8] += -im;
            }
          }
        }
        for (let q = 0; q < stages * 2 * 4; q++) sums[q] = combineLanes(lanes.subarray(q * 8, q * 8 + 8));
        let yr = 0;
        let yi = 0;
        for (let s = 0; s < stages; s++) {
          const u = s * 8;
          const w = s * 8 + 4;
          const [suRe, suIm, swRe, swIm] = [scales[s * 4]!, scales[s * 4 + 1]!, scales[s * 4 + 2]!, scales[s * 4 + 3]!];
          const tr = add(add(sub(mul(suRe, sums[u]!), mul(suIm, sums[u + 1]!)), mul(swRe, sums[w]!)), mul(swIm, sums[w + 1]!));
          const ti = add(sub(add(mul(suRe, sums[u + 2]!), mul(suIm, sums[u + 3]!)), mul(swRe, sums[w + 2]!)), mul(swIm, sums[w + 3]!));
          yr = s === 0 ? tr : add(yr, tr);
          yi = s === 0 ? ti : add(yi, ti);
        }
        y[r * 2 * n + i] = yr;
        y[r * 2 * n + n + i] = yi;
      }
    }
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const c = ctx.input(1);
    const [total, k] = x.shape as [number, number];
    const [stages, , n] = c.shape as [number, number, number, number];
    const { x: xin, rows } = rowArgs(ctx.node, !!ctx.graph.rows, ctx.in(0), k, ctx.rows(total), ctx.outRows(total));
    const codes = ctx.constant(c.name, 'c4', k / 2);
    // AVX2 and NEON: the sums as 8-lane vectors; elsewhere the lane-at-a-time kernel with the sums in
    // registers (both for 1 or 2 stages; more run the reference).
    const isa = vectorIsa(ctx.target);
    const fn = `tn_linear_c4_${isa || 'scalar'}`;
    return {
      kernel: fn,
      runtime: isa ? linearRuntime(isa) : ['ref/tn_linear_c4.c', 'opt/generic/tn_linear_c4_scalar.c'],
      body: [`${fn}(${xin}, ${rows}, ${codes}, /* stages */ ${stages}, ${ctx.in(2)}, /* n */ ${2 * n}, /* k */ ${k}, ${ctx.out(0)});`],
    };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    const c = graph.tensors.get(node.inputs[1]!)!;
    const [stages, , n, m] = c.shape as [number, number, number, number];
    return { macs: x.shape[0]! * stages * 4 * n * m, weightBytes: fairy2iBytes(c) };
  },
};

/** Bytes of Fairy2i codes [S, 2, n, m] as emitted: 2 bits per complex code (one bit per real weight and stage), rows padded to whole bytes, plus the scales. */
export function fairy2iBytes(codes: Tensor): number {
  const [stages, , n, m] = codes.shape as [number, number, number, number];
  return stages * 2 * n * Math.ceil(m / 4) + stages * 16;
}

// The ops of a mixture-of-experts FFN (MoTE, seed-methods 10; docs/formats.md "MoTE"):
//
//   Router        X float32 [T, D], W float32 [E, D]  ->  I int32 [T, k], G float32 [T, k]
//     logits  l_e = Linear(x, W) (the lane sum, docs/numerics.md "Linear"), e = 0 .. E-1
//     top-k   k passes; each takes the largest logit not yet taken, scanning e upward and replacing
//             the best only on a strictly larger value: ties go to the lower expert index
//     gates   m = l[I_0];  normalize: s = sum over j < k in order of expf(l[I_j] - m),
//                          else:      s = sum over e < E in order of expf(l_e - m);
//             G_j = expf(l[I_j] - m) / s
//   ExpertLinear  X float32 [T, K], I int32 [T, k], W_0 .. W_{E-1} [N, K]  ->  Y float32 [T, N]
//     row t:  Y[t] = Linear(X[t], W_e) with e = I[t, slot]: only expert e's weights are read
//     X int8 (QuantizeInt8, a scale per row; MoTE's BitLinear experts): the experts are ternary and
//     row t is TernaryLinear's formula on X[t] (exact integer sums per scale group, then the scales),
//     on the kernel the cost model picks for one row of that expert (as for a dense layer)
//   MoeCombine    S float32 [T, D], G float32 [T, k], Y_0 .. Y_{k-1} float32 [T, D]  ->  float32 [T, D]
//     y = S;  y = fl(y + fl(G_j * Y_j)) for j = 0 .. k-1 in order
//
// Every buffer has a static shape, so the arena plan covers every routing outcome: each routed slot
// holds one expert's activations for each row, whichever expert that is.

import { shapeStr } from '../../ir.ts';
import { add, div, expf, mul, sub } from '../../numerics/f32.ts';
import { at, attrInt, type OpDef } from '../op.ts';
import { MAX_PLANES, linearCall, linearRow, linearWeight } from './linear.ts';
import { lowBitRow, lowBitWeight } from '../lowbit_linear.ts';
import { INT32_MAX, lowBitGeometry } from '../../lowbit.ts';
import { chooseRowKernel, type KernelChoice } from '../../kernels/choose.ts';
import type { EmitNodeContext } from '../../emit/context.ts';
import { rowSpan } from './rows.ts';
import { checkWeight, colsOfWeight, groupSize, planesOf, rowsOfWeight, weightBytes } from './weights.ts';

/** The most experts a router may choose from, and the most it may choose. */
const MAX_EXPERTS = 256;
const MAX_TOP_K = 8;

/** Expert indices (top-k, ties to the lower index) and gates of one row's logits; the rule of the header. */
export function routeRow(logits: Float32Array, k: number, normalize: boolean): { index: number[]; gates: number[] } {
  const index: number[] = [];
  for (let j = 0; j < k; j++) {
    let best = -1;
    for (let e = 0; e < logits.length; e++) {
      if (index.includes(e)) continue;
      if (best < 0 || logits[e]! > logits[best]!) best = e;
    }
    index.push(best);
  }
  const m = logits[index[0]!]!;
  const ex = index.map((e) => expf(sub(logits[e]!, m)));
  let s = 0;
  if (normalize) ex.forEach((v, j) => (s = j === 0 ? v : add(s, v)));
  else logits.forEach((l, e) => (s = e === 0 ? expf(sub(l, m)) : add(s, expf(sub(l, m)))));
  return { index, gates: ex.map((v) => div(v, s)) };
}

export const Router: OpDef = {
  op: 'Router',
  summary: 'MoE router: float logits x W^T, top-k experts (ties to the lower index) and their softmax gates',
  inputs: { names: ['X', 'W'], min: 2 },
  outputs: { names: ['I', 'G'], min: 2 },
  attrs: {
    top_k: { kind: 'int', doc: 'experts chosen per row' },
    normalize: { kind: 'bool', default: false, doc: 'gates: softmax over the k chosen logits (Mixtral) instead of over all experts (MoTE, Qwen-MoE)' },
  },
  rows: true,
  infer(ctx) {
    const [x, w] = ctx.inputs;
    if (!x || !w) return [];
    const k = attrInt(ctx.node, 'top_k');
    if (x.dtype !== 'float32' || x.shape.length !== 2) ctx.error(`input 0 "${x.name}" must be float32 [T, D], found ${x.dtype} ${shapeStr(x.shape)}`, 'dtype');
    else if (w.kind !== 'constant' || w.dtype !== 'float32' || w.shape.length !== 2 || w.shape[1] !== x.shape[1])
      ctx.error(`input 1 "${w.name}" must be a constant float32 [experts, ${x.shape[1]}], found ${w.dtype} ${shapeStr(w.shape)}`, 'dtype');
    else if (w.shape[0]! > MAX_EXPERTS) ctx.error(`input 1 "${w.name}" routes to ${w.shape[0]} experts; at most ${MAX_EXPERTS} are supported`);
    else if (!(Number.isInteger(k) && k >= 1 && k <= Math.min(w.shape[0]!, MAX_TOP_K)))
      ctx.error(`top_k is ${k}; it must be from 1 to min(experts, ${MAX_TOP_K}) = ${Math.min(w.shape[0]!, MAX_TOP_K)}`);
    else
      return [
        { dtype: 'int32', shape: [x.shape[0]!, k] },
        { dtype: 'float32', shape: [x.shape[0]!, k] },
      ];
    return [];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const x = ctx.readNum(xT.name);
    const [total, d] = xT.shape as [number, number];
    const w = linearWeight(ctx, node.inputs[1]!);
    const k = attrInt(node, 'top_k');
    const normalize = node.attrs.normalize === true;
    const index = new Int32Array(total * k);
    const gates = new Float32Array(total * k);
    const logits = new Float32Array(w.n);
    const { count } = rowSpan(node, ctx.rows, total);
    for (let r = 0; r < count; r++) {
      linearRow(w, x, r * d, logits, 0);
      const route = routeRow(logits, k, normalize);
      index.set(route.index, r * k);
      gates.set(route.gates, r * k);
    }
    ctx.write(node.outputs[0]!, index);
    ctx.write(node.outputs[1]!, gates);
  },
  // One row's logits.
  scratch(graph, node) {
    return 4 * graph.tensors.get(node.inputs[1]!)!.shape[0]!;
  },
  emit(ctx) {
    const [total, d] = ctx.input(0).shape as [number, number];
    const experts = ctx.input(1).shape[0]!;
    const k = attrInt(ctx.node, 'top_k');
    return {
      kernel: 'tn_router_f32',
      runtime: ['ref/tn_moe.c', 'ref/tn_linear.c', 'ref/tn_math.c'],
      body: [
        `tn_router_f32(${ctx.in(0)}, ${ctx.rows(total)}, ${ctx.in(1)}, /* experts */ ${experts}, /* dim */ ${d}, /* top_k */ ${k}, /* normalize */ ${ctx.node.attrs.normalize === true ? 1 : 0},`,
        `  (float *)(void *)${ctx.scratch()}, ${ctx.out(0)}, ${ctx.out(1)});`,
      ],
    };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    const w = graph.tensors.get(node.inputs[1]!)!;
    return { macs: x.shape[0]! * w.shape[0]! * w.shape[1]!, weightBytes: weightBytes(w) };
  },
};

export const ExpertLinear: OpDef = {
  op: 'ExpertLinear',
  summary: "Linear by the routed expert's weight: row t uses W[I[t, slot]], the only expert weights it reads",
  inputs: { names: ['X', 'I', ...Array.from({ length: MAX_EXPERTS }, (_, e) => `W${e}`)], min: 3 },
  outputs: { names: ['Y'], min: 1 },
  attrs: { slot: { kind: 'int', default: 0, doc: "which of the router's k choices (column of I) this node runs" } },
  rows: true,
  infer(ctx) {
    const [x, idx, ...ws] = ctx.inputs;
    if (!x || !idx) return [];
    const slot = attrInt(ctx.node, 'slot');
    const int8 = x.dtype === 'int8';
    if ((x.dtype !== 'float32' && !int8) || x.shape.length !== 2) {
      ctx.error(`input 0 "${x.name}" must be float32 or int8 [T, K], found ${x.dtype} ${shapeStr(x.shape)}`, 'dtype');
      return [];
    }
    if (int8 && x.quant?.granularity !== 'per_row') {
      ctx.error(`input 0 "${x.name}" must be int8 codes with a scale per row (QuantizeInt8 per row)`);
      return [];
    }
    if (idx.dtype !== 'int32' || idx.shape.length !== 2 || idx.shape[0] !== x.shape[0] || !(slot >= 0 && slot < idx.shape[1]!)) {
      ctx.error(`input 1 "${idx.name}" must be int32 [${x.shape[0]}, k] with k > slot ${slot}, found ${idx.dtype} ${shapeStr(idx.shape)}`, 'dtype');
      return [];
    }
    let n: number | undefined;
    for (const [i, w] of ws.entries()) {
      if (!w) return [];
      if (!checkWeight(ctx, w, i + 2, { planes: true, zeroPoints: true })) return [];
      if (int8 && (w.dtype !== 'ternary' || planesOf(w) !== 1 || groupSize(w) * 128 > INT32_MAX)) {
        ctx.error(`expert weight "${w.name}" must be a one-plane ternary matrix for int8 activations, found ${w.dtype} ${shapeStr(w.shape)}`, 'dtype');
        return [];
      }
      if (planesOf(w) > MAX_PLANES) {
        ctx.error(`input ${i + 2} "${w.name}" has ${planesOf(w)} trit-planes; at most ${MAX_PLANES} are supported`);
        return [];
      }
      if (colsOfWeight(w) !== x.shape[1] || (n !== undefined && rowsOfWeight(w) !== n)) {
        ctx.error(`expert weight "${w.name}" ${shapeStr(w.shape)} must be [${n ?? 'N'}, ${x.shape[1]}] like the others`);
        return [];
      }
      n = rowsOfWeight(w);
    }
    return [{ dtype: 'float32', shape: [x.shape[0]!, n!] }];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const x = ctx.readNum(xT.name);
    const idx = ctx.readNum(node.inputs[1]!);
    const [total, k] = xT.shape as [number, number];
    const topK = graph.tensors.get(node.inputs[1]!)!.shape[1]!;
    const slot = attrInt(node, 'slot');
    const { count } = rowSpan(node, ctx.rows, total);
    const expertOf = (r: number, experts: number) => {
      const e = at(idx, r * topK + slot, node.inputs[1]!);
      if (!(e >= 0 && e < experts)) throw new Error(`internal: ExpertLinear "${node.name}": row ${r} routes to expert ${e} of ${experts}`);
      return e;
    };
    if (xT.dtype === 'int8') {
      const sx = ctx.readNum(xT.quant!.scale);
      const experts = node.inputs.slice(2).map((w) => lowBitWeight(ctx, w));
      const n = experts[0]!.geo.n;
      const y = new Float32Array(total * n);
      for (let r = 0; r < count; r++) lowBitRow(experts[expertOf(r, experts.length)]!, x, r * k, at(sx, r, xT.quant!.scale), y, r * n);
      ctx.write(node.outputs[0]!, y);
      return;
    }
    const experts = node.inputs.slice(2).map((w) => linearWeight(ctx, w));
    const n = experts[0]!.n;
    const y = new Float32Array(total * n);
    for (let r = 0; r < count; r++) linearRow(experts[expertOf(r, experts.length)]!, x, r * k, y, r * n);
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const [total, k] = ctx.input(0).shape as [number, number];
    const topK = ctx.input(1).shape[1]!;
    const n = ctx.output(0).shape[1]!;
    const slot = attrInt(ctx.node, 'slot');
    const body = [`{`, `  int32_t t_;`, `  for (t_ = 0; t_ < ${ctx.rows(total)}; t_++) {`, `    switch ((${ctx.in(1)})[t_ * ${topK} + ${slot}]) {`];
    const runtime = new Set<string>();
    const fns = new Set<string>();
    const int8 = ctx.input(0).dtype === 'int8';
    for (let e = 0; e + 2 < ctx.node.inputs.length; e++) {
      const call = int8
        ? expertRowCall(
            ctx,
            e + 2,
            chooseRowKernel(ctx.input(0), ctx.input(e + 2), ctx.target),
            `${ctx.in(0)} + t_ * ${k}`,
            `${ctx.inScale(0)} + t_`,
            `${ctx.out(0)} + t_ * ${n}`,
          )
        : linearCall(ctx, e + 2, undefined, `${ctx.in(0)} + t_ * ${k}`, '1', `${ctx.out(0)} + t_ * ${n}`);
      call.runtime.forEach((f) => runtime.add(f));
      fns.add(call.fn);
      body.push(`      case ${e}: {`, ...call.body.map((l) => `        ${l}`), `        break;`, `      }`);
    }
    // The router never gives another index; a row that had one would read as zeros.
    body.push(
      `      default: {`,
      `        int32_t o_;`,
      `        for (o_ = 0; o_ < ${n}; o_++) (${ctx.out(0)})[t_ * ${n} + o_] = 0.0f;`,
      `      }`,
      `    }`,
      `  }`,
      `}`,
    );
    return { kernel: [...fns].join(', '), runtime: [...runtime], body };
  },
  // int8 activations: the chosen kernels' scratch (LUT tables, prefix sums), during this step only.
  scratch(graph, node, target) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    if (x.dtype !== 'int8' || !target) return 0;
    return Math.max(...node.inputs.slice(2).map((w) => chooseRowKernel(x, graph.tensors.get(w)!, target).scratchBytes));
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    const ws = node.inputs.slice(2).map((w) => graph.tensors.get(w)!);
    const w = ws[0]!;
    // MACs per call: one expert per row. Weight bytes: every expert (flash).
    return { macs: x.shape[0]! * planesOf(w) * rowsOfWeight(w) * colsOfWeight(w), weightBytes: ws.reduce((a, t) => a + weightBytes(t), 0) };
  },
};

/** One row of int8 codes times expert weight input `wi` on the kernel chosen for it: the call and its descriptor. */
function expertRowCall(
  ctx: EmitNodeContext,
  wi: number,
  choice: KernelChoice,
  x: string,
  xScale: string,
  y: string,
): { fn: string; runtime: string[]; body: string[] } {
  const w = ctx.input(wi);
  const geo = lowBitGeometry(w);
  const codes = ctx.constant(w.name, choice.format.id, geo.k, { group: geo.group, window: choice.window, rows: geo.n });
  const cast = choice.format.cElement ? '(const uint8_t *)' : '';
  const granularity = { per_tensor: 'TN_PER_TENSOR', per_row: 'TN_PER_ROW', per_group: 'TN_PER_GROUP' }[w.quant!.granularity];
  const scratch = choice.scratchBytes;
  return {
    fn: `${choice.kernel.cFunction} (${choice.kernel.id})`,
    runtime: choice.kernel.runtime,
    body: [
      `/* ${choice.kernel.id}: ${choice.reason} */`,
      `const tn_lowbit_weights w_ = {${cast}${codes}, ${ctx.constant(w.quant!.scale, 'f32')}, /* planes */ 1, /* n */ ${geo.n}, /* k */ ${geo.k}, ${granularity}, /* group */ ${geo.group}, /* window */ ${choice.window}, ${scratch ? ctx.scratch() : 'NULL'}, ${scratch}};`,
      `${choice.kernel.cFunction}(${x}, ${xScale}, /* x per row */ 0, /* rows */ 1, &w_, NULL, /* flush */ ${choice.flush}, ${y});`,
    ],
  };
}

export const MoeCombine: OpDef = {
  op: 'MoeCombine',
  summary: 'S + sum over the routed slots j of G[:, j] * Y_j, in slot order (the MoE output)',
  inputs: { names: ['S', 'G', ...Array.from({ length: MAX_TOP_K }, (_, j) => `Y${j}`)], min: 3 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  rows: true,
  infer(ctx) {
    const [s, g, ...ys] = ctx.inputs;
    if (!s || !g) return [];
    if (s.dtype !== 'float32' || s.shape.length !== 2) ctx.error(`input 0 "${s.name}" must be float32 [T, D], found ${s.dtype} ${shapeStr(s.shape)}`, 'dtype');
    else if (g.dtype !== 'float32' || shapeStr(g.shape) !== shapeStr([s.shape[0]!, ys.length]))
      ctx.error(`input 1 "${g.name}" must be float32 [${s.shape[0]}, ${ys.length}] (a gate per routed input), found ${g.dtype} ${shapeStr(g.shape)}`, 'dtype');
    else {
      const bad = ys.find((y) => !y || y.dtype !== 'float32' || shapeStr(y.shape) !== shapeStr(s.shape));
      if (bad) ctx.error(`routed input "${bad.name}" must be float32 ${shapeStr(s.shape)} like S, found ${bad.dtype} ${shapeStr(bad.shape)}`, 'dtype');
      else return [{ dtype: 'float32', shape: [...s.shape] }];
    }
    return [];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const sT = graph.tensors.get(node.inputs[0]!)!;
    const s = ctx.readNum(sT.name);
    const g = ctx.readNum(node.inputs[1]!);
    const ys = node.inputs.slice(2).map((y) => ctx.readNum(y));
    const [total, d] = sT.shape as [number, number];
    const k = ys.length;
    const out = new Float32Array(total * d);
    const { count } = rowSpan(node, ctx.rows, total);
    for (let r = 0; r < count; r++)
      for (let i = 0; i < d; i++) {
        let v = at(s, r * d + i, sT.name);
        for (let j = 0; j < k; j++) v = add(v, mul(g[r * k + j]!, ys[j]![r * d + i]!));
        out[r * d + i] = v;
      }
    ctx.write(node.outputs[0]!, out);
  },
  inPlace: [{ input: 0, output: 0 }],
  emit(ctx) {
    const [total, d] = ctx.input(0).shape as [number, number];
    const ys = ctx.node.inputs.slice(2).map((_, j) => ctx.in(j + 2));
    return {
      kernel: 'tn_moe_combine_f32',
      runtime: ['ref/tn_moe.c', 'ref/tn_math.c'],
      body: [
        `{`,
        `  const float *const ys_[${ys.length}] = {${ys.join(', ')}};`,
        `  tn_moe_combine_f32(${ctx.in(0)}, ${ctx.in(1)}, ys_, /* top_k */ ${ys.length}, ${ctx.rows(total)}, /* width */ ${d}, ${ctx.out(0)});`,
        `}`,
      ],
    };
  },
  cost(graph, node) {
    const s = graph.tensors.get(node.inputs[0]!)!;
    return { macs: s.shape[0]! * s.shape[1]! * (node.inputs.length - 2), weightBytes: 0 };
  },
};

// LSTM and GRU (float32), every ONNX option: forward, reverse or bidirectional; sequence_lens;
// initial states; LSTM peepholes and input_forget; GRU linear_before_reset; clip; layout 0 or 1; the
// activation functions of the spec with their alpha and beta (the importer resolves the defaults into
// the constant input `activation_params`, [activations, 2], and the names into `activations`).
//
// Order of float operations, per direction, time step and batch row (runtime-c/ref/tn_rnn.c follows it):
//   for each gate row j: dx = sum_k x[k] W[j, k] from 0 in order; dh = sum_k h[k] R[j, k] (GRU's hidden
//   gate without linear_before_reset: sum_k (r[k] h[k]) R[j, k]); pre = ((dx + dh) + Wb[j]) + Rb[j]
//   LSTM: i = f(clip(pre_i + Pi c)), f = f(clip(pre_f + Pf c)) (input_forget: 1 - i), g = g(clip(pre_c)),
//         c' = f c + i g, o = f(clip(pre_o + Po c')), h' = o h(c')
//   GRU:  z = f(clip(pre_z)), r = f(clip(pre_r)), n = g(clip(pre_h)) (linear_before_reset:
//         g(clip((dx + r (dh + Rb)) + Wb))), h' = (1 - z) n + z h
// A step past a row's sequence length leaves its state and writes zeros to Y.

import { shapeStr, type Graph, type Node } from '../../ir.ts';
import { add, expf, fround, mul, sigmoidf, sub, tanhf } from '../../numerics/f32.ts';
import { attrInt, attrString, type InterpretContext, type OpDef } from '../op.ts';
import { softplusf } from './activation.ts';
import { attrF32, checkDtype, constantBytes, hasInput, inTensor } from './common.ts';
import { hexFloat } from '../../emit/cliterals.ts';

/** Activation names in the order of their C codes (tn_rnn.c), and their default alpha and beta. */
export const RNN_ACTIVATIONS: Record<string, [number, number]> = {
  Sigmoid: [0, 0],
  Tanh: [0, 0],
  Relu: [0, 0],
  HardSigmoid: [0.2, 0.5],
  LeakyRelu: [0.01, 0],
  Elu: [1, 0],
  Softsign: [0, 0],
  Softplus: [0, 0],
  Affine: [1, 0],
  ScaledTanh: [1, 1],
  ThresholdedRelu: [1, 0],
};
const CODES = Object.keys(RNN_ACTIVATIONS);

function activate(code: number, x: number, alpha: number, beta: number): number {
  switch (code) {
    case 0:
      return sigmoidf(x);
    case 1:
      return tanhf(x);
    case 2:
      return x > 0 ? x : 0;
    case 3: {
      const v = add(mul(alpha, x), beta);
      return v < 0 ? 0 : v > 1 ? 1 : v;
    }
    case 4:
      return x < 0 ? mul(alpha, x) : x;
    case 5:
      return x < 0 ? mul(alpha, sub(expf(x), 1)) : x;
    case 6:
      return fround(x / add(1, Math.abs(x)));
    case 7:
      return softplusf(x);
    case 8:
      return add(mul(alpha, x), beta);
    case 9:
      return mul(alpha, tanhf(mul(beta, x)));
    default:
      return x >= alpha ? x : 0;
  }
}

type Kind = 'LSTM' | 'GRU';
const GATES: Record<Kind, number> = { LSTM: 4, GRU: 3 };
const ACTS: Record<Kind, number> = { LSTM: 3, GRU: 2 };

interface Dims {
  seq: number;
  batch: number;
  input: number;
  hidden: number;
  dirs: number;
}

function dimsOf(g: Graph, node: Node): Dims {
  const x = g.tensors.get(node.inputs[0]!)!;
  const layout = attrInt(node, 'layout');
  return {
    seq: x.shape[layout ? 1 : 0]!,
    batch: x.shape[layout ? 0 : 1]!,
    input: x.shape[2]!,
    hidden: attrInt(node, 'hidden_size'),
    dirs: attrString(node, 'direction') === 'bidirectional' ? 2 : 1,
  };
}

function rnnOp(kind: Kind): OpDef {
  const G = GATES[kind];
  const lstm = kind === 'LSTM';
  const inputs = lstm
    ? ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P', 'activation_params']
    : ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'activation_params'];
  const paramsIn = inputs.length - 1;
  return {
    op: kind,
    summary: `float32 ${kind} layer (forward, reverse or bidirectional)`,
    inputs: { names: inputs, min: 3 },
    outputs: { names: lstm ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'], min: 0 },
    attrs: {
      hidden_size: { kind: 'int', doc: 'units' },
      direction: { kind: 'string', default: 'forward', oneOf: ['forward', 'reverse', 'bidirectional'], doc: 'direction' },
      activations: { kind: 'string', default: lstm ? 'Sigmoid,Tanh,Tanh' : 'Sigmoid,Tanh', doc: 'the activation names, comma-separated, per direction' },
      clip: { kind: 'float', default: 0, doc: 'clip gate inputs to [-clip, clip] (0: none)' },
      layout: { kind: 'int', default: 0, doc: '0: [seq, batch, ...]; 1: [batch, seq, ...]' },
      ...(lstm
        ? { input_forget: { kind: 'int', default: 0, doc: '1: the forget gate is 1 - the input gate' } }
        : { linear_before_reset: { kind: 'int', default: 0, doc: '1: apply R before multiplying by the reset gate' } }),
    },
    infer(ctx) {
      const [x, w, r] = ctx.inputs;
      if (!x || !w || !r) return [];
      const names = inputs;
      for (const i of [0, 1, 2, 3, 5, 6, 7, 8]) if (i < inputs.length && i !== 4 && !checkDtype(ctx, i, ['float32'], names)) return [];
      if (!checkDtype(ctx, 4, ['int32'], names)) return [];
      if (x.shape.length !== 3) {
        ctx.error(`X "${x.name}" ${shapeStr(x.shape)} must have rank 3`);
        return [];
      }
      const d = dimsOf(ctx.graph, ctx.node);
      const acts = attrString(ctx.node, 'activations').split(',');
      if (acts.length !== ACTS[kind] * d.dirs || acts.some((a) => !CODES.includes(a)))
        ctx.error(`activations "${acts.join(', ')}" must be ${ACTS[kind] * d.dirs} of ${CODES.join(', ')}`, 'unsupported');
      const want: Record<number, number[]> = {
        1: [d.dirs, G * d.hidden, d.input],
        2: [d.dirs, G * d.hidden, d.hidden],
        3: [d.dirs, 2 * G * d.hidden],
        4: [d.batch],
        5: attrInt(ctx.node, 'layout') ? [d.batch, d.dirs, d.hidden] : [d.dirs, d.batch, d.hidden],
      };
      if (lstm) {
        want[6] = want[5]!;
        want[7] = [d.dirs, 3 * d.hidden];
      }
      want[paramsIn] = [acts.length, 2];
      for (const [i, shape] of Object.entries(want)) {
        const t = ctx.inputs[Number(i)];
        if (t && shapeStr(t.shape) !== shapeStr(shape))
          ctx.error(`input ${i} (${inputs[Number(i)]}) "${t.name}" is ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
      }
      if (!ctx.inputs[paramsIn]) ctx.error(`input ${paramsIn} (activation_params) is required`);
      const state = attrInt(ctx.node, 'layout') ? [d.batch, d.dirs, d.hidden] : [d.dirs, d.batch, d.hidden];
      const y = attrInt(ctx.node, 'layout') ? [d.batch, d.seq, d.dirs, d.hidden] : [d.seq, d.dirs, d.batch, d.hidden];
      return lstm
        ? [
            { dtype: 'float32', shape: y },
            { dtype: 'float32', shape: state },
            { dtype: 'float32', shape: state },
          ]
        : [
            { dtype: 'float32', shape: y },
            { dtype: 'float32', shape: state },
          ];
    },
    interpret: (ctx) => rnnInterpret(ctx, kind, paramsIn),
    emit(ctx) {
      const d = dimsOf(ctx.graph, ctx.node);
      const opt = (i: number) => (ctx.hasInput(i) ? ctx.in(i) : 'NULL');
      const out = (j: number) => (ctx.node.outputs[j] ? ctx.out(j) : 'NULL');
      const acts = attrString(ctx.node, 'activations')
        .split(',')
        .map((a) => CODES.indexOf(a));
      const dims = ctx.intTable('dims', [
        d.seq,
        d.batch,
        d.input,
        d.hidden,
        d.dirs,
        attrString(ctx.node, 'direction') === 'reverse' ? 1 : 0,
        attrInt(ctx.node, 'layout'),
      ]);
      const flag = lstm ? attrInt(ctx.node, 'input_forget') : attrInt(ctx.node, 'linear_before_reset');
      const fn = lstm ? 'tn_lstm_f32' : 'tn_gru_f32';
      const ins = lstm ? [0, 1, 2, 3, 4, 5, 6, 7].map((i) => (i < 3 ? ctx.in(i) : opt(i))) : [0, 1, 2, 3, 4, 5].map((i) => (i < 3 ? ctx.in(i) : opt(i)));
      const outs = (lstm ? [0, 1, 2] : [0, 1]).map(out);
      return {
        kernel: fn,
        runtime: ['ref/tn_rnn.c', 'ref/tn_math.c'],
        body: [
          `${fn}(${ins.join(', ')}, ${ctx.in(paramsIn)},`,
          `       ${outs.join(', ')}, ${dims}, ${ctx.intTable('activations', acts)}, /* ${lstm ? 'input_forget' : 'linear_before_reset'} */ ${flag ? 1 : 0}, /* clip */ ${hexFloat(attrF32(ctx.node, 'clip'))}, (float *)${ctx.scratch()});`,
        ],
      };
    },
    cost(g, node) {
      const d = dimsOf(g, node);
      return { macs: d.seq * d.dirs * d.batch * G * d.hidden * (d.input + d.hidden), weightBytes: constantBytes(g, node) };
    },
    scratch(g, node) {
      const d = dimsOf(g, node);
      return 4 * (2 * d.hidden + G * d.hidden);
    },
  };
}

function rnnInterpret(ctx: InterpretContext, kind: Kind, paramsIn: number): void {
  const lstm = kind === 'LSTM';
  const G = GATES[kind];
  const d = dimsOf(ctx.graph, ctx.node);
  const { seq, batch, input: I, hidden: H, dirs } = d;
  const layout = attrInt(ctx.node, 'layout');
  const reverseOnly = attrString(ctx.node, 'direction') === 'reverse';
  const x = ctx.readNum(inTensor(ctx, 0).name);
  const W = ctx.readNum(inTensor(ctx, 1).name);
  const R = ctx.readNum(inTensor(ctx, 2).name);
  const opt = (i: number) => (hasInput(ctx, i) ? ctx.readNum(ctx.node.inputs[i]!) : undefined);
  const B = opt(3);
  const lens = opt(4);
  const h0 = opt(5);
  const c0 = lstm ? opt(6) : undefined;
  const P = lstm ? opt(7) : undefined;
  const params = ctx.readNum(ctx.node.inputs[paramsIn]!);
  const codes = attrString(ctx.node, 'activations')
    .split(',')
    .map((a) => CODES.indexOf(a));
  const flag = (lstm ? attrInt(ctx.node, 'input_forget') : attrInt(ctx.node, 'linear_before_reset')) !== 0;
  const clip = attrF32(ctx.node, 'clip');
  const cl = (v: number) => (clip > 0 ? (v < -clip ? -clip : v > clip ? clip : v) : v);
  const Y = new Float32Array(seq * dirs * batch * H);
  const Yh = new Float32Array(dirs * batch * H);
  const Yc = new Float32Array(dirs * batch * H);
  const xAt = (t: number, b: number) => (layout ? b * seq + t : t * batch + b) * I;
  const yAt = (t: number, dir: number, b: number) => (layout ? (b * seq + t) * dirs + dir : (t * dirs + dir) * batch + b) * H;
  const sAt = (dir: number, b: number) => (layout ? b * dirs + dir : dir * batch + b) * H;
  const nActs = lstm ? 3 : 2;
  for (let dir = 0; dir < dirs; dir++) {
    const reverse = reverseOnly || dir === 1;
    const act = (k: number, v: number) => {
      const a = dir * nActs + k;
      return activate(codes[a]!, v, params[2 * a]!, params[2 * a + 1]!);
    };
    const wd = dir * G * H * I;
    const rd = dir * G * H * H;
    const bd = dir * 2 * G * H;
    for (let b = 0; b < batch; b++) {
      const h = new Float32Array(H);
      const c = new Float32Array(H);
      for (let j = 0; j < H; j++) {
        h[j] = h0 ? h0[sAt(dir, b) + j]! : 0;
        c[j] = c0 ? c0[sAt(dir, b) + j]! : 0;
      }
      const len = lens ? lens[b]! : seq;
      for (let s = 0; s < seq; s++) {
        const t = reverse ? len - 1 - s : s;
        if (t < 0 || t >= len) continue;
        const dot = (j: number, v: (k: number) => number, M: ArrayLike<number>, base: number, n: number) => {
          let acc = 0;
          for (let k = 0; k < n; k++) acc = add(acc, mul(v(k), M[base + j * n + k]!));
          return acc;
        };
        const dx = (j: number) => dot(j, (k) => x[xAt(t, b) + k]!, W, wd, I);
        const wb = (j: number) => (B ? B[bd + j]! : 0);
        const rb = (j: number) => (B ? B[bd + G * H + j]! : 0);
        const pre = (j: number, hv: (k: number) => number) => add(add(add(dx(j), dot(j, hv, R, rd, H)), wb(j)), rb(j));
        const gates = new Float32Array(G * H);
        if (lstm) {
          for (let j = 0; j < G * H; j++) gates[j] = pre(j, (k) => h[k]!);
          const p = (g: number, j: number) => (P ? P[dir * 3 * H + g * H + j]! : 0);
          for (let j = 0; j < H; j++) {
            const i = act(0, cl(add(gates[j]!, mul(p(0, j), c[j]!))));
            const f = flag ? sub(1, i) : act(0, cl(add(gates[2 * H + j]!, mul(p(2, j), c[j]!))));
            const g = act(1, cl(gates[3 * H + j]!));
            const cn = add(mul(f, c[j]!), mul(i, g));
            const o = act(0, cl(add(gates[H + j]!, mul(p(1, j), cn))));
            c[j] = cn;
            gates[j] = mul(o, act(2, cn)); // the new h, kept until every unit is done
          }
          for (let j = 0; j < H; j++) h[j] = gates[j]!;
        } else {
          for (let j = 0; j < 2 * H; j++) gates[j] = act(0, cl(pre(j, (k) => h[k]!)));
          for (let j = 0; j < H; j++) {
            const r = (k: number) => gates[H + k]!;
            const n = flag
              ? act(
                  1,
                  cl(
                    add(
                      add(
                        dx(2 * H + j),
                        mul(
                          r(j),
                          add(
                            dot(2 * H + j, (k) => h[k]!, R, rd, H),
                            rb(2 * H + j),
                          ),
                        ),
                      ),
                      wb(2 * H + j),
                    ),
                  ),
                )
              : act(1, cl(pre(2 * H + j, (k) => mul(r(k), h[k]!))));
            gates[2 * H + j] = n;
          }
          for (let j = 0; j < H; j++) {
            const z = gates[j]!;
            h[j] = add(mul(sub(1, z), gates[2 * H + j]!), mul(z, h[j]!));
          }
        }
        for (let j = 0; j < H; j++) Y[yAt(t, dir, b) + j] = h[j]!;
      }
      for (let j = 0; j < H; j++) {
        Yh[sAt(dir, b) + j] = h[j]!;
        Yc[sAt(dir, b) + j] = c[j]!;
      }
    }
  }
  const outs = [Y, Yh, Yc];
  ctx.node.outputs.forEach((o, j) => {
    if (o) ctx.write(o, outs[j]!);
  });
}

export const LSTM = rnnOp('LSTM');
export const GRU = rnnOp('GRU');

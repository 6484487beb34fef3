// Generated families for the planner benchmark. The residual MLP is a real IR graph made of the
// existing ops; the others use layers the IR has no ops for yet (convolutions, attention, expert
// routing), so they are planner-level problems: steps with the tensors they read and write, their
// byte sizes, the in-place sharing and kernel scratch their kernels would declare. Each family lists
// its steps in the order an exporter writes them (layer by layer, breadth first across parallel
// branches): that is the order TFLite Micro would run.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '../../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec, type NodeSpec, type TensorSpec } from '../../compiler/readers/native/write.ts';
import { runPasses } from '../../compiler/passes/pipeline.ts';
import { problemFromGraph, type PlanProblem, type PlanStep } from '../../compiler/plan/problem.ts';
import { depthwiseStreams, windowGeometry, type Window } from '../../compiler/ops/onnx/conv.ts';

export interface CorpusEntry {
  family: string;
  name: string;
  /** 'graph': an IR graph of existing ops; 'problem': a planner-level problem. */
  level: 'graph' | 'problem';
  problem: PlanProblem;
}

/** Builds planner-level problems: tensors not declared are external (graph inputs and outputs, caches). */
class Builder {
  readonly tensors = new Map<string, number>();
  readonly steps: PlanStep[] = [];
  constructor(readonly name: string) {}
  /** `inPlace`: [output, input] pairs, or [output, input, 'end'] for an input at the end of a larger output. */
  step(
    name: string,
    reads: string[],
    writes: [string, number][],
    opts: { inPlace?: ([string, string] | [string, string, 'end'])[]; scratch?: number } = {},
  ): string {
    for (const [t, bytes] of writes) if (bytes > 0) this.tensors.set(t, Math.ceil(bytes));
    const inPlace = (opts.inPlace ?? []).map(([output, input, end]) => ({ input, output, ...(end ? { atEnd: true } : {}) }));
    this.steps.push({ name, reads, writes: writes.map(([t]) => t), scratch: Math.ceil(opts.scratch ?? 0), inPlace });
    return writes[0]?.[0] ?? name;
  }
  problem(): PlanProblem {
    return { name: this.name, tensors: this.tensors, steps: this.steps };
  }
}

const F32 = 4;

// ---- residual MLP: an IR graph -------------------------------------------------------------------

export function residualMlp(rows: number, d: number, hidden: number, blocks: number): CorpusEntry {
  const tensors: Record<string, TensorSpec> = { x: { dtype: 'float32', shape: [rows, d] } };
  const nodes: NodeSpec[] = [];
  const scale = (n: number) => ({ dtype: 'float32' as const, shape: [n], data: new Float32Array(n).fill(0.01) });
  const w = (name: string, n: number, k: number) => {
    tensors[name] = { dtype: 'ternary', shape: [n, k], quant: { scale: `${name}.s`, granularity: 'per_row' }, data: new Int8Array(n * k) };
    tensors[`${name}.s`] = scale(n);
  };
  let h = 'x';
  for (let b = 0; b < blocks; b++) {
    w(`w${b}a`, hidden, d);
    w(`w${b}b`, d, hidden);
    nodes.push(
      { name: `q${b}a`, op: 'QuantizeInt8', inputs: [h], outputs: [`q${b}a`], attrs: { granularity: 'per_row' } },
      { name: `fc${b}a`, op: 'TernaryLinear', inputs: [`q${b}a`, `w${b}a`], outputs: [`u${b}`] },
      { name: `relu${b}`, op: 'Relu', inputs: [`u${b}`], outputs: [`r${b}`] },
      { name: `q${b}b`, op: 'QuantizeInt8', inputs: [`r${b}`], outputs: [`q${b}b`], attrs: { granularity: 'per_row' } },
      { name: `fc${b}b`, op: 'TernaryLinear', inputs: [`q${b}b`, `w${b}b`], outputs: [`v${b}`] },
      { name: `res${b}`, op: 'Add', inputs: [h, `v${b}`], outputs: [`h${b}`] },
    );
    h = `h${b}`;
  }
  nodes.push({ name: 'softmax', op: 'Softmax', inputs: [h], outputs: ['probs'] });
  const spec: ModelSpec = { name: `residual-mlp-r${rows}-d${d}-h${hidden}-b${blocks}`, inputs: ['x'], outputs: ['probs'], tensors, nodes };
  const g = readModel(writeModel(join(mkdtempSync(join(tmpdir(), 'tritc-bench-')), spec.name), spec));
  runPasses(g);
  return { family: 'residual-mlp', name: spec.name, level: 'graph', problem: problemFromGraph(g) };
}

// ---- U-Net-like: encoder, decoder, skips (int8 activations) --------------------------------------

export function unet(size: number, c0: number, levels: number): CorpusEntry {
  const B = new Builder(`unet-${size}-c${c0}-l${levels}`);
  let x = 'image';
  let hw = size * size;
  const skips: { t: string; hw: number; c: number }[] = [];
  for (let l = 0; l < levels; l++) {
    const c = c0 << l;
    const a = B.step(`enc${l}a`, [x], [[`enc${l}a`, hw * c]]);
    const s = B.step(`enc${l}b`, [a], [[`skip${l}`, hw * c]]);
    skips.push({ t: s, hw, c });
    hw /= 4;
    x = B.step(`pool${l}`, [s], [[`pool${l}`, hw * c]]);
  }
  const cb = c0 << levels;
  x = B.step('mid_a', [x], [['mid_a', hw * cb]]);
  x = B.step('mid_b', [x], [['mid_b', hw * cb]]);
  for (let l = levels - 1; l >= 0; l--) {
    const { t, hw: shw, c } = skips[l]!;
    const up = B.step(`up${l}`, [x], [[`up${l}`, shw * c]]);
    const cat = B.step(`cat${l}`, [up, t], [[`cat${l}`, shw * 2 * c]]);
    x = B.step(`dec${l}`, [cat], [[`dec${l}`, shw * c]]);
  }
  B.step('head', [x], [['mask', 0]]);
  return { family: 'unet', name: B.name, level: 'problem', problem: B.problem() };
}

// ---- MobileNetV2-like inverted residuals (int8) ----------------------------------------------------

/** (expansion t, channels c, repeats n, stride s) of MobileNetV2. */
const MBV2: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export function mobilenetV2(resolution: number, alpha: number): CorpusEntry {
  const ch = (c: number) => Math.max(8, Math.round((c * alpha) / 8) * 8);
  const B = new Builder(`mobilenetv2-${resolution}-a${alpha}`);
  let side = resolution / 2;
  let cin = ch(32);
  let x = B.step('stem', ['image'], [['stem', side * side * cin]]);
  let i = 0;
  for (const [t, c, n, s] of MBV2) {
    const cout = ch(c);
    for (let r = 0; r < n; r++, i++) {
      const stride = r === 0 ? s : 1;
      const hidden = cin * t;
      // The 1x1 expansion streams pixel by pixel and grows each one t times: it may write over its
      // input when the input sits at the end of its output (and nothing else reads the input).
      const e = t === 1 ? x : B.step(`b${i}_expand`, [x], [[`b${i}_e`, side * side * hidden]], { inPlace: [[`b${i}_e`, x, 'end']] });
      const out = side / stride;
      // Depthwise 3x3 (padding 1) in place over its input, as the Conv op's kernels do it: strided,
      // it streams (every output lands below the inputs still to be read: depthwiseStreams); at
      // stride 1 one channel at a time goes through scratch the size of one output channel, then
      // is copied back (TinyEngine).
      const win = windowGeometry([side, side], [3, 3], { strides: [stride, stride], pads: [1, 1, 1, 1] }, false) as Window;
      const d = B.step(`b${i}_dw`, [e], [[`b${i}_d`, out * out * hidden]], {
        inPlace: [[`b${i}_d`, e]],
        scratch: depthwiseStreams([side, side], win) ? 0 : out * out,
      });
      const p = B.step(`b${i}_project`, [d], [[`b${i}_p`, out * out * cout]], { inPlace: [[`b${i}_p`, d]] });
      side = out;
      if (stride === 1 && cin === cout) x = B.step(`b${i}_add`, [x, p], [[`b${i}_y`, side * side * cout]], { inPlace: [[`b${i}_y`, p]] });
      else x = p;
      cin = cout;
    }
  }
  const head = B.step('head_conv', [x], [['head', side * side * ch(1280)]]);
  B.step('pool_fc', [head], [['logits', 0]]);
  return { family: 'mobilenet-inverted-residual', name: B.name, level: 'problem', problem: B.problem() };
}

// ---- Transformer block with a KV cache --------------------------------------------------------------

/**
 * One pre-norm block over T new tokens attending to a cache of L positions (the cache is
 * persistent state outside the arena). Heads are separate steps, listed op by op across heads.
 */
export function transformerBlock(T: number, L: number, d: number, heads: number, ffn: number): CorpusEntry {
  const B = new Builder(`transformer-t${T}-l${L}-d${d}-h${heads}-f${ffn}`);
  const dh = d / heads;
  const n1 = B.step('rms1', ['x'], [['n1', T * d * F32]]);
  const q1 = B.step(
    'quant1',
    [n1],
    [
      ['q1', T * d],
      ['q1.s', T * F32],
    ],
    { inPlace: [['q1', n1]] },
  );
  const q = B.step('q_proj', [q1, 'q1.s'], [['q', T * d * F32]]);
  const k = B.step('k_proj', [q1, 'q1.s'], [['k', T * d * F32]]);
  const v = B.step('v_proj', [q1, 'q1.s'], [['v', T * d * F32]]);
  const qr = B.step('rope_q', [q], [['qr', T * d * F32]], { inPlace: [['qr', q]] });
  const kr = B.step('rope_k', [k], [['kr', T * d * F32]], { inPlace: [['kr', k]] });
  B.step('append_k', [kr], [['k_cache', 0]]);
  B.step('append_v', [v], [['v_cache', 0]]);
  for (let h = 0; h < heads; h++) B.step(`scores${h}`, [qr, 'k_cache'], [[`s${h}`, T * L * F32]]);
  for (let h = 0; h < heads; h++) B.step(`softmax${h}`, [`s${h}`], [[`p${h}`, T * L * F32]], { inPlace: [[`p${h}`, `s${h}`]] });
  for (let h = 0; h < heads; h++) B.step(`av${h}`, [`p${h}`, 'v_cache'], [[`o${h}`, T * dh * F32]]);
  const o = B.step(
    'concat',
    Array.from({ length: heads }, (_, h) => `o${h}`),
    [['o', T * d * F32]],
  );
  const q2 = B.step(
    'quant2',
    [o],
    [
      ['q2', T * d],
      ['q2.s', T * F32],
    ],
    { inPlace: [['q2', o]] },
  );
  const a = B.step('o_proj', [q2, 'q2.s'], [['a', T * d * F32]]);
  const h1 = B.step('residual1', ['x', a], [['h1', T * d * F32]], { inPlace: [['h1', a]] });
  const n2 = B.step('rms2', [h1], [['n2', T * d * F32]]);
  const q3 = B.step(
    'quant3',
    [n2],
    [
      ['q3', T * d],
      ['q3.s', T * F32],
    ],
    { inPlace: [['q3', n2]] },
  );
  const u = B.step('up', [q3, 'q3.s'], [['u', T * ffn * F32]]);
  const g = B.step('gate', [q3, 'q3.s'], [['g', T * ffn * F32]]);
  const gs = B.step('silu', [g], [['gs', T * ffn * F32]], { inPlace: [['gs', g]] });
  const m = B.step('mul', [gs, u], [['m', T * ffn * F32]], {
    inPlace: [
      ['m', gs],
      ['m', u],
    ],
  });
  const q4 = B.step(
    'quant4',
    [m],
    [
      ['q4', T * ffn],
      ['q4.s', T * F32],
    ],
    { inPlace: [['q4', m]] },
  );
  const dn = B.step('down', [q4, 'q4.s'], [['dn', T * d * F32]]);
  B.step('residual2', [h1, dn], [['y', 0]]);
  return { family: T === 1 ? 'transformer-decode' : 'transformer-kv-cache', name: B.name, level: 'problem', problem: B.problem() };
}

// ---- Mixture of experts ----------------------------------------------------------------------------

/** Top-k routing over E ternary experts (gated FFN each) plus a shared FFN, as in MoTE. */
export function mixtureOfExperts(T: number, d: number, ffn: number, experts: number, k: number): CorpusEntry {
  const B = new Builder(`moe-t${T}-d${d}-f${ffn}-e${experts}-k${k}`);
  const cap = Math.ceil((1.25 * T * k) / experts); // tokens per expert, with the usual capacity factor
  const n = B.step('rms', ['x'], [['n', T * d * F32]]);
  const q = B.step(
    'quant',
    [n],
    [
      ['q', T * d],
      ['q.s', T * F32],
    ],
    { inPlace: [['q', n]] },
  );
  const logits = B.step('router', [q, 'q.s'], [['logits', T * experts * F32]]);
  B.step(
    'topk',
    [logits],
    [
      ['idx', T * k * 4],
      ['wts', T * k * F32],
    ],
  );
  // The shared expert.
  const su = B.step('shared_up', [q, 'q.s'], [['su', T * ffn * F32]]);
  const sr = B.step('shared_act', [su], [['sr', T * ffn * F32]], { inPlace: [['sr', su]] });
  const sq = B.step(
    'shared_quant',
    [sr],
    [
      ['sq', T * ffn],
      ['sq.s', T * F32],
    ],
    { inPlace: [['sq', sr]] },
  );
  B.step('shared_down', [sq, 'sq.s'], [['acc_s', T * d * F32]]);
  const stage = (name: string, fn: (e: number) => void) => {
    for (let e = 0; e < experts; e++) fn(e);
    return name;
  };
  stage('gather', (e) =>
    B.step(
      `gather${e}`,
      [q, 'q.s', 'idx'],
      [
        [`x${e}`, cap * d],
        [`x${e}.s`, cap * F32],
      ],
    ),
  );
  stage('up', (e) => B.step(`up${e}`, [`x${e}`, `x${e}.s`], [[`u${e}`, cap * ffn * F32]]));
  stage('gate', (e) => B.step(`gate${e}`, [`x${e}`, `x${e}.s`], [[`g${e}`, cap * ffn * F32]]));
  stage('silu', (e) => B.step(`silu${e}`, [`g${e}`], [[`gs${e}`, cap * ffn * F32]], { inPlace: [[`gs${e}`, `g${e}`]] }));
  stage('mul', (e) =>
    B.step(`mul${e}`, [`gs${e}`, `u${e}`], [[`m${e}`, cap * ffn * F32]], {
      inPlace: [
        [`m${e}`, `gs${e}`],
        [`m${e}`, `u${e}`],
      ],
    }),
  );
  stage('quant', (e) =>
    B.step(
      `quant${e}`,
      [`m${e}`],
      [
        [`mq${e}`, cap * ffn],
        [`mq${e}.s`, cap * F32],
      ],
      { inPlace: [[`mq${e}`, `m${e}`]] },
    ),
  );
  stage('down', (e) => B.step(`down${e}`, [`mq${e}`, `mq${e}.s`], [[`dn${e}`, cap * d * F32]]));
  stage('scatter', (e) =>
    B.step(`scatter${e}`, [e === 0 ? 'acc_s' : `acc${e - 1}`, `dn${e}`, 'idx', 'wts'], [[`acc${e}`, T * d * F32]], {
      inPlace: [[`acc${e}`, e === 0 ? 'acc_s' : `acc${e - 1}`]],
    }),
  );
  B.step('residual', ['x', `acc${experts - 1}`], [['y', 0]]);
  return { family: 'mixture-of-experts', name: B.name, level: 'problem', problem: B.problem() };
}

// ---- Inception-like parallel convolutions (int8) ---------------------------------------------------

export function inception(side: number, c: number, blocks: number): CorpusEntry {
  const B = new Builder(`inception-${side}-c${c}-b${blocks}`);
  let x = B.step('stem', ['image'], [['stem', side * side * c]]);
  const hw = side * side;
  for (let b = 0; b < blocks; b++) {
    // Branches listed layer by layer, as exporters do.
    const b1 = B.step(`b${b}_1x1`, [x], [[`b${b}_1`, hw * (c / 4)]]);
    const r3 = B.step(`b${b}_3x3_reduce`, [x], [[`b${b}_r3`, hw * (c / 2)]]);
    const r5 = B.step(`b${b}_5x5_reduce`, [x], [[`b${b}_r5`, hw * (c / 8)]]);
    const p = B.step(`b${b}_pool`, [x], [[`b${b}_p`, hw * c]]);
    const b3 = B.step(`b${b}_3x3`, [r3], [[`b${b}_3`, hw * (c / 2)]], { scratch: 3 * side * (c / 2) });
    const b5 = B.step(`b${b}_5x5`, [r5], [[`b${b}_5`, hw * (c / 8)]], { scratch: 5 * side * (c / 8) });
    const bp = B.step(`b${b}_pool_proj`, [p], [[`b${b}_pp`, hw * (c / 8)]]);
    x = B.step(`b${b}_concat`, [b1, b3, b5, bp], [[`b${b}_out`, hw * c]]);
  }
  B.step('head', [x], [['logits', 0]]);
  return { family: 'inception', name: B.name, level: 'problem', problem: B.problem() };
}

export function generatedCorpus(): CorpusEntry[] {
  return [
    residualMlp(1, 64, 256, 4),
    residualMlp(1, 256, 1024, 6),
    residualMlp(8, 128, 512, 4),
    residualMlp(16, 256, 768, 8),
    residualMlp(32, 192, 384, 6),
    unet(64, 8, 3),
    unet(96, 8, 4),
    unet(128, 16, 4),
    unet(160, 4, 5),
    mobilenetV2(96, 0.35),
    mobilenetV2(128, 0.5),
    mobilenetV2(144, 0.75),
    mobilenetV2(160, 1.0),
    mobilenetV2(224, 0.35),
    transformerBlock(16, 64, 256, 4, 1024),
    transformerBlock(32, 128, 256, 8, 1024),
    transformerBlock(64, 256, 512, 8, 2048),
    transformerBlock(128, 128, 384, 6, 1536),
    transformerBlock(8, 512, 512, 8, 1536),
    transformerBlock(1, 512, 512, 8, 2048),
    mixtureOfExperts(32, 256, 512, 8, 2),
    mixtureOfExperts(64, 512, 1024, 8, 2),
    mixtureOfExperts(16, 256, 1024, 4, 1),
    mixtureOfExperts(128, 256, 512, 16, 2),
    inception(28, 64, 3),
    inception(14, 128, 4),
  ];
}

// Trains the digits-mlp example with quantization-aware training and writes model.json +
// model.safetensors next to this file. Deterministic: the same seed gives the same files.
//
//   npx tsx examples/digits-mlp/train.ts
//
// Network (64 pixels -> 10 classes), every layer the way tritc will run it:
//   x --QuantizeInt8--> fc1 TernaryLinear 64->32 (scale per row) --Relu--> a1
//   a1 --QuantizeInt8--> fc2 BinaryLinear 32->32 (scale per tensor) --Add(a1)--> --Relu--> a2
//   a2 --QuantizeInt8--> fc3 TernaryLinear 32->10 (scale per group of 16) --> logits
//   logits --Softmax--> probs,  logits --ArgMax--> class
// Training keeps float "latent" weights; the forward pass quantizes weights (ternary: absmean
// threshold as in BitNet b1.58; binary: sign) and activations (int8 absmax), and the backward pass
// goes straight through the quantizers (STE).

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel } from '../../compiler/readers/native/read.ts';
import { writeModel } from '../../compiler/readers/native/write.ts';
import { rng } from '../../compiler/harness/inputs.ts';
import { interpret } from '../../compiler/interpret.ts';
import { loadDigits } from '../data.ts';
import { runMain } from '../../bench/cli.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const TRAIN_COUNT = 1500; // rows 0..1499 train, 1500..1796 test
const HIDDEN = 64;
const GROUP = 16;
const EPOCHS = 60;
const BATCH = 16;

const next = rng(2024);
function gaussian(): number {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

interface Param {
  w: Float64Array;
  m: Float64Array;
  v: Float64Array;
  g: Float64Array;
}
function param(n: number, std: number): Param {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = gaussian() * std;
  return { w, m: new Float64Array(n), v: new Float64Array(n), g: new Float64Array(n) };
}

type Quantizer = 'ternary-row' | 'binary-tensor' | 'ternary-group';

/** Quantized weights (scale * code) and the codes and scales to export. */
function quantize(w: Float64Array, rows: number, cols: number, kind: Quantizer): { wq: Float64Array; codes: Int8Array; scales: Float32Array } {
  const codes = new Int8Array(rows * cols);
  const wq = new Float64Array(rows * cols);
  const absmean = (from: number, to: number) => {
    let s = 0;
    for (let i = from; i < to; i++) s += Math.abs(w[i]!);
    return Math.max(s / (to - from), 1e-8);
  };
  if (kind === 'binary-tensor') {
    const s = Math.fround(absmean(0, w.length));
    for (let i = 0; i < w.length; i++) {
      codes[i] = w[i]! >= 0 ? 1 : -1;
      wq[i] = s * codes[i]!;
    }
    return { wq, codes, scales: Float32Array.of(s) };
  }
  const group = kind === 'ternary-row' ? cols : GROUP;
  const groups = Math.ceil(cols / group);
  const scales = new Float32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const from = r * cols + g * group;
      const to = r * cols + Math.min(cols, (g + 1) * group);
      const s = Math.fround(absmean(from, to));
      scales[r * groups + g] = s;
      for (let i = from; i < to; i++) {
        codes[i] = Math.max(-1, Math.min(1, Math.round(w[i]! / s)));
        wq[i] = s * codes[i]!;
      }
    }
  }
  return { wq, codes, scales };
}

/** int8 absmax fake-quantization of a vector (per tensor), as QuantizeInt8 does it. */
function fakeQuant(x: Float64Array): Float64Array {
  let amax = 0;
  for (const v of x) amax = Math.max(amax, Math.abs(v));
  amax = Math.max(amax, 1e-5);
  const s = amax / 127;
  return x.map((v) => Math.max(-127, Math.min(127, Math.round(v / s))) * s);
}

function dense(x: Float64Array, w: Float64Array, b: Float64Array, out: number): Float64Array {
  const k = x.length;
  const y = new Float64Array(out);
  for (let n = 0; n < out; n++) {
    let s = b[n]!;
    for (let i = 0; i < k; i++) s += w[n * k + i]! * x[i]!;
    y[n] = s;
  }
  return y;
}

/** Accumulate dL/dW, dL/db for y = W x + b, and return dL/dx. */
function denseBack(x: Float64Array, wq: Float64Array, dy: Float64Array, gw: Float64Array, gb: Float64Array): Float64Array {
  const k = x.length;
  const dx = new Float64Array(k);
  for (let n = 0; n < dy.length; n++) {
    gb[n]! += dy[n]!;
    for (let i = 0; i < k; i++) {
      gw[n * k + i]! += dy[n]! * x[i]!;
      dx[i]! += dy[n]! * wq[n * k + i]!;
    }
  }
  return dx;
}

function train() {
  const { images, labels } = loadDigits();
  const w1 = param(HIDDEN * 64, 1 / 8);
  const b1 = param(HIDDEN, 0);
  const w2 = param(HIDDEN * HIDDEN, 1 / Math.sqrt(HIDDEN));
  const b2 = param(HIDDEN, 0);
  const w3 = param(10 * HIDDEN, 1 / Math.sqrt(HIDDEN));
  const b3 = param(10, 0);
  const params = [w1, b1, w2, b2, w3, b3];
  const order = Array.from({ length: TRAIN_COUNT }, (_, i) => i);
  let step = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const lr = 0.003 * (epoch < EPOCHS / 2 ? 1 : epoch < (3 * EPOCHS) / 4 ? 0.3 : 0.1);
    for (let start = 0; start < order.length; start += BATCH) {
      for (const p of params) p.g.fill(0);
      const q1 = quantize(w1.w, HIDDEN, 64, 'ternary-row');
      const q2 = quantize(w2.w, HIDDEN, HIDDEN, 'binary-tensor');
      const q3 = quantize(w3.w, 10, HIDDEN, 'ternary-group');
      const batch = order.slice(start, start + BATCH);
      for (const idx of batch) {
        const x = new Float64Array(64).map((_, k) => images[idx * 64 + k]! / 16);
        const xq = fakeQuant(x);
        const h1 = dense(xq, q1.wq, b1.w, HIDDEN);
        const a1 = h1.map((v) => Math.max(v, 0));
        const a1q = fakeQuant(a1);
        const h2 = dense(a1q, q2.wq, b2.w, HIDDEN);
        const r = h2.map((v, n) => v + a1[n]!);
        const a2 = r.map((v) => Math.max(v, 0));
        const a2q = fakeQuant(a2);
        const logits = dense(a2q, q3.wq, b3.w, 10);
        const m = Math.max(...logits);
        const e = logits.map((v) => Math.exp(v - m));
        const z = e.reduce((a, v) => a + v, 0);
        const dlogits = e.map((v, c) => (v / z - (c === labels[idx] ? 1 : 0)) / batch.length);
        const da2 = denseBack(a2q, q3.wq, dlogits, w3.g, b3.g); // STE through fakeQuant
        const dr = da2.map((v, n) => (r[n]! > 0 ? v : 0));
        const da1q = denseBack(a1q, q2.wq, dr, w2.g, b2.g);
        const da1 = da1q.map((v, n) => v + dr[n]!);
        const dh1 = da1.map((v, n) => (h1[n]! > 0 ? v : 0));
        denseBack(xq, q1.wq, dh1, w1.g, b1.g);
      }
      step++;
      for (const p of params) {
        for (let i = 0; i < p.w.length; i++) {
          p.m[i] = 0.9 * p.m[i]! + 0.1 * p.g[i]!;
          p.v[i] = 0.999 * p.v[i]! + 0.001 * p.g[i]! * p.g[i]!;
          const mh = p.m[i]! / (1 - 0.9 ** step);
          const vh = p.v[i]! / (1 - 0.999 ** step);
          p.w[i]! -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
        }
      }
    }
  }
  return { w1, b1, w2, b2, w3, b3 };
}

function main() {
  const t = train();
  const q1 = quantize(t.w1.w, HIDDEN, 64, 'ternary-row');
  const q2 = quantize(t.w2.w, HIDDEN, HIDDEN, 'binary-tensor');
  const q3 = quantize(t.w3.w, 10, HIDDEN, 'ternary-group');
  const f32 = (a: Float64Array) => Float32Array.from(a);
  writeModel(HERE, {
    name: 'digits-mlp',
    inputs: ['x'],
    outputs: ['probs', 'class'],
    metadata: {
      trained_on: 'scikit-learn digits rows 0..1499 (../shared/data/sklearn_digits)',
      input: 'pixels / 16, row-major 8x8',
      generator: 'examples/digits-mlp/train.ts',
    },
    tensors: {
      x: { dtype: 'float32', shape: [1, 64] },
      'fc1.w': { dtype: 'ternary', shape: [HIDDEN, 64], encoding: 'packed2', quant: { scale: 'fc1.scale', granularity: 'per_row' }, data: q1.codes },
      'fc1.scale': { dtype: 'float32', shape: [HIDDEN], data: q1.scales },
      'fc1.b': { dtype: 'float32', shape: [HIDDEN], data: f32(t.b1.w) },
      'fc2.w': { dtype: 'binary', shape: [HIDDEN, HIDDEN], encoding: 'packed1', quant: { scale: 'fc2.scale', granularity: 'per_tensor' }, data: q2.codes },
      'fc2.scale': { dtype: 'float32', shape: [1], data: q2.scales },
      'fc2.b': { dtype: 'float32', shape: [HIDDEN], data: f32(t.b2.w) },
      'fc3.w': {
        dtype: 'ternary',
        shape: [10, HIDDEN],
        encoding: 'packed2',
        quant: { scale: 'fc3.scale', granularity: 'per_group', group_size: GROUP },
        data: q3.codes,
      },
      'fc3.scale': { dtype: 'float32', shape: [10, HIDDEN / GROUP], data: q3.scales },
      'fc3.b': { dtype: 'float32', shape: [10], data: f32(t.b3.w) },
    },
    nodes: [
      { name: 'quant_x', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq'], attrs: { granularity: 'per_tensor' } },
      { name: 'fc1', op: 'TernaryLinear', inputs: ['xq', 'fc1.w', 'fc1.b'], outputs: ['h1'] },
      { name: 'relu1', op: 'Relu', inputs: ['h1'], outputs: ['a1'] },
      { name: 'quant_a1', op: 'QuantizeInt8', inputs: ['a1'], outputs: ['a1q'] },
      { name: 'fc2', op: 'BinaryLinear', inputs: ['a1q', 'fc2.w', 'fc2.b'], outputs: ['h2'] },
      { name: 'residual', op: 'Add', inputs: ['h2', 'a1'], outputs: ['r2'] },
      { name: 'relu2', op: 'Relu', inputs: ['r2'], outputs: ['a2'] },
      { name: 'quant_a2', op: 'QuantizeInt8', inputs: ['a2'], outputs: ['a2q'] },
      { name: 'fc3', op: 'TernaryLinear', inputs: ['a2q', 'fc3.w', 'fc3.b'], outputs: ['logits'] },
      { name: 'softmax', op: 'Softmax', inputs: ['logits'], outputs: ['probs'] },
      { name: 'argmax', op: 'ArgMax', inputs: ['logits'], outputs: ['class'] },
    ],
  });
  console.log(`wrote ${join(HERE, 'model.json')} and model.safetensors`);
  console.log(`held-out accuracy (tritc interpreter, rows ${TRAIN_COUNT}..1796): ${(evaluate() * 100).toFixed(2)} %`);
}

/** Accuracy of the written model, run by tritc's interpreter, on the held-out rows. */
export function evaluate(): number {
  const g = readModel(HERE);
  const { images, labels, count } = loadDigits();
  let correct = 0;
  for (let i = TRAIN_COUNT; i < count; i++) {
    const x = new Float32Array(64).map((_, k) => images[i * 64 + k]! / 16);
    const out = interpret(g, new Map([['x', x]]));
    if (out.get('class')![0] === labels[i]) correct++;
  }
  return correct / (count - TRAIN_COUNT);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void runMain(main);

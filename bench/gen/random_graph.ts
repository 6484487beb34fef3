// Random models for differential tests: chains of quantize -> low-bit linear -> activations, with
// residual adds, several inputs, int8 inputs, multi-plane weights, every scale granularity, K that is
// not a multiple of 4, 8 or 32, and softmax/argmax heads.

import type { ModelSpec, NodeSpec, TensorSpec } from '../../compiler/readers/native/write.ts';
import type { Granularity } from '../../compiler/ir.ts';
import { rng } from '../../compiler/harness/inputs.ts';

export interface RandomGraphOptions {
  maxK?: number;
  maxLayers?: number;
}

export function randomModel(seed: number, opts: RandomGraphOptions = {}): ModelSpec {
  const r = rng(seed * 7919 + 17);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maxK = opts.maxK ?? 80;
  const tensors: Record<string, TensorSpec> = {};
  const nodes: NodeSpec[] = [];
  const inputs: string[] = [];
  const outputs: string[] = [];
  let id = 0;
  const fresh = (stem: string) => `${stem}${id++}`;

  const rows = pick([1, 1, 2, 3]);
  let k = int(1, maxK);
  // The first input: float, or int8 with a constant scale.
  let cur: { name: string; dtype: 'float32' | 'int8'; width: number };
  if (r() < 0.2) {
    const scale = fresh('in_scale');
    tensors[scale] = { dtype: 'float32', shape: [1], data: Float32Array.of(0.01 + r() * 0.1) };
    tensors.x = { dtype: 'int8', shape: [rows, k], quant: { scale, granularity: 'per_tensor' } };
    cur = { name: 'x', dtype: 'int8', width: k };
  } else {
    tensors.x = { dtype: 'float32', shape: [rows, k] };
    cur = { name: 'x', dtype: 'float32', width: k };
  }
  inputs.push('x');
  const floats: { name: string; width: number }[] = cur.dtype === 'float32' ? [{ name: 'x', width: k }] : [];

  const layers = int(1, opts.maxLayers ?? 4);
  for (let l = 0; l < layers; l++) {
    let q = cur.name;
    if (cur.dtype === 'float32') {
      q = fresh('q');
      nodes.push({
        name: fresh('quant'),
        op: 'QuantizeInt8',
        inputs: [cur.name],
        outputs: [q],
        attrs: { granularity: pick(['per_tensor', 'per_row'] as const) },
      });
      if (r() < 0.2) {
        const rq = fresh('rq');
        nodes.push({ name: fresh('relu8_'), op: 'Relu', inputs: [q], outputs: [rq] });
        q = rq;
      }
    }
    const n = int(1, maxK);
    const ternary = r() < 0.7;
    const planes = r() < 0.2 ? 2 : 1;
    const granularity: Granularity = pick(['per_tensor', 'per_row', 'per_group']);
    const groupSize = granularity === 'per_group' ? int(1, k) : undefined;
    const groups = groupSize ? Math.ceil(k / groupSize) : 1;
    const w = fresh('w');
    const s = `${w}.scale`;
    const codes = new Int8Array(planes * n * k);
    const zeroP = r() * 0.6;
    for (let i = 0; i < codes.length; i++) codes[i] = ternary ? (r() < zeroP ? 0 : r() < 0.5 ? -1 : 1) : r() < 0.5 ? -1 : 1;
    const scaleCount = planes * (granularity === 'per_tensor' ? 1 : granularity === 'per_row' ? n : n * groups);
    const scales = new Float32Array(scaleCount).map(() => (r() < 0.1 ? -1 : 1) * (0.001 + r() * 0.2));
    tensors[w] = {
      dtype: ternary ? 'ternary' : 'binary',
      shape: planes === 1 ? [n, k] : [planes, n, k],
      encoding: r() < 0.5 ? (ternary ? 'packed2' : 'packed1') : 'int8',
      quant: { scale: s, granularity, ...(groupSize ? { group_size: groupSize } : {}) },
      data: codes,
    };
    tensors[s] = { dtype: 'float32', shape: [scaleCount], data: scales };
    const ins = [q, w];
    if (r() < 0.6) {
      const b = fresh('b');
      tensors[b] = { dtype: 'float32', shape: [n], data: new Float32Array(n).map(() => r() * 2 - 1) };
      ins.push(b);
    }
    let y = fresh('y');
    nodes.push({ name: fresh('fc'), op: ternary ? 'TernaryLinear' : 'BinaryLinear', inputs: ins, outputs: [y] });
    k = n;
    // A residual from an earlier float tensor of the same width, or a broadcast add of a constant.
    const same = floats.filter((f) => f.width === n);
    if (same.length && r() < 0.5) {
      const a = fresh('res');
      nodes.push({ name: fresh('add'), op: 'Add', inputs: r() < 0.5 ? [y, pick(same).name] : [pick(same).name, y], outputs: [a] });
      y = a;
    } else if (r() < 0.15) {
      const c = fresh('c');
      tensors[c] = { dtype: 'float32', shape: r() < 0.5 ? [n] : [1, n], data: new Float32Array(n).map(() => r() - 0.5) };
      const a = fresh('badd');
      nodes.push({ name: fresh('add'), op: 'Add', inputs: [c, y], outputs: [a] });
      y = a;
    }
    if (r() < 0.6) {
      const a = fresh('relu');
      nodes.push({ name: fresh('relu'), op: 'Relu', inputs: [y], outputs: [a] });
      y = a;
    }
    floats.push({ name: y, width: n });
    cur = { name: y, dtype: 'float32', width: n };
    if (r() < 0.15) outputs.push(y);
  }
  // A second input, added to the result.
  if (r() < 0.2) {
    tensors.x2 = { dtype: 'float32', shape: r() < 0.5 ? [rows, cur.width] : [cur.width] };
    inputs.push('x2');
    const a = fresh('in_add');
    nodes.push({ name: fresh('add'), op: 'Add', inputs: [cur.name, 'x2'], outputs: [a] });
    cur = { name: a, dtype: 'float32', width: cur.width };
  }
  // A dequantised int8 side output now and then.
  if (r() < 0.2) {
    const q = fresh('dq_in');
    nodes.push({
      name: fresh('quant'),
      op: 'QuantizeInt8',
      inputs: [cur.name],
      outputs: [q],
      attrs: { granularity: pick(['per_tensor', 'per_row'] as const) },
    });
    const d = fresh('dq');
    nodes.push({ name: fresh('dequant'), op: 'DequantizeInt8', inputs: [q], outputs: [d] });
    outputs.push(d);
  }
  const head = r();
  if (head < 0.4) {
    const p = fresh('probs');
    nodes.push({ name: fresh('softmax'), op: 'Softmax', inputs: [cur.name], outputs: [p], attrs: { axis: pick([-1, 0]) } });
    outputs.push(p);
  }
  if (head > 0.3) {
    const c = fresh('cls');
    nodes.push({ name: fresh('argmax'), op: 'ArgMax', inputs: [cur.name], outputs: [c], attrs: { axis: pick([-1, 0]), keepdims: r() < 0.3 } });
    outputs.push(c);
  }
  if (!outputs.includes(cur.name) && (outputs.length === 0 || r() < 0.5)) outputs.push(cur.name);
  return { name: `random-${seed}`, inputs, outputs: [...new Set(outputs)], tensors, nodes };
}

// The op library against ONNX's own expected outputs: every single-node test of the ONNX backend
// suite (../shared/data/onnx_backend_tests/node) whose op tritc implements is turned into a tritc
// model by a small test-only converter (independent of the real importer, compiler/readers/onnx/),
// interpreted on the test's inputs, and compared with rtol 1e-3 / atol 1e-7 (ONNX's tolerance).
// Tests that cannot run say why, by category (a dtype tritc does not have, zero-size tensors, ...);
// the test fails if a test lands in no category. The converted models then also go through the C
// on the host, bit-exact against the interpreter.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelSpec, TensorSpec } from '../compiler/readers/native/write.ts';
import type { AttrValue, TypedData } from '../compiler/ir.ts';
import { OPS } from '../compiler/ops/index.ts';
import { getTarget } from '../compiler/targets.ts';
import { differential, workDir } from './support/differential.ts';
import { decodeModel, decodeTensor, type OnnxAttr, type OnnxTensor } from './support/onnx_pb.ts';
import { runModel } from './support/run_model.ts';

const NODE_DIR = join(import.meta.dirname, '../../shared/data/onnx_backend_tests/node');

/** ONNX inputs that tritc takes as attributes (docs/onnx-ops.md). */
const INPUT_ATTRS: Record<string, Record<number, string>> = {
  Reshape: { 1: 'shape' },
  Slice: { 1: 'starts', 2: 'ends', 3: 'axes', 4: 'steps' },
  Split: { 1: 'split' },
  Squeeze: { 1: 'axes' },
  Unsqueeze: { 1: 'axes' },
  ReduceMean: { 1: 'axes' },
  ReduceProd: { 1: 'axes' },
  Expand: { 1: 'shape' },
  Tile: { 1: 'repeats' },
  Pad: { 1: 'pads', 3: 'axes' },
  CumSum: { 1: 'axis' },
  TopK: { 1: 'k' },
};
/** Of those, the ones that are one value (a scalar attribute). */
const SCALAR_ATTRS = new Set(['CumSum.axis', 'TopK.k']);

class Unsupported extends Error {}

const toInts = (t: OnnxTensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);

function attrValue(v: OnnxAttr): AttrValue {
  if (typeof v === 'object' && !Array.isArray(v)) throw new Unsupported('tensor attribute');
  return v;
}

/** Convert one single-node ONNX test into a tritc model and its inputs and expected outputs. */
function convert(dir: string): { spec: ModelSpec; inputs: Record<string, TypedData>; expected: Map<string, TypedData> } {
  const model = decodeModel(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
  const node = model.nodes[0]!;
  const def = OPS.get(node.opType);
  if (!def) throw new Unsupported(`op ${node.opType}`);
  const data = join(dir, 'test_data_set_0');
  const inits = new Map(model.initializers.map((t) => [t.name, t]));
  const graphInputs = model.inputs.filter((n) => !inits.has(n));
  const pb = new Map<string, OnnxTensor>();
  graphInputs.forEach((n, i) => pb.set(n, decodeTensor(new Uint8Array(readFileSync(join(data, `input_${i}.pb`))))));
  const valueOf = (n: string) => inits.get(n) ?? pb.get(n)!;
  const check = (t: OnnxTensor) => {
    if (!t.dtype) throw new Unsupported(`dtype ${t.dataType}`);
    if (t.dims.some((d) => d === 0)) throw new Unsupported('zero-size tensor');
  };

  const attrs: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(node.attrs)) if (k in def.attrs || (node.opType === 'Reshape' && k === 'allowzero')) attrs[k] = attrValue(v);
  const dropped = Object.keys(node.attrs).filter(
    (k) =>
      !(k in def.attrs) &&
      !(node.opType === 'Split' && k === 'num_outputs') &&
      !(node.opType === 'Cast' && k === 'round_mode') &&
      !(node.opType === 'Reshape' && k === 'allowzero'),
  );
  if (dropped.length) throw new Unsupported(`attribute ${dropped.join(', ')}`);
  if (node.opType === 'ArgMax' || node.opType === 'ArgMin') {
    // ONNX's defaults (axis 0, keepdims 1) and its int64 result; the IR op's bools.
    attrs.axis = attrs.axis ?? 0;
    attrs.keepdims = attrs.keepdims === undefined || attrs.keepdims === 1;
    attrs.select_last_index = attrs.select_last_index === 1;
    attrs.output_dtype = 'int64';
  }

  const tensors: Record<string, TensorSpec> = {};
  const inputs: Record<string, TypedData> = {};
  const specInputs: string[] = [];
  const nodeInputs: string[] = [];
  node.inputs.forEach((n, i) => {
    const asAttr = INPUT_ATTRS[node.opType]?.[i];
    if (asAttr) {
      if (n !== '') attrs[asAttr] = SCALAR_ATTRS.has(`${node.opType}.${asAttr}`) ? toInts(valueOf(n))[0]! : toInts(valueOf(n));
      return;
    }
    nodeInputs.push(n);
    if (n === '') return;
    const t = valueOf(n);
    check(t);
    if (inits.has(n)) tensors[n] = { dtype: t.dtype!, shape: t.dims, data: t.data };
    else {
      tensors[n] = { dtype: t.dtype!, shape: t.dims };
      inputs[n] = t.data!;
      specInputs.push(n);
    }
  });
  while (nodeInputs.length && nodeInputs[nodeInputs.length - 1] === '') nodeInputs.pop();
  if (node.opType === 'Reshape') {
    // 0 copies the input's dimension (allowzero = 0), -1 takes what is left
    const x = tensors[nodeInputs[0]!]!.shape;
    const shape = (attrs.shape as number[]).map((d, i) => (d === 0 && attrs.allowzero !== 1 ? x[i]! : d));
    const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    attrs.shape = shape.map((d) => (d === -1 ? x.reduce((a, b) => a * b, 1) / known : d));
    delete attrs.allowzero;
  }
  if (node.opType === 'Pad' && attrs.axes) {
    // Pad-18's axes: the pads of the other axes are 0.
    const r = tensors[nodeInputs[0]!]!.shape.length;
    const axes = (attrs.axes as number[]).map((a) => (a < 0 ? a + r : a));
    const given = attrs.pads as number[];
    const pads = Array<number>(2 * r).fill(0);
    axes.forEach((a, k) => ((pads[a] = given[k]!), (pads[a + r] = given[k + axes.length]!)));
    attrs.pads = pads;
    delete attrs.axes;
  }
  const nodeOutputs = [...node.outputs];
  if (node.opType === 'LSTM' || node.opType === 'GRU') {
    // The IR op takes the activations' alpha and beta as a constant input (the importer makes it),
    // and names every output up to the last one used.
    const lstm = node.opType === 'LSTM';
    const dirs = attrs.direction === 'bidirectional' ? 2 : 1;
    while (nodeInputs.length < (lstm ? 8 : 6)) nodeInputs.push('');
    tensors.activation_params = { dtype: 'float32', shape: [(lstm ? 3 : 2) * dirs, 2], data: new Float32Array((lstm ? 3 : 2) * dirs * 2) };
    nodeInputs.push('activation_params');
    nodeOutputs.forEach((o, j) => (nodeOutputs[j] = o || `unused${j}`));
  }
  const outputs = node.outputs.filter((o) => o !== '');
  const expected = new Map<string, TypedData>();
  model.outputs.forEach((o, j) => {
    const t = decodeTensor(new Uint8Array(readFileSync(join(data, `output_${j}.pb`))));
    check(t);
    expected.set(o, t.data!);
  });
  const spec: ModelSpec = {
    name: dir.split('/').pop()!,
    inputs: specInputs,
    outputs,
    tensors,
    nodes: [{ name: 'node', op: node.opType, inputs: nodeInputs, outputs: nodeOutputs, attrs }],
  };
  return { spec, inputs, expected };
}

function close(got: TypedData, want: TypedData): string | undefined {
  if (got.length !== want.length) return `${got.length} values, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (typeof w === 'bigint' || !(want instanceof Float32Array)) {
      if (g !== w) return `element ${i}: ${g}, expected ${w}`;
      continue;
    }
    const gn = g as number;
    if (Number.isNaN(w) && Number.isNaN(gn)) continue;
    if (gn === w) continue;
    if (!(Math.abs(gn - w) <= 1e-7 + 1e-3 * Math.abs(w))) return `element ${i}: ${gn}, expected ${w}`;
  }
  return undefined;
}

/** Why a test cannot run, by category; anything else is a failure. */
const CATEGORIES: [RegExp, string][] = [
  [
    /^dtype (4|5|10|11|12|13|16|17|18|19|20|21|22|23|24|25|26)$/,
    'a dtype tritc does not have (uint16, int16, float16, double, uint32, uint64, bfloat16, float8, int4, int2, ...)',
  ],
  [/^zero-size tensor$/, 'zero-size tensors'],
  [/training_mode|training mode|BatchNormalization has 1 outputs/, 'BatchNormalization in training mode'],
  [/MaxPool has 1 outputs/, "MaxPool's Indices output"],
  [/block_size|blocked/, 'blocked quantisation'],
  [/op Identity/, 'Identity (the importer drops it)'],
  [/no zero-size tensors/, 'zero-size tensors'],
];

const tests = existsSync(NODE_DIR)
  ? readdirSync(NODE_DIR)
      .filter((d) => !d.includes('_expanded'))
      .sort()
  : [];
const single = tests.filter((d) => {
  const m = decodeModel(new Uint8Array(readFileSync(join(NODE_DIR, d, 'model.onnx'))));
  return m.nodes.length === 1 && (OPS.has(m.nodes[0]!.opType) || m.nodes[0]!.opType === 'Identity');
});

describe('the op library against the ONNX backend node tests', () => {
  const converted: ModelSpec[] = [];
  it(`meets rtol 1e-3 / atol 1e-7 on every single-node test of an implemented op (${single.length} tests)`, () => {
    expect(single.length).toBeGreaterThan(100);
    const failures: string[] = [];
    const notRun = new Map<string, string[]>();
    for (const d of single) {
      try {
        const { spec, inputs, expected } = convert(join(NODE_DIR, d));
        const out = runModel(spec, inputs);
        for (const [name, want] of expected) {
          const bad = close(out.get(name)!, want);
          if (bad) failures.push(`${d}: output "${name}" ${bad}`);
        }
        converted.push(spec);
      } catch (e) {
        const msg = (e as Error).message;
        const cat = CATEGORIES.find(([re]) => re.test(msg));
        if (cat) notRun.set(cat[1], [...(notRun.get(cat[1]) ?? []), d]);
        else failures.push(`${d}: ${msg}`);
      }
    }
    if (process.env.TRITC_SHOW_NOT_RUN) console.log(converted.length, 'run;', [...notRun].map(([k, v]) => `${k}: ${v.join(' ')}`).join('\n'));
    expect(failures).toEqual([]);
    expect(converted.length).toBeGreaterThan(100);
  });

  it('the converted models run bit-exact in C on the host', async () => {
    expect(converted.length).toBeGreaterThan(100);
    const res = await differential(converted, getTarget('host'), workDir('onnx-backend'), 1);
    expect(res.failures).toEqual([]);
  });
});

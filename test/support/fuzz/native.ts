// Native-format cases: examples/digits-mlp and random graphs (random_graph.ts) written as model.json +
// model.safetensors, the JSON edited at the structure level (nodes repeated or wired into cycles, names
// duplicated, dtypes, shapes with huge or negative dimensions, encodings, attributes; json.ts), the
// safetensors header edited the same way (dtypes, shapes, data_offsets) and its length field and
// bytes mutated. Read with loadModel on the folder, as `tritc compile <dir>` does.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadModel } from '../../../compiler/readers/index.ts';
import { serializeModel } from '../../../compiler/readers/native/write.ts';
import { randomModel } from '../../../bench/gen/random_graph.ts';
import { applyByteMutations, byteMutation, describeByteMutation } from './bytes.ts';
import { fieldMutation, mutateFields } from './fields.ts';
import { some, type FuzzCase, type FuzzReader } from './harness.ts';
import { describeJsonMutation, jsonMutation, mutateJson, type Json, type JsonMutation } from './json.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', '..', 'examples', 'digits-mlp');

/** A safetensors file's header as JSON and its data section. */
function splitSafetensors(b: Uint8Array): { header: Json; data: Uint8Array } {
  const n = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Json, data: b.subarray(8 + n) };
}

function joinSafetensors(header: Json, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Edits that need the model's meaning: a cycle, a name used twice, a dtype or shape changed. */
type GraphEdit =
  | { op: 'cycle' | 'same-node-name' | 'same-output' | 'input-as-output'; a: number; b: number }
  | { op: 'dtype'; a: number; dtype: string }
  | { op: 'shape'; a: number; shape: number[] };

const graphEdit: fc.Arbitrary<GraphEdit> = fc.oneof(
  fc.record({ op: fc.constantFrom('cycle' as const, 'same-node-name' as const, 'same-output' as const, 'input-as-output' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({
    op: fc.constant('dtype' as const),
    a: fc.nat(),
    dtype: fc.constantFrom('float32', 'int8', 'uint8', 'int32', 'int64', 'bool', 'ternary', 'binary', 'float16', 'float64'),
  }),
  fc.record({
    op: fc.constant('shape' as const),
    a: fc.nat(),
    shape: fc.constantFrom<number[]>([], [0], [1], [2 ** 31], [2 ** 16, 2 ** 16], [2 ** 20, 2 ** 20, 2 ** 20], [1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 5], [-1, 4]),
  }),
);

type Doc = { nodes?: { name?: Json; inputs?: Json[]; outputs?: Json[] }[]; tensors?: Record<string, { dtype?: Json; shape?: Json }>; inputs?: Json[] };

function applyGraphEdit(json: Json, e: GraphEdit): Json {
  const d = structuredClone(json) as Doc;
  const nodes = Array.isArray(d.nodes) ? d.nodes.filter((n) => n && typeof n === 'object') : [];
  const tensors = d.tensors && typeof d.tensors === 'object' ? Object.values(d.tensors).filter((t) => t && typeof t === 'object') : [];
  if (e.op === 'dtype' || e.op === 'shape') {
    const t = tensors[e.a % Math.max(1, tensors.length)];
    if (t && e.op === 'dtype') t.dtype = e.dtype;
    if (t && e.op === 'shape') t.shape = e.shape;
    return d as Json;
  }
  if (nodes.length === 0) return d as Json;
  const [i, k] = [e.a % nodes.length, e.b % nodes.length].sort((x, y) => x - y) as [number, number];
  const n = nodes[i]!;
  const m = nodes[k]!;
  if (e.op === 'cycle' && Array.isArray(n.inputs) && n.inputs.length && Array.isArray(m.outputs) && m.outputs.length) n.inputs[0] = m.outputs[0]!;
  if (e.op === 'same-node-name') n.name = m.name ?? null;
  if (e.op === 'same-output' && Array.isArray(n.outputs) && n.outputs.length && Array.isArray(m.outputs) && m.outputs.length) n.outputs[0] = m.outputs[0]!;
  if (e.op === 'input-as-output' && Array.isArray(n.outputs) && n.outputs.length && Array.isArray(d.inputs) && d.inputs.length) n.outputs[0] = d.inputs[0]!;
  return d as Json;
}

let example: { json: Json; weights: Uint8Array } | undefined;

function seedModel(seed: number | 'digits-mlp'): { json: Json; weights: Uint8Array | undefined } {
  if (seed === 'digits-mlp') {
    example ??= {
      json: JSON.parse(readFileSync(join(EXAMPLE, 'model.json'), 'utf8')) as Json,
      weights: new Uint8Array(readFileSync(join(EXAMPLE, 'model.safetensors'))),
    };
    return example;
  }
  const s = serializeModel(randomModel(seed, { maxK: 24, maxLayers: 3 }));
  return { json: JSON.parse(s.json) as Json, weights: s.weights };
}

export const nativeReader: FuzzReader = {
  name: 'native',
  about: "tritc's model.json + model.safetensors: examples/digits-mlp and random graphs, JSON and safetensors mutated",
  cases: () =>
    fc
      .record({
        seed: fc.oneof({ weight: 1, arbitrary: fc.constant('digits-mlp' as const) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 5000 }) }),
        graph: some(graphEdit, 2),
        json: some(jsonMutation, 3, 2),
        header: some(jsonMutation, 2),
        fields: some(fieldMutation, 1, 6),
        bytes: some(byteMutation, 2, 5),
        textBytes: some(byteMutation, 1, 12),
        dropWeights: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
      })
      .map(({ seed, graph, json, header, fields, bytes, textBytes, dropWeights }): FuzzCase => {
        const m = seedModel(seed);
        const files: [string, Uint8Array][] = [];
        const doc = mutateJson(graph.reduce(applyGraphEdit, m.json), json);
        const text = new TextEncoder().encode(JSON.stringify(doc, null, 1));
        files.push(['model.json', applyByteMutations(text, textBytes)]);
        const what = [
          `native ${seed === 'digits-mlp' ? 'examples/digits-mlp' : `random graph ${seed}`}`,
          ...graph.map((g) => `${g.op} ${JSON.stringify({ ...g, op: undefined })}`),
          ...json.map(describeJsonMutation),
          ...textBytes.map((b) => `model.json: ${describeByteMutation(b)}`),
        ];
        if (m.weights && !dropWeights) {
          const st = splitSafetensors(m.weights);
          const f = mutateFields(joinSafetensors(mutateJson(st.header, header), st.data), [{ at: 0, width: 8, label: 'the header length' }], fields);
          files.push(['model.safetensors', applyByteMutations(f.bytes, bytes)]);
          what.push(...header.map((h: JsonMutation) => `safetensors header: ${describeJsonMutation(h)}`), ...f.what, ...bytes.map(describeByteMutation));
        } else if (m.weights) what.push('model.safetensors left out');
        return { what: what.join('; '), files, read: (dir) => void loadModel(dir) };
      }),
};

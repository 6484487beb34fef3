// Reader for the native format v1 (docs/format.md): model.json + model.safetensors -> Graph.
//
// Order of work, so that each stage can trust the one before:
//   1. parse JSON and check its structure, collecting every problem with its JSON path;
//   2. load constants from safetensors and check dtype, shape, encoding and codes;
//   3. check node inputs/outputs refer to tensors that exist, and attributes;
//   4. order the nodes (schedule.ts; reports cycles);
//   5. infer shapes node by node (each op's `infer`), checking declared shapes.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DiagnosticBag, fail } from '../../diagnostics.ts';
import {
  DTYPES,
  elementCount,
  shapeStr,
  type AttrValue,
  type DType,
  type Graph,
  type Granularity,
  type Node,
  type QuantParams,
  type Tensor,
  type TypedData,
} from '../../ir.ts';
import { DTYPE_INFO } from '../../dtypes.ts';
import { readSafetensors, stToTyped, type StFile, type StTensor } from '../../io/safetensors.ts';
import { OPS } from '../../ops/index.ts';
import type { AttrSpec } from '../../ops/op.ts';
import { inferShapes } from '../../passes/infer.ts';
import { scheduleNodes } from '../../passes/schedule.ts';
import { FORMAT_NAME, FORMAT_VERSION, MAX_ELEMENTS, MAX_RANK } from '../../limits.ts';
import { jsonSyntaxProblem } from '../../util/json.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: Json | undefined): string => (v === undefined ? 'nothing' : JSON.stringify(v).slice(0, 60));
const key = (k: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);

const ENCODINGS = ['int8', 'packed2', 'packed1'] as const;
export type Encoding = (typeof ENCODINGS)[number];

interface TensorDecl {
  name: string;
  path: string; // JSON path, for messages
  dtype: DType;
  shape: number[];
  quant?: QuantParams;
  encoding?: Encoding;
  key: string;
  range?: [number, number];
}

/** Resolve a model argument (a directory holding model.json, or the JSON file itself). */
function resolveModelPath(arg: string): string {
  const p = resolve(arg);
  if (!existsSync(p)) fail('io', arg, 'no such file or directory');
  if (statSync(p).isDirectory()) {
    const json = join(p, 'model.json');
    if (!existsSync(json)) fail('io', arg, 'is a directory without a model.json');
    return json;
  }
  return p;
}

/** Read and check a model. `label` is how messages name the JSON file (default: the path given). */
export function readModel(arg: string): Graph {
  const jsonPath = resolveModelPath(arg);
  const label = arg.endsWith('.json') ? arg : join(arg, 'model.json');
  let text: string;
  try {
    text = readFileSync(jsonPath, 'utf8');
  } catch (e) {
    fail('io', label, `cannot read: ${(e as Error).message}`);
  }
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    fail('json', label, `not valid JSON: ${jsonSyntaxProblem(text)}`);
  }
  return buildGraph(doc, label, dirname(jsonPath), text);
}

function buildGraph(doc: Json, label: string, baseDir: string, text: string): Graph {
  const bag = new DiagnosticBag();
  const err = (path: string, msg: string, code: Parameters<DiagnosticBag['error']>[0] = 'schema') =>
    bag.error(code, `${label}: ${path}`.replace(/: $/, ''), msg);

  if (!isObject(doc)) fail('schema', label, `expected a JSON object at the top level, found ${describe(doc)}`);
  checkFields(doc, '', ['format', 'version', 'name', 'weights', 'inputs', 'outputs', 'tensors', 'nodes', 'metadata'], err);
  if (doc.format !== FORMAT_NAME) err('format', `expected "${FORMAT_NAME}", found ${describe(doc.format)}`);
  if (doc.version !== FORMAT_VERSION) err('version', `expected ${FORMAT_VERSION}, found ${describe(doc.version)}`);
  const name = typeof doc.name === 'string' && doc.name !== '' ? doc.name : basename(baseDir);
  if (doc.name !== undefined && typeof doc.name !== 'string') err('name', `expected a string, found ${describe(doc.name)}`);

  const inputs = stringList(doc.inputs, 'inputs', err, true);
  const outputs = stringList(doc.outputs, 'outputs', err, true);
  if (outputs.length === 0 && Array.isArray(doc.outputs)) err('outputs', 'a model needs at least one output');

  // --- tensors ---
  const decls = new Map<string, TensorDecl>();
  if (!isObject(doc.tensors)) err('tensors', `expected an object mapping tensor names to declarations, found ${describe(doc.tensors)}`);
  else
    for (const [tname, tv] of Object.entries(doc.tensors)) {
      const d = parseTensorDecl(tname, tv, `tensors${key(tname)}`, err);
      if (d) decls.set(tname, d);
    }

  // --- nodes ---
  const nodes: Node[] = [];
  const nodePaths = new Map<Node, string>();
  if (!Array.isArray(doc.nodes)) err('nodes', `expected an array of nodes, found ${describe(doc.nodes)}`);
  else
    doc.nodes.forEach((nv, i) => {
      const n = parseNode(nv, `nodes[${i}]`, err);
      if (n) {
        nodes.push(n);
        nodePaths.set(n, `nodes[${i}]`);
      }
    });
  bag.throwIfAny();

  // Names: unique nodes, one producer per tensor, produced tensors are not inputs or constants.
  const producer = new Map<string, Node>();
  const seenNodes = new Set<string>();
  for (const n of nodes) {
    const p = nodePaths.get(n)!;
    if (seenNodes.has(n.name)) err(`${p}.name`, `node name "${n.name}" is used twice`, 'duplicate');
    seenNodes.add(n.name);
    n.outputs.forEach((o, j) => {
      if (producer.has(o)) err(`${p}.outputs[${j}]`, `tensor "${o}" is already produced by node "${producer.get(o)!.name}"`, 'duplicate');
      else if (inputs.includes(o)) err(`${p}.outputs[${j}]`, `tensor "${o}" is a graph input and cannot be produced by a node`, 'duplicate');
      producer.set(o, n);
    });
  }
  inputs.forEach((inp, i) => {
    if (!decls.has(inp)) err(`inputs[${i}]`, `graph input "${inp}" is not declared in tensors`, 'undefined-tensor');
  });
  for (const [tname, d] of decls) {
    if (d.quant && !decls.has(d.quant.scale) && !producer.has(d.quant.scale))
      err(`${d.path}.quant.scale`, `scale tensor "${d.quant.scale}" is not defined`, 'undefined-tensor');
    if (producer.has(tname) && d.encoding)
      err(`${d.path}.encoding`, `"${tname}" is produced by node "${producer.get(tname)!.name}", so it has no stored encoding`);
  }
  const isDefined = (t: string) => decls.has(t) || producer.has(t);
  for (const n of nodes) {
    const p = nodePaths.get(n)!;
    n.inputs.forEach((t, j) => {
      if (t !== '' && !isDefined(t)) err(`${p}.inputs[${j}]`, `tensor "${t}" is not defined`, 'undefined-tensor');
    });
    checkNodeSignature(n, p, err);
  }
  outputs.forEach((o, i) => {
    if (!isDefined(o)) err(`outputs[${i}]`, `tensor "${o}" is not defined`, 'undefined-tensor');
  });
  bag.throwIfAny();

  // --- constants from safetensors ---
  const constantNames = [...decls.keys()].filter((t) => !inputs.includes(t) && !producer.has(t));
  const weightsLabel = typeof doc.weights === 'string' ? doc.weights : 'model.safetensors';
  let st: StFile | undefined;
  let weightBytes: Uint8Array | undefined;
  if (constantNames.length > 0) {
    if (typeof doc.weights !== 'string') {
      fail(
        'schema',
        `${label}: weights`,
        `the model has constant tensors (${constantNames
          .slice(0, 3)
          .map((c) => `"${c}"`)
          .join(', ')}${constantNames.length > 3 ? ', ...' : ''}) but names no weights file`,
      );
    }
    const wpath = resolve(baseDir, doc.weights);
    if (!existsSync(wpath)) fail('weights', `${label}: weights`, `file "${doc.weights}" not found (looked at ${wpath})`);
    try {
      weightBytes = new Uint8Array(readFileSync(wpath));
    } catch (e) {
      fail('io', weightsLabel, `cannot read: ${(e as Error).message}`);
    }
    st = readSafetensors(weightBytes, weightsLabel);
  }

  const tensors = new Map<string, Tensor>();
  for (const inp of inputs) {
    const d = decls.get(inp)!;
    tensors.set(inp, { name: inp, dtype: d.dtype, shape: d.shape, kind: 'input', quant: d.quant, range: d.range ?? defaultRange(d.dtype) });
  }
  for (const cname of constantNames) {
    const d = decls.get(cname)!;
    const data = loadConstant(d, st!, weightsLabel, label, bag);
    if (data) tensors.set(cname, { name: cname, dtype: d.dtype, shape: d.shape, kind: 'constant', data, quant: d.quant, range: d.range });
  }
  bag.throwIfAny();
  for (const [tname, d] of decls) {
    if (d.quant && tensors.has(tname) && tensors.get(tname)!.kind === 'input') {
      const s = decls.get(d.quant.scale);
      if (s && !constantNames.includes(s.name)) err(`${d.path}.quant.scale`, `the scale "${s.name}" of graph input "${tname}" must be a constant`);
    }
  }
  bag.throwIfAny();

  const hash = createHash('sha256').update(text);
  if (weightBytes) hash.update(weightBytes);
  const graph: Graph = { name, source: label, inputs, outputs, tensors, nodes, sourceHash: hash.digest('hex').slice(0, 16) };

  graph.nodes = scheduleNodes(graph, (n) => `${label}: ${nodePaths.get(n)}`);
  inferShapes(graph, (n) => `${label}: ${nodePaths.get(n)} "${n.name}" (${n.op})`);

  // Declared activations must agree with inference.
  for (const [tname, d] of decls) {
    if (!producer.has(tname)) continue;
    const t = graph.tensors.get(tname);
    if (!t) continue;
    if (t.dtype !== d.dtype) err(`${d.path}.dtype`, `declared ${d.dtype}, but node "${producer.get(tname)!.name}" produces ${t.dtype}`, 'dtype');
    else if (shapeStr(t.shape) !== shapeStr(d.shape))
      err(`${d.path}.shape`, `declared ${shapeStr(d.shape)}, but node "${producer.get(tname)!.name}" produces ${shapeStr(t.shape)}`, 'shape');
  }
  bag.throwIfAny();
  return graph;
}

function defaultRange(dtype: DType): [number, number] | undefined {
  return DTYPE_INFO[dtype].range;
}

type ErrFn = (path: string, msg: string, code?: Parameters<DiagnosticBag['error']>[0]) => void;

function checkFields(obj: JsonObject, path: string, allowed: string[], err: ErrFn): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) err(path, `unknown field "${k}"; expected one of ${allowed.join(', ')}`);
  }
}

function stringList(v: Json | undefined, path: string, err: ErrFn, required: boolean): string[] {
  if (v === undefined && !required) return [];
  if (!Array.isArray(v)) {
    err(path, `expected an array of tensor names, found ${describe(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((s, i) => {
    if (typeof s !== 'string') err(`${path}[${i}]`, `expected a tensor name (string), found ${describe(s)}`);
    else out.push(s);
  });
  return out;
}

function parseShape(v: Json | undefined, path: string, err: ErrFn): number[] | undefined {
  if (!Array.isArray(v) || v.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)) {
    err(path, `expected an array of positive integers, found ${describe(v)}`, 'shape');
    return undefined;
  }
  const shape = v as number[];
  if (shape.length > MAX_RANK) {
    err(path, `rank ${shape.length} is above the limit of ${MAX_RANK}`, 'limit');
    return undefined;
  }
  if (elementCount(shape) > MAX_ELEMENTS) {
    err(path, `${elementCount(shape)} elements is above the limit of ${MAX_ELEMENTS} (2^31 - 1)`, 'limit');
    return undefined;
  }
  return shape;
}

function parseTensorDecl(name: string, v: Json, path: string, err: ErrFn): TensorDecl | undefined {
  if (name === '') {
    err(path, 'tensor names must not be empty');
    return undefined;
  }
  if (!isObject(v)) {
    err(path, `expected an object with dtype and shape, found ${describe(v)}`);
    return undefined;
  }
  checkFields(v, path, ['dtype', 'shape', 'quant', 'encoding', 'key', 'range', 'doc'], err);
  let ok = true;
  if (typeof v.dtype !== 'string' || !DTYPES.includes(v.dtype as DType)) {
    err(`${path}.dtype`, `expected one of ${DTYPES.join(', ')}, found ${describe(v.dtype)}`, 'dtype');
    ok = false;
  }
  const shape = parseShape(v.shape, `${path}.shape`, err);
  if (!shape) ok = false;
  let quant: QuantParams | undefined;
  if (v.quant !== undefined) {
    quant = parseQuant(v.quant, `${path}.quant`, err);
    if (!quant) ok = false;
  }
  let encoding: Encoding | undefined;
  if (v.encoding !== undefined) {
    if (typeof v.encoding !== 'string' || !ENCODINGS.includes(v.encoding as Encoding)) {
      err(`${path}.encoding`, `expected one of ${ENCODINGS.join(', ')}, found ${describe(v.encoding)}`);
      ok = false;
    } else encoding = v.encoding as Encoding;
  }
  if (v.key !== undefined && typeof v.key !== 'string') {
    err(`${path}.key`, `expected the safetensors key (string), found ${describe(v.key)}`);
    ok = false;
  }
  let range: [number, number] | undefined;
  if (v.range !== undefined) {
    const r = v.range;
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isInteger(x)) || (r[0] as number) > (r[1] as number)) {
      err(`${path}.range`, `expected [lo, hi] integers with lo <= hi, found ${describe(r)}`);
      ok = false;
    } else range = [r[0] as number, r[1] as number];
  }
  if (!ok) return undefined;
  const dtype = v.dtype as DType;
  if (encoding && !(dtype === 'ternary' || dtype === 'binary'))
    err(`${path}.encoding`, `only ternary and binary tensors have an encoding, "${name}" is ${dtype}`);
  if (encoding === 'packed2' && dtype !== 'ternary') err(`${path}.encoding`, `packed2 is the ternary encoding; binary tensors use packed1`);
  if (encoding === 'packed1' && dtype !== 'binary') err(`${path}.encoding`, `packed1 is the binary encoding; ternary tensors use packed2`);
  if (quant && !(dtype === 'int8' || dtype === 'ternary' || dtype === 'binary'))
    err(`${path}.quant`, `only int8, ternary and binary tensors are quantised, "${name}" is ${dtype}`);
  if ((dtype === 'ternary' || dtype === 'binary') && !quant) err(path, `${dtype} tensor "${name}" needs "quant" naming its scale tensor`);
  if (range && dtype === 'int8' && (range[0] < -128 || range[1] > 127)) err(`${path}.range`, `[${range.join(', ')}] is outside the int8 range [-128, 127]`);
  return { name, path, dtype, shape: shape!, quant, encoding, key: typeof v.key === 'string' ? v.key : name, range };
}

function parseQuant(v: Json, path: string, err: ErrFn): QuantParams | undefined {
  if (!isObject(v)) {
    err(path, `expected {"scale": <tensor>, "granularity": ...}, found ${describe(v)}`);
    return undefined;
  }
  checkFields(v, path, ['scale', 'granularity', 'group_size'], err);
  const grans = ['per_tensor', 'per_row', 'per_group'];
  let ok = true;
  if (typeof v.scale !== 'string' || v.scale === '') {
    err(`${path}.scale`, `expected the name of a float32 scale tensor, found ${describe(v.scale)}`);
    ok = false;
  }
  if (typeof v.granularity !== 'string' || !grans.includes(v.granularity)) {
    err(`${path}.granularity`, `expected one of ${grans.join(', ')}, found ${describe(v.granularity)}`);
    ok = false;
  }
  if (v.granularity === 'per_group') {
    if (typeof v.group_size !== 'number' || !Number.isInteger(v.group_size) || v.group_size < 1) {
      err(`${path}.group_size`, `per_group needs a positive integer group_size, found ${describe(v.group_size)}`);
      ok = false;
    }
  } else if (v.group_size !== undefined) {
    err(`${path}.group_size`, `group_size only applies to per_group, granularity is ${describe(v.granularity)}`);
    ok = false;
  }
  if (!ok) return undefined;
  return {
    scale: v.scale as string,
    granularity: v.granularity as Granularity,
    groupSize: v.granularity === 'per_group' ? (v.group_size as number) : undefined,
  };
}

function parseNode(v: Json, path: string, err: ErrFn): Node | undefined {
  if (!isObject(v)) {
    err(path, `expected a node object, found ${describe(v)}`);
    return undefined;
  }
  checkFields(v, path, ['name', 'op', 'inputs', 'outputs', 'attrs', 'doc'], err);
  let ok = true;
  if (typeof v.name !== 'string' || v.name === '') {
    err(`${path}.name`, `expected a non-empty string, found ${describe(v.name)}`);
    ok = false;
  }
  const opName = v.op;
  const def = typeof opName === 'string' ? OPS.get(opName) : undefined;
  if (!def) {
    err(`${path}.op`, `unknown op ${describe(opName)}; supported: ${[...OPS.keys()].join(', ')}`, 'unsupported');
    ok = false;
  }
  const inputs = stringList(v.inputs, `${path}.inputs`, err, true);
  const outputs = stringList(v.outputs, `${path}.outputs`, err, true);
  outputs.forEach((o, i) => {
    if (o === '') {
      err(`${path}.outputs[${i}]`, 'output names must not be empty');
      ok = false;
    }
  });
  let attrs: Record<string, AttrValue> = {};
  if (v.attrs !== undefined && !isObject(v.attrs)) {
    err(`${path}.attrs`, `expected an object, found ${describe(v.attrs)}`);
    ok = false;
  } else if (def) {
    const parsed = parseAttrs(isObject(v.attrs) ? v.attrs : {}, def.attrs, `${path}.attrs`, err);
    if (!parsed) ok = false;
    else attrs = parsed;
  }
  if (!ok || !def) return undefined;
  return { name: v.name as string, op: def.op, inputs, outputs, attrs, annotations: {} };
}

function parseAttrs(given: JsonObject, specs: Record<string, AttrSpec>, path: string, err: ErrFn): Record<string, AttrValue> | undefined {
  const out: Record<string, AttrValue> = {};
  let ok = true;
  for (const k of Object.keys(given)) {
    if (!(k in specs)) {
      err(
        path,
        `unknown attribute "${k}"${Object.keys(specs).length ? `; expected one of ${Object.keys(specs).join(', ')}` : '; this op takes no attributes'}`,
      );
      ok = false;
    }
  }
  for (const [k, spec] of Object.entries(specs)) {
    const v = given[k];
    if (v === undefined) {
      if (spec.default === undefined) {
        err(path, `missing required attribute "${k}" (${spec.doc})`);
        ok = false;
      } else out[k] = spec.default;
      continue;
    }
    const p = `${path}${key(k)}`;
    const good =
      (spec.kind === 'int' && typeof v === 'number' && Number.isInteger(v)) ||
      (spec.kind === 'float' && typeof v === 'number') ||
      (spec.kind === 'bool' && typeof v === 'boolean') ||
      (spec.kind === 'string' && typeof v === 'string' && (!spec.oneOf || spec.oneOf.includes(v))) ||
      (spec.kind === 'ints' && Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x)));
    if (!good) {
      err(
        p,
        `expected ${spec.oneOf ? `one of ${spec.oneOf.map((s) => `"${s}"`).join(', ')}` : `a${spec.kind === 'int' ? 'n integer' : spec.kind === 'ints' ? 'n array of integers' : ` ${spec.kind}`}`}, found ${describe(v)}`,
      );
      ok = false;
    } else out[k] = v as AttrValue;
  }
  return ok ? out : undefined;
}

function checkNodeSignature(n: Node, path: string, err: ErrFn): void {
  const def = OPS.get(n.op)!;
  const maxIn = def.inputs.names.length;
  if (n.inputs.length < def.inputs.min || n.inputs.length > maxIn)
    err(
      `${path}.inputs`,
      `${n.op} takes ${def.inputs.min === maxIn ? maxIn : `${def.inputs.min} to ${maxIn}`} inputs (${def.inputs.names.join(', ')}), found ${n.inputs.length}`,
    );
  n.inputs.forEach((t, j) => {
    if (t === '' && j < def.inputs.min) err(`${path}.inputs[${j}]`, `input ${j} (${def.inputs.names[j]}) of ${n.op} is required`);
  });
  const maxOut = def.outputs.names.length;
  const minOut = n.op === 'QuantizeInt8' ? 1 : def.outputs.min; // the scale output may be left implicit
  if (n.outputs.length < minOut || n.outputs.length > maxOut)
    err(
      `${path}.outputs`,
      `${n.op} has ${minOut === maxOut ? maxOut : `${minOut} to ${maxOut}`} outputs (${def.outputs.names.join(', ')}), found ${n.outputs.length}`,
    );
  if (n.op === 'QuantizeInt8' && n.outputs.length === 1) n.outputs.push(`${n.outputs[0]}.scale`);
}

function loadConstant(d: TensorDecl, st: StFile, stLabel: string, jsonLabel: string, bag: DiagnosticBag): TypedData | undefined {
  const where = `${stLabel}: tensor "${d.key}"`;
  const t = st.tensors.get(d.key);
  if (!t) {
    bag.error('weights', stLabel, `tensor "${d.key}" is missing (declared at ${jsonLabel}: ${d.path})`);
    return undefined;
  }
  const n = elementCount(d.shape);
  const rowLen = d.shape[d.shape.length - 1]!;
  const rows = n / rowLen;
  const expectShape = (want: number[], dtypeWant: string): boolean => {
    if (t.dtype !== dtypeWant && !(dtypeWant === 'F32' && (t.dtype === 'F16' || t.dtype === 'BF16'))) {
      bag.error('dtype', where, `${d.dtype}${d.encoding ? ` (${d.encoding})` : ''} needs safetensors dtype ${dtypeWant}, found ${t.dtype}`);
      return false;
    }
    if (shapeStr(t.shape) !== shapeStr(want)) {
      bag.error('shape', where, `expected shape ${shapeStr(want)} (declared at ${jsonLabel}: ${d.path}.shape), found ${shapeStr(t.shape)}`);
      return false;
    }
    return true;
  };
  switch (d.dtype) {
    case 'float32': {
      if (!expectShape(d.shape, 'F32')) return undefined;
      const v = toFloat32(t);
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i]!)) {
          bag.error('weights', where, `value ${v[i]} at ${indexStr(i, d.shape)} is not finite`);
          return undefined;
        }
      }
      return v;
    }
    case 'int8':
    case 'uint8':
    case 'int32':
    case 'int64':
    case 'float16': // IEEE half bits, kept as stored
      return expectShape(d.shape, DTYPE_INFO[d.dtype].safetensors) ? (stToTyped(t) as TypedData) : undefined;
    case 'bool': {
      if (!expectShape(d.shape, 'BOOL')) return undefined;
      const v = stToTyped(t) as Uint8Array;
      return v.map((b) => (b ? 1 : 0));
    }
    case 'ternary':
    case 'binary': {
      const ternary = d.dtype === 'ternary';
      const packed = d.encoding === 'packed2' || d.encoding === 'packed1' || (d.encoding === undefined && t.dtype === 'U8');
      if (!packed) {
        if (!expectShape(d.shape, 'I8')) return undefined;
        const codes = stToTyped(t) as Int8Array;
        for (let i = 0; i < codes.length; i++) {
          const c = codes[i]!;
          if (ternary ? c < -1 || c > 1 : c !== -1 && c !== 1) {
            bag.error('codes', where, `code ${c} at ${indexStr(i, d.shape)} is outside ${ternary ? '{-1, 0, +1}' : '{-1, +1}'}`);
            return undefined;
          }
        }
        return codes;
      }
      const per = ternary ? 4 : 8;
      const bytesPerRow = Math.ceil(rowLen / per);
      if (!expectShape([...d.shape.slice(0, -1), bytesPerRow], 'U8')) return undefined;
      const bytes = stToTyped(t) as Uint8Array;
      const codes = new Int8Array(n);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < rowLen; k++) {
          const byte = bytes[r * bytesPerRow + Math.floor(k / per)]!;
          if (ternary) {
            const c = (byte >> ((k % 4) * 2)) & 3; // 00 -> 0, 01 -> +1, 10 -> -1, 11 invalid
            if (c === 3) {
              bag.error('codes', where, `2-bit code 0b11 at ${indexStr(r * rowLen + k, d.shape)} is not a ternary code (00 = 0, 01 = +1, 10 = -1)`);
              return undefined;
            }
            codes[r * rowLen + k] = c === 1 ? 1 : c === 2 ? -1 : 0;
          } else {
            codes[r * rowLen + k] = (byte >> (k % 8)) & 1 ? 1 : -1; // 1 -> +1, 0 -> -1
          }
        }
      }
      return codes;
    }
    default: {
      const unhandled: never = d.dtype;
      throw new Error(`internal: no way to load a ${String(unhandled)} constant`);
    }
  }
}

function toFloat32(t: StTensor): Float32Array {
  const typed = stToTyped(t);
  if (typed instanceof Float32Array) return typed;
  // F16 / BF16 arrive as raw 16-bit patterns; both convert to float32 exactly.
  const raw = typed as Uint16Array;
  const out = new Float32Array(raw.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < raw.length; i++) {
    const h = raw[i]!;
    if (t.dtype === 'BF16') {
      bits[i] = h << 16;
      continue;
    }
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = (sign ? -1 : 1) * mant * 2 ** -24;
    else if (exp === 31) bits[i] = sign | 0x7f800000 | (mant << 13);
    else bits[i] = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  return out;
}

function indexStr(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]!);
    flat = Math.floor(flat / shape[d]!);
  }
  return `[${idx.join(', ')}]`;
}

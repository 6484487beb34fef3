// Input vectors for `tritc run` and `tritc test`: from .npy/.npz files (one run or a batch along a
// leading axis), ONNX TensorProto files and test data sets, or seeded random values; and outputs
// written back the same way.

import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fail } from '../diagnostics.ts';
import { DTYPE_INFO } from '../dtypes.ts';
import { elementCount, shapeStr, type Graph, type Tensor, type TypedData } from '../ir.ts';
import type { NdArray } from '../io/ndarray.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { readNpz, writeNpz } from '../io/npz.ts';
import { readTensorProto } from '../io/tensorproto.ts';

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same inputs everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random values for a tensor: floats uniform in [-1, 1), integers uniform over their range. */
function randomValues(t: Tensor, next: () => number): TypedData {
  const n = elementCount(t.shape);
  if (t.dtype === 'float32') {
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = next() * 2 - 1;
    return v;
  }
  // Integers: uniform over the declared range, or a modest default for the wide types.
  const [lo, hi] = t.range ?? (t.dtype === 'int32' || t.dtype === 'int64' ? [-1000, 1000] : DTYPE_INFO[t.dtype].range!);
  const v = DTYPE_INFO[t.dtype].alloc(n);
  for (let i = 0; i < n; i++) {
    const x = lo + Math.floor(next() * (hi - lo + 1));
    v[i] = v instanceof BigInt64Array ? BigInt(x) : x;
  }
  return v;
}

export function randomRuns(g: Graph, count: number, seed: number): Map<string, TypedData>[] {
  const next = rng(seed);
  const runs: Map<string, TypedData>[] = [];
  for (let r = 0; r < count; r++) runs.push(new Map(g.inputs.map((name) => [name, randomValues(g.tensors.get(name)!, next)])));
  return runs;
}

/** Runs of seeded random token ids for a language model: each a little over two chunks long (so
 * that a run makes more than one call), within the context. */
export function randomTokenRuns(g: Graph, count: number, seed: number): number[][] {
  const lm = g.lm!;
  const next = rng(seed);
  const length = Math.min(lm.context, 2 * g.rows!.max + 1);
  return Array.from({ length: count }, () => Array.from({ length }, () => Math.floor(next() * lm.vocab)));
}

/** A language model's token ids from a .npy file: [T] or [N, T] of integers. */
export function readTokenRuns(path: string, vocab: number): number[][] {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    fail('io', path, `cannot read: ${(e as Error).message}`);
  }
  const a = readNpy(bytes, path);
  if (!['int32', 'int64', 'int16', 'int8', 'uint8', 'uint16', 'uint32'].includes(a.dtype)) fail('npy', path, `token ids must be integers, found ${a.dtype}`);
  if (a.shape.length !== 1 && a.shape.length !== 2) fail('npy', path, `token ids must have shape [T] or [N, T], found [${a.shape.join(', ')}]`);
  const values = Array.from(a.data as ArrayLike<number | bigint>, Number);
  values.forEach((v, i) => {
    if (!(Number.isInteger(v) && v >= 0 && v < vocab)) fail('npy', path, `token ${i} is ${v}, outside the vocabulary [0, ${vocab})`);
  });
  const t = a.shape[a.shape.length - 1]!;
  if (t === 0) fail('npy', path, 'holds no tokens');
  const n = a.shape.length === 2 ? a.shape[0]! : 1;
  return Array.from({ length: n }, (_, i) => values.slice(i * t, (i + 1) * t));
}

/**
 * Convert a NumPy array to the tensor's dtype. Another dtype is converted only when every value
 * survives exactly (an int32 above 2^24 into float32, a float64 with more bits than float32, a value
 * out of an integer type's range: errors naming the file, the index and the value), and then with a
 * warning naming the file, so that a silent change of type never goes unnoticed.
 */
function convert(a: NdArray, t: Tensor, label: string, warn: (message: string) => void, kind: 'input' | 'output'): TypedData {
  const n = a.data.length;
  const src = a.data;
  const want = DTYPE_INFO[t.dtype].numpy;
  if (a.dtype === want) return (src as TypedData).slice() as TypedData;
  if (a.dtype === 'float16') fail('npy', label, `${kind} "${t.name}" is ${t.dtype}; float16 arrays are not supported: save the array as ${want}`);
  let v: TypedData;
  if (t.dtype === 'float32') {
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = src[i]!;
      f[i] = Number(x);
      const same = typeof x === 'bigint' ? Number.isFinite(f[i]!) && BigInt(f[i]!) === x : f[i] === x || (Number.isNaN(x) && Number.isNaN(f[i]!));
      if (!same)
        fail(
          'npy',
          label,
          `${kind} "${t.name}" is float32; the file holds ${a.dtype}, and the value ${x} at index ${i} would become ${f[i]}: save the array as float32`,
        );
    }
    v = f;
  } else {
    if (a.dtype.startsWith('float')) fail('npy', label, `${kind} "${t.name}" is ${t.dtype}, the file holds ${a.dtype}: save the array as ${want}`);
    const out = DTYPE_INFO[t.dtype].alloc(n);
    const [lo, hi] = t.dtype === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : DTYPE_INFO[t.dtype].range!.map(BigInt);
    for (let i = 0; i < n; i++) {
      const x = BigInt(src[i]!);
      if (x < lo! || x > hi!)
        fail('npy', label, `${kind} "${t.name}" is ${t.dtype}; the file holds ${a.dtype}, and the value ${x} at index ${i} does not fit it`);
      if (out instanceof BigInt64Array) out[i] = x;
      else out[i] = Number(x);
    }
    v = out;
  }
  warn(`${label}: ${kind} "${t.name}" is ${t.dtype}; the file holds ${a.dtype}, converted (every value exactly)`);
  return v;
}

/** Split an array that holds exactly the input's shape (1 run) or [N, ...shape] (N runs). */
function splitRuns(
  a: NdArray,
  t: Tensor,
  label: string,
  warn: (message: string) => void,
  kind: 'input' | 'output' = 'input',
): { values: TypedData[]; batched: boolean } {
  const n = elementCount(t.shape);
  const same = shapeStr(a.shape) === shapeStr(t.shape);
  const batched = a.shape.length === t.shape.length + 1 && shapeStr(a.shape.slice(1)) === shapeStr(t.shape);
  if (!same && !batched)
    fail(
      'npy',
      label,
      `${kind} "${t.name}" has shape ${shapeStr(t.shape)}; the file holds ${shapeStr(a.shape)}, expected ${shapeStr(t.shape)} or [N, ${t.shape.join(', ')}]`,
    );
  const all = convert(a, t, label, warn, kind);
  const runs = same ? 1 : a.shape[0]!;
  const values: TypedData[] = [];
  for (let r = 0; r < runs; r++) values.push(all.slice(r * n, (r + 1) * n) as TypedData);
  return { values, batched: !same };
}

/**
 * Inputs from `--inputs`: a comma-separated list of .npy or ONNX TensorProto (.pb) files (one per
 * graph input, in order), one .npz whose keys are the input names (or arr_0, arr_1, ... in order), or
 * ONNX test data set folders (each holds input_0.pb, input_1.pb, ... for one run).
 */
export function loadInputRuns(g: Graph, spec: string, warn: (message: string) => void = () => {}): { runs: Map<string, TypedData>[]; batched: boolean } {
  const files = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return loadTensorRuns(g, g.inputs, files, 'input', '--inputs', warn);
}

/**
 * Values of the tensors `names` (the graph's inputs or outputs) for a number of runs, from `files`:
 * one .npz keyed by name (or arr_0, arr_1, ...); ONNX test data set folders, one run each, holding
 * `<kind>_0.pb`, `<kind>_1.pb`, ...; or one .npy / .pb file per tensor, each holding the tensor's
 * shape (one run) or [N, ...shape] (N runs).
 */
export function loadTensorRuns(
  g: Graph,
  names: readonly string[],
  files: readonly string[],
  kind: 'input' | 'output',
  option: string,
  warn: (message: string) => void = () => {},
): { runs: Map<string, TypedData>[]; batched: boolean } {
  if (files.length > 0 && files.every(isDirectory)) {
    const runs = files.map(
      (dir) =>
        new Map(
          names.map((name, i) => {
            const label = join(dir, `${kind}_${i}.pb`);
            const { values } = splitRuns(readArrayFile(label), g.tensors.get(name)!, label, warn, kind);
            if (values.length !== 1) fail('npy', label, `holds ${values.length} runs; a test data set holds one`);
            return [name, values[0]!];
          }),
        ),
    );
    return { runs, batched: true };
  }
  const arrays = new Map<string, { a: NdArray; label: string }>();
  if (files.length === 1 && extname(files[0]!) === '.npz') {
    const label = files[0]!;
    const entries = readNpz(readBytes(label), label);
    names.forEach((name, i) => {
      const a = entries.get(name) ?? entries.get(`arr_${i}`);
      if (!a) fail('npy', label, `has no array for ${kind} "${name}" (keys: ${[...entries.keys()].join(', ') || 'none'})`);
      arrays.set(name, { a, label: `${label}: ${name}` });
    });
  } else {
    if (files.length !== names.length)
      fail(
        'usage',
        option,
        `the model has ${names.length} ${kind}${names.length === 1 ? '' : 's'} (${names.join(', ')}), ${files.length} file${files.length === 1 ? ' was' : 's were'} given`,
      );
    names.forEach((name, i) => {
      const label = files[i]!;
      arrays.set(name, { a: readArrayFile(label), label });
    });
  }
  const perTensor = names.map((name) => {
    const { a, label } = arrays.get(name)!;
    return splitRuns(a, g.tensors.get(name)!, label, warn, kind);
  });
  const counts = perTensor.map((p) => p.values.length);
  if (new Set(counts).size > 1) fail('npy', option, `the ${kind}s hold different numbers of runs: ${names.map((n, i) => `${n} ${counts[i]}`).join(', ')}`);
  const runs = perTensor[0]!.values.map((_, r) => new Map(names.map((name, i) => [name, perTensor[i]!.values[r]!])));
  return { runs, batched: perTensor.some((p) => p.batched) };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** One array from a .npy or ONNX TensorProto (.pb) file. */
function readArrayFile(path: string): NdArray {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return readNpy(readBytes(path), path);
  if (ext === '.pb') return readTensorProto(readBytes(path), path).array;
  fail('usage', path, `is neither a NumPy file (.npy, .npz) nor an ONNX TensorProto file (.pb) nor a test data set folder`);
}

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    fail('io', path, `cannot read: ${(e as Error).message}`);
  }
}

function toNd(values: TypedData[], t: Tensor, batched: boolean): NdArray {
  const n = elementCount(t.shape);
  const info = DTYPE_INFO[t.dtype];
  const data = info.alloc(n * values.length);
  values.forEach((v, r) => data.set(v as never, r * n));
  return { dtype: info.numpy, shape: batched ? [values.length, ...t.shape] : [...t.shape], data };
}

/**
 * Write outputs the way the inputs came: one run -> exactly the output's shape; several runs ->
 * [N, ...shape]. `spec` is a comma-separated list of .npy files (one per output) or one .npz.
 */
export function saveOutputRuns(g: Graph, runs: ReadonlyMap<string, TypedData>[], spec: string, batched: boolean): void {
  saveRuns(g, g.outputs, runs, spec, batched, '--outputs', 'output');
}

/** Write the inputs of the runs (`tritc run --save-inputs`), in the form `--inputs` reads back. */
export function saveInputRuns(g: Graph, runs: ReadonlyMap<string, TypedData>[], spec: string, batched: boolean): void {
  saveRuns(g, g.inputs, runs, spec, batched, '--save-inputs', 'input');
}

function saveRuns(
  g: Graph,
  names: readonly string[],
  runs: ReadonlyMap<string, TypedData>[],
  spec: string,
  batched: boolean,
  option: string,
  what: string,
): void {
  const files = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const arrays = names.map((name) =>
    toNd(
      runs.map((r) => r.get(name)!),
      g.tensors.get(name)!,
      batched,
    ),
  );
  if (files.length === 1 && extname(files[0]!) === '.npz') {
    writeOutputFile(files[0]!, writeNpz(names.map((name, i) => [name, arrays[i]!] as [string, NdArray])));
    return;
  }
  if (files.length !== names.length)
    fail(
      'usage',
      option,
      `the model has ${names.length} ${what}${names.length === 1 ? '' : 's'} (${names.join(', ')}); give as many .npy files or one .npz, ${files.length} given (${files.map((f) => basename(f)).join(', ')})`,
    );
  files.forEach((f, i) => writeOutputFile(f, writeNpy(arrays[i]!)));
}

/** Write a result file, making its folder; a failure is a user error naming the file. */
export function writeOutputFile(path: string, bytes: Uint8Array): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  } catch (e) {
    fail('io', path, `cannot write: ${(e as Error).message}`);
  }
}

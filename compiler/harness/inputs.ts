// Input vectors for `tritc run`: from .npy/.npz files (one run or a batch along a leading axis) or
// seeded random values; and outputs written back the same way.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { fail, withOneLineDiagnostics } from '../diagnostics.ts';
import { DTYPE_INFO } from '../dtypes.ts';
import { elementCount, shapeStr, type Graph, type Tensor, type TypedData } from '../ir.ts';
import type { NdArray } from '../io/ndarray.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { readNpz, writeNpz } from '../io/npz.ts';

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

/**
 * Convert a NumPy array to the tensor's dtype. Another dtype is converted only when every value
 * survives exactly (an int32 above 2^24 into float32, a float64 with more bits than float32, a value
 * out of an integer type's range: errors naming the file, the index and the value), and then with a
 * warning naming the file, so that a silent change of type never goes unnoticed.
 */
function convert(a: NdArray, t: Tensor, label: string, warn: (message: string) => void): TypedData {
  const n = a.data.length;
  const src = a.data;
  const want = DTYPE_INFO[t.dtype].numpy;
  if (a.dtype === want) return (src as TypedData).slice() as TypedData;
  if (a.dtype === 'float16') fail('npy', label, `input "${t.name}" is ${t.dtype}; float16 arrays are not supported: save the array as ${want}`);
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
          `input "${t.name}" is float32; the file holds ${a.dtype}, and the value ${x} at index ${i} would become ${f[i]}: save the array as float32`,
        );
    }
    v = f;
  } else {
    if (a.dtype.startsWith('float')) fail('npy', label, `input "${t.name}" is ${t.dtype}, the file holds ${a.dtype}: save the array as ${want}`);
    const out = DTYPE_INFO[t.dtype].alloc(n);
    const [lo, hi] = t.dtype === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : DTYPE_INFO[t.dtype].range!.map(BigInt);
    for (let i = 0; i < n; i++) {
      const x = BigInt(src[i]!);
      if (x < lo! || x > hi!)
        fail('npy', label, `input "${t.name}" is ${t.dtype}; the file holds ${a.dtype}, and the value ${x} at index ${i} does not fit it`);
      if (out instanceof BigInt64Array) out[i] = x;
      else out[i] = Number(x);
    }
    v = out;
  }
  warn(`${label}: input "${t.name}" is ${t.dtype}; the file holds ${a.dtype}, converted (every value exactly)`);
  return v;
}

/** Split an array that holds exactly the input's shape (1 run) or [N, ...shape] (N runs). */
function splitRuns(a: NdArray, t: Tensor, label: string, warn: (message: string) => void): { values: TypedData[]; batched: boolean } {
  const n = elementCount(t.shape);
  const same = shapeStr(a.shape) === shapeStr(t.shape);
  const batched = a.shape.length === t.shape.length + 1 && shapeStr(a.shape.slice(1)) === shapeStr(t.shape);
  if (!same && !batched)
    fail(
      'npy',
      label,
      `input "${t.name}" has shape ${shapeStr(t.shape)}; the file holds ${shapeStr(a.shape)}, expected ${shapeStr(t.shape)} or [N, ${t.shape.join(', ')}]`,
    );
  const all = convert(a, t, label, warn);
  const runs = same ? 1 : a.shape[0]!;
  const values: TypedData[] = [];
  for (let r = 0; r < runs; r++) values.push(all.slice(r * n, (r + 1) * n) as TypedData);
  return { values, batched: !same };
}

/**
 * Inputs from `--inputs`: a comma-separated list of .npy files (one per graph input, in order) or
 * one .npz whose keys are the input names (or arr_0, arr_1, ... in order).
 */
export function loadInputRuns(g: Graph, spec: string, warn: (message: string) => void = () => {}): { runs: Map<string, TypedData>[]; batched: boolean } {
  return withOneLineDiagnostics(() => readInputRuns(g, spec, warn));
}

function readInputRuns(g: Graph, spec: string, warn: (message: string) => void): { runs: Map<string, TypedData>[]; batched: boolean } {
  const files = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const arrays = new Map<string, { a: NdArray; label: string }>();
  if (files.length === 1 && extname(files[0]!) === '.npz') {
    const label = files[0]!;
    const entries = readNpz(readBytes(label), label);
    g.inputs.forEach((name, i) => {
      const a = entries.get(name) ?? entries.get(`arr_${i}`);
      if (!a) fail('npy', label, `has no array for input "${name}" (keys: ${[...entries.keys()].join(', ') || 'none'})`);
      arrays.set(name, { a, label: `${label}: ${name}` });
    });
  } else {
    if (files.length !== g.inputs.length)
      fail(
        'usage',
        '--inputs',
        `the model has ${g.inputs.length} input${g.inputs.length === 1 ? '' : 's'} (${g.inputs.join(', ')}), ${files.length} file${files.length === 1 ? ' was' : 's were'} given`,
      );
    g.inputs.forEach((name, i) => {
      const label = files[i]!;
      arrays.set(name, { a: readNpy(readBytes(label), label), label });
    });
  }
  const perInput = g.inputs.map((name) => {
    const { a, label } = arrays.get(name)!;
    return splitRuns(a, g.tensors.get(name)!, label, warn);
  });
  const counts = perInput.map((p) => p.values.length);
  if (new Set(counts).size > 1) fail('npy', '--inputs', `the inputs hold different numbers of runs: ${g.inputs.map((n, i) => `${n} ${counts[i]}`).join(', ')}`);
  const runs = perInput[0]!.values.map((_, r) => new Map(g.inputs.map((name, i) => [name, perInput[i]!.values[r]!])));
  return { runs, batched: perInput.some((p) => p.batched) };
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

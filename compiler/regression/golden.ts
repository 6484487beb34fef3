// A test model's inputs, golden outputs and labelled set, read from the files the manifest names, and
// the goldens written back from the interpreter (`tritc test --update`), in the form they are read:
//   .npz          one array per output, keyed by its name, [N, ...shape] (a language model: "logits",
//                 [N, T, vocab])
//   .npy / .pb    one file per output, [N, ...shape]
//   data sets     output_0.pb, output_1.pb, ... in each ONNX test data set folder, one run each

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fail } from '../diagnostics.ts';
import { DTYPE_INFO } from '../dtypes.ts';
import { loadTensorRuns, randomRuns, randomTokenRuns, readTokenRuns } from '../harness/inputs.ts';
import { elementCount, type Graph, type TypedData } from '../ir.ts';
import type { NdArray } from '../io/ndarray.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { readNpz, writeNpz } from '../io/npz.ts';
import { writeTensorProto } from '../io/tensorproto.ts';
import type { InputSource, ModelEntry } from './manifest.ts';

export type Runs = Map<string, TypedData>[];

/** A graph model's input runs. */
export function inputRuns(m: ModelEntry, g: Graph, warn: (message: string) => void = () => {}, src: InputSource = m.inputs, field = 'inputs'): Runs {
  if (src.kind === 'random') return randomRuns(g, src.count, src.seed);
  return loadTensorRuns(g, g.inputs, src.kind === 'files' ? src.files : src.dirs, 'input', `${m.where}.${field}`, warn).runs;
}

/** A language model's runs of token ids. */
export function tokenRuns(m: ModelEntry, g: Graph): number[][] {
  const src = m.inputs;
  if (src.kind === 'random') return randomTokenRuns(g, src.count, src.seed);
  if (src.kind === 'datasets' || src.files.length !== 1 || extname(src.files[0]!) !== '.npy')
    fail('schema', `${m.where}.inputs`, 'a language model takes its token ids from one .npy file ([T] or [N, T] integers), or random inputs');
  const runs = readTokenRuns(src.files[0]!, g.lm!.vocab);
  for (const r of runs)
    if (r.length > g.lm!.context)
      fail('schema', `${m.where}.inputs`, `${r.length} tokens exceed the context of ${g.lm!.context} positions (set "options": { "context": ${r.length} })`);
  return runs;
}

const missing = (file: string): never => fail('io', file, 'no golden outputs here yet: write them with tritc test --update (docs/testing.md)');

/** A graph model's golden outputs, one map per run; `runs` is how many the inputs hold. */
export function readGolden(m: ModelEntry, g: Graph, runs: number, warn: (message: string) => void = () => {}): Runs {
  const src = m.golden;
  const paths = src.kind === 'files' ? src.files : src.dirs.map((d) => join(d, 'output_0.pb'));
  for (const p of paths) if (!existsSync(p)) missing(p);
  const golden = loadTensorRuns(g, g.outputs, src.kind === 'files' ? src.files : src.dirs, 'output', `${m.where}.golden`, warn).runs;
  if (golden.length !== runs)
    fail(
      'npy',
      `${m.where}.golden`,
      `holds ${golden.length} run${golden.length === 1 ? '' : 's'} of outputs, the inputs ${runs}: update the goldens (tritc test --update)`,
    );
  return golden;
}

/** A language model's golden logits: per run, per position, the vocabulary's logits. */
export function readGoldenLogits(m: ModelEntry, g: Graph, runs: readonly number[][]): Float32Array[][] {
  const src = m.golden;
  const file = src.kind === 'files' && src.files.length === 1 ? src.files[0]! : undefined;
  if (!file || !['.npz', '.npy'].includes(extname(file))) fail('schema', `${m.where}.golden`, "a language model's goldens are one .npz or .npy file of logits");
  if (!existsSync(file)) missing(file);
  const bytes = new Uint8Array(readFileSync(file));
  let a: NdArray | undefined;
  if (extname(file) === '.npz') {
    a = readNpz(bytes, file).get('logits');
    if (!a) fail('npy', file, 'has no array "logits"');
  } else a = readNpy(bytes, file);
  const vocab = g.lm!.vocab;
  const t = runs[0]!.length;
  if (
    a.dtype !== 'float32' ||
    a.shape.length !== 3 ||
    a.shape[0] !== runs.length ||
    a.shape[1] !== t ||
    a.shape[2] !== vocab ||
    runs.some((r) => r.length !== t)
  )
    fail(
      'npy',
      file,
      `holds ${a.dtype} [${a.shape.join(', ')}]; expected float32 [${runs.length}, ${t}, ${vocab}] (runs, positions, vocabulary): update the goldens (tritc test --update)`,
    );
  const data = a.data as Float32Array;
  return runs.map((r, i) => r.map((_, p) => data.slice((i * t + p) * vocab, (i * t + p + 1) * vocab)));
}

/** The labelled set: its input runs and each run's class id. */
export function labelledRuns(m: ModelEntry, g: Graph, warn: (message: string) => void = () => {}): { runs: Runs; labels: number[] } {
  const l = m.labelled!;
  const runs = inputRuns(m, g, warn, l.inputs, 'labelled.inputs');
  const a = readNpy(new Uint8Array(readFileSync(l.labels)), l.labels);
  if (a.dtype.startsWith('float') || a.dtype === 'bool' || a.shape.length !== 1)
    fail('npy', l.labels, `labels are one integer class id per run, shape [N]; the file holds ${a.dtype} [${a.shape.join(', ')}]`);
  const labels = Array.from(a.data as ArrayLike<number | bigint>, Number);
  if (labels.length !== runs.length) fail('npy', l.labels, `holds ${labels.length} labels for ${runs.length} labelled inputs`);
  return { runs, labels };
}

/** Write files all or nothing: each to a temporary name beside it, then renamed. */
function writeAll(files: [string, Uint8Array][]): void {
  const tmp = files.map(([p]) => `${p}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    files.forEach(([p, bytes], i) => {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(tmp[i]!, bytes);
    });
    files.forEach(([p], i) => renameSync(tmp[i]!, p));
  } catch (e) {
    for (const t of tmp) rmSync(t, { force: true });
    fail('io', files[0]![0], `cannot write the goldens: ${(e as Error).message}`);
  }
}

function stacked(g: Graph, name: string, runs: Runs): { dtype: NdArray['dtype']; shape: number[]; data: TypedData } {
  const t = g.tensors.get(name)!;
  const n = elementCount(t.shape);
  const info = DTYPE_INFO[t.dtype];
  const data = info.alloc(n * runs.length);
  runs.forEach((r, i) => data.set(r.get(name)! as never, i * n));
  return { dtype: info.numpy, shape: [runs.length, ...t.shape], data };
}

/** Write a graph model's golden outputs; returns the files written. */
export function writeGolden(m: ModelEntry, g: Graph, outputs: Runs): string[] {
  const src = m.golden;
  const files: [string, Uint8Array][] = [];
  if (src.kind === 'datasets') {
    if (src.dirs.length !== outputs.length) throw new Error('internal: one run per data set');
    src.dirs.forEach((d, r) =>
      g.outputs.forEach((name, i) => {
        const t = g.tensors.get(name)!;
        files.push([join(d, `output_${i}.pb`), writeTensorProto(name, t.dtype, t.shape, outputs[r]!.get(name)!)]);
      }),
    );
  } else if (src.files.length === 1 && extname(src.files[0]!) === '.npz') {
    files.push([src.files[0]!, writeNpz(g.outputs.map((name) => [name, stacked(g, name, outputs) as NdArray] as [string, NdArray]))]);
  } else {
    if (src.files.length !== g.outputs.length)
      fail(
        'schema',
        `${m.where}.golden`,
        `names ${src.files.length} file${src.files.length === 1 ? '' : 's'} for ${g.outputs.length} output${g.outputs.length === 1 ? '' : 's'} (${g.outputs.join(', ')}); give one per output, or one .npz`,
      );
    src.files.forEach((f, i) => {
      const name = g.outputs[i]!;
      const s = stacked(g, name, outputs);
      const t = g.tensors.get(name)!;
      files.push([f, extname(f) === '.pb' ? writeTensorProto(name, t.dtype, s.shape, s.data) : writeNpy(s as NdArray)]);
    });
  }
  writeAll(files);
  return files.map(([f]) => f);
}

/** Write a language model's golden logits ([N, T, vocab]); returns the file written. */
export function writeGoldenLogits(m: ModelEntry, g: Graph, logits: Float32Array[][]): string {
  const src = m.golden;
  const file = src.kind === 'files' && src.files.length === 1 ? src.files[0]! : undefined;
  if (!file || !['.npz', '.npy'].includes(extname(file))) fail('schema', `${m.where}.golden`, "a language model's goldens are one .npz or .npy file of logits");
  const vocab = g.lm!.vocab;
  const t = logits[0]!.length;
  const data = new Float32Array(logits.length * t * vocab);
  logits.forEach((run, r) => run.forEach((l, p) => data.set(l, (r * t + p) * vocab)));
  const a: NdArray = { dtype: 'float32', shape: [logits.length, t, vocab], data };
  writeAll([[file, extname(file) === '.npz' ? writeNpz([['logits', a]]) : writeNpy(a)]]);
  return file;
}

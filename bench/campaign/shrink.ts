// A delta-debugging shrinker over graph specs: given a graph that fails (generated C disagrees with
// the interpreter, crashes, overflows its stack estimate) and a test that says whether a smaller
// graph still fails the same way, it looks for the smallest one it can reach: fewest nodes first,
// then the smallest shapes. Each step proposes a smaller candidate, drops it unless it is well formed
// (`valid`: cheap, no build) and still fails (`fails`: a build and a run), and keeps the first that
// does, until no step applies or the budget of runs is spent. Greedy, like ddmin: a local minimum,
// not the smallest graph that fails.
//
// Steps, in order:
//   keep one output            outputs = [o]
//   truncate                   outputs = [an intermediate tensor]: everything after it goes
//   bypass a node              a node whose input has its output's dtype and shape is removed, its
//                              readers read that input
//   promote to an input        an intermediate tensor becomes a graph input: everything before it goes
//   shrink a dimension         every axis of size D (in inputs and constants) becomes D' < D (1, D/2,
//                              D - 1), constants sliced, the scales of low-bit weights re-laid out
// After each step, dead nodes, unused tensors and unused inputs are pruned.

import type { ModelSpec, NodeSpec, TensorSpec } from '../../compiler/readers/native/write.ts';
import type { TypedData } from '../../compiler/ir.ts';
import type { LmSizes } from '../gen/random_lm.ts';
import { cloneSpec, readSpec, specElements } from './spec.ts';

export interface ShrinkOptions {
  /** Is the candidate well formed (read, compiled)? Called often: no build, no run. */
  valid(s: ModelSpec): boolean;
  /** Does the candidate still fail, the same way? */
  fails(s: ModelSpec): Promise<boolean>;
  /** The most `fails` calls (default 300). */
  budget?: number;
  log?: (line: string) => void;
}

export interface ShrinkResult {
  spec: ModelSpec;
  /** `fails` calls made. */
  tries: number;
  nodes: { before: number; after: number };
  elements: { before: number; after: number };
}

type Step = (s: ModelSpec) => Generator<ModelSpec>;

export async function shrinkSpec(start: ModelSpec, opts: ShrinkOptions): Promise<ShrinkResult> {
  const budget = opts.budget ?? 300;
  let cur = prune(cloneSpec(start));
  let tries = 0;
  const steps: [string, Step][] = [
    ['keep one output', keepOneOutput],
    ['truncate', truncate],
    ['bypass a node', bypass],
    ['promote to an input', promote],
    ['shrink a dimension', shrinkDims],
  ];
  const seen = new Set<string>([fingerprint(cur)]);
  let progress = true;
  while (progress && tries < budget) {
    progress = false;
    for (const [name, step] of steps) {
      for (const raw of step(cur)) {
        if (tries >= budget) break;
        const cand = prune(raw);
        const key = fingerprint(cand);
        if (seen.has(key)) continue;
        seen.add(key);
        if (!opts.valid(cand)) continue;
        tries++;
        if (await opts.fails(cand)) {
          opts.log?.(`shrink: ${name}: ${cand.nodes.length} nodes, ${specElements(cand)} elements`);
          cur = cand;
          progress = true;
          break;
        }
      }
      if (progress) break; // start again from the steps that remove the most
    }
  }
  return {
    spec: cur,
    tries,
    nodes: { before: start.nodes.length, after: cur.nodes.length },
    elements: { before: specElements(start), after: specElements(cur) },
  };
}

/** A key for candidates already tried: structure, shapes and attributes (not the data). */
function fingerprint(s: ModelSpec): string {
  const t = Object.entries(s.tensors)
    .map(([n, x]) => `${n}:${x.dtype}:${x.shape.join('x')}:${x.quant?.group_size ?? ''}`)
    .sort();
  return JSON.stringify([s.inputs, s.outputs, s.nodes.map((n) => [n.op, n.inputs, n.outputs, n.attrs ?? {}]), t]);
}

// ---- pruning ----------------------------------------------------------------------------------

/** Drop nodes whose outputs nobody reads, then tensors and inputs nothing refers to. */
function prune(s: ModelSpec): ModelSpec {
  const out = cloneSpec(s);
  for (;;) {
    const read = new Set<string>([...out.outputs, ...out.nodes.flatMap((n) => n.inputs)]);
    const keep = out.nodes.filter((n) => n.outputs.some((o) => read.has(o)));
    if (keep.length === out.nodes.length) break;
    out.nodes = keep;
  }
  const used = new Set<string>([...out.outputs, ...out.nodes.flatMap((n) => n.inputs)]);
  for (const name of [...used]) {
    const q = out.tensors[name]?.quant;
    if (q) used.add(q.scale);
  }
  // Quantized activations name their scale tensor; a declared scale stays while its tensor is used.
  for (const name of Object.keys(out.tensors)) if (!used.has(name)) delete out.tensors[name];
  out.inputs = out.inputs.filter((i) => used.has(i));
  return out;
}

// ---- steps ------------------------------------------------------------------------------------

function* keepOneOutput(s: ModelSpec): Generator<ModelSpec> {
  if (s.outputs.length < 2) return;
  for (const o of s.outputs) yield { ...cloneSpec(s), outputs: [o] };
}

/** Earliest tensors first: the biggest cuts. */
function* truncate(s: ModelSpec): Generator<ModelSpec> {
  for (const n of s.nodes) for (const o of n.outputs) if (!(s.outputs.length === 1 && s.outputs[0] === o)) yield { ...cloneSpec(s), outputs: [o] };
}

function* bypass(s: ModelSpec): Generator<ModelSpec> {
  let g;
  try {
    g = readSpec(s);
  } catch {
    return;
  }
  for (const [i, n] of s.nodes.entries()) {
    if (n.outputs.length !== 1) continue;
    const out = g.tensors.get(n.outputs[0]!)!;
    for (const input of new Set(n.inputs)) {
      const t = g.tensors.get(input);
      if (!t || t.kind === 'constant' || t.dtype !== out.dtype || t.shape.join() !== out.shape.join()) continue;
      const c = cloneSpec(s);
      c.nodes.splice(i, 1);
      const rename = (x: string) => (x === n.outputs[0] ? input : x);
      for (const m of c.nodes) m.inputs = m.inputs.map(rename);
      c.outputs = [...new Set(c.outputs.map(rename))];
      yield c;
    }
  }
}

function* promote(s: ModelSpec): Generator<ModelSpec> {
  let g;
  try {
    g = readSpec(s);
  } catch {
    return;
  }
  const consumed = new Set(s.nodes.flatMap((n) => n.inputs));
  for (const n of s.nodes) {
    for (const o of n.outputs) {
      const t = g.tensors.get(o);
      if (!t || !consumed.has(o) || t.dtype === 'ternary' || t.dtype === 'binary') continue;
      const c = cloneSpec(s);
      const decl: TensorSpec = { dtype: t.dtype, shape: [...t.shape] };
      if (t.quant) {
        // A quantized activation's scale is computed; as an input it gets a constant one.
        const scale = `${o}.input_scale`;
        c.tensors[scale] = { dtype: 'float32', shape: [1], data: Float32Array.of(0.03125) };
        decl.quant = { scale, granularity: 'per_tensor' };
      }
      if (t.range) decl.range = [...t.range];
      c.tensors[o] = decl;
      // The producer keeps its place (a node may have other outputs) but writes a tensor nobody reads.
      const p = c.nodes.find((m) => m.name === n.name)!;
      p.outputs = p.outputs.map((x) => (x === o ? `${o}__dropped` : x));
      c.inputs = [...c.inputs, o];
      yield c;
    }
  }
}

function* shrinkDims(s: ModelSpec): Generator<ModelSpec> {
  const dims = new Set<number>();
  for (const t of Object.values(s.tensors)) for (const d of t.shape) if (d > 1) dims.add(d);
  for (const d of [...dims].sort((a, b) => b - a))
    for (const to of [...new Set([1, Math.floor(d / 2), d - 1])].filter((x) => x >= 1 && x < d)) {
      const c = resizeDim(s, d, to);
      if (c) yield c;
    }
}

/** Every axis of size `from` in the inputs and constants becomes `to`: constants keep their first
 * `to` entries along it; the per-row and per-group scales of low-bit weights follow their rows and
 * groups. Undefined if nothing changed. */
function resizeDim(s: ModelSpec, from: number, to: number): ModelSpec | undefined {
  const c = cloneSpec(s);
  const weightScales = new Set<string>();
  for (const t of Object.values(s.tensors))
    if ((t.dtype === 'ternary' || t.dtype === 'binary') && t.quant && t.quant.granularity !== 'per_tensor') weightScales.add(t.quant.scale);
  let changed = false;
  for (const [name, t] of Object.entries(c.tensors)) {
    if (weightScales.has(name) || !t.shape.includes(from)) continue;
    const shape = t.shape.map((d) => (d === from ? to : d));
    if (t.data) t.data = sliceData(t.data, t.shape, shape);
    t.shape = shape;
    changed = true;
  }
  if (!changed) return undefined;
  for (const [name, t] of Object.entries(c.tensors)) {
    const old = s.tensors[name]!;
    if (!weightScales.has(t.quant?.scale ?? '') || old.shape.join() === t.shape.join()) continue;
    const q = t.quant!;
    const [planes, n, k] = t.shape.length === 3 ? (t.shape as [number, number, number]) : [1, t.shape[0]!, t.shape[1]!];
    const [, n0, k0] = old.shape.length === 3 ? (old.shape as [number, number, number]) : [1, old.shape[0]!, old.shape[1]!];
    const g0 = q.granularity === 'per_group' ? Math.ceil(k0 / q.group_size!) : 1;
    if (q.granularity === 'per_group' && q.group_size! > k) q.group_size = k;
    const g = q.granularity === 'per_group' ? Math.ceil(k / q.group_size!) : 1;
    const oldScales = s.tensors[q.scale]!.data as Float32Array;
    const scales = new Float32Array(planes * n * g);
    for (let p = 0; p < planes; p++)
      for (let r = 0; r < n; r++) for (let j = 0; j < g; j++) scales[(p * n + r) * g + j] = oldScales[(p * n0 + r) * g0 + Math.min(j, g0 - 1)]!;
    c.tensors[q.scale] = { ...c.tensors[q.scale]!, shape: [scales.length], data: scales };
  }
  return c;
}

/** The leading block of `to` (a shape no larger than `from` on every axis) of row-major data. */
function sliceData(data: TypedData, from: readonly number[], to: readonly number[]): TypedData {
  const count = to.reduce((a, d) => a * d, 1);
  const out = new (data.constructor as new (n: number) => TypedData)(count);
  const strides = from.map((_, i) => from.slice(i + 1).reduce((a, d) => a * d, 1));
  const idx = new Array<number>(to.length).fill(0);
  for (let i = 0; i < count; i++) {
    let src = 0;
    for (let a = 0; a < to.length; a++) src += idx[a]! * strides[a]!;
    (out as unknown as unknown[])[i] = (data as unknown as unknown[])[src];
    for (let a = to.length - 1; a >= 0; a--) {
      if (++idx[a]! < to[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Nodes of `s` by op, for messages. */
export function describeSpec(s: ModelSpec): string {
  const ops = s.nodes.map((n: NodeSpec) => n.op);
  return `${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'} (${ops.join(', ') || 'none'}), ${specElements(s)} elements in inputs and constants`;
}

// ---- decoders -----------------------------------------------------------------------------------

/** The smallest value of each size a random decoder draws (bench/gen/random_lm.ts), largest cuts first. */
const LM_MINIMA: [keyof LmSizes, number][] = [
  ['nLayers', 1],
  ['vocabSize', 11],
  ['hiddenDim', 7],
  ['contextLength', 12],
  ['headsPerKv', 1],
  ['nKvHeads', 1],
  ['headDim', 4],
];

/** Shrink a failing decoder: each size in turn goes to its minimum and stays there while the decoder
 * still fails the same way. */
export async function shrinkDecoder(fails: (sizes: LmSizes) => Promise<boolean>): Promise<LmSizes> {
  const sizes: LmSizes = {};
  for (const [key, min] of LM_MINIMA) {
    const cand = { ...sizes, [key]: min };
    if (await fails(cand)) sizes[key] = min;
  }
  return sizes;
}

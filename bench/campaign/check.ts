// One check of the campaign: random graphs (or one random decoder) compiled for a target, run on it,
// and compared bit for bit with the interpreter; on a bare-metal target the stack painted while a
// model ran must also stay at or below the compile-time estimate. A check says what went wrong per
// case (a finding) or nothing. Shared by the campaign (bench/campaign/run.ts), its shrinker and the
// regression test (test/regressions.test.ts).

import { join } from 'node:path';
import { compileGraph } from '../../compiler/compile.ts';
import { describeMismatch, firstMismatch } from '../../compiler/harness/compare.ts';
import { randomRuns } from '../../compiler/harness/inputs.ts';
import { runLmOnTarget } from '../../compiler/harness/lm_run.ts';
import { logitsHash, type LmJob } from '../../compiler/harness/lm_runner.ts';
import { runInPrograms } from '../../compiler/harness/run_target.ts';
import type { HarnessModel } from '../../compiler/harness/runner.ts';
import { interpret } from '../../compiler/interpret.ts';
import { cloneGraph, type Graph, type TypedData } from '../../compiler/ir.ts';
import { buildLmGraph, type LmBuildOptions } from '../../compiler/lm/build.ts';
import { argmaxToken } from '../../compiler/lm/sample.ts';
import { LmSession } from '../../compiler/lm/session.ts';
import { prepareGraph } from '../../compiler/passes/pipeline.ts';
import { readModel } from '../../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec } from '../../compiler/readers/native/write.ts';
import type { TargetDesc } from '../../compiler/targets.ts';
import type { HostCompiler } from '../../compiler/toolchain/build.ts';
import { estimateStack } from '../../compiler/toolchain/stack_usage.ts';
import { randomModel } from '../gen/random_graph.ts';
import { randomLm, type LmSizes, type RandomLmOptions } from '../gen/random_lm.ts';
import { randomOnnxModel } from '../gen/random_onnx_graph.ts';

/** What went wrong: the compiler refused the graph, the build or run failed, an output differed, or
 * the painted stack exceeded the estimate. */
export type FindingKind = 'compile' | 'build' | 'mismatch' | 'stack';

export interface Finding {
  kind: FindingKind;
  message: string;
}

/** Graph families: the low-bit chains of random_graph.ts, and graphs of every ONNX op the compiler
 * reads (random_onnx_graph.ts), both through the native reader. */
type GraphFamily = 'graph' | 'onnx';

export interface GraphCase {
  family: GraphFamily | 'example';
  seed: number;
  spec: ModelSpec;
  /** A graph read already (the examples): used instead of reading `spec`. */
  graph?: Graph;
  /** A weight format forced on every low-bit layer (`--kernel`), or the compiler's choice. */
  kernel?: string;
}

/** The formats a seed may force, besides the compiler's own choice (docs/kernels.md). */
const FORMATS = ['t2', 't2b', 't5', 't5w', 't6w', 'tbp'] as const;

/** The case a seed makes: even seeds low-bit chains, odd seeds ONNX-op graphs; a third of the chains
 * force a weight format, so every format and its kernels run, not only the ones the compiler picks. */
export function graphCase(seed: number): GraphCase {
  if (seed % 2 === 1) return { family: 'onnx', seed, spec: randomOnnxModel(seed) };
  const kernel = seed % 3 === 0 ? FORMATS[(seed / 6) % FORMATS.length] : undefined;
  return { family: 'graph', seed, spec: randomModel(seed), ...(kernel ? { kernel } : {}) };
}

/** An example model (read already) as a case. */
export function exampleCase(name: string, graph: Graph, seed = 0): GraphCase {
  return { family: 'example', seed, spec: { name, inputs: [], outputs: [], tensors: {}, nodes: [] }, graph };
}

interface Prepared {
  c: GraphCase;
  model: HarnessModel;
  expected: Map<string, TypedData>[];
}

/** Read and compile one case; a forced format the graph has no layer for falls back to the choice. */
function prepare(c: GraphCase, i: number, target: TargetDesc, dir: string): Prepared | Finding {
  let g: Graph;
  try {
    g = c.graph ?? readModel(writeModel(join(dir, 'models', `m${i}`), c.spec));
  } catch (e) {
    return { kind: 'compile', message: `the reader refused it: ${(e as Error).message}` };
  }
  const runs = randomRuns(g, 2, 1000 + c.seed);
  const compile = (kernel?: string) =>
    compileGraph(cloneGraph(g), { target, prefix: `m${i}`, verify: true, skipFitCheck: true, ...(kernel ? { kernel } : {}) });
  let compiled;
  try {
    try {
      compiled = compile(c.kernel);
    } catch (e) {
      if (!c.kernel) throw e;
      compiled = compile();
    }
  } catch (e) {
    return { kind: 'compile', message: (e as Error).message.split('\n')[0]! };
  }
  let expected;
  try {
    // The reference is the graph after the target-independent passes, as `tritc run` checks it: a
    // graph rewrite such as fold-into-lowbit (a constant Add folded into a layer's bias) is defined
    // to round once at compile time (docs/numerics.md, "Graph rewrites"), not op by op as read.
    expected = runs.map((run) => interpret(compiled.graph, run));
  } catch (e) {
    return { kind: 'compile', message: `the interpreter threw: ${(e as Error).message.split('\n')[0]}` };
  }
  return { c, model: { compiled, runs, dir: `m${i}` }, expected };
}

function isFinding(x: Prepared | Finding): x is Finding {
  return 'kind' in x;
}

/** Check cases on a target in few programs; a program that fails to build or run is split in halves
 * until the case that breaks it stands alone. One entry per case: its finding or undefined. */
interface CheckOptions {
  /** Build with gcc or clang (the sanitizer builds) instead of zig cc; the host only. */
  compiler?: HostCompiler;
}

export async function checkGraphs(cases: readonly GraphCase[], target: TargetDesc, dir: string, opts: CheckOptions = {}): Promise<(Finding | undefined)[]> {
  const out: (Finding | undefined)[] = new Array(cases.length).fill(undefined);
  const ready: { index: number; p: Prepared }[] = [];
  cases.forEach((c, i) => {
    const p = prepare(c, i, target, dir);
    if (isFinding(p)) out[i] = p;
    else ready.push({ index: i, p });
  });
  await runGroup(ready, target, dir, out, opts);
  return out;
}

async function runGroup(
  group: { index: number; p: Prepared }[],
  target: TargetDesc,
  dir: string,
  out: (Finding | undefined)[],
  opts: CheckOptions,
): Promise<void> {
  if (group.length === 0) return;
  const sub = join(dir, `${target.name}-${group[0]!.index}-${group.length}`);
  let run;
  try {
    run = await runInPrograms(
      group.map((x) => x.p.model),
      target,
      sub,
      `campaign ${group.length} models`,
      { timeoutSeconds: 300, ...(opts.compiler ? { compiler: opts.compiler } : {}) },
    );
  } catch (e) {
    if (group.length === 1) {
      out[group[0]!.index] = { kind: 'build', message: (e as Error).message.split('\n').slice(0, 4).join(' | ') };
      return;
    }
    const half = Math.ceil(group.length / 2);
    await runGroup(group.slice(0, half), target, dir, out, opts);
    await runGroup(group.slice(half), target, dir, out, opts);
    return;
  }
  for (const [j, { index, p }] of group.entries()) {
    const records = run.records[j]!;
    const bad: string[] = [];
    records.forEach((rec, r) => {
      for (const d of p.model.compiled.emitted.io.outputs) {
        const m = firstMismatch(rec.outputs.get(d.cname)!, p.expected[r]!.get(d.name)!);
        if (m) bad.push(describeMismatch(d.name, r, m));
      }
    });
    if (bad.length) {
      out[index] = { kind: 'mismatch', message: bad[0]! };
      continue;
    }
    if (target.kind === 'baremetal') {
      const painted = Math.max(...records.map((r) => r.stackBytes));
      const est = await estimateStack(p.model.compiled.files, p.model.compiled.emitted.prefix, target);
      if (painted > est.bytes) out[index] = { kind: 'stack', message: `painted stack ${painted} B above the estimate ${est.bytes} B` };
    }
  }
}

// ---- random decoders ----------------------------------------------------------------------------

const PROJECTIONS = [undefined, 'ternary', 'planes', 'intb', 'int8', 'float16'] as const;

/** How a seed builds its decoder: weight kind, prefill chunk, cache type (as test/lm.test.ts). */
function decoderOptions(seed: number): { lm: RandomLmOptions; build: LmBuildOptions } {
  const projections = PROJECTIONS[seed % PROJECTIONS.length];
  return {
    lm: projections ? { projections } : {},
    build: {
      chunk: 1 + (seed % 4),
      kvCache: (['float16', 'float32', 'int8'] as const)[seed % 3],
      // Trit-planes with int8 activations; int8 codes by turns (Int8Linear, or Linear with floats).
      ...(projections === 'planes' || (projections === 'int8' && seed % 4 < 2) ? { activations: 'int8-per-token' as const } : {}),
    },
  };
}

/** Build a random decoder, run a prompt's logits and greedy steps on the target, compare them with
 * the interpreter, and on bare metal the painted stack with the estimate of prefill and decode. */
export async function checkDecoder(seed: number, target: TargetDesc, dir: string, sizes?: LmSizes, opts: CheckOptions = {}): Promise<Finding | undefined> {
  const o = decoderOptions(seed);
  const m = randomLm(seed, { ...o.lm, ...(sizes ? { sizes } : {}) });
  let g: Graph;
  try {
    g = buildLmGraph(m, o.build);
  } catch (e) {
    return { kind: 'compile', message: (e as Error).message.split('\n')[0]! };
  }
  return checkLm(g, seed, target, dir, opts);
}

/** A decoder graph (buildLmGraph's) on a target: a prompt's logits and greedy steps against the
 * interpreter; `salt` varies the prompt. */
export async function checkLm(g: Graph, salt: number, target: TargetDesc, dir: string, opts: CheckOptions = {}): Promise<Finding | undefined> {
  const lm = g.lm!;
  let compiled;
  try {
    compiled = compileGraph(cloneGraph(g), { target, verify: true, skipFitCheck: true });
  } catch (e) {
    return { kind: 'compile', message: (e as Error).message.split('\n')[0]! };
  }
  const context = lm.context;
  const prompt = Array.from({ length: Math.max(1, Math.min(context - 6, 6)) }, (_, i) => (i * 5 + salt) % lm.vocab);
  const steps = Math.min(4, context - prompt.length);
  // The interpreter runs the graph the C was compiled from, after the passes.
  const s = new LmSession(prepareGraph(cloneGraph(g)));
  const forward = s.forward(prompt);
  s.reset();
  let logits = s.prefill(prompt);
  const tokens: number[] = [];
  const hashes: bigint[] = [];
  for (let i = 0; i < steps; i++) {
    if (i > 0) logits = s.decode(tokens[i - 1]!);
    hashes.push(logitsHash(logits));
    tokens.push(argmaxToken(logits));
  }
  const jobs: LmJob[] = [
    { mode: 'forward', tokens: prompt },
    { mode: 'generate', tokens: prompt, steps, temperature: 0 },
  ];
  let run;
  try {
    run = await runLmOnTarget(compiled, jobs, target, dir, { timeoutSeconds: 600, ...(opts.compiler ? { compiler: opts.compiler } : {}) });
  } catch (e) {
    return { kind: 'build', message: (e as Error).message.split('\n').slice(0, 4).join(' | ') };
  }
  for (const [p, w] of forward.entries()) {
    const got = run.results[0]!.logits[p]!;
    const j = w.findIndex((v, k) => !Object.is(v, got[k]));
    if (j >= 0) return { kind: 'mismatch', message: `position ${p} logit ${j}: ${got[j]}, the interpreter ${w[j]}` };
  }
  const gen = run.results[1]!;
  for (const [i, h] of hashes.entries())
    if (gen.hashes[i] !== h || gen.tokens[i] !== tokens[i])
      return { kind: 'mismatch', message: `decode step ${i}: token ${gen.tokens[i]} (logits hash ${gen.hashes[i]}), the interpreter ${tokens[i]} (${h})` };
  if (target.kind === 'baremetal') {
    const painted = Math.max(...run.results.map((r) => r.stackBytes));
    const p = compiled.emitted.prefix;
    let est = 0;
    for (const entry of [`${p}_prefill`, `${p}_decode`]) est = Math.max(est, (await estimateStack(compiled.files, p, target, entry)).bytes);
    if (painted > est) return { kind: 'stack', message: `painted stack ${painted} B above the estimate ${est} B (prefill, decode)` };
  }
  return undefined;
}

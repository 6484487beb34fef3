// run(): compile a model for each target, build it, run it (natively, under qemu-user or on an
// emulated microcontroller) and compare every output with the interpreter's, bit for bit, with what
// each target measured. `tritc run` is this and a printout.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bytesOpt, intOpt, loadOptions, stringOpt, type ParsedArgs } from '../cli/command.ts';
import { compileGraph } from '../compile.ts';
import { TritcError, fail, formatDiagnostic } from '../diagnostics.ts';
import { describeMismatch, firstMismatch } from '../harness/compare.ts';
import { loadInputRuns, randomRuns, saveInputRuns, saveOutputRuns } from '../harness/inputs.ts';
import { runCompiled } from '../harness/run_compiled.ts';
import { interpret } from '../interpret.ts';
import { cloneGraph, elementCount, type Graph, type TypedData } from '../ir.ts';
import { loadModel } from '../readers/index.ts';
import { resolveTargets, type TargetDesc } from '../targets.ts';
import { requireQemu } from '../toolchain/qemu.ts';
import { requireZig } from '../toolchain/zig.ts';
import type { ProgressFn } from '../util/progress.ts';
import { namingOptions, toArgs } from './args.ts';
import { runLanguageModel, type LmRunResult } from './run_lm.ts';
import type { InputsOption, ModelOptions, TensorData } from './types.ts';

/** What one target did with a graph model. */
export interface TargetResult {
  target: string;
  /** Every run ran and was bit-identical with the interpreter. */
  ok: boolean;
  runs: number;
  identical: number;
  /** The model's code, weights and library routines in the program. */
  flashBytes: number | null;
  /** Arena + measured stack + other static data. */
  ramBytes: number | null;
  arenaBytes: number | null;
  stackBytes: number | null;
  /** Median over the runs, on targets that count instructions (cortex-m3/m4, rv32imc). */
  instructionsPerInference: number | null;
  /** ± this many instructions. */
  instructionsResolution: number | null;
  /** The first few differences, one line each. */
  mismatches: string[];
  /** Why the target could not run (a build or toolchain failure). */
  error?: string;
}

export interface GraphRunResult {
  kind: 'graph';
  ok: boolean;
  model: string;
  runs: number;
  /** Where the inputs came from. */
  inputs: string;
  targets: TargetResult[];
  /** The first target's outputs by name, per run (null if no target ran). */
  outputs: Record<string, TensorData>[] | null;
}

export type RunResult = GraphRunResult | LmRunResult;

export interface RunOptions extends ModelOptions {
  /** A target, several, or 'all' (default host). */
  targets?: string | readonly string[];
  /** Inputs: files (as --inputs) or arrays by input name; default `count` seeded random runs. */
  inputs?: InputsOption;
  /** Language models: runs of token ids (instead of `inputs`). */
  tokens?: readonly (readonly number[])[];
  /** Random runs without inputs (default 3) and their seed (default 1). */
  count?: number;
  seed?: number;
  /** Write the first target's outputs (.npy per output, or .npz) / the inputs used. */
  outputs?: string | readonly string[];
  saveInputs?: string | readonly string[];
  kernel?: string;
  maxScratch?: number | string;
  /** Keep the build directories here. */
  keep?: string;
  /** Kill a run after this long (default 600 s; language models 3600 s). */
  timeoutSeconds?: number;
  progress?: ProgressFn;
  /** Hears warnings, e.g. an input file of another dtype converted exactly (default: none). */
  warn?: (message: string) => void;
}

const RUN_FLAGS = [
  'target',
  'inputs',
  'outputs',
  'save-inputs',
  'count',
  'seed',
  'kernel',
  'max-scratch',
  'keep',
  'timeout',
  'input-shape',
  'batch',
  'no-lowbit',
  'context',
  'chunk',
  'kv-cache',
  'activations',
  'weights',
  'ternarize',
  'tokenizer',
] as const;

/** In-memory inputs (the API): each input one run or a list of runs, all the same count. */
export function memoryRuns(g: Graph, given: Readonly<Record<string, TensorData | readonly TensorData[]>>): Map<string, TypedData>[] {
  for (const k of Object.keys(given)) if (!g.inputs.includes(k)) fail('usage', `inputs.${k}`, `is not an input of the model (${g.inputs.join(', ')})`);
  const lists = g.inputs.map((name) => {
    const v = given[name];
    if (v === undefined) fail('usage', 'inputs', `has no value for input "${name}"`);
    return ArrayBuffer.isView(v) ? [v as TensorData] : [...(v as readonly TensorData[])];
  });
  const n = lists[0]?.length ?? 0;
  if (lists.some((l) => l.length !== n)) fail('usage', 'inputs', 'the inputs hold different numbers of runs');
  return Array.from(
    { length: n },
    (_, r) =>
      new Map(
        g.inputs.map((name, i) => {
          const t = g.tensors.get(name)!;
          const v = lists[i]![r]!;
          if (v.length !== elementCount(t.shape))
            fail('usage', `inputs.${name}`, `run ${r} holds ${v.length} values; the input is ${t.dtype} [${t.shape.join(', ')}]`);
          return [name, v];
        }),
      ),
  );
}

async function runOne(
  target: TargetDesc,
  graph: Graph,
  runs: Map<string, TypedData>[],
  expected: Map<string, TypedData>[],
  workDir: string,
  opts: { timeoutSeconds: number; kernel?: string; maxScratch?: number; lowBit: boolean; progress?: ProgressFn; at: { done: number; total: number } },
): Promise<{ row: TargetResult; outputs?: Map<string, TypedData>[] }> {
  const row: TargetResult = {
    target: target.name,
    ok: false,
    runs: runs.length,
    identical: 0,
    flashBytes: null,
    ramBytes: null,
    arenaBytes: null,
    stackBytes: null,
    instructionsPerInference: null,
    instructionsResolution: null,
    mismatches: [],
  };
  const say = (text: string) => opts.progress?.(`${target.name}: ${text}`, opts.at);
  try {
    say('compiling');
    const compiled = compileGraph(cloneGraph(graph), { target, verify: true, kernel: opts.kernel, maxScratch: opts.maxScratch, lowBit: opts.lowBit });
    say(`building and running ${runs.length} run${runs.length === 1 ? '' : 's'}`);
    const m = await runCompiled(compiled, runs, join(workDir, target.name), {
      timeoutSeconds: opts.timeoutSeconds,
      onRuns: (done) => opts.progress?.(`${target.name}: runs`, { done, total: runs.length }),
    });
    m.outputs.forEach((outs, r) => {
      let same = true;
      for (const name of graph.outputs) {
        const d = firstMismatch(outs.get(name)!, expected[r]!.get(name)!);
        if (!d) continue;
        same = false;
        if (row.mismatches.length < 5) row.mismatches.push(describeMismatch(name, r, d));
      }
      if (same) row.identical++;
    });
    Object.assign(row, {
      flashBytes: m.flashBytes,
      ramBytes: m.ramBytes,
      arenaBytes: m.arenaBytes,
      stackBytes: m.stackBytes,
      instructionsPerInference: m.instructionsPerInference,
      instructionsResolution: m.instructionsResolution,
    });
    row.ok = row.identical === runs.length;
    return { row, outputs: m.outputs };
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    row.error = e.diagnostics.map(formatDiagnostic).join('; ');
    return { row };
  }
}

/** What `tritc run` does, from its parsed arguments (`memory`: the API's in-memory inputs or tokens). */
export async function runModel(
  path: string,
  args: ParsedArgs,
  hooks: { progress?: ProgressFn; warn?: (message: string) => void } = {},
  memory: { inputs?: Readonly<Record<string, TensorData | readonly TensorData[]>>; tokens?: readonly (readonly number[])[] } = {},
): Promise<RunResult> {
  const targets = resolveTargets(stringOpt(args, 'target') ?? 'host');
  const load = loadOptions(args);
  hooks.progress?.(`reading ${path}`);
  const graph = loadModel(path, load);
  if (graph.lm) return runLanguageModel(graph, targets, args, hooks, memory.tokens);
  if (memory.tokens) fail('usage', 'tokens', 'are for language models; this model takes inputs');
  // Fail early, with the install hint, rather than after the first build.
  requireZig();
  for (const t of targets) requireQemu(t);
  const inputsSpec = stringOpt(args, 'inputs');
  const seed = intOpt(args, 'seed', 1);
  const { runs, batched } = memory.inputs
    ? { runs: memoryRuns(graph, memory.inputs), batched: true }
    : inputsSpec
      ? loadInputRuns(graph, inputsSpec, hooks.warn)
      : { runs: randomRuns(graph, intOpt(args, 'count', 3, 1), seed), batched: true };
  const expected = runs.map((r, i) => {
    hooks.progress?.('interpreting', { done: i, total: runs.length });
    return interpret(graph, r);
  });
  const keep = stringOpt(args, 'keep');
  const workDir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'tritc-run-'));
  const timeoutSeconds = intOpt(args, 'timeout', 600, 1);
  const rows: TargetResult[] = [];
  let firstOutputs: Map<string, TypedData>[] | undefined;
  try {
    for (const [i, t] of targets.entries()) {
      const { row, outputs } = await runOne(t, graph, runs, expected, workDir, {
        timeoutSeconds,
        kernel: stringOpt(args, 'kernel'),
        maxScratch: bytesOpt(args, 'max-scratch'),
        lowBit: load.lowBit,
        progress: hooks.progress,
        at: { done: i, total: targets.length },
      });
      rows.push(row);
      firstOutputs ??= outputs;
    }
  } finally {
    if (!keep) rmSync(workDir, { recursive: true, force: true });
  }
  const saveInputs = stringOpt(args, 'save-inputs');
  if (saveInputs) saveInputRuns(graph, runs, saveInputs, batched);
  const outSpec = stringOpt(args, 'outputs');
  if (outSpec && firstOutputs) saveOutputRuns(graph, firstOutputs, outSpec, batched);
  return {
    kind: 'graph',
    ok: rows.every((r) => r.ok),
    model: graph.name,
    runs: runs.length,
    inputs: memory.inputs ? 'arrays given' : (inputsSpec ?? `random (seed ${seed})`),
    targets: rows,
    outputs: firstOutputs ? firstOutputs.map((m) => Object.fromEntries(m)) : null,
  };
}

/** Compile `model` for each target, run it there and compare with the interpreter, bit for bit. */
export function run(model: string, options: RunOptions = {}): Promise<RunResult> {
  const { progress, warn, inputs, tokens, ...rest } = options;
  const files = typeof inputs === 'string' || Array.isArray(inputs) ? (inputs as string | readonly string[]) : undefined;
  const memory = inputs !== undefined && files === undefined ? (inputs as Readonly<Record<string, TensorData | readonly TensorData[]>>) : undefined;
  return namingOptions(() => runModel(model, toArgs({ ...rest, inputs: files }, RUN_FLAGS), { progress, warn }, { inputs: memory, tokens }));
}

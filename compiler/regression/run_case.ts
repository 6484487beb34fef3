// One case of `tritc test`: a model compiled for a target, built and run (natively or under QEMU) on
// the manifest's inputs and its labelled set, its outputs compared bit for bit with the goldens, and
// its flash, RAM, instructions and accuracy held to the budgets. With bisect, a differing case is
// built again with layer dumps to find the first layer where the target and the interpreter part.

import { join } from 'node:path';
import { compileGraph, type Compiled } from '../compile.ts';
import { TritcError, formatDiagnostic } from '../diagnostics.ts';
import { f32Text, firstMismatch, type Mismatch } from '../harness/compare.ts';
import { bisectLayers, unflatIndex } from '../harness/layers.ts';
import { runLmOnTarget } from '../harness/lm_run.ts';
import { runCompiled } from '../harness/run_compiled.ts';
import { interpret } from '../interpret.ts';
import { cloneGraph, type Graph, type TypedData } from '../ir.ts';
import { getTarget, type TargetDesc } from '../targets.ts';
import { formatBytesPair, formatCount } from '../util/format.ts';
import { inputRuns, labelledRuns, readGolden, readGoldenLogits, tokenRuns, type Runs } from './golden.ts';
import { budgetsFor, budgetWhere, type Budgets, type ModelEntry } from './manifest.ts';
import type { TestCase } from './cases.ts';

/** A model as its cases need it: loaded once, shared by its targets. */
export type LoadedModel =
  | { kind: 'graph'; graph: Graph; runs: Runs; golden: Runs; labelled?: { runs: Runs; labels: number[] }; compile: CompileChoices }
  | { kind: 'lm'; graph: Graph; runs: number[][]; golden: Float32Array[][]; compile: CompileChoices };

export interface CompileChoices {
  kernel?: string;
  maxScratch?: number;
  lowBit: boolean;
}

interface BudgetCheck {
  name: keyof Budgets;
  limit: number;
  /** null: not measured on this target. */
  value: number | null;
  ok: boolean;
  /** The manifest field that set it. */
  where: string;
}

/** The first element that differs from the golden. */
interface CaseMismatch {
  output: string;
  run: number;
  /** Flat element index; `at` is its index in the output's shape (for a language model: [position, logit]). */
  index: number;
  at: number[];
  got: number;
  want: number;
  gotBits?: string;
  wantBits?: string;
}

export interface CaseResult {
  id: string;
  model: string;
  target: string;
  status: 'pass' | 'fail' | 'error';
  /** Runs (language models: positions) compared, and how many were bit-identical. */
  compared: number;
  identical: number;
  mismatch: CaseMismatch | null;
  flashBytes: number | null;
  ramBytes: number | null;
  arenaBytes: number | null;
  stackBytes: number | null;
  /** Per inference, or per token for a language model; null where the target cannot count. */
  instructions: number | null;
  instructionsPer: 'inference' | 'token';
  accuracy: number | null;
  budgets: BudgetCheck[];
  /** The per-layer comparison, with --bisect on a differing case. */
  bisect: string | null;
  /** Why the case failed or could not run, one line each. */
  problems: string[];
  seconds: number;
}

export interface CaseOptions {
  workDir: string;
  timeoutSeconds: number;
  bisect: boolean;
  /** What the case is doing now, for the progress line. */
  onPhase?: (text: string) => void;
}

function describe(m: CaseMismatch, source: string, lm: boolean): string {
  const bits = m.gotBits ? ` (bits ${m.gotBits} vs ${m.wantBits})` : '';
  const where = lm ? `run ${m.run} position ${m.at[0]} logit ${m.at[1]}` : `output "${m.output}" run ${m.run} element ${m.index} [${m.at.join(', ')}]`;
  const v = (x: number) => (m.gotBits ? f32Text(x) : String(x));
  return `${where}: ${source} gave ${v(m.got)}, the golden ${v(m.want)}${bits}`;
}

function toCaseMismatch(output: string, run: number, m: Mismatch, shape: readonly number[]): CaseMismatch {
  return {
    output,
    run,
    index: m.index,
    at: m.index < 0 ? [] : unflatIndex(m.index, shape),
    got: m.got,
    want: m.want,
    ...(m.gotBits ? { gotBits: m.gotBits, wantBits: m.wantBits } : {}),
  };
}

/** The class a run's output picks: the value of a one-element integer output (ArgMax), else the
 * index of the largest element (the first, on a tie). */
function predictedClass(v: TypedData): number {
  if (v.length === 1 && !(v instanceof Float32Array)) return Number(v[0]);
  let best = 0;
  for (let i = 1; i < v.length; i++) if (Number(v[i]) > Number(v[best])) best = i;
  return best;
}

function checkBudgets(m: ModelEntry, target: string, r: CaseResult): void {
  const b = budgetsFor(m, target);
  const add = (name: keyof Budgets, value: number | null, ok: (limit: number, v: number) => boolean) => {
    const limit = b[name];
    if (limit === undefined) return;
    const where = budgetWhere(m, target, name);
    const pass = value !== null && ok(limit, value);
    r.budgets.push({ name, limit, value, ok: pass, where });
    if (pass) return;
    if (value === null) r.problems.push(`${name} was not measured on ${target}, but ${where} sets a budget`);
    else if (name === 'flash' || name === 'ram') {
      const [v, l] = formatBytesPair(value, limit);
      r.problems.push(`${name === 'ram' ? 'RAM' : 'flash'} ${v} exceeds the budget of ${l} (${where})`);
    } else if (name === 'instructions')
      r.problems.push(`${formatCount(value)} instructions per ${r.instructionsPer} exceed the budget of ${formatCount(limit)} (${where})`);
    else r.problems.push(`accuracy ${(value * 100).toFixed(2)} % is below the budget of ${(limit * 100).toFixed(2)} % (${where})`);
  };
  add('flash', r.flashBytes, (l, v) => v <= l);
  add('ram', r.ramBytes, (l, v) => v <= l);
  add('instructions', r.instructions, (l, v) => v <= l);
  add('accuracy', r.accuracy, (l, v) => v >= l);
}

function compileFor(loaded: LoadedModel, target: TargetDesc, opts: CaseOptions, dumpLayers = false): Compiled {
  const { kernel, maxScratch, lowBit } = loaded.compile;
  const progress = opts.onPhase && ((text: string) => opts.onPhase!(`compiling: ${text}`));
  return compileGraph(cloneGraph(loaded.graph), { target, verify: true, kernel, maxScratch, lowBit, dumpLayers, progress });
}

/** Load what a model's cases need: the graph (by the caller's reader), inputs, goldens, labelled set;
 * `warn` hears files of another dtype converted exactly. */
export function loadCaseData(m: ModelEntry, graph: Graph, compile: CompileChoices, warn?: (message: string) => void): LoadedModel {
  if (graph.lm) {
    if (m.labelled)
      throw new TritcError({ code: 'schema', where: `${m.where}.labelled`, message: 'labelled sets (accuracy) are for classifiers, not language models' });
    const runs = tokenRuns(m, graph);
    return { kind: 'lm', graph, runs, golden: readGoldenLogits(m, graph, runs), compile };
  }
  const runs = inputRuns(m, graph, warn);
  const labelled = m.labelled ? labelledRuns(m, graph, warn) : undefined;
  if (m.labelled?.output !== undefined && !graph.outputs.includes(m.labelled.output))
    throw new TritcError({
      code: 'schema',
      where: `${m.where}.labelled.output`,
      message: `"${m.labelled.output}" is not an output of the model (${graph.outputs.join(', ')})`,
    });
  return { kind: 'graph', graph, runs, golden: readGolden(m, graph, runs.length, warn), ...(labelled ? { labelled } : {}), compile };
}

export function emptyResult(c: TestCase): CaseResult {
  return {
    id: c.id,
    model: c.model.name,
    target: c.target,
    status: 'error',
    compared: 0,
    identical: 0,
    mismatch: null,
    flashBytes: null,
    ramBytes: null,
    arenaBytes: null,
    stackBytes: null,
    instructions: null,
    instructionsPer: 'inference',
    accuracy: null,
    budgets: [],
    bisect: null,
    problems: [],
    seconds: 0,
  };
}

export async function runCase(c: TestCase, loaded: LoadedModel, opts: CaseOptions): Promise<CaseResult> {
  const t0 = performance.now();
  const r = emptyResult(c);
  const dir = join(opts.workDir, c.id.replace(/[^A-Za-z0-9._@-]/g, '_'));
  try {
    const target = getTarget(c.target);
    if (loaded.kind === 'lm') await runLmCase(loaded, target, r, dir, opts);
    else await runGraphCase(c, loaded, target, r, dir, opts);
    checkBudgets(c.model, c.target, r);
    r.status = r.problems.length ? 'fail' : 'pass';
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    r.status = 'error';
    r.problems.push(...e.diagnostics.map(formatDiagnostic));
  }
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}

async function runGraphCase(
  c: TestCase,
  loaded: LoadedModel & { kind: 'graph' },
  target: TargetDesc,
  r: CaseResult,
  dir: string,
  opts: CaseOptions,
): Promise<void> {
  const { graph, runs, golden, labelled } = loaded;
  opts.onPhase?.('compiling');
  const compiled = compileFor(loaded, target, opts);
  const all = [...runs, ...(labelled?.runs ?? [])];
  opts.onPhase?.(`building and running ${all.length} input${all.length === 1 ? '' : 's'}`);
  const m = await runCompiled(compiled, all, dir, {
    timeoutSeconds: opts.timeoutSeconds,
    onRuns: (done) => opts.onPhase?.(`${done} of ${all.length} inputs run`),
  });
  Object.assign(r, {
    flashBytes: m.flashBytes,
    ramBytes: m.ramBytes,
    arenaBytes: m.arenaBytes,
    stackBytes: m.stackBytes,
    instructions: m.instructionsPerInference,
  });
  r.compared = runs.length;
  for (let i = 0; i < runs.length; i++) {
    let same = true;
    for (const name of graph.outputs) {
      const d = firstMismatch(m.outputs[i]!.get(name)!, golden[i]!.get(name)!);
      if (!d) continue;
      same = false;
      r.mismatch ??= toCaseMismatch(name, i, d, graph.tensors.get(name)!.shape);
    }
    if (same) r.identical++;
  }
  if (labelled) {
    const out = c.model.labelled!.output ?? graph.outputs[0]!;
    const outs = m.outputs.slice(runs.length);
    const right = outs.filter((o, i) => predictedClass(o.get(out)!) === labelled.labels[i]).length;
    r.accuracy = right / Math.max(1, outs.length);
  }
  if (!r.mismatch) return;
  r.problems.push(`${r.identical}/${r.compared} runs bit-identical; first difference: ${describe(r.mismatch, target.name, false)}`);
  if (opts.bisect) {
    opts.onPhase?.(`bisecting run ${r.mismatch.run}: every layer's outputs`);
    r.bisect = await bisect(loaded, target, runs[r.mismatch.run]!, golden[r.mismatch.run]!, join(dir, 'bisect'), opts);
  }
}

/** Rebuild with layer dumps, run the one differing input, and compare every layer with the interpreter. */
async function bisect(
  loaded: LoadedModel,
  target: TargetDesc,
  run: ReadonlyMap<string, TypedData>,
  golden: ReadonlyMap<string, TypedData>,
  dir: string,
  opts: CaseOptions,
): Promise<string> {
  const compiled = compileFor(loaded, target, opts, true);
  const m = await runCompiled(compiled, [run], dir, { timeoutSeconds: opts.timeoutSeconds, dumpLayers: true });
  const res = bisectLayers(compiled.graph, run, m.layers!);
  if (res.first) {
    const f = res.first;
    const bits = f.mismatch.gotBits ? ` (bits ${f.mismatch.gotBits} vs ${f.mismatch.wantBits})` : '';
    const v = (x: number) => (f.mismatch.gotBits ? f32Text(x) : String(x));
    return `first differing layer: step ${f.step} "${f.node}" (${f.op}), output "${f.tensor}" element ${f.mismatch.index} [${f.at.join(', ')}]: ${target.name} gave ${v(f.mismatch.got)}, the interpreter ${v(f.mismatch.want)}${bits} (${res.compared - 1} layer outputs before it agree)`;
  }
  // The target agrees with the interpreter at every layer: the goldens, not the code, moved.
  const now = interpret(compiled.graph, run);
  for (const [name, want] of golden) {
    const d = firstMismatch(now.get(name)!, want);
    if (d)
      return `every layer (${res.compared} outputs) agrees with the interpreter, which now gives output "${name}" element ${d.index} = ${d.gotBits ? f32Text(d.got) : d.got}, the golden ${d.gotBits ? f32Text(d.want) : d.want}: the model or the compiler changed since the goldens were written (tritc test --update if that is intended)`;
  }
  return `every layer (${res.compared} outputs) agrees with the interpreter, and so do the outputs: the difference did not reproduce`;
}

async function runLmCase(loaded: LoadedModel & { kind: 'lm' }, target: TargetDesc, r: CaseResult, dir: string, opts: CaseOptions): Promise<void> {
  const { runs, golden } = loaded;
  r.instructionsPer = 'token';
  opts.onPhase?.('compiling');
  const compiled = compileFor(loaded, target, opts);
  opts.onPhase?.(`building and running ${runs.length} token sequence${runs.length === 1 ? '' : 's'}`);
  const run = await runLmOnTarget(
    compiled,
    runs.map((tokens) => ({ mode: 'forward' as const, tokens })),
    target,
    dir,
    { timeoutSeconds: opts.timeoutSeconds },
  );
  const stack = Math.max(...run.results.map((x) => x.stackBytes));
  Object.assign(r, { flashBytes: run.footprint.flash, ramBytes: run.footprint.ram + stack, arenaBytes: compiled.plan.arenaBytes, stackBytes: stack });
  const tokens = runs.reduce((a, x) => a + x.length, 0);
  if (target.counter) r.instructions = Math.round((run.results.reduce((a, x) => a + x.counters[0]!, 0) * target.counter.instructionsPerUnit) / tokens);
  const vocab = loaded.graph.lm!.vocab;
  run.results.forEach((res, i) =>
    golden[i]!.forEach((want, p) => {
      r.compared++;
      const d = firstMismatch(res.logits[p]!, want);
      if (!d) r.identical++;
      else r.mismatch ??= toCaseMismatch('logits', i, { ...d, index: p * vocab + d.index }, [runs[i]!.length, vocab]);
    }),
  );
  if (!r.mismatch) return;
  r.problems.push(`${r.identical}/${r.compared} positions bit-identical; first difference: ${describe(r.mismatch, target.name, true)}`);
  if (opts.bisect) r.bisect = 'per-layer dumps are for graph models; a language model is compared position by position (the logits above)';
}

// run() on a language model: token ids in, every position's logits out, on every target against the
// interpreter (from an empty cache); and the compile-build-run step `tritc generate` shares.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bytesOpt, intOpt, stringOpt, type ParsedArgs } from '../cli/command.ts';
import { compileGraph, type Compiled } from '../compile.ts';
import { fail, formatDiagnostic, TritcError } from '../diagnostics.ts';
import { randomTokenRuns, readTokenRuns, writeOutputFile } from '../harness/inputs.ts';
import { runLmOnTarget } from '../harness/lm_run.ts';
import type { LmJob, LmJobResult } from '../harness/lm_runner.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { cloneGraph, type Graph } from '../ir.ts';
import { LmSession } from '../lm/session.ts';
import type { TargetDesc } from '../targets.ts';
import { requireQemu } from '../toolchain/qemu.ts';
import { requireZig } from '../toolchain/zig.ts';
import type { ProgressFn } from '../util/progress.ts';

/** What one target did with a language model. */
export interface LmTargetResult {
  target: string;
  ok: boolean;
  /** Positions (run) or steps (generate) bit-identical with the interpreter, of how many. */
  identical: number;
  total: number;
  flashBytes: number | null;
  ramBytes: number | null;
  arenaBytes: number | null;
  stackBytes: number | null;
  /** Bare-metal targets: instructions per token (decode steps for generate; all tokens for run). */
  instructionsPerToken: number | null;
  /** Hosted targets (qemu-user: emulated time): tokens per second. */
  tokensPerSecond: number | null;
  mismatches: string[];
  error?: string;
}

export interface LmRunResult {
  kind: 'lm';
  ok: boolean;
  model: string;
  runs: number;
  /** Tokens per run. */
  tokens: number[];
  /** Where the token ids came from. */
  inputs: string;
  targets: LmTargetResult[];
  /** The first target's logits: per run, per position, the vocabulary's (null if no target ran). */
  logits: Float32Array[][] | null;
}

export async function compileAndRunLm(
  graph: Graph,
  target: TargetDesc,
  jobs: LmJob[],
  workDir: string,
  args: ParsedArgs,
  onToken?: (id: number) => void,
): Promise<{ compiled: Compiled; results: LmJobResult[]; row: LmTargetResult }> {
  const compiled = compileGraph(cloneGraph(graph), { target, verify: true, kernel: stringOpt(args, 'kernel'), maxScratch: bytesOpt(args, 'max-scratch') });
  const run = await runLmOnTarget(compiled, jobs, target, join(workDir, target.name), { timeoutSeconds: intOpt(args, 'timeout', 3600, 1), onToken });
  const stack = Math.max(...run.results.map((r) => r.stackBytes));
  const row: LmTargetResult = {
    target: target.name,
    ok: false,
    identical: 0,
    total: 0,
    flashBytes: run.footprint.flash,
    ramBytes: run.footprint.ram + stack,
    arenaBytes: compiled.plan.arenaBytes,
    stackBytes: stack,
    instructionsPerToken: null,
    tokensPerSecond: null,
    mismatches: [],
  };
  return { compiled, results: run.results, row };
}

export function lmSpeed(row: LmTargetResult, target: TargetDesc, counters: number[], ns: number[], tokens: number): void {
  if (target.counter) row.instructionsPerToken = Math.round((counters.reduce((a, b) => a + b, 0) * target.counter.instructionsPerUnit) / tokens);
  else if (ns.some((v) => v > 0)) row.tokensPerSecond = tokens / (ns.reduce((a, b) => a + b, 0) / 1e9);
}

function isBatched(path: string): boolean {
  return readNpy(new Uint8Array(readFileSync(path)), path).shape.length === 2;
}

/** `tritc run` on a language model, from its parsed arguments; `tokens` (the API) instead of --inputs. */
export async function runLanguageModel(
  graph: Graph,
  targets: TargetDesc[],
  args: ParsedArgs,
  hooks: { progress?: ProgressFn } = {},
  tokens?: readonly (readonly number[])[],
): Promise<LmRunResult> {
  const lm = graph.lm!;
  requireZig();
  for (const t of targets) requireQemu(t);
  const inputs = stringOpt(args, 'inputs');
  const runs = tokens
    ? tokens.map((r, i) =>
        r.map((v, p) => {
          if (!(Number.isInteger(v) && v >= 0 && v < lm.vocab))
            fail('usage', 'tokens', `run ${i} position ${p} is ${v}, outside the vocabulary [0, ${lm.vocab})`);
          return v;
        }),
      )
    : inputs
      ? readTokenRuns(inputs, lm.vocab)
      : randomTokenRuns(graph, intOpt(args, 'count', 3, 1), intOpt(args, 'seed', 1));
  if (runs.length === 0 || runs.some((r) => r.length === 0)) fail('usage', tokens ? 'tokens' : '--inputs', 'needs at least one run of at least one token');
  for (const r of runs)
    if (r.length > lm.context)
      fail('usage', inputs ?? '', `${r.length} tokens exceed the context of ${lm.context} positions (compile with --context ${r.length} or more)`);
  const session = new LmSession(graph);
  const expected = runs.map((r, i) => {
    hooks.progress?.('interpreting', { done: i, total: runs.length });
    session.reset();
    return session.forward(r);
  });
  const keep = stringOpt(args, 'keep');
  const workDir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'tritc-lm-'));
  const rows: LmTargetResult[] = [];
  let firstLogits: Float32Array[][] | undefined;
  try {
    for (const [i, t] of targets.entries()) {
      hooks.progress?.(`${t.name}: compiling, building and running ${runs.length} run${runs.length === 1 ? '' : 's'}`, { done: i, total: targets.length });
      try {
        const { results, row } = await compileAndRunLm(
          graph,
          t,
          runs.map((tokens) => ({ mode: 'forward', tokens })),
          workDir,
          args,
        );
        results.forEach((res, r) => {
          expected[r]!.forEach((want, p) => {
            row.total++;
            const got = res.logits[p]!;
            const j = want.findIndex((v, k) => !Object.is(v, got[k]));
            if (j < 0) row.identical++;
            else if (row.mismatches.length < 5) row.mismatches.push(`run ${r}, position ${p}: logit ${j} is ${got[j]}, the interpreter gives ${want[j]}`);
          });
        });
        row.ok = row.identical === row.total;
        lmSpeed(
          row,
          t,
          results.map((r) => r.counters[0]!),
          results.map((r) => r.nanoseconds[0]!),
          runs.reduce((a, r) => a + r.length, 0),
        );
        firstLogits ??= results.map((r) => r.logits);
        rows.push(row);
      } catch (e) {
        if (!(e instanceof TritcError)) throw e;
        rows.push({
          target: t.name,
          ok: false,
          identical: 0,
          total: 0,
          flashBytes: null,
          ramBytes: null,
          arenaBytes: null,
          stackBytes: null,
          instructionsPerToken: null,
          tokensPerSecond: null,
          mismatches: [],
          error: e.diagnostics.map(formatDiagnostic).join('; '),
        });
      }
    }
  } finally {
    if (!keep) rmSync(workDir, { recursive: true, force: true });
  }
  const outputs = stringOpt(args, 'outputs');
  if (outputs && firstLogits) {
    const t = runs[0]!.length;
    const data = new Float32Array(runs.length * t * lm.vocab);
    firstLogits.forEach((run, r) => run.forEach((l, p) => data.set(l, (r * t + p) * lm.vocab)));
    writeOutputFile(
      outputs,
      writeNpy({ dtype: 'float32', shape: inputs && runs.length === 1 && !isBatched(inputs) ? [t, lm.vocab] : [runs.length, t, lm.vocab], data }),
    );
  }
  return {
    kind: 'lm',
    ok: rows.every((r) => r.ok),
    model: graph.name,
    runs: runs.length,
    tokens: runs.map((r) => r.length),
    inputs: tokens ? 'tokens given' : (inputs ?? `random (seed ${intOpt(args, 'seed', 1)})`),
    targets: rows,
    logits: firstLogits ?? null,
  };
}

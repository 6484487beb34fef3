// Measurements the language-model benchmarks share (bench:lm, bench:formats): a compiled model's
// decode and prefill speed on the host, and its footprint and instructions per token on a
// microcontroller under QEMU (-icount: deterministic counts).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileGraph, type Compiled } from '../../compiler/compile.ts';
import { DTYPE_INFO } from '../../compiler/dtypes.ts';
import { runLmOnTarget } from '../../compiler/harness/lm_run.ts';
import type { LmJob } from '../../compiler/harness/lm_runner.ts';
import { writeWeightsBlob } from '../../compiler/harness/run_target.ts';
import { cloneGraph, type Graph } from '../../compiler/ir.ts';
import { buildLmGraph, type LmBuildOptions } from '../../compiler/lm/build.ts';
import type { LmModel } from '../../compiler/lm/model.ts';
import { prepareGraph } from '../../compiler/passes/pipeline.ts';
import { getTarget, RUNTIME_DIR, type TargetDesc } from '../../compiler/targets.ts';
import { buildProgram, exec } from '../../compiler/toolchain/build.ts';
import { hostHarness } from './host_harness.ts';

export interface HostRow {
  build: string;
  decode: number;
  prefill: number;
  /** Read bandwidth over 512 MiB (DRAM), and over a buffer the size of bytesPerToken (the bound's). */
  readGBs: number;
  readStepGBs: number;
  bytesPerToken: number;
  boundTokensPerS: number;
  headShare: number;
  weightsBytes: number;
}

export async function hostRun(name: string, model: LmModel, opts: LmBuildOptions & { kernel?: string }, work: string, quick: boolean): Promise<HostRow> {
  const target = getTarget('host');
  const g = prepareGraph(buildLmGraph(model, { context: 1024, chunk: 32, kvCache: 'float16', ...opts }));
  const c = compileGraph(cloneGraph(g), { target, kernel: opts.kernel, skipFitCheck: true });
  const dir = join(work, `host-${name.replace(/[^a-z0-9]+/gi, '-')}`);
  const modelDir = join(dir, 'model');
  mkdirSync(modelDir, { recursive: true });
  for (const [rel, text] of c.files) if ((rel.endsWith('.h') || rel === 'model.c') && typeof text === 'string') writeFileSync(join(modelDir, rel), text);
  writeWeightsBlob(c, modelDir);
  writeFileSync(join(dir, 'bench_lm.c'), hostHarness(c.emitted.prefix, model.config.vocabSize));
  const built = await buildProgram({
    target,
    dir,
    modelSources: [join(modelDir, 'model.c'), ...(c.emitted.blob ? [join(modelDir, 'weights.S')] : []), ...c.emitted.runtime.map((r) => join(RUNTIME_DIR, r))],
    runnerSources: [join(dir, 'bench_lm.c')],
    includeDirs: [RUNTIME_DIR, dir],
    output: 'bench_lm',
  });
  const bytes = bytesPerToken(g, c, 8 + (quick ? 32 : 128) / 2);
  const r = await exec(built.program, [...(quick ? ['32', '128', '1'] : ['128', '512', '3']), String(Math.round(bytes.total))], {
    cwd: dir,
    timeoutMs: 3600_000,
  });
  if (r.code !== 0) throw new Error(`${built.program} failed: ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { decodeTokensPerS: number; prefillTokensPerS: number; readGBs: number; readStepGBs: number };
  return {
    build: name,
    decode: res.decodeTokensPerS,
    prefill: res.prefillTokensPerS,
    readGBs: res.readGBs,
    readStepGBs: res.readStepGBs,
    bytesPerToken: bytes.total,
    boundTokensPerS: (res.readStepGBs * 1e9) / bytes.total,
    headShare: bytes.head / bytes.total,
    weightsBytes: c.weightsBytes,
  };
}

/** Bytes a decode step reads: every weight once (the embedding: one row), and the cache up to `pos`. */
function bytesPerToken(g: Graph, c: Compiled, pos: number): { total: number; head: number } {
  const embed = c.emitted.constantBytes.get('token_embd') ?? 0;
  const embedRow = embed / g.lm!.vocab;
  const head = c.emitted.constantBytes.get('output') ?? 0;
  let cachePerPos = 0;
  for (const t of g.tensors.values()) if (t.kind === 'state') cachePerPos += t.shape[1]! * DTYPE_INFO[t.dtype].bytes;
  const total = c.weightsBytes - embed + embedRow + cachePerPos * pos;
  return { total, head };
}

/**
 * Flash, RAM (stack included) and instructions per decoded token of `model` on a microcontroller
 * target; with `delta`, the model is built with run-time deltas and the blob is loaded from flash first.
 */
export async function mcuRun(
  target: TargetDesc,
  model: LmModel,
  opts: LmBuildOptions,
  steps: number,
  dir: string,
  delta?: Uint8Array,
): Promise<{ flashBytes: number; ramBytes: number; instructionsPerToken: number }> {
  const g = prepareGraph(buildLmGraph(model, { context: 128, chunk: 4, kvCache: 'float16', ...opts, ...(delta ? { deltas: true } : {}) }));
  const c = compileGraph(cloneGraph(g), { target });
  const prompt = [1, 400, 300, 500].map((t) => t % model.config.vocabSize);
  const jobs: LmJob[] = [
    ...(delta ? [{ mode: 'delta' as const, tokens: [], blob: delta, where: 'flash' as const }] : []),
    { mode: 'generate', tokens: prompt, steps },
  ];
  const run = await runLmOnTarget(c, jobs, target, dir);
  if (delta && run.results[0]!.status !== 0) throw new Error(`the delta did not load (status ${run.results[0]!.status})`);
  const res = run.results[delta ? 1 : 0]!;
  const decode = res.counters.slice(1);
  return {
    flashBytes: run.footprint.flash,
    ramBytes: run.footprint.ram + res.stackBytes,
    instructionsPerToken: Math.round((decode.reduce((a, b) => a + b, 0) * target.counter!.instructionsPerUnit) / decode.length),
  };
}

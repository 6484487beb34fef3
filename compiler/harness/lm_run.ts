// Build a compiled language model with the LM runner (lm_runner.ts) for a target, run it, and bring
// back what it computed, for comparison with the interpreter.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Compiled } from '../compile.ts';
import { fail } from '../diagnostics.ts';
import { RUNTIME_DIR, TARGETS_DIR, type TargetDesc } from '../targets.ts';
import { buildProgram, type HostCompiler } from '../toolchain/build.ts';
import { measureObjects, type Footprint } from '../toolchain/elf.ts';
import { requireQemu } from '../toolchain/qemu.ts';
import { requireZig } from '../toolchain/zig.ts';
import { decodeLmResults, encodeLmJobs, generateLmRunner, runnerDeltas, type LmJob, type LmJobResult } from './lm_runner.ts';
import { executeOnTarget, writeWeightsBlob } from './run_target.ts';

export interface LmTargetRun {
  results: LmJobResult[];
  footprint: Footprint;
  program: string;
}

/** `onToken` hears each generated token as the program prints it (the runner prints "token <id>"). */
export async function runLmOnTarget(
  compiled: Compiled,
  jobs: readonly LmJob[],
  target: TargetDesc,
  workDir: string,
  opts: { timeoutSeconds?: number; onToken?: (id: number) => void; compiler?: HostCompiler } = {},
): Promise<LmTargetRun> {
  requireZig();
  requireQemu(target);
  const lm = compiled.graph.lm;
  if (!lm) throw new Error('internal: runLmOnTarget needs a language model');
  const modelDir = join(workDir, 'model');
  mkdirSync(modelDir, { recursive: true });
  for (const [rel, text] of compiled.files) if ((rel.endsWith('.h') || rel === 'model.c') && typeof text === 'string') writeFileSync(join(modelDir, rel), text);
  writeWeightsBlob(compiled, modelDir);
  writeFileSync(join(workDir, 'lm_runner.c'), generateLmRunner(compiled.emitted.prefix, lm.vocab, runnerDeltas(jobs)));
  writeFileSync(join(workDir, 'lm_in.bin'), encodeLmJobs(jobs));
  const runtime = [...new Set([...compiled.emitted.runtime, 'ref/tn_sample.c', 'ref/tn_math.c'])].sort();
  const built = await buildProgram({
    target,
    compiler: opts.compiler,
    dir: workDir,
    modelSources: [join(modelDir, 'model.c'), ...(compiled.emitted.blob ? [join(modelDir, 'weights.S')] : []), ...runtime.map((r) => join(RUNTIME_DIR, r))],
    runnerSources: [join(workDir, 'lm_runner.c')],
    includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common'), workDir],
    output: `lm-runner-${target.name}.elf`,
  });
  let pending = '';
  const onStdout = opts.onToken
    ? (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const l of lines) {
          const m = /^token (-?\d+)$/.exec(l.trim());
          if (m) opts.onToken!(Number(m[1]));
        }
      }
    : undefined;
  await executeOnTarget(target, built.program, workDir, opts.timeoutSeconds ?? 1200, onStdout);
  const outPath = join(workDir, 'lm_out.bin');
  if (!existsSync(outPath)) fail('toolchain', target.name, `the LM runner wrote no lm_out.bin (${built.program} in ${workDir})`);
  let decoded;
  try {
    decoded = decodeLmResults(new Uint8Array(readFileSync(outPath)), jobs, lm.vocab);
  } catch (e) {
    fail('toolchain', target.name, `${(e as Error).message} (from ${built.program} in ${workDir})`);
  }
  return { results: decoded.results, footprint: measureObjects(built.program, built.modelObjects), program: built.program };
}

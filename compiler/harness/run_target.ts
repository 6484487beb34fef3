// Build a runner with one or more compiled models for a target, run it (natively, under qemu-user or
// on a bare-metal QEMU machine) and bring back outputs, instruction counts, stack use and sizes.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../diagnostics.ts';
import { RUNTIME_DIR, TARGETS_DIR, type TargetDesc } from '../targets.ts';
import { buildProgram, exec, type HostCompiler } from '../toolchain/build.ts';
import { measureObjects, type Footprint } from '../toolchain/elf.ts';
import { requireQemu } from '../toolchain/qemu.ts';
import { requireZig } from '../toolchain/zig.ts';
import { writeContent, type Compiled } from '../compile.ts';
import { decodeLayerDumps, type LayerDump } from './layers.ts';
import { decodeOutputs, encodeInputs, generateRunner, PROGRESS_PREFIX, type HarnessModel, type RunRecord } from './runner.ts';

export interface TargetRun {
  target: string;
  program: string;
  /** Per model, per run. */
  records: RunRecord[][];
  /** Per model: flash and static RAM of the model's own code, weights and arena in the program. */
  footprints: Footprint[];
  /** Wall-clock seconds of the build and of the run. */
  buildSeconds: number;
  runSeconds: number;
  /** With `dumpLayers`: every layer's outputs, as the program computed them. */
  layers?: LayerDump[];
}

export interface RunTargetOptions {
  /** Seconds before the emulator is killed. */
  timeoutSeconds?: number;
  title?: string;
  /** The model was compiled with `dumpLayers`: the runner records every layer's outputs (one model only). */
  dumpLayers?: boolean;
  /** Hears how many runs (of the first model) are done, on long input sets. */
  onRuns?: (done: number) => void;
  /** Build with this host compiler instead of zig cc (the sanitizer builds). */
  compiler?: HostCompiler;
}

export async function runOnTarget(models: readonly HarnessModel[], target: TargetDesc, workDir: string, opts: RunTargetOptions = {}): Promise<TargetRun> {
  requireZig();
  requireQemu(target);
  mkdirSync(workDir, { recursive: true });
  const runtime = new Set<string>();
  for (const m of models) {
    const dir = join(workDir, m.dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.h'), m.compiled.emitted.header);
    writeFileSync(join(dir, 'model.c'), m.compiled.emitted.source);
    writeWeightsBlob(m.compiled, dir);
    for (const r of m.compiled.emitted.runtime) runtime.add(r);
  }
  writeFileSync(
    join(workDir, 'runner.c'),
    generateRunner(models, opts.title ?? models.map((m) => m.compiled.graph.name).join(', '), { dumpLayers: opts.dumpLayers }),
  );
  writeFileSync(join(workDir, 'inputs.bin'), encodeInputs(models));

  const t0 = performance.now();
  const runtimeSources = [...runtime].sort().map((r) => join(RUNTIME_DIR, r));
  const built = await buildProgram({
    target,
    compiler: opts.compiler,
    dir: workDir,
    modelSources: [
      ...models.flatMap((m) => [join(workDir, m.dir, 'model.c'), ...(m.compiled.emitted.blob ? [join(workDir, m.dir, 'weights.S')] : [])]),
      ...runtimeSources,
    ],
    runnerSources: [join(workDir, 'runner.c')],
    includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common'), workDir],
    output: `runner-${target.name}.elf`,
  });
  const t1 = performance.now();

  const outPath = join(workDir, 'outputs.bin');
  await executeOnTarget(target, built.program, workDir, opts.timeoutSeconds ?? 600, opts.onRuns && progressLines(opts.onRuns));
  const t2 = performance.now();
  const how = `${target.qemu ? `${target.qemu.command} ` : ''}${built.program} in ${workDir}`;
  if (!existsSync(outPath)) fail('toolchain', target.name, `the test program wrote no outputs.bin (${how})`);
  let decoded;
  try {
    decoded = decodeOutputs(new Uint8Array(readFileSync(outPath)), models);
  } catch (e) {
    fail('toolchain', target.name, `${(e as Error).message} (from ${how})`);
  }

  let layers: LayerDump[] | undefined;
  if (opts.dumpLayers) {
    const layersPath = join(workDir, 'layers.bin');
    if (!existsSync(layersPath)) fail('toolchain', target.name, `the test program wrote no layers.bin (${how})`);
    try {
      layers = decodeLayerDumps(new Uint8Array(readFileSync(layersPath)));
    } catch (e) {
      fail('toolchain', target.name, `${(e as Error).message} (from ${how})`);
    }
  }

  // Each model's objects: its model.o, plus the runtime objects (shared, counted for every model).
  const runtimeObjects = built.modelObjects.slice(models.length);
  const footprints = models.map((_, i) => measureObjects(built.program, [built.modelObjects[i]!, ...runtimeObjects]));
  return {
    target: target.name,
    program: built.program,
    records: decoded.models,
    footprints,
    buildSeconds: (t1 - t0) / 1000,
    runSeconds: (t2 - t1) / 1000,
    ...(layers ? { layers } : {}),
  };
}

/** A console listener that hears the runner's "tn:run <n>" lines. */
function progressLines(onRuns: (done: number) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) if (l.startsWith(`${PROGRESS_PREFIX} `)) onRuns(Number(l.slice(PROGRESS_PREFIX.length + 1)));
  };
}

/**
 * Run models on a target in as few programs as fit its flash and RAM (each model has its own static
 * arena, LUT tables included, so a microcontroller holds only some of them at once); the records and
 * footprints come back in model order.
 */
export async function runInPrograms(
  models: readonly HarnessModel[],
  target: TargetDesc,
  dir: string,
  title: string,
  opts: Omit<RunTargetOptions, 'title'> = {},
): Promise<TargetRun> {
  const parts: HarnessModel[][] = [];
  let ram = 0;
  let flash = 0;
  const ramMax = target.memory ? (target.memory.ram - 16384) * 0.7 : Infinity;
  const flashMax = target.memory ? target.memory.flash * 0.6 : Infinity;
  for (const m of models) {
    const r = m.compiled.plan.arenaBytes + m.compiled.ioBytes;
    const f = m.compiled.weightsBytes + 4096;
    if (parts.length === 0 || ram + r > ramMax || flash + f > flashMax) {
      parts.push([]);
      ram = 0;
      flash = 0;
    }
    parts.at(-1)!.push(m);
    ram += r;
    flash += f;
  }
  const runs: TargetRun[] = [];
  for (const [b, part] of parts.entries()) runs.push(await runOnTarget(part, target, parts.length > 1 ? join(dir, `part${b}`) : dir, { ...opts, title }));
  return { ...runs[0]!, records: runs.flatMap((r) => r.records), footprints: runs.flatMap((r) => r.footprints) };
}

/** weights.bin and a weights.S that names it by its absolute path (several models may be built
 * together, each with its own weights.bin). */
export function writeWeightsBlob(c: Compiled, dir: string): void {
  const blob = c.emitted.blob;
  if (!blob) return;
  writeContent(join(dir, 'weights.bin'), blob.parts);
  writeFileSync(join(dir, 'weights.S'), blob.asm.replace('.incbin "weights.bin"', `.incbin "${join(dir, 'weights.bin')}"`));
}

/** Run a built program on its target (natively, qemu-user or bare-metal QEMU) in `cwd`; a nonzero
 * exit, a crash or a timeout is an error that shows the program's last lines of output. */
/** `onOutput` hears the program's console as it comes (stdout, and stderr where QEMU's semihosting
 * console writes), for streaming. */
export async function executeOnTarget(
  target: TargetDesc,
  program: string,
  cwd: string,
  timeoutSeconds: number,
  onOutput?: (chunk: string) => void,
): Promise<void> {
  const qemu = requireQemu(target);
  const cmd = qemu ?? program;
  const args = target.qemu ? target.qemu.args.map((a) => a.replace('{elf}', program)) : [];
  const timeoutMs = timeoutSeconds * 1000;
  const r = await exec(cmd, args, { cwd, timeoutMs, onStdout: onOutput, onStderr: onOutput });
  const shown = (r.stderr + r.stdout)
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith(`${PROGRESS_PREFIX} `))
    .slice(-15)
    .join('\n');
  if (r.timedOut) fail('toolchain', target.name, `the test program did not finish within ${timeoutSeconds} s (${cmd} ${args.join(' ')})\n${shown}`);
  if (r.code !== 0)
    fail('toolchain', target.name, `the test program exited with ${r.code ?? r.signal} (${cmd} ${args.join(' ')} in ${cwd})${shown ? `:\n${shown}` : ''}`);
}

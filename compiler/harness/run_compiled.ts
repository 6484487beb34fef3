// One compiled graph model on one target: build it with the runner, run every input set, and bring
// back the outputs by name with what the target measured (flash, RAM, stack, instructions). Shared by
// `tritc run`, `tritc test` and the package's run().

import type { Compiled } from '../compile.ts';
import type { TypedData } from '../ir.ts';
import type { LayerDump } from './layers.ts';
import { runOnTarget } from './run_target.ts';
import { median } from '../util/stats.ts';

export interface Measured {
  /** Per run, every graph output by name. */
  outputs: Map<string, TypedData>[];
  /** The model's code, weights and the library routines it calls. */
  flashBytes: number;
  /** Static RAM (arena and other data) plus the deepest stack a run used. */
  ramBytes: number;
  arenaBytes: number;
  stackBytes: number;
  /** Median over the runs, on targets that count instructions; else null. */
  instructionsPerInference: number | null;
  /** ± this many instructions (the counter's resolution). */
  instructionsResolution: number | null;
  buildSeconds: number;
  runSeconds: number;
  /** With `dumpLayers` (the model compiled with it): every layer's outputs. */
  layers?: LayerDump[];
}

export async function runCompiled(
  compiled: Compiled,
  runs: readonly ReadonlyMap<string, TypedData>[],
  workDir: string,
  opts: { timeoutSeconds?: number; dumpLayers?: boolean; onRuns?: (done: number) => void } = {},
): Promise<Measured> {
  const target = compiled.target;
  const res = await runOnTarget([{ compiled, runs: [...runs], dir: 'model' }], target, workDir, opts);
  const records = res.records[0]!;
  const outputs = records.map((rec) => new Map(compiled.emitted.io.outputs.map((d) => [d.name, rec.outputs.get(d.cname)!])));
  const stack = Math.max(...records.map((r) => r.stackBytes));
  const fp = res.footprints[0]!;
  return {
    outputs,
    flashBytes: fp.flash,
    ramBytes: fp.ram + stack,
    arenaBytes: compiled.plan.arenaBytes,
    stackBytes: stack,
    instructionsPerInference: target.counter ? Math.round(median(records.map((r) => r.counter)) * target.counter.instructionsPerUnit) : null,
    instructionsResolution: target.counter ? target.counter.resolutionInstructions : null,
    buildSeconds: res.buildSeconds,
    runSeconds: res.runSeconds,
    ...(res.layers ? { layers: res.layers } : {}),
  };
}

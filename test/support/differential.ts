// Differential testing: many models, one test program per target, every output compared bit for
// bit with the interpreter.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileGraph } from '../../compiler/compile.ts';
import { readModel } from '../../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec } from '../../compiler/readers/native/write.ts';
import { describeMismatch, firstMismatch } from '../../compiler/harness/compare.ts';
import { randomRuns } from '../../compiler/harness/inputs.ts';
import { runInPrograms, type TargetRun } from '../../compiler/harness/run_target.ts';
import type { HarnessModel } from '../../compiler/harness/runner.ts';
import { interpret } from '../../compiler/interpret.ts';
import type { TypedData } from '../../compiler/ir.ts';
import type { TargetDesc } from '../../compiler/targets.ts';

export function workDir(stem: string): string {
  return mkdtempSync(join(tmpdir(), `tritc-${stem}-`));
}

export interface DifferentialResult {
  failures: string[];
  models: number;
  runs: number;
  run: TargetRun;
}

/** Write each spec to disk, read it back (exercising the reader), compile, run on `target`, compare. */
export async function differential(specs: readonly ModelSpec[], target: TargetDesc, dir: string, runsPerModel = 2): Promise<DifferentialResult> {
  const models: HarnessModel[] = [];
  const expected: Map<string, TypedData>[][] = [];
  specs.forEach((spec, i) => {
    const g = readModel(writeModel(join(dir, 'models', `m${i}`), spec));
    // Many models share one program: their arenas stay in .bss (together they outgrow the M4's CCM).
    const compiled = compileGraph(g, { target, prefix: `m${i}`, verify: true, skipFitCheck: true, arenaSection: null });
    const runs = randomRuns(g, runsPerModel, 1000 + i);
    expected.push(runs.map((run) => interpret(g, run)));
    models.push({ compiled, runs, dir: `m${i}` });
  });
  const run = await runInPrograms(models, target, join(dir, target.name), `${models.length} differential models`);
  const failures: string[] = [];
  run.records.forEach((records, i) => {
    records.forEach((rec, r) => {
      for (const d of models[i]!.compiled.emitted.io.outputs) {
        const m = firstMismatch(rec.outputs.get(d.cname)!, expected[i]![r]!.get(d.name)!);
        if (m) failures.push(`${specs[i]!.name} (m${i}) on ${target.name}: ${describeMismatch(d.name, r, m)}`);
      }
    });
  });
  return { failures, models: specs.length, runs: specs.length * runsPerModel, run };
}

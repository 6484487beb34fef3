// Conformance against the ONNX backend node tests: the interpreter against the expected outputs
// (every test whose ops and dtypes tritc supports), the generated C against the interpreter, bit for
// bit, on the host (every passing test, batched into one program) and on cortex-m4 and rv32imc (a
// sample). Writes docs/onnx-support.md, the table of every test with its status and reason.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { describeMismatch, firstMismatch } from '../compiler/harness/compare.ts';
import { runOnTarget } from '../compiler/harness/run_target.ts';
import type { HarnessModel } from '../compiler/harness/runner.ts';
import { cloneGraph, tensorBytes } from '../compiler/ir.ts';
import { getTarget } from '../compiler/targets.ts';
import { readManifest, runCase, supportTable, testNames, type C, type CaseResult } from './support/conformance.ts';
import { workDir } from './support/differential.ts';

let results: CaseResult[] = [];
const c: C = { host: new Set(), mcu: new Map() };

/** Every passing test compiled into one program for `target`; returns the tests that matched and the mismatches. */
async function runC(cases: CaseResult[], target: string): Promise<{ ok: string[]; failures: string[] }> {
  const t = getTarget(target);
  const models: HarnessModel[] = cases.map((r, i) => ({
    compiled: compileGraph(cloneGraph(r.graph!), { target: t, prefix: `t${i}`, verify: true, skipFitCheck: true }),
    runs: [r.inputs!],
    dir: `t${i}`,
  }));
  const run = await runOnTarget(models, t, workDir(`conformance-${target}`), { title: `${cases.length} ONNX backend tests` });
  const ok: string[] = [];
  const failures: string[] = [];
  run.records.forEach((recs, i) => {
    const r = cases[i]!;
    let same = true;
    for (const d of models[i]!.compiled.emitted.io.outputs) {
      const m = firstMismatch(recs[0]!.outputs.get(d.cname)!, r.outputs!.get(d.name)!);
      if (m) {
        same = false;
        failures.push(`${r.name} on ${target}: ${describeMismatch(d.name, 0, m)}`);
      }
    }
    if (same) ok.push(r.name);
  });
  return { ok, failures };
}

describe('ONNX backend node tests', () => {
  beforeAll(() => {
    const manifest = readManifest();
    results = testNames().map((n) => runCase(n, manifest));
  });

  afterAll(() => {
    if (results.length) writeFileSync(join(import.meta.dirname, '..', 'docs', 'onnx-support.md'), supportTable(results, c));
  });

  it('the interpreter matches the expected outputs of every test it supports', () => {
    expect(results.length).toBeGreaterThan(400);
    expect(results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
    // A floor that only goes up: 271 with the op library of issue #4; 326 with ReduceSum/Max/Min,
    // Sum/Max/Min, the comparisons, Exp and empty constant slices (the *_expanded function bodies);
    // 332 with blocked (De)QuantizeLinear, MaxPool's Indices and ReduceMean's empty axes input;
    // 510 of 638 with the ops PyTorch exports (issue 16: activations, Pad, Resize, LSTM, ...).
    expect(results.filter((r) => r.status === 'pass').length).toBeGreaterThanOrEqual(510);
  });

  // Over 500 models in one program: building it takes minutes on two cores.
  it('the generated C matches the interpreter on the host, every passing test in one program', { timeout: 15 * 60_000 }, async () => {
    const pass = results.filter((r) => r.status === 'pass');
    const { ok, failures } = await runC(pass, 'host');
    ok.forEach((n) => c.host.add(n));
    expect(failures).toEqual([]);
    expect(ok.length).toBe(pass.length);
  });

  for (const target of ['cortex-m4', 'rv32imc']) {
    it(`the generated C matches the interpreter on ${target}, a sample`, async () => {
      const pass = results.filter((r) => r.status === 'pass');
      // Every third passing test, at most 60, while the models' activations and inputs/outputs (each
      // model has its own arena) fit in half the target's RAM: the sample covers every op family that
      // passes. The bound is the sum of all non-constant tensors, not the planned arena, so that the
      // sample (and docs/onnx-support.md) does not depend on the planner's search.
      const t = getTarget(target);
      let ram = 0;
      const sample = pass
        .filter((_, i) => i % 3 === (target === 'cortex-m4' ? 0 : 1))
        .filter((r) => {
          const need = [...r.graph!.tensors.values()].filter((x) => x.kind !== 'constant').reduce((a, x) => a + tensorBytes(x), 0) * 2;
          if (ram + need > t.memory!.ram / 2) return false;
          ram += need;
          return true;
        })
        .slice(0, 60);
      const { ok, failures } = await runC(sample.length ? sample : pass.slice(0, 1), target);
      c.mcu.set(target, new Set(ok));
      expect(failures).toEqual([]);
      expect(ok.length).toBe(Math.max(1, sample.length));
    });
  }
});

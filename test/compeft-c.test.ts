// ComPEFT task vectors in a compiled model (runtime-c/ref/tn_delta.c, <prefix>_load_delta;
// docs/formats.md "ComPEFT task vectors"): one firmware per target runs the base, loads delta A
// from RAM, swaps to delta B from flash, is handed a blob for another base, a truncated blob and a
// corrupted one (each refused with its own status, the model still giving B's outputs), swaps back
// to A and removes the delta; every forward pass bit for bit against the interpreter with the same
// delta. The load's cost (counter units; instructions under QEMU icount) is reported.

import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { DELTA_ERRORS } from '../compiler/emit/lm_delta.ts';
import { runLmOnTarget } from '../compiler/harness/lm_run.ts';
import type { LmJob } from '../compiler/harness/lm_runner.ts';
import { cloneGraph } from '../compiler/ir.ts';
import { buildLmGraph } from '../compiler/lm/build.ts';
import { decodeDelta, type TaskDelta } from '../compiler/lm/delta/blob.ts';
import { makeDelta } from '../compiler/lm/delta/make.ts';
import type { LmModel } from '../compiler/lm/model.ts';
import { LmSession } from '../compiler/lm/session.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { loadTargets } from '../compiler/targets.ts';
import { deltaBase, tunedOf } from './support/compeft.ts';
import { workDir } from './support/differential.ts';

function otherBase(base: LmModel): LmModel {
  const tensors = new Map(base.tensors);
  tensors.set('output_norm', { kind: 'float32', shape: [base.config.dim], data: new Float32Array(base.config.dim).fill(1.5) });
  return { ...base, tensors };
}

describe('run-time deltas in the compiled model, bit for bit against the interpreter', () => {
  for (const [targetName, seed, kind] of [
    ['host', 57, undefined],
    ['cortex-m4', 55, 'ternary'],
  ] as const) {
    it(`${targetName}: base, delta A (RAM), delta B (flash), three bad blobs refused, A again, none`, async () => {
      const target = loadTargets().get(targetName)!;
      const base = deltaBase(seed, kind);
      const a = makeDelta(base, tunedOf(base, 1, 0.05), { density: 0.1 });
      const b = makeDelta(base, tunedOf(base, 2, 0.08), { density: 0.3 });
      const foreign = makeDelta(otherBase(base), tunedOf(otherBase(base), 3, 0.05), { density: 0.1 }).blob;
      const truncated = a.blob.subarray(0, a.blob.length - 6);
      const corrupt = a.blob.slice();
      corrupt[40] ^= 0x01;
      const g = buildLmGraph(base, { deltas: true, chunk: 3 });
      const prompt = [1, 5, 2, 8, 3, 9, 4].map((t) => t % base.config.vocabSize);

      // The interpreter: the same sequence of deltas.
      const s = new LmSession(prepareGraph(cloneGraph(g)));
      const forwardWith = (d: TaskDelta | undefined) => {
        s.loadDelta(d, 'delta');
        s.reset();
        return s.forward(prompt);
      };
      const plain = forwardWith(undefined);
      const withA = forwardWith(a.delta);
      const withB = forwardWith(b.delta);
      expect(decodeDelta(a.blob, 'a')).toEqual(a.delta);

      const fwd: LmJob = { mode: 'forward', tokens: prompt };
      const load = (blob: Uint8Array, where: 'ram' | 'flash' = 'ram'): LmJob => ({ mode: 'delta', tokens: [], blob, where });
      const jobs: LmJob[] = [
        fwd,
        load(a.blob),
        fwd,
        load(b.blob, 'flash'),
        fwd,
        load(foreign),
        fwd,
        load(truncated),
        fwd,
        load(corrupt),
        fwd,
        load(a.blob),
        fwd,
        load(new Uint8Array(0)),
        fwd,
      ];
      const want = [plain, withA, withB, withB, withB, withB, withA, plain];
      const wantStatus = [0, 0, DELTA_ERRORS.BASE, DELTA_ERRORS.TRUNCATED, DELTA_ERRORS.CORRUPT, 0, 0];
      const compiled = compileGraph(cloneGraph(g), { target, verify: true, skipFitCheck: true });
      expect(compiled.emitted.header).toContain(`int ${compiled.emitted.prefix}_load_delta(const void *blob, uint32_t len);`);
      const run = await runLmOnTarget(compiled, jobs, target, workDir(`compeft-${targetName}`));
      const forwards = run.results.filter((_, i) => jobs[i]!.mode === 'forward');
      const loads = run.results.filter((_, i) => jobs[i]!.mode === 'delta');
      expect(loads.map((r) => r.status)).toEqual(wantStatus);
      const bad: string[] = [];
      forwards.forEach((r, call) =>
        want[call]!.forEach((w, p) => {
          const j = w.findIndex((v, k) => !Object.is(v, r.logits[p]![k]));
          if (j >= 0) bad.push(`forward ${call} position ${p} logit ${j}: ${r.logits[p]![j]}, the interpreter ${w[j]}`);
        }),
      );
      expect(bad).toEqual([]);
      // Each delta changes the outputs (else the comparison above would not see a swap).
      expect(withA[0]).not.toEqual(plain[0]);
      expect(withB[0]).not.toEqual(withA[0]);
      const unit = target.counter ? `${target.counter.unit} (x${target.counter.instructionsPerUnit} instructions)` : 'counter units';
      const cost = loads.map(
        (r, i) => `${['A ram', 'B flash', 'foreign', 'truncated', 'corrupt', 'A ram', 'none'][i]}: ${r.counters[0]} ${unit}, ${r.nanoseconds[0]} ns`,
      );
      console.log(
        `ComPEFT swap cost on ${targetName} (${base.name}, blobs A ${a.blob.length} B ${b.blob.length} bytes, ${a.stats.kept} and ${b.stats.kept} entries): ${cost.join('; ')}; ` +
          `a forward of ${prompt.length} tokens: ${forwards.map((r) => r.counters[0]).join(', ')}`,
      );
      if (target.counter) expect(loads[1]!.counters[0]).toBeGreaterThan(0);
    }, 900_000);
  }
});

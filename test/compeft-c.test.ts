// ComPEFT task vectors in a compiled model (runtime-c/ref/tn_delta.c, <prefix>_load_delta;
// docs/formats.md "ComPEFT task vectors"): one firmware per target runs the base, loads delta A
// from RAM, swaps to delta B from flash, is handed a blob for another base, a truncated blob and a
// corrupted one (each refused with its own status, the model still giving B's outputs), swaps back
// to A and removes the delta; every forward pass bit for bit against the interpreter with the same
// delta. The load's cost (counter units; instructions under QEMU icount) is reported. On the host,
// randomly damaged blobs get the same verdict from the C loader as from the TypeScript reader.

import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { compileGraph } from '../compiler/compile.ts';
import { DELTA_ERRORS } from '../compiler/emit/lm_delta.ts';
import { runLmOnTarget } from '../compiler/harness/lm_run.ts';
import type { LmJob } from '../compiler/harness/lm_runner.ts';
import { cloneGraph } from '../compiler/ir.ts';
import { buildLmGraph } from '../compiler/lm/build.ts';
import { checkDeltaFits, decodeDelta, type TaskDelta } from '../compiler/lm/delta/blob.ts';
import { makeDelta } from '../compiler/lm/delta/make.ts';
import type { LmModel } from '../compiler/lm/model.ts';
import { LmSession } from '../compiler/lm/session.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { loadTargets } from '../compiler/targets.ts';
import { actOrderDeltaBase, deltaBase, moeDeltaBase, tunedOf } from './support/compeft.ts';
import { workDir } from './support/differential.ts';

function otherBase(base: LmModel): LmModel {
  const tensors = new Map(base.tensors);
  tensors.set('output_norm', { kind: 'float32', shape: [base.config.dim], data: new Float32Array(base.config.dim).fill(1.5) });
  return { ...base, tensors };
}

describe('run-time deltas in the compiled model, bit for bit against the interpreter', () => {
  for (const [targetName, seed, kind, activations] of [
    ['host', 57, undefined, 'float'],
    ['cortex-m4', 55, 'ternary', 'float'],
    ['cortex-m4', 59, 'ternary', 'int8-per-token'],
    ['host', 61, 'moe', 'float'],
    ['cortex-m4', 93, 'act-order', 'float'],
  ] as const) {
    const what = kind === 'moe' ? 'a MoTE base, ' : kind === 'act-order' ? 'act-order GPTQ projections, ' : '';
    it(`${targetName}, ${what}${activations} activations: base, delta A (RAM), delta B (flash), three bad blobs refused, A again, none`, async () => {
      const target = loadTargets().get(targetName)!;
      const base = kind === 'moe' ? moeDeltaBase(seed) : kind === 'act-order' ? actOrderDeltaBase(seed) : deltaBase(seed, kind);
      const a = makeDelta(base, tunedOf(base, 1, 0.05), { density: 0.1 });
      const b = makeDelta(base, tunedOf(base, 2, 0.08), { density: 0.3 });
      const foreign = makeDelta(otherBase(base), tunedOf(otherBase(base), 3, 0.05), { density: 0.1 }).blob;
      const truncated = a.blob.subarray(0, a.blob.length - 6);
      const corrupt = a.blob.slice();
      corrupt[40] ^= 0x01;
      const g = buildLmGraph(base, { deltas: true, chunk: 3, activations });
      // int8 activations: the ternary projections are TernaryLinear, with the int8 form of the term.
      if (activations !== 'float') expect(g.nodes.some((n) => n.op === 'TernaryLinear' && (n.attrs.delta_slot as number) >= 0)).toBe(true);
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
        `ComPEFT swap cost on ${targetName}, ${activations} activations (${base.name}, blobs A ${a.blob.length} B ${b.blob.length} bytes, ${a.stats.kept} and ${b.stats.kept} entries): ${cost.join('; ')}; ` +
          `a forward of ${prompt.length} tokens: ${forwards.map((r) => r.counters[0]).join(', ')}`,
      );
      if (target.counter) expect(loads[1]!.counters[0]).toBeGreaterThan(0);
    }, 900_000);
  }

  it('host: the C loader accepts exactly the damaged blobs the TypeScript reader accepts, with the matching status', async () => {
    const target = loadTargets().get('host')!;
    const base = deltaBase(57);
    const { blob } = makeDelta(base, tunedOf(base, 4, 0.05), { density: 0.05 });
    const g = buildLmGraph(base, { deltas: true, chunk: 2 });
    const info = g.lm!.deltas!;
    const damaged = fc
      .sample(
        fc.record({
          edits: fc.array(fc.record({ at: fc.nat(blob.length - 1), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 3 }),
          fixCrc: fc.boolean(),
          cut: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: blob.length }), weight: 1 }), // 0 bytes: the runner removes the delta
        }),
        { numRuns: 80, seed: 61 },
      )
      .map(({ edits, fixCrc, cut }) => {
        let b = blob.slice();
        for (const e of edits) b[e.at] = e.byte;
        const dv = new DataView(b.buffer);
        if (fixCrc) dv.setUint32(12, crc32(b.subarray(16, Math.min(b.length, dv.getUint32(8, true)))), true);
        if (cut !== null) b = b.subarray(0, cut);
        return b;
      });
    // What tn_delta_load must answer: the TypeScript reader's verdict, in the C loader's order of checks
    // (it checks the base hash before the records).
    const expected = damaged.map((b) => {
      try {
        checkDeltaFits(decodeDelta(b, 'blob'), { hash: info.baseHash, slots: info.slots }, 'blob');
        return 0;
      } catch (e) {
        if (!(e instanceof TritcError)) throw e;
        const m = e.message;
        if (/not a ComPEFT delta/.test(m)) return DELTA_ERRORS.MAGIC;
        if (/format version/.test(m)) return DELTA_ERRORS.VERSION;
        if (/is truncated/.test(m)) return DELTA_ERRORS.TRUNCATED;
        if (/is corrupted/.test(m)) return DELTA_ERRORS.CORRUPT;
        if (/was made for base/.test(m)) return DELTA_ERRORS.BASE;
        const hash = new DataView(b.buffer, b.byteOffset).getBigUint64(16, true);
        return hash !== info.baseHash && !/less than its own header/.test(m) ? DELTA_ERRORS.BASE : DELTA_ERRORS.LAYOUT;
      }
    });
    const tally = new Map<number, number>();
    for (const st of expected) tally.set(st, (tally.get(st) ?? 0) + 1);
    console.log(`damaged blobs by expected status: ${[...tally].map(([st, n]) => `${st}: ${n}`).join(', ')}`);
    expect(tally.size).toBeGreaterThanOrEqual(4); // the sample reaches several checks
    expect(tally.get(DELTA_ERRORS.LAYOUT)).toBeGreaterThan(0);
    const jobs: LmJob[] = damaged.map((b) => ({ mode: 'delta', tokens: [], blob: b, where: 'ram' }));
    const compiled = compileGraph(cloneGraph(g), { target, verify: true, skipFitCheck: true });
    const run = await runLmOnTarget(compiled, jobs, target, workDir('compeft-loader'));
    const got = run.results.map((r) => r.status);
    const differ = got.flatMap((st, i) => (st === expected[i] ? [] : [`blob ${i} (${damaged[i]!.length} bytes): C ${st}, TypeScript ${expected[i]}`]));
    expect(differ).toEqual([]);
  }, 600_000);
});

// ComPEFT task vectors (compiler/lm/delta/, docs/formats.md "ComPEFT task vectors"): the compression
// (top-k of |tau|, alpha = std), the .tdelta blob (round trip, one-line errors for bad blobs) and the
// interpreter's delta term against a float reference with base + alpha * sign merged in.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { baseHash, deltaSlots } from '../compiler/lm/delta/base.ts';
import { decodeDelta, encodeDelta, type TaskDelta } from '../compiler/lm/delta/blob.ts';
import { makeDelta } from '../compiler/lm/delta/make.ts';
import { buildLmGraph } from '../compiler/lm/build.ts';
import { LmSession } from '../compiler/lm/session.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { actOrderDeltaBase, deltaBase, merged, moeDeltaBase, tunedOf } from './support/compeft.ts';
import { scaled } from './support/tier.ts';
import { crc32 } from 'node:zlib';
import { dequantize, referenceLogits } from './support/lm_reference.ts';

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof TritcError) {
      expect(e.diagnostics).toHaveLength(1);
      expect(e.message).not.toContain('\n');
      return e.message;
    }
    throw e;
  }
  throw new Error('expected an error');
}

/** Entries of every projection of `m`. */
function stats0(m: ReturnType<typeof deltaBase>): number {
  return deltaSlots(m.config).reduce((a, s) => a + s.rows * s.cols, 0);
}

describe('compression (ComPEFT top-k, alpha = std)', () => {
  const base = deltaBase(31);
  const tuned = tunedOf(base, 7, 0.05);

  it('keeps the k largest |tau| with their signs and one alpha = std(tau), and reports the ratio', () => {
    const { delta, blob, stats } = makeDelta(base, tuned, { density: 0.1 });
    const taus = deltaSlots(base.config).map((s) => {
      const b = dequantize(base.tensors.get(s.name)!);
      const t = dequantize(tuned.tensors.get(s.name)!);
      return b.map((v, i) => t[i]! - v);
    });
    const all = taus.flatMap((t) => Array.from(t));
    const n = all.length;
    const mean = all.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(stats.parameters).toBe(n);
    expect(stats.sigma).toBeCloseTo(std, 12);
    expect(stats.alpha).toBe(Math.fround(std));
    const k = Math.round(0.1 * n);
    expect(stats.kept).toBe(k); // continuous noise: no ties
    const threshold = [...all].map(Math.abs).sort((a, b) => b - a)[k - 1]!;
    // Every kept entry has |tau| >= threshold and tau's sign; every dropped one is below it.
    let seen = 0;
    const wrong: string[] = [];
    for (const t of delta.tensors) {
      expect(t.alpha).toBe(stats.alpha);
      const tau = taus[t.slot]!;
      const keptAt = new Map<number, number>();
      for (let r = 0; r < t.rows; r++)
        for (let e = t.rowPtr[r]!; e < t.rowPtr[r + 1]!; e++) keptAt.set(r * t.cols + (t.entries[e]! & 0x7fff), t.entries[e]! & 0x8000 ? -1 : 1);
      tau.forEach((v, i) => {
        const sign = keptAt.get(i);
        if (sign === undefined ? Math.abs(v) >= threshold : Math.abs(v) < threshold || sign !== Math.sign(v))
          wrong.push(`slot ${t.slot} entry ${i}: tau ${v}, kept ${sign}`);
        if (sign !== undefined) seen++;
      });
    }
    expect(wrong).toEqual([]);
    expect(seen).toBe(k);
    expect(stats.blobBytes).toBe(blob.length);
    expect(stats.ratio).toBeCloseTo((4 * n) / blob.length, 12);
    // 16 bits per kept entry and a row pointer per row: well under float32's 32 bits per parameter.
    expect(stats.ratio).toBeGreaterThan(5);
    expect(stats.entropyBitsPerParameter).toBeCloseTo(-0.1 * Math.log2(0.1) - 0.9 * Math.log2(0.9) + 0.1, 2);
    console.log(
      `ComPEFT ${base.name}: ${n} parameters, density 0.1: ${stats.kept} kept, alpha ${stats.alpha.toExponential(4)}, blob ${blob.length} bytes, ` +
        `${stats.bitsPerParameter.toFixed(2)} bits/parameter, ratio ${stats.ratio.toFixed(1)}x vs float32 (entropy bound ${stats.entropyBitsPerParameter.toFixed(2)} bits/parameter)`,
    );
  });

  it('keeps ties at the threshold, scales alpha by the factor, and reports changed tensors outside the projections', () => {
    const name = deltaSlots(base.config)[0]!.name;
    const shape = base.tensors.get(name)!.shape;
    const size = shape[0]! * shape[1]!;
    // The first projection is 0 in the base and exactly +-0.5 tuned: one tie above all the noise.
    const b2 = { ...base, tensors: new Map(base.tensors) };
    b2.tensors.set(name, { kind: 'float32', shape, data: new Float32Array(size) });
    const t2 = tunedOf(b2, 8, 0.05);
    t2.tensors.set(name, { kind: 'float32', shape, data: Float32Array.from({ length: size }, (_, i) => (i % 2 ? 0.5 : -0.5)) });
    t2.tensors.set('output_norm', { kind: 'float32', shape: [base.config.dim], data: new Float32Array(base.config.dim).fill(2) });
    const { delta, stats } = makeDelta(b2, t2, { density: 1 / stats0(b2), alphaFactor: 2 });
    expect(stats.kept).toBe(size);
    expect(delta.tensors.map((t) => t.slot)).toEqual([0]);
    expect(stats.alpha).toBe(Math.fround(2 * stats.sigma));
    expect(stats.otherChanged).toEqual(['output_norm']);
  });

  it('refuses a density outside (0, 1] and a tuned model of another architecture, in one line', () => {
    expect(message(() => makeDelta(base, tuned, { density: 0 }))).toMatch(/--density: must be in \(0, 1\]/);
    expect(message(() => makeDelta(base, deltaBase(900), { density: 0.1 }))).toMatch(/same architecture/);
  });
});

describe('the .tdelta blob', () => {
  const base = deltaBase(41, 'ternary');
  const { delta, blob } = makeDelta(base, tunedOf(base, 3, 0.02), { density: 0.2 });

  it('round-trips, and its base hash is the base weights hash', () => {
    const back = decodeDelta(blob, 'd.tdelta');
    expect(back).toEqual(delta);
    expect(back.baseHash).toBe(baseHash(base));
    expect(encodeDelta(back)).toEqual(blob);
  });

  it('rejects truncated, corrupted, foreign and malformed blobs with one line each', () => {
    expect(message(() => decodeDelta(blob.subarray(0, blob.length - 3), 'd.tdelta'))).toMatch(/^d\.tdelta: is truncated: its header says \d+ bytes/);
    expect(message(() => decodeDelta(blob.subarray(0, 10), 'd.tdelta'))).toMatch(/is truncated: 10 bytes/);
    const bad = blob.slice();
    bad[bad.length - 9] ^= 0x10;
    expect(message(() => decodeDelta(bad, 'd.tdelta'))).toMatch(/is corrupted: CRC-32/);
    expect(message(() => decodeDelta(new TextEncoder().encode('GGUF and more bytes than a header holds'), 'x'))).toMatch(/not a ComPEFT delta blob/);
    const v2 = blob.slice();
    v2[4] = 2;
    expect(message(() => decodeDelta(v2, 'd.tdelta'))).toMatch(/format version 2/);
    // A structural error behind a valid CRC: a column past the row's end.
    const t = delta.tensors[0]!;
    const broken: TaskDelta = {
      ...delta,
      tensors: [{ ...t, entries: t.entries.map((e, i) => (i === 0 ? (e & 0x8000) | 0x7fff : e)) }, ...delta.tensors.slice(1)],
    };
    expect(message(() => decodeDelta(encodeDelta(broken), 'd.tdelta'))).toMatch(/row \d+ has column 32767, outside/);
  });

  it('answers any damaged blob with a decoded delta or one TritcError line, never another exception', () => {
    // Damage: overwrite bytes (also past the CRC, with the CRC then recomputed, to reach the structural checks) and cut.
    const damaged = fc.record({
      edits: fc.array(fc.record({ at: fc.nat(blob.length - 1), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
      fixCrc: fc.boolean(),
      cut: fc.option(fc.nat(blob.length)),
    });
    fc.assert(
      fc.property(damaged, ({ edits, fixCrc, cut }) => {
        let b = blob.slice();
        for (const e of edits) b[e.at] = e.byte;
        if (fixCrc) new DataView(b.buffer).setUint32(12, crc32(b.subarray(16, Math.min(b.length, new DataView(b.buffer).getUint32(8, true)))), true);
        if (cut !== null) b = b.subarray(0, cut);
        try {
          decodeDelta(b, 'd.tdelta');
        } catch (e) {
          if (!(e instanceof TritcError)) throw e;
          expect(e.message).toMatch(/^d\.tdelta: [^\n]+$/);
        }
      }),
      { numRuns: scaled(400), seed: 16 },
    );
  });

  it('is refused by a model of another base', () => {
    const g = buildLmGraph(deltaBase(42, 'ternary'), { deltas: true, chunk: 2 });
    expect(message(() => new LmSession(g).loadDelta(delta, 'd.tdelta'))).toMatch(/was made for base [0-9a-f]{16}, this model is base/);
  });
});

describe('a mixture of experts', () => {
  it('takes deltas on its attention and shared-expert projections; changed routed experts are listed, not carried', () => {
    const moe = moeDeltaBase(42);
    const g = buildLmGraph(moe, { deltas: true, chunk: 2 });
    const slotted = g.nodes.filter((n) => (n.attrs.delta_slot as number | undefined) !== undefined && (n.attrs.delta_slot as number) >= 0);
    expect(slotted.map((n) => n.inputs[1]).sort()).toEqual(g.lm!.deltas!.slots.map((s) => s.name).sort());
    expect(g.nodes.filter((n) => n.op === 'ExpertLinear').every((n) => n.attrs.delta_slot === undefined)).toBe(true);
    // A tuned model whose routed expert 0 of layer 0 changed too: that change is reported.
    const tuned = tunedOf(moe, 7, 0.05);
    const e0 = 'blk.0.ffn_up_exps.0';
    tuned.tensors.set(e0, {
      kind: 'float32',
      shape: [...moe.tensors.get(e0)!.shape],
      data: Float32Array.from(dequantize(moe.tensors.get(e0)!), (v) => v + 0.5),
    });
    const made = makeDelta(moe, tuned, { density: 0.1 });
    expect(made.stats.otherChanged).toEqual([e0]);
    // The interpreter: the delta changes the logits, removing it gives the base's back.
    const s = new LmSession(g);
    const tokens = [1, 3, 2].map((t) => t % moe.config.vocabSize);
    const plain = s.forward(tokens);
    s.reset();
    s.loadDelta(made.delta, 'd');
    expect(s.forward(tokens)).not.toEqual(plain);
  });
});

describe('the interpreter with a delta', () => {
  for (const [seed, kind] of [
    [85, undefined],
    [55, 'ternary'],
    [91, 'act-order'],
  ] as const) {
    it(`equals a float reference with base + alpha * sign merged (${kind ?? 'mixed'} projections)`, () => {
      // act-order: GPTQ b-bit projections whose stored columns are permuted (DeltaAdd after Linear).
      const base = kind === 'act-order' ? actOrderDeltaBase(seed) : deltaBase(seed, kind);
      const { delta } = makeDelta(base, tunedOf(base, seed, 0.05), { density: 0.15 });
      const noBias = [...base.tensors.values()].every((t) => !((t.kind === 'ternary' || t.kind === 'intb') && t.bias));
      const g = prepareGraph(buildLmGraph(base, { deltas: true, chunk: 3 }));
      if (kind === 'act-order') expect(g.nodes.filter((n) => n.op === 'DeltaAdd').length).toBeGreaterThan(0);
      const s = new LmSession(g);
      const tokens = [1, 4, 2, 7, 3].map((t) => t % base.config.vocabSize);
      const plain = s.forward(tokens);
      s.reset();
      s.loadDelta(delta, 'd');
      const got = s.forward(tokens);
      // The delta changes the logits; the float reference of the merged weights agrees.
      expect(got.some((l, p) => l.some((v, j) => v !== plain[p]![j]))).toBe(true);
      expect(noBias).toBe(true); // the merged reference has float32 projections, without a static bias
      const ref = referenceLogits(merged(base, delta), tokens);
      const scale = Math.max(1, ...ref.flatMap((l) => Array.from(l, Math.abs)));
      let worst = 0;
      got.forEach((l, p) => l.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ref[p]![j]!) / scale))));
      expect(worst).toBeLessThan(1e-5);
      // Removing the delta gives the base's logits back, bit for bit.
      s.reset();
      s.loadDelta(undefined, 'none');
      expect(s.forward(tokens)).toEqual(plain);
    });
  }
});

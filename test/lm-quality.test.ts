// The quality measures of bench:formats and tritc quantize: KL, perplexity, greedy agreement, and
// the calibration capture that feeds the quantizers.

import { describe, expect, it } from 'vitest';
import { captureProjectionInputs, sampleSequences } from '../compiler/lm/calibrate.ts';
import { klDivergence, LmEvaluator, logSoftmax, measureQuality, qualityReference } from '../compiler/lm/quality.ts';
import { ternarizeModel } from '../compiler/lm/ternarize.ts';
import { randomLm } from '../bench/gen/random_lm.ts';

describe('quality measures', () => {
  it('log softmax and KL divergence match hand-computed values', () => {
    const lp = logSoftmax(Float32Array.of(0, Math.log(3)));
    expect(Math.exp(lp[0]!)).toBeCloseTo(0.25, 7);
    expect(Math.exp(lp[1]!)).toBeCloseTo(0.75, 7);
    const lq = logSoftmax(Float32Array.of(0, 0));
    // KL([1/4, 3/4] || [1/2, 1/2]) = 1/4 ln(1/2) + 3/4 ln(3/2)
    expect(klDivergence(lp, lq)).toBeCloseTo(0.25 * Math.log(0.5) + 0.75 * Math.log(1.5), 6);
    expect(klDivergence(lp, lp)).toBe(0);
  });

  it('a model compared with itself: KL 0, its own perplexity, full greedy agreement; a ternarized copy differs', () => {
    const m = randomLm(31, { projections: 'float32' });
    const seqs = sampleSequences(m, { count: 3, length: 10, seed: 5 });
    expect(seqs).toHaveLength(3);
    seqs.forEach((s) => expect(s).toHaveLength(10));
    // Seeded: the same sequences again.
    expect(sampleSequences(m, { count: 3, length: 10, seed: 5 })).toEqual(seqs);
    const opts = { promptTokens: 4, greedySteps: 5 };
    const ref = qualityReference(new LmEvaluator(m), seqs, opts);
    const self = measureQuality(ref, new LmEvaluator(m));
    expect(self.klMean).toBe(0);
    expect(self.perplexity).toBe(ref.perplexity);
    expect(self.greedyAgreement).toBe(1);
    expect(self.greedyPrefix).toBe(5);
    // Perplexity is at least 1 and at most the vocabulary for a model that is not worse than uniform on its own samples.
    expect(ref.perplexity).toBeGreaterThan(1);
    const t = measureQuality(ref, new LmEvaluator(ternarizeModel(m, { kind: 'per_tensor' })));
    expect(t.klMean).toBeGreaterThan(0);
  });

  it('calibration sees every projection, one row per token, with its input width', () => {
    const m = randomLm(32, { projections: 'float32' });
    const seen = new Map<string, { rows: number; k: number }>();
    captureProjectionInputs(
      m,
      [
        [1, 2, 3, 4, 5],
        [3, 2, 1],
      ],
      (w, x, rows, k) => {
        expect(x.length).toBe(rows * k);
        const e = seen.get(w) ?? { rows: 0, k };
        e.rows += rows;
        seen.set(w, e);
      },
    );
    const c = m.config;
    for (let l = 0; l < c.nLayers; l++)
      for (const p of ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']) {
        const e = seen.get(`blk.${l}.${p}`);
        expect(e?.rows, `blk.${l}.${p}`).toBe(8);
        expect(e!.k).toBe(p === 'attn_output' ? c.nHeads * c.headDim : p === 'ffn_down' ? c.hiddenDim : c.dim);
      }
    expect(seen.get(c.tiedOutput ? 'token_embd' : 'output')?.rows).toBe(8);
  });
});

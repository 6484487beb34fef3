// The campaign's failing cases (npm run campaign, bench/campaign/), shrunk and kept in
// test/regressions/<target>-<family>-<seed>.json: each must now pass on its target. Also the
// shrinker itself, on a failure it can see without a build.

import { describe, expect, it } from 'vitest';
import { describeSpec, shrinkDecoder, shrinkSpec } from '../bench/campaign/shrink.ts';
import { checkRegression, loadRegressions } from '../bench/campaign/regression.ts';
import { readSpec, specElements, specFromJson, specToJson } from '../bench/campaign/spec.ts';
import { randomModel } from '../bench/gen/random_graph.ts';
import { workDir } from './support/differential.ts';

describe('the shrinker', () => {
  it('shrinks a graph to the fewest nodes and smallest shapes that still fail', async () => {
    // The "failure": a Softmax whose input row is at least 2 wide.
    const start = Array.from({ length: 40 }, (_, i) => randomModel(i)).find((s) => s.nodes.length >= 5 && s.nodes.some((n) => n.op === 'Softmax'))!;
    const fails = async (s: typeof start) => {
      const g = readSpec(s);
      return g.nodes.some((n) => n.op === 'Softmax' && g.tensors.get(n.inputs[0]!)!.shape.at(-1)! >= 2);
    };
    const valid = (s: typeof start) => {
      try {
        readSpec(s);
        return true;
      } catch {
        return false;
      }
    };
    const r = await shrinkSpec(start, { valid, fails });
    expect(await fails(r.spec), describeSpec(r.spec)).toBe(true);
    expect(r.nodes.after).toBe(1);
    expect(r.spec.nodes[0]!.op).toBe('Softmax');
    expect(r.elements.after).toBeLessThan(r.elements.before);
    expect(specElements(r.spec)).toBeLessThanOrEqual(4);
  });

  it('sets each decoder size to its minimum while the decoder still fails', async () => {
    const sizes = await shrinkDecoder(async (z) => z.nLayers === undefined || z.nLayers === 1);
    expect(sizes).toEqual({ nLayers: 1, vocabSize: 11, hiddenDim: 7, contextLength: 12, headsPerKv: 1, nKvHeads: 1, headDim: 4 });
    expect(await shrinkDecoder(async (z) => z.headDim === undefined)).toEqual({
      nLayers: 1,
      vocabSize: 11,
      hiddenDim: 7,
      contextLength: 12,
      headsPerKv: 1,
      nKvHeads: 1,
    });
  });

  it('keeps a spec exact through JSON (float bits, int64, codes)', () => {
    const s = randomModel(5);
    const back = specFromJson(JSON.parse(JSON.stringify(specToJson(s))));
    for (const [name, t] of Object.entries(s.tensors)) expect(back.tensors[name]!.data, name).toEqual(t.data);
  });
});

describe('regressions found by the campaign', () => {
  const files = loadRegressions();
  for (const { file, r } of files)
    it(`${file}: ${r.kind} (${r.shrunk})`, { timeout: 10 * 60_000 }, async () => {
      const f = await checkRegression(r, workDir(`regression-${file}`));
      expect(f, `${file}: ${f?.kind}: ${f?.message} (found by ${r.found})`).toBeUndefined();
    });
});

// FINN/Brevitas TFC networks from QONNX files: 500 MNIST test images per model through one
// cortex-m4 firmware under QEMU (inputs by semihosting), bit-exact with the interpreter, and the
// accuracy on that slice. examples/tfc-*/evaluate.ts runs all 10,000 images.

import { describe, expect, it } from 'vitest';
import { interpretImages, loadTfc, mnistRuns, runTfcOnTarget, type TfcModel } from '../examples/tfc.ts';

// Accuracy of the interpreter (and so of the C) on images 0..499; the full test set gives
// 96.60 % and 92.96 % (published: 96.60 % and 93.17 %).
const SLICE: Record<TfcModel, { correct: number; lowBitOp: string }> = {
  TFC_2W2A: { correct: 488, lowBitOp: 'TernaryLinear' },
  TFC_1W1A: { correct: 461, lowBitOp: 'BinaryLinear' },
};

describe('TFC MNIST networks on cortex-m4', () => {
  for (const model of ['TFC_2W2A', 'TFC_1W1A'] as const) {
    it(`${model}: 500 images, one firmware, bit-exact, accuracy on the slice`, async () => {
      const g = loadTfc(model);
      expect(g.nodes.filter((n) => n.op === SLICE[model].lowBitOp)).toHaveLength(4);
      const images = mnistRuns(g, 0, 500);
      const expected = interpretImages(g, images);
      expect(expected.correct).toBe(SLICE[model].correct);
      const r = await runTfcOnTarget(g, images, expected, 'cortex-m4');
      expect({ identical: r.identical, samePrediction: r.samePrediction, correct: r.correct }).toEqual({
        identical: 500,
        samePrediction: 500,
        correct: SLICE[model].correct,
      });
      expect(r.instructionsPerInference).toBeGreaterThan(50_000);
      expect(r.flashBytes).toBeGreaterThan(model === 'TFC_2W2A' ? 16_000 : 8_000);
    });
  }
});

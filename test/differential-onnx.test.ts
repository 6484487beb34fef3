// The ONNX op library, interpreter vs generated C bit for bit: random graphs of every op family
// (bench/gen/random_onnx_graph.ts) on the host and, a smaller sample each, on every QEMU target.
// Missing Zig or QEMU is a failure with an install hint, never a skip.

import { describe, expect, it } from 'vitest';
import { getTarget, loadTargets } from '../compiler/targets.ts';
import { differential, workDir } from './support/differential.ts';
import { randomOnnxModel } from '../bench/gen/random_onnx_graph.ts';
import { scaled } from './support/tier.ts';

const HOST_MODELS = scaled(120);
const QEMU_MODELS = scaled(40);

describe('differential: ONNX ops, interpreter vs generated C', () => {
  it(`agrees bit for bit on ${HOST_MODELS} random ONNX-op graphs on the host`, async () => {
    const specs = Array.from({ length: HOST_MODELS }, (_, i) => randomOnnxModel(i));
    const res = await differential(specs, getTarget('host'), workDir('diff-onnx-host'), 3);
    expect(res.failures).toEqual([]);
  });

  const dir = workDir('diff-onnx-qemu');
  for (const target of [...loadTargets().values()].filter((t) => t.name !== 'host')) {
    it(`agrees bit for bit on ${QEMU_MODELS} random ONNX-op graphs on ${target.name}`, async () => {
      const base = 50_000 + [...loadTargets().keys()].indexOf(target.name) * 1000;
      const specs = Array.from({ length: QEMU_MODELS }, (_, i) => randomOnnxModel(base + i));
      const res = await differential(specs, target, dir, 2);
      expect(res.failures).toEqual([]);
    });
  }
});

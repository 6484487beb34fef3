// A sample of random graphs on every cross target, one program per target, under QEMU.
// Missing Zig or QEMU is a failure with an install hint, never a skip.

import { describe, expect, it } from 'vitest';
import { loadTargets } from '../compiler/targets.ts';
import { differential, workDir } from './support/differential.ts';
import { cornerCaseModels } from './support/corner_cases.ts';
import { memoryCases } from './support/memory_cases.ts';
import { randomModel } from '../bench/gen/random_graph.ts';
import { registerTestOps } from './support/scratch_op.ts';
import { scaled } from './support/tier.ts';

registerTestOps();

const SAMPLE = scaled(48);

describe('differential: interpreter vs generated C under QEMU', () => {
  const dir = workDir('diff-qemu');
  for (const target of [...loadTargets().values()].filter((t) => t.name !== 'host')) {
    it(`agrees bit for bit on ${SAMPLE} random graphs, the corner cases and the memory cases on ${target.name}`, async () => {
      // Different seeds per target, so that the targets together cover more graphs.
      const base = 10_000 + [...loadTargets().keys()].indexOf(target.name) * 1000;
      // Plus hand-written corners and the in-place and scratch cases of the memory planner.
      const specs = [...cornerCaseModels(), ...Array.from({ length: SAMPLE }, (_, i) => randomModel(base + i)), ...memoryCases().map((c) => c.spec)];
      const res = await differential(specs, target, dir, 2);
      expect(res.failures).toEqual([]);
      if (target.counter) expect(res.run.records.flat().every((r) => r.counter > 0)).toBe(true);
      expect(res.run.records.flat().every((r) => r.stackBytes > 0)).toBe(true);
    });
  }
});

// Hundreds of random graphs, compiled into one host program, bit-exact against the interpreter.

import { describe, expect, it } from 'vitest';
import { getTarget } from '../compiler/targets.ts';
import { differential, workDir } from './support/differential.ts';
import { cornerCaseModels } from './support/corner_cases.ts';
import { memoryCases } from './support/memory_cases.ts';
import { randomModel } from '../bench/gen/random_graph.ts';
import { registerTestOps } from './support/scratch_op.ts';
import { scaled } from './support/tier.ts';

registerTestOps();

describe('differential: interpreter vs generated C on the host', () => {
  it('agrees bit for bit on 300 random graphs', async () => {
    const specs = Array.from({ length: scaled(300) }, (_, i) => randomModel(i));
    const res = await differential(specs, getTarget('host'), workDir('diff-host'), 3);
    expect(res.failures).toEqual([]);
    expect(res.runs).toBe(900);
  });

  it('agrees on hand-written corner cases (outputs that are inputs or constants, K = 1, length-1 axes)', async () => {
    const res = await differential(cornerCaseModels(), getTarget('host'), workDir('diff-corners'), 3);
    expect(res.failures).toEqual([]);
  });

  it("agrees on the memory planner's in-place and kernel-scratch cases", async () => {
    const res = await differential(
      memoryCases().map((c) => c.spec),
      getTarget('host'),
      workDir('diff-memory'),
      3,
    );
    expect(res.failures).toEqual([]);
  });
});

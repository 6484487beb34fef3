// The generated C of examples/digits-mlp for two targets is checked in (examples/digits-mlp/snapshots/),
// so that every change to code generation shows up as a diff in review. After an intended change,
// rewrite them with `npm run test:update-snapshots` (vitest -u) and commit the diff.

import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { loadModel } from '../compiler/readers/index.ts';
import { getTarget } from '../compiler/targets.ts';

describe('generated C snapshots of examples/digits-mlp', () => {
  for (const target of ['cortex-m4', 'host']) {
    it(`model.c and model.h for ${target} are as checked in`, async () => {
      // A relative path, so the header's "from ..." is the same on every machine.
      const c = compileGraph(loadModel('examples/digits-mlp'), { target: getTarget(target), verify: true });
      await expect(c.files.get('model.c')).toMatchFileSnapshot(`../examples/digits-mlp/snapshots/${target}/model.c`);
      await expect(c.files.get('model.h')).toMatchFileSnapshot(`../examples/digits-mlp/snapshots/${target}/model.h`);
    });
  }
});

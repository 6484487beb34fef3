// The soft-float fast paths of runtime-c/tn_runtime.h, checked bit for bit against the host's IEEE
// arithmetic: tn_fmul, the exact float multiply, on 45 million operand pairs (test/c/fmul_check.c),
// and tn_scale_i32 / tn_scale_rows, the LUT and int8 kernels' whole epilogue ((float)sum * ws) * sx
// (+ bias) on cores without an FPU (Cortex-M3, RV32IMC), on 30 million triples and 4 million outputs
// in runs, built once with the host's count-leading-zeros and once with the table search RV32IMC
// uses (test/c/scale_check.c). The kernels themselves are checked on those cores by
// test/kernels.test.ts.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_DIR } from '../compiler/targets.ts';
import { exec } from '../compiler/toolchain/build.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { workDir } from './support/differential.ts';

describe('tn_fmul', () => {
  it('equals the IEEE single-precision multiply (round to nearest even) bit for bit', async () => {
    const dir = workDir('fmul');
    const exe = join(dir, 'fmul_check');
    const cc = await exec(requireZig().path, ['cc', '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-ffp-contract=off', `-I${RUNTIME_DIR}`, join(import.meta.dirname, 'c', 'fmul_check.c'), '-o', exe]);
    expect(cc.stderr).toBe('');
    const r = await exec(exe, [], { timeoutMs: 120_000 });
    expect(r.stdout.trim()).toBe('0 of 44999999 differ');
    expect(r.code).toBe(0);
  }, 180_000);
});

describe('tn_scale_i32', () => {
  for (const [name, defines] of [['count-leading-zeros', []], ['table search (RV32IMC)', ['-DTN_TEST_NO_CLZ']]] as const)
    it(`equals ((float)v * ws) * sx in IEEE single precision bit for bit (${name})`, async () => {
      const dir = workDir('scale');
      const exe = join(dir, `scale_check${defines.length}`);
      const cc = await exec(requireZig().path, ['cc', '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-ffp-contract=off', ...defines, `-I${RUNTIME_DIR}`, join(import.meta.dirname, 'c', 'scale_check.c'), '-o', exe]);
      expect(cc.stderr).toBe('');
      const r = await exec(exe, [], { timeoutMs: 120_000 });
      expect(r.stdout.trim()).toBe('0 of 34097001 differ');
      expect(r.code).toBe(0);
    }, 180_000);
});

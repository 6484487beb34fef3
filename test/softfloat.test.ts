// tn_fmul (runtime-c/tn_runtime.h): the fast exact float multiply that the LUT and int8 kernels'
// epilogues use on cores without an FPU (Cortex-M3, RV32IMC), checked bit for bit against the
// host's IEEE multiply on 45 million operand pairs (test/c/fmul_check.c). The kernels themselves
// are checked on those cores by test/kernels.test.ts.

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

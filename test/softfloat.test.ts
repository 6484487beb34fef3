// The soft-float fast paths of runtime-c/tn_epilogue.h, checked bit for bit against the host's IEEE
// arithmetic: tn_scale_i32 / tn_scale_rows, the LUT and int8 kernels' whole epilogue
// ((float)sum * ws) * sx (+ bias, tn_add_fast) on cores without an FPU (Cortex-M3, RV32IMC): on the
// host (its C integer path forced on) on 30 million triples, 20 million sums and 4 million outputs
// in runs, built once with the host's count-leading-zeros and once with the table search RV32IMC
// uses (test/c/scale_check.c); then on rv32imc (its assembly loop) and cortex-m3 under QEMU against
// the interpreter's arithmetic (test/c/scale_target_check.c). The kernels themselves are checked on
// those cores by test/kernels.test.ts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeOnTarget } from '../compiler/harness/run_target.ts';
import { add, f32Bits, f32FromBits, i2f, mul } from '../compiler/numerics/f32.ts';
import { getTarget, RUNTIME_DIR, TARGETS_DIR } from '../compiler/targets.ts';
import { buildProgram, exec } from '../compiler/toolchain/build.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { workDir } from './support/differential.ts';

describe('tn_scale_i32', () => {
  for (const [name, defines] of [
    ['count-leading-zeros', []],
    ['table search (RV32IMC)', ['-DTN_TEST_NO_CLZ']],
  ] as const)
    it(`equals ((float)v * ws) * sx in IEEE single precision bit for bit (${name})`, async () => {
      const dir = workDir('scale');
      const exe = join(dir, `scale_check${defines.length}`);
      const cc = await exec(requireZig().path, [
        'cc',
        '-O2',
        '-std=c99',
        '-Wall',
        '-Wextra',
        '-Werror',
        '-pedantic',
        '-ffp-contract=off',
        ...defines,
        `-I${RUNTIME_DIR}`,
        join(import.meta.dirname, 'c', 'scale_check.c'),
        '-o',
        exe,
      ]);
      expect(cc.stderr).toBe('');
      const r = await exec(exe, [], { timeoutMs: 120_000 });
      expect(r.stdout.trim()).toBe('0 of 54089752 differ');
      expect(r.code).toBe(0);
    }, 180_000);
});

describe('tn_scale_rows on the soft-float targets', () => {
  // RV32IMC runs its assembly loop (rv32imc-zbb: with CLZ for the normalising shift), Cortex-M3
  // the C integer path; the outputs against the interpreter's arithmetic (about 500,000 outputs,
  // the slow cases among them).
  for (const name of ['rv32imc', 'rv32imc-zbb', 'cortex-m3'])
    it(`equals the interpreter's ((float)v * ws) * sx (+ bias) bit for bit on ${name}`, async () => {
      const target = getTarget(name);
      const dir = join(workDir('scale-target'), name);
      const built = await buildProgram({
        target,
        dir,
        modelSources: [],
        runnerSources: [join(import.meta.dirname, 'c', 'scale_target_check.c')],
        includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common')],
        output: 'scale_check.elf',
      });
      await executeOnTarget(target, built.program, dir, 300);
      const out = new DataView(readFileSync(join(dir, 'outputs.bin')).buffer.slice(0));
      const count = out.byteLength / 24;
      const bad: string[] = [];
      let fast = 0;
      for (let i = 0; i < count; i++) {
        const at = i * 24;
        const v = out.getInt32(at, true);
        const ws = f32FromBits(out.getUint32(at + 4, true));
        const sx = f32FromBits(out.getUint32(at + 8, true));
        let want = mul(mul(i2f(v), ws), sx);
        if (out.getUint32(at + 16, true)) want = add(want, f32FromBits(out.getUint32(at + 12, true)));
        const got = f32FromBits(out.getUint32(at + 20, true));
        if (f32Bits(got) !== f32Bits(want) && !(Number.isNaN(got) && Number.isNaN(want)) && bad.length < 5)
          bad.push(`${v} * ${ws} * ${sx}: ${got}, expected ${want}`);
        if (v !== 0 && Math.abs(v) < 2 ** 24 && Number.isFinite(want) && Math.abs(want) >= 2 ** -126) fast++;
      }
      expect(bad).toEqual([]);
      expect(count).toBeGreaterThan(450_000);
      expect(fast).toBeGreaterThan(count / 2); // most outputs take the integer path
    }, 300_000);
});

// The optimized Linear kernels of the language models (runtime-c/opt/x86/tn_linear_avx2.c,
// runtime-c/opt/arm/tn_linear_neon.c, and runtime-c/opt/generic/tn_linear_scalar.c, which every
// other target runs) bit for bit against the reference kernels (runtime-c/ref/tn_linear.c), by the
// C harness test/c/lm_kernel_check.c: float32, float16, int8, t2, trit-plane and b-bit weights
// (and Fairy2i's tn_linear_c4_* against tn_linear_c4), K 0 to 700 (and 1000, 2048), 1 to 17 tokens, 1 to 13 rows (and 61, 64), every scale
// granularity, mild and wild inputs (signed zeros, overflow, subnormals, infinities, NaN),
// every input ending at an unreadable page (docs/numerics.md, "Lane sums" and "Linear").
// Every build compiles the six runtime files with the strict flags (build.ts STRICT_CFLAGS):
//   host: the AVX2 + F16C path (this machine has both: checked);
//   host with -DTN_LINEAR_FORCE_REF: the AVX2 file's fallback to the reference;
//   x86_64-linux-musl baseline under qemu-x86_64 -cpu qemu64 (no AVX): the fallback chosen by CPUID;
//   rpi-aarch64 and rpi5-aarch64 (Cortex-A72, A76) under qemu-aarch64: the NEON kernels;
//   rpi-armv7 under qemu-arm: the NEON file is the reference there (ARMv7 NEON flushes subnormals),
//     and the scalar kernels are the ones its models run (VFP, as on a Cortex-M4F).
// buildProgram compiles each file to an object: zig 0.11 given several C files in one command links
// them with full LTO, which on AArch64 miscompiles the reference tn_linear_q8 (it drops lane 0
// after the remainder loop: K = 1 gives 0), and the harness would blame the NEON kernel.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeOnTarget } from '../compiler/harness/run_target.ts';
import { getTarget, RUNTIME_DIR, TARGETS_DIR, type TargetDesc } from '../compiler/targets.ts';
import { buildProgram } from '../compiler/toolchain/build.ts';
import { workDir } from './support/differential.ts';

interface Build {
  name: string;
  target: TargetDesc;
  defines: string[];
  /** The first line of the harness: what the AVX2 dispatch and the NEON build see. */
  simd: string;
}

function builds(): Build[] {
  const host = getTarget('host');
  const cpu = readFileSync('/proc/cpuinfo', 'utf8');
  const x86 = `x86 avx2+f16c: ${/^flags\s*:.* avx2 /m.test(`${cpu} `) && /^flags\s*:.* f16c /m.test(`${cpu} `) ? 'yes' : 'no'}; aarch64 neon: no`;
  const baseline: TargetDesc = {
    ...host,
    name: 'x86_64-musl-no-avx',
    description: 'x86-64 baseline build (static musl) under qemu-x86_64 -cpu qemu64: no AVX',
    zigTarget: 'x86_64-linux-musl',
    cpu: 'x86_64',
    ldflags: ['-static'],
    qemu: { command: 'qemu-x86_64', args: ['-cpu', 'qemu64', '{elf}', 'quick'] }, // both sets are the reference here: a quarter of the table
  };
  return [
    { name: 'host (AVX2 + F16C)', target: host, defines: [], simd: x86 },
    { name: 'host, the fallback forced (TN_LINEAR_FORCE_REF)', target: host, defines: ['TN_LINEAR_FORCE_REF'], simd: x86 },
    { name: 'x86-64 without AVX (qemu64)', target: baseline, defines: [], simd: 'x86 avx2+f16c: no; aarch64 neon: no' },
    { name: 'rpi-aarch64', target: getTarget('rpi-aarch64'), defines: [], simd: 'x86 avx2+f16c: not x86; aarch64 neon: yes' },
    { name: 'rpi5-aarch64', target: getTarget('rpi5-aarch64'), defines: [], simd: 'x86 avx2+f16c: not x86; aarch64 neon: yes' },
    { name: 'rpi-armv7', target: getTarget('rpi-armv7'), defines: [], simd: 'x86 avx2+f16c: not x86; aarch64 neon: no' },
  ];
}

/** Build the harness with the four runtime files for the build's target, run it, return its output. */
async function runHarness(b: Build, dir: string): Promise<string> {
  const runDir = join(dir, b.target.name + (b.defines.length ? '-ref' : ''));
  const built = await buildProgram({
    target: b.target,
    dir: runDir,
    modelSources: [
      'ref/tn_linear.c',
      'ref/tn_linear_c4.c',
      'opt/x86/tn_linear_avx2.c',
      'opt/arm/tn_linear_neon.c',
      'opt/generic/tn_linear_scalar.c',
      'opt/generic/tn_linear_c4_scalar.c',
    ].map((f) => join(RUNTIME_DIR, f)),
    runnerSources: [join(import.meta.dirname, 'c', 'lm_kernel_check.c')],
    includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common')],
    defines: b.defines,
    output: 'lm_kernel_check.elf',
  });
  let out = '';
  await executeOnTarget(b.target, built.program, runDir, 600, (chunk) => {
    out += chunk;
  });
  return out;
}

describe('Linear kernels (AVX2, NEON, scalar) bit for bit against the reference', () => {
  const dir = workDir('lm-kernels');
  for (const b of builds()) {
    it(
      `on ${b.name}`,
      async () => {
        const out = await runHarness(b, dir);
        const lines = out.trim().split('\n');
        expect(lines[0]).toBe(b.simd);
        // One line per kernel, every format of the three sets, each ok; no mismatch lines; the verdict.
        const verdicts = lines.filter((l) => /^(f32|f16|q8|t2|t2p|ub|c4) (avx2|neon|scalar): /.test(l)).map((l) => l.replace(/ \(\d+ cases\)$/, ''));
        const sets = (set: string, formats: string[]) => formats.map((f) => `${f} ${set}: ok`);
        const formats = ['f32', 'f16', 'q8', 't2', 't2p', 'ub'];
        expect(verdicts).toEqual([
          ...sets('avx2', formats),
          ...sets('neon', formats),
          ...sets('scalar', formats),
          ...sets('avx2', ['c4']),
          ...sets('neon', ['c4']),
          ...sets('scalar', ['c4']),
        ]);
        expect(lines.filter((l) => l.startsWith('  '))).toEqual([]);
        expect(lines.at(-1)).toBe('ok');
      },
      15 * 60_000,
    );
  }
});

// Int8Linear (runtime-c/tn_lm.h): the AVX2 file's variants (AVX2, VPDPBUSD emulated, the CPU's own
// VPDPBUSD where it has one) and dispatch, and the NEON kernel, against the reference, by the C
// harness test/c/int8_linear_check.c, on the host, an x86-64 without AVX (every variant n/a, the
// dispatch takes the reference), the two AArch64 boards (SMULL; SDOT on the Cortex-A76) and ARMv7.
describe('Int8Linear kernels (AVX2, VNNI, NEON) bit for bit against the reference', () => {
  const dir = workDir('int8-linear-kernels');
  const cpu = readFileSync('/proc/cpuinfo', 'utf8');
  const vnni = /^flags\s*:.* (avx_vnni|avx512_vnni)( |$)/m.test(cpu);
  const noAvx = builds()[2]!.target;
  const cases = [
    { name: 'host', target: getTarget('host'), neon: 'none', avx2: 'ok', native: vnni ? 'ok' : 'n/a' },
    { name: 'x86-64 without AVX (qemu64)', target: noAvx, neon: 'none', avx2: 'n/a', native: 'n/a' },
    { name: 'rpi-aarch64', target: getTarget('rpi-aarch64'), neon: 'smull', avx2: 'n/a', native: 'n/a' },
    { name: 'rpi5-aarch64', target: getTarget('rpi5-aarch64'), neon: 'sdot', avx2: 'n/a', native: 'n/a' },
    { name: 'rpi-armv7', target: getTarget('rpi-armv7'), neon: 'smull', avx2: 'n/a', native: 'n/a' },
  ];
  for (const c of cases) {
    it(
      `on ${c.name}`,
      async () => {
        const runDir = join(dir, c.target.name);
        const built = await buildProgram({
          target: c.target,
          dir: runDir,
          modelSources: ['ref/tn_int8_linear.c', 'opt/x86/tn_int8_linear_avx2.c', 'opt/arm/tn_int8_linear_neon.c'].map((f) => join(RUNTIME_DIR, f)),
          runnerSources: [join(import.meta.dirname, 'c', 'int8_linear_check.c')],
          includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common')],
          output: 'int8_linear_check.elf',
        });
        let out = '';
        await executeOnTarget(c.target, built.program, runDir, 600, (chunk) => {
          out += chunk;
        });
        const lines = out.trim().split('\n');
        expect(lines.filter((l) => !l.startsWith('  ')).map((l) => l.replace(/ \(\d+ cases\)$/, ''))).toEqual([
          `neon: ${c.neon}`,
          `avx2 file: AVX2: ${c.avx2}`,
          `avx2 file: VPDPBUSD emulated: ${c.avx2}`,
          `avx2 file: VPDPBUSD: ${c.native}`,
          'avx2 file: dispatch: ok',
          'neon file: ok',
          'ok',
        ]);
      },
      10 * 60_000,
    );
  }
});

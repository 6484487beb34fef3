// The optimized Attention kernels of the language models (runtime-c/opt/x86/tn_attention_avx2.c,
// runtime-c/opt/arm/tn_attention_neon.c: float32 and float16 KV caches, and their vector expf) and the
// int8 activation quantiser (runtime-c/opt/x86/tn_quantize_avx2.c, runtime-c/opt/arm/tn_quantize_neon.c)
// bit for bit against the reference kernels (runtime-c/ref/tn_lm.c, tn_math.c, tn_quantize.c), by the C
// harness test/c/lm_attention_check.c: random shapes (heads 1 to 8, kv_heads dividing them, head_dim 1
// to 130, positions up to 300, 1 to 5 rows at positions 0 to 200), inputs with signed zeros, tiny,
// huge and subnormal values, infinities and NaN; the outputs, both caches whole and the scratch's
// weights compared; expf on specials, its branches' edges, a sweep and random bits; the quantiser on
// rows up to 2048 wide with NaN, infinities, signed zeros and exact ties (docs/numerics.md,
// "Attention", "QuantizeInt8"); SwiGLU's gate (runtime-c/opt/x86/tn_gated_avx2.c, opt/arm/tn_gated_neon.c)
// against tn_gated_silu_f32 on gates across expf's range and of every kind.
// Every build compiles the runtime files with the strict flags (build.ts STRICT_CFLAGS), one object
// each (see test/lm-kernels.test.ts for why):
//   host: the AVX2 + F16C path (this machine has both: checked);
//   host with -DTN_ATTENTION_FORCE_REF -DTN_QUANTIZE_FORCE_REF: the AVX2 files' fallback to the reference;
//   x86_64-linux-musl baseline under qemu-x86_64 -cpu qemu64 (no AVX): the fallback chosen by CPUID;
//   rpi-aarch64 and rpi5-aarch64 (Cortex-A72, A76) under qemu-aarch64: the NEON kernels;
//   rpi-armv7 under qemu-arm: the NEON files are the reference there (ARMv7 NEON flushes subnormals).
// A kernel set that is the reference on a build runs a quarter of the cases (the harness decides).

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

const RUNTIME_FILES = [
  'ref/tn_lm.c',
  'ref/tn_math.c',
  'ref/tn_quantize.c',
  'opt/x86/tn_attention_avx2.c',
  'opt/arm/tn_attention_neon.c',
  'opt/x86/tn_quantize_avx2.c',
  'opt/arm/tn_quantize_neon.c',
  'opt/x86/tn_gated_avx2.c',
  'opt/arm/tn_gated_neon.c',
];

const KERNELS = ['expf', 'attention f32', 'attention f16', 'quantize', 'silu'];

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
    qemu: { command: 'qemu-x86_64', args: ['-cpu', 'qemu64', '{elf}'] },
  };
  return [
    { name: 'host (AVX2 + F16C)', target: host, defines: [], simd: x86 },
    {
      name: 'host, the fallback forced (TN_ATTENTION_FORCE_REF, TN_QUANTIZE_FORCE_REF)',
      target: host,
      defines: ['TN_ATTENTION_FORCE_REF', 'TN_QUANTIZE_FORCE_REF'],
      simd: x86,
    },
    { name: 'x86-64 without AVX (qemu64)', target: baseline, defines: [], simd: 'x86 avx2+f16c: no; aarch64 neon: no' },
    { name: 'rpi-aarch64', target: getTarget('rpi-aarch64'), defines: [], simd: 'x86 avx2+f16c: not x86; aarch64 neon: yes' },
    { name: 'rpi5-aarch64', target: getTarget('rpi5-aarch64'), defines: [], simd: 'x86 avx2+f16c: not x86; aarch64 neon: yes' },
    { name: 'rpi-armv7', target: getTarget('rpi-armv7'), defines: [], simd: 'x86 avx2+f16c: not x86; aarch64 neon: no' },
  ];
}

/** Build the harness with the runtime files for the build's target, run it, return its output. */
async function runHarness(b: Build, dir: string): Promise<string> {
  const runDir = join(dir, b.target.name + (b.defines.length ? '-ref' : ''));
  const built = await buildProgram({
    target: b.target,
    dir: runDir,
    modelSources: RUNTIME_FILES.map((f) => join(RUNTIME_DIR, f)),
    runnerSources: [join(import.meta.dirname, 'c', 'lm_attention_check.c')],
    includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common')],
    defines: b.defines,
    output: 'lm_attention_check.elf',
  });
  let out = '';
  await executeOnTarget(b.target, built.program, runDir, 600, (chunk) => {
    out += chunk;
  });
  return out;
}

describe('Attention and quantiser kernels (AVX2, NEON) bit for bit against the reference', () => {
  const dir = workDir('lm-attention');
  for (const b of builds()) {
    it(
      `on ${b.name}`,
      async () => {
        const out = await runHarness(b, dir);
        const lines = out.trim().split('\n');
        expect(lines[0]).toBe(b.simd);
        // One line per kernel of both sets, each ok; no mismatch lines; the verdict.
        const verdicts = lines
          .filter((l) => /^(expf|attention f32|attention f16|quantize|silu) (avx2|neon): /.test(l))
          .map((l) => l.replace(/ \(\d+ cases\)$/, ''));
        expect(verdicts).toEqual(['avx2', 'neon'].flatMap((set) => KERNELS.map((k) => `${k} ${set}: ok`)));
        expect(lines.filter((l) => l.startsWith('  '))).toEqual([]);
        expect(lines.at(-1)).toBe('ok');
      },
      15 * 60_000,
    );
  }
});

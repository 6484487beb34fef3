// Every low-bit kernel the registry offers for a target, on a table of layer shapes, bit for bit
// against the interpreter: natively on the host and under QEMU on every other target, plus two
// builds that reach the other half of a compile- or run-time ISA switch:
//   x86-64 without AVX2 (qemu-x86_64 -cpu qemu64, baseline build): t2b.avx2's portable fallback;
//   the CPU variants (compiler/targets.ts): rpi5-aarch64 (Cortex-A76 with dotprod under qemu-aarch64
//   -cpu cortex-a76: t2b.neon's SDOT path) and rv32imc-zbb (CLZ in the float epilogue, CTZ in
//   tbp.sparse) and riscv64-rvv (t2b.rvv, under qemu-riscv64 -cpu rv64,v=true,vlen=128); the
//   programs of these two are also run without the extension, where they must trap;
// and one build for an ISA neither this machine nor QEMU has:
//   x86-64 with VNNI, t2b.avx2's VPDPBUSD loops, built with -DTN_T2B_VNNI_EMULATE (the instruction
//   emulated exactly in AVX2, every other line of those loops as on a VNNI CPU), with int32 spans of
//   3 blocks instead of 4096 so that rows take several.
// The shapes cover K not a multiple of 4, 5, 8, 32 or 128, scales per tensor / row / group (groups
// that do and do not divide K, by 5 and by 8), 1 and 2 planes, 1 to 5 token rows (GEMM), LUT
// windows smaller than a scale group, forced int64 chunking (flush) and the int16 extremes of the
// SIMD kernels (all weights +1 / -1 against activations of -128 and 127: 2200 codes, 17 whole blocks
// of 128, for 2 tokens; 4400 codes, 34 whole blocks, for 1 token, the GEMV paths).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph, type Compiled } from '../compiler/compile.ts';
import { readModel } from '../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec } from '../compiler/readers/native/write.ts';
import { describeMismatch, firstMismatch } from '../compiler/harness/compare.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { executeOnTarget, runOnTarget } from '../compiler/harness/run_target.ts';
import type { HarnessModel } from '../compiler/harness/runner.ts';
import { interpret } from '../compiler/interpret.ts';
import type { TypedData } from '../compiler/ir.ts';
import { KERNELS, type KernelDesc, type LayerShape } from '../compiler/kernels/registry.ts';
import { cpuVariants, getTarget, loadTargets, type TargetDesc } from '../compiler/targets.ts';
import { exec, zigTargetArgs } from '../compiler/toolchain/build.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { workDir } from './support/differential.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';

interface Shape {
  name: string;
  n: number;
  k: number;
  granularity: 'per_tensor' | 'per_row' | 'per_group';
  group?: number;
  planes: number;
  rows: number;
  xPerRow?: boolean;
  bias?: boolean;
  /** Testing knobs: cap LUT windows, force int64 chunks of this many codes. */
  window?: number;
  flush?: number;
  /** Weights all +1 / all -1 / random / 0 by row, activations -128 and 127 by token. */
  extreme?: boolean;
  /** Fraction of nonzero codes (random positions), default 2/3. */
  density?: number;
}

const SHAPES: Shape[] = [
  { name: 'k37-tensor', n: 7, k: 37, granularity: 'per_tensor', planes: 1, rows: 1, bias: true },
  { name: 'k130-row-2planes-3tok', n: 5, k: 130, granularity: 'per_row', planes: 2, rows: 3, xPerRow: true },
  { name: 'k261-group64-5tok', n: 9, k: 261, granularity: 'per_group', group: 64, planes: 1, rows: 5, bias: true },
  { name: 'k300-group37-2planes', n: 4, k: 300, granularity: 'per_group', group: 37, planes: 2, rows: 2, xPerRow: true },
  { name: 'k1-tensor-4tok', n: 3, k: 1, granularity: 'per_tensor', planes: 1, rows: 4 },
  { name: 'k1023-row-windows', n: 6, k: 1023, granularity: 'per_row', planes: 1, rows: 1, window: 3 },
  { name: 'k200-group80-flush23', n: 5, k: 200, granularity: 'per_group', group: 80, planes: 2, rows: 2, flush: 23, bias: true },
  { name: 'k333-row-flush100-win4', n: 4, k: 333, granularity: 'per_row', planes: 1, rows: 3, flush: 100, window: 4 },
  { name: 'k700-sparse-group100-flush50', n: 6, k: 700, granularity: 'per_group', group: 100, planes: 1, rows: 2, flush: 50, density: 0.05 },
  { name: 'k2200-extremes', n: 4, k: 2200, granularity: 'per_tensor', planes: 1, rows: 2, extreme: true, window: 64 },
  // One token: the GEMV paths (t2b.avx2's and t2b.rvv's 4-row kernels; t2b.rvv's int16 span is 32
  // blocks) at the negative extreme.
  { name: 'k4400-extremes-gemv', n: 4, k: 4400, granularity: 'per_tensor', planes: 1, rows: 1, extreme: true, window: 64 },
  // LUT windows of more than 32 tables, not a multiple of 32 (b1.lut_rv32 runs blocks of 32, the first one entered part way).
  { name: 'k1000-row-window40', n: 8, k: 1000, granularity: 'per_row', planes: 1, rows: 1, window: 40 },
  // More than 32 groups of 4 rows (t2b.avx2's GEMV takes them 32 at a time), the last one partial.
  { name: 'n133-k300-group100-2planes', n: 133, k: 300, granularity: 'per_group', group: 100, planes: 2, rows: 1 },
];

function shapeOf(s: Shape, op: LayerShape['op']): LayerShape {
  const group = s.group ?? s.k;
  return {
    op,
    planes: s.planes,
    n: s.n,
    k: s.k,
    group,
    groups: Math.ceil(s.k / group),
    rows: s.rows,
    maxAbsX: 128,
    flush: s.flush ?? 0,
    density: s.density ?? 2 / 3,
  };
}

function layerModel(s: Shape, kernel: KernelDesc, op: LayerShape['op'], seed: number): ModelSpec {
  const r = rng(seed);
  const ternary = op === 'TernaryLinear';
  const group = s.group ?? s.k;
  const groups = Math.ceil(s.k / group);
  const codes = new Int8Array(s.planes * s.n * s.k);
  for (let i = 0; i < codes.length; i++) {
    const row = Math.floor(i / s.k) % s.n;
    if (s.extreme && row !== 2) codes[i] = row === 0 ? 1 : row === 1 ? -1 : ternary ? 0 : 1;
    else if (s.density !== undefined && ternary) codes[i] = r() < s.density ? (r() < 0.5 ? -1 : 1) : 0;
    else codes[i] = ternary ? Math.floor(r() * 3) - 1 : r() < 0.5 ? -1 : 1;
  }
  const scaleCount = s.planes * (s.granularity === 'per_tensor' ? 1 : s.granularity === 'per_row' ? s.n : s.n * groups);
  const tensors: ModelSpec['tensors'] = {
    x: { dtype: 'int8', shape: [s.rows, s.k], quant: { scale: 'x.scale', granularity: s.xPerRow ? 'per_row' : 'per_tensor' } },
    'x.scale': { dtype: 'float32', shape: [s.xPerRow ? s.rows : 1], data: new Float32Array(s.xPerRow ? s.rows : 1).map(() => 0.001 + r() * 0.05) },
    w: {
      dtype: ternary ? 'ternary' : 'binary',
      shape: s.planes === 1 ? [s.n, s.k] : [s.planes, s.n, s.k],
      encoding: 'int8',
      quant: { scale: 'w.scale', granularity: s.granularity, ...(s.group ? { group_size: s.group } : {}) },
      data: codes,
    },
    'w.scale': { dtype: 'float32', shape: [scaleCount], data: new Float32Array(scaleCount).map(() => (r() < 0.2 ? -1 : 1) * (0.01 + r())) },
  };
  const inputs = ['x', 'w'];
  if (s.bias) {
    tensors.b = { dtype: 'float32', shape: [s.n], data: new Float32Array(s.n).map(() => r() * 2 - 1) };
    inputs.push('b');
  }
  return {
    name: `${kernel.id}-${ternary ? 't' : 'b'}-${s.name}`,
    inputs: ['x'],
    outputs: ['y'],
    tensors,
    nodes: [{ name: 'fc', op, inputs, outputs: ['y'], attrs: { kernel: kernel.id } }],
  };
}

function inputsFor(s: Shape, seed: number): Int8Array {
  const r = rng(seed + 7);
  const x = new Int8Array(s.rows * s.k);
  for (let i = 0; i < x.length; i++) x[i] = s.extreme ? (Math.floor(i / s.k) % 2 === 0 ? -128 : 127) : Math.floor(r() * 256) - 128;
  return x;
}

/** The targets, plus the builds that take the other side of an ISA switch. */
function testTargets(): TargetDesc[] {
  const all = [...loadTargets().values()];
  const host = all.find((t) => t.name === 'host')!;
  return [
    ...all,
    {
      ...host,
      name: 'host-no-avx2',
      description: 'x86-64 baseline build under qemu-x86_64 -cpu qemu64 (no AVX2)',
      cpu: 'x86_64',
      qemu: { command: 'qemu-x86_64', args: ['-cpu', 'qemu64', '{elf}'] },
    },
    {
      ...host,
      name: 'host-vnni-emulated',
      description: "t2b.avx2's VNNI loops with VPDPBUSD emulated in AVX2",
      cflags: [...host.cflags, '-DTN_T2B_VNNI_EMULATE', '-DTN_VNNI_SPAN=3'],
    },
    ...cpuVariants().map((v) => v.target),
  ];
}

/** CPU variants whose programs must trap on their base target (the feature's instructions are used). */
const WITHOUT_FEATURE: Record<string, string> = { 'rv32imc-zbb': 'rv32imc', 'riscv64-rvv': 'riscv64-linux' };

/** Builds that only differ for some kernels run only those. */
const ONLY: Record<string, string[]> = { 'host-vnni-emulated': ['t2b.avx2'] };

interface Case {
  kernel: KernelDesc;
  op: LayerShape['op'];
  shape: Shape;
  compiled: Compiled;
  x: Int8Array;
  want: TypedData;
}

/** Split the cases into programs that fit a microcontroller's flash and RAM (every model has its own
 * arena and kernel scratch). */
function batches(cases: Case[], t: TargetDesc): Case[][] {
  const out: Case[][] = [[]];
  let ram = 0;
  let flash = 0;
  const ramMax = t.memory ? (t.memory.ram - 16384) * 0.7 : Infinity;
  const flashMax = t.memory ? t.memory.flash * 0.6 : Infinity;
  for (const c of cases) {
    const r = c.compiled.plan.arenaBytes + c.compiled.ioBytes; // kernel scratch is part of the arena
    const f = c.compiled.weightsBytes + 4096;
    if (out.at(-1)!.length && (ram + r > ramMax || flash + f > flashMax)) {
      out.push([]);
      ram = 0;
      flash = 0;
    }
    out.at(-1)!.push(c);
    ram += r;
    flash += f;
  }
  return out;
}

describe('every kernel, bit for bit against the interpreter', () => {
  const dir = workDir('kernels');
  for (const target of testTargets()) {
    it(
      `on ${target.name}`,
      async () => {
        const only = ONLY[target.name];
        const kernels = KERNELS.filter((k) => k.requires.every((f) => target.features.includes(f)) && (!only || only.includes(k.id)));
        const cases: Case[] = [];
        const skipped: string[] = [];
        let seed = 1;
        for (const kernel of kernels) {
          for (const [shape, op] of SHAPES.flatMap((sh) => kernel.ops.map((o) => [sh, o] as const))) {
            seed++;
            const why = kernel.unsupported?.(shapeOf(shape, op));
            if (why) {
              skipped.push(`${kernel.id} ${shape.name}`);
              continue;
            }
            const spec = layerModel(shape, kernel, op, seed);
            const g = prepareGraph(readModel(writeModel(join(dir, target.name, 'models', spec.name), spec)));
            const x = inputsFor(shape, seed);
            const want = interpret(g, new Map([['x', x]])).get('y')!;
            const compiled = compileGraph(g, {
              target,
              prefix: `k${cases.length}`,
              skipFitCheck: true,
              // Every case's arena in one program: together they outgrow the M4's 64 KiB CCM.
              arenaSection: null,
              forceFlush: shape.flush,
              maxLutWindow: shape.window ?? 16,
            });
            const node = compiled.layers.find((l) => l.node === 'fc')!;
            expect(node.kernel, `${spec.name} on ${target.name}`).toContain(`(${kernel.id},`);
            cases.push({ kernel, op, shape, compiled, x, want });
          }
        }
        // Every kernel the target can use ran on most shapes; only b1 LUTs skip groups that are not
        // whole bytes.
        expect(new Set(cases.map((c) => c.kernel.id))).toEqual(new Set(kernels.map((k) => k.id)));
        expect(skipped.every((s) => s.startsWith('b1.lut'))).toBe(true);
        if (target.name === 'host-vnni-emulated') {
          // tn_t2b_avx2.c takes the (emulated) VNNI loops on any CPU with AVX2.
          expect(readFileSync('/proc/cpuinfo', 'utf8'), 'the emulated VNNI build needs an x86-64 host with AVX2').toMatch(/^flags\s*:.* avx2( |$)/m);
        }
        if (target.name === 'rpi5-aarch64') {
          // The build really takes the SDOT path of tn_t2b_neon.c.
          const r = await exec(requireZig().path, ['cc', ...zigTargetArgs(target), '-dM', '-E', '-x', 'c', '/dev/null']);
          expect(r.stdout).toMatch(/__ARM_FEATURE_DOTPROD 1/);
        }
        const failures: string[] = [];
        let b = 0;
        for (const batch of batches(cases, target)) {
          const models: HarnessModel[] = batch.map((c, i) => ({ compiled: c.compiled, runs: [new Map([['x', c.x]])], dir: `m${i}` }));
          const runDir = join(dir, target.name, `batch${b++}`);
          const run = await runOnTarget(models, target, runDir, { title: `${batch.length} kernel cases` });
          const base = WITHOUT_FEATURE[target.name];
          if (base) {
            // The build really uses the feature: under the base target's QEMU, without it, the same program traps.
            await expect(executeOnTarget(getTarget(base), run.program, runDir, 300)).rejects.toThrow(/exited with/);
          }
          run.records.forEach((recs, i) => {
            const m = firstMismatch(recs[0]!.outputs.get('y')!, batch[i]!.want);
            if (m) failures.push(`${batch[i]!.kernel.id} (${batch[i]!.op}) ${batch[i]!.shape.name} on ${target.name}: ${describeMismatch('y', 0, m)}`);
          });
        }
        expect(failures).toEqual([]);
        // Every kernel on every shape under an emulated microcontroller takes minutes (cortex-m3: about 6).
      },
      15 * 60_000,
    );
  }
});

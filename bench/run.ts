// npm run bench: the ternary kernels against the project's own int8 and float32 kernels, per target.
//
//   npm run bench                         every target below, tables on stdout
//   npm run bench -- --targets host,cortex-m4
//   npm run bench -- --json               the same as JSON
//   npm run bench -- --update             also rewrite the kernels section of BENCHMARKS.md
//   npm run bench -- --quick              small shapes only (a smoke run)
//   npm run bench -- --keep               keep the work directory (sources, programs, data)
//   npm run bench -- --huge-pages         host: the weights and the read buffer asked for 2 MiB
//                                         transparent huge pages (default: 4 KiB pages)
//   npm run bench -- --targets cortex-m4 --shapes 256x256,64x256
//                                         only these shapes (N x K) on the MCU and Pi targets
//   npm run bench -- --density 0.01       the sparse ternary cases (MCU targets): 1 % of the codes
//                                         nonzero (default 0.05)
//
// host:                 time (median of 7 repeats of >= 40 ms of thread CPU time), weights/s, weight GB/s, and the
//                       read bandwidth the harness measures itself; "cold" cases cycle through
//                       enough copies of the weights that they come from DRAM, and are compared
//                       with the read bandwidth measured in alternation with their repeats
// cortex-m4/m3, rv32imc: instructions per weight under QEMU -icount shift=0 (SysTick x 40, +-40 per
//                       measurement; minstret, exact), every case repeated to >= 2 M weights
// rpi-*, riscv64-* (qemu-user): instructions per weight counted by a TCG plugin (bench/qemu-plugin),
//                       the difference of two runs with different repetition counts
//
// Every case's output is checked bit for bit against the arithmetic of docs/numerics.md.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packB1, packT2, packT2B, packT5, packTBP, packTW } from '../compiler/emit/pack.ts';
import { benchArgs, runMain, writeSection } from './cli.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { executeOnTarget } from '../compiler/harness/run_target.ts';
import type { Graph, Node, Tensor } from '../compiler/ir.ts';
import { chooseKernels } from '../compiler/kernels/choose.ts';
import { add, f32Bits, fround, i2f, mul } from '../compiler/numerics/f32.ts';
import { getTarget, RUNTIME_DIR, stackReserve, TARGETS_DIR, type TargetDesc } from '../compiler/targets.ts';
import { buildProgram, exec } from '../compiler/toolchain/build.ts';
import { requireQemu } from '../compiler/toolchain/qemu.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';

const BENCH_DIR = resolve(fileURLToPath(import.meta.url), '..');
const ROOT = resolve(BENCH_DIR, '..');

// ---- cases -----------------------------------------------------------------------------------

type Kind = 'lowbit' | 'i8naive' | 'i8' | 'i8m4' | 'f32';

interface CaseSpec {
  /** What is measured: a kernel id, 'auto' (the compiler's choice) or a baseline. */
  label: string;
  kind: Kind;
  op?: 'TernaryLinear' | 'BinaryLinear';
  /** Kernel id (lowbit). */
  kernel?: string;
  n: number;
  k: number;
  /** Weight copies cycled through (host DRAM runs). */
  copies: number;
  /** i8m4: rows per pass. */
  r?: number;
  /** Ternary: the fraction of nonzero codes (default: codes uniform over -1, 0, 1). */
  density?: number;
}

interface BuiltCase extends CaseSpec {
  index: number;
  format: string;
  bitsPerWeight: number;
  weightBytes: number;
  c: string;
  yOffset: number;
  expected: Float32Array;
  window?: number;
}

interface TargetPlan {
  target: TargetDesc;
  kind: 'host' | 'icount' | 'plugin';
  /** Shown in the tables: what the target stands for. */
  note: string;
  cases: CaseSpec[];
}

const SQUARE = (s: number) => [s, s] as [number, number];

function lowbit(label: string, op: 'TernaryLinear' | 'BinaryLinear', [n, k]: [number, number], copies = 1): CaseSpec {
  return { label, kind: 'lowbit', op, kernel: label === 'auto' || label === 'auto-binary' ? undefined : label, n, k, copies };
}

/** A sparse ternary layer: `density` of the codes nonzero. */
function sparse(label: string, s: [number, number], density: number): CaseSpec {
  return { ...lowbit(label, 'TernaryLinear', s), density };
}

function mcuCases(t: TargetDesc, shapes: [number, number][], density: number): CaseSpec[] {
  const armv7m = t.features.includes('thumb2');
  const out: CaseSpec[] = [];
  for (const s of shapes) {
    out.push(lowbit('auto', 'TernaryLinear', s));
    const rv32 = t.features.includes('rv32');
    for (const id of armv7m
      ? ['t5w.lut_armv7m', 't6w.lut_armv7m', 't5.lut_armv7m', 't5w.lut', 't2.ref']
      : rv32
        ? ['t5w.lut_rv32', 't6w.lut_rv32', 't5w.lut', 't6w.lut', 't5.lut', 't2.ref']
        : ['t5w.lut', 't6w.lut', 't5.lut', 't2.ref'])
      out.push(lowbit(id, 'TernaryLinear', s));
    out.push(lowbit('auto-binary', 'BinaryLinear', s), ...(rv32 ? [lowbit('b1.lut_rv32', 'BinaryLinear', s)] : []), lowbit('b1.ref', 'BinaryLinear', s));
    out.push(sparse('auto', s, density), sparse('tbp.sparse', s, density));
    out.push({ label: 'int8 naive', kind: 'i8naive', n: s[0], k: s[1], copies: 1 }, { label: 'int8 4 rows (C)', kind: 'i8', n: s[0], k: s[1], copies: 1 });
    if (t.features.includes('dsp'))
      out.push(
        { label: 'int8 SMLAD 2 rows', kind: 'i8m4', r: 2, n: s[0], k: s[1], copies: 1 },
        { label: 'int8 SMLAD 4 rows', kind: 'i8m4', r: 4, n: s[0], k: s[1], copies: 1 },
      );
    out.push({ label: 'float32', kind: 'f32', n: s[0], k: s[1], copies: 1 });
  }
  return out;
}

function piCases(shapes: [number, number][]): CaseSpec[] {
  const out: CaseSpec[] = [];
  for (const s of shapes) {
    out.push(lowbit('auto', 'TernaryLinear', s), lowbit('t5w.lut', 'TernaryLinear', s), lowbit('t2.ref', 'TernaryLinear', s));
    out.push(lowbit('auto-binary', 'BinaryLinear', s));
    out.push({ label: 'int8 4 rows (C)', kind: 'i8', n: s[0], k: s[1], copies: 1 }, { label: 'float32', kind: 'f32', n: s[0], k: s[1], copies: 1 });
  }
  return out;
}

function hostCases(quick: boolean): CaseSpec[] {
  const hot: [number, number][] = quick ? [SQUARE(256), SQUARE(1024)] : [SQUARE(64), SQUARE(256), SQUARE(1024), SQUARE(2048), [2560, 6912], [6912, 2560]];
  const out: CaseSpec[] = [];
  for (const s of hot) {
    out.push(lowbit('auto', 'TernaryLinear', s));
    if (s[0] * s[1] <= 2048 * 2048) out.push(lowbit('t5w.lut', 'TernaryLinear', s));
    if (s[0] * s[1] <= 1024 * 1024) out.push(lowbit('t2.ref', 'TernaryLinear', s));
    out.push(lowbit('auto-binary', 'BinaryLinear', s));
    out.push({ label: 'int8 4 rows (C)', kind: 'i8', n: s[0], k: s[1], copies: 1 }, { label: 'float32', kind: 'f32', n: s[0], k: s[1], copies: 1 });
  }
  if (!quick) {
    // From DRAM: enough copies of the weights that every call reads them from memory (> 4x L3).
    for (const s of [SQUARE(2048), [2560, 6912], [6912, 2560]] as [number, number][]) {
      const bytes2 = (s[0] * s[1]) / 4;
      out.push(lowbit('auto', 'TernaryLinear', s, Math.max(2, Math.ceil((160 << 20) / bytes2))));
      out.push({ label: 'int8 4 rows (C)', kind: 'i8', n: s[0], k: s[1], copies: Math.max(2, Math.ceil((160 << 20) / (s[0] * s[1]))) });
    }
    out.push(lowbit('auto', 'TernaryLinear', SQUARE(16384)), { label: 'int8 4 rows (C)', kind: 'i8', n: 16384, k: 16384, copies: 1 });
  }
  return out;
}

function plans(names: string[], quick: boolean, density: number, shapes?: [number, number][]): TargetPlan[] {
  const mcuShapes: [number, number][] = shapes ?? (quick ? [SQUARE(64), SQUARE(256)] : [SQUARE(64), SQUARE(256), SQUARE(1024)]);
  const piShapes: [number, number][] = shapes ?? (quick ? [SQUARE(256)] : [SQUARE(256), SQUARE(1024), SQUARE(2048)]);
  const out: TargetPlan[] = [];
  for (const name of names) {
    if (name === 'host') out.push({ target: getTarget('host'), kind: 'host', note: 'this machine, 1 thread', cases: hostCases(quick) });
    else if (['cortex-m4', 'cortex-m3', 'rv32imc', 'rv32imc-zbb'].includes(name)) {
      const t = getTarget(name);
      const a = t.qemu!.args;
      const cpu = a.includes('-cpu') ? ` -cpu ${a[a.indexOf('-cpu') + 1]}` : '';
      const extra = t.cflags.length ? `, built with ${t.cflags.join(' ')}` : '';
      out.push({
        target: t,
        kind: 'icount',
        note: `${t.qemu!.command} ${a.slice(0, 2).join(' ')}${cpu}, -icount shift=0${extra}`,
        cases: mcuCases(t, mcuShapes, density),
      });
    } else if (name === 'rpi-aarch64' || name === 'rpi-armv7' || name === 'riscv64-linux')
      out.push({
        target: getTarget(name),
        kind: 'plugin',
        note: `${getTarget(name).cpu ?? 'rv64gc'}, ${getTarget(name).qemu!.command} + TCG plugin`,
        cases: piCases(piShapes),
      });
    else if (name === 'riscv64-rvv')
      out.push({
        target: getTarget(name),
        kind: 'plugin',
        note: 'riscv64-linux code built with -DTN_RVV (t2b.rvv), qemu-riscv64 -cpu rv64,v=true,vlen=128 + TCG plugin (a vector instruction counts as one)',
        cases: piCases(piShapes),
      });
    else if (name === 'rpi5-aarch64') {
      out.push({
        target: getTarget(name),
        kind: 'plugin',
        note: 'Pi 5: rpi-aarch64 code built with -mcpu=cortex-a76 (SDOT), qemu-aarch64 -cpu cortex-a76 + TCG plugin',
        cases: piCases(piShapes),
      });
    } else throw new Error(`unknown target ${name}`);
  }
  return out;
}

// ---- data and expected results ----------------------------------------------------------------

class Blob {
  parts: Uint8Array[] = [];
  size = 0;
  add(bytes: Uint8Array, align = 64): number {
    this.pad(align);
    const at = this.size;
    this.parts.push(bytes);
    this.size += bytes.length;
    return at;
  }
  reserve(n: number, align = 64): number {
    this.pad(align);
    const at = this.size;
    if (n) this.parts.push(new Uint8Array(n));
    this.size += n;
    return at;
  }
  private pad(align: number): void {
    const p = (align - (this.size % align)) % align;
    if (p) this.add(new Uint8Array(p), 1);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A one-node graph with this shape, for the compiler's own kernel choice. */
function layerGraph(op: 'TernaryLinear' | 'BinaryLinear', n: number, k: number, codes: Int8Array, kernel?: string): { g: Graph; node: Node } {
  const t = (name: string, x: Partial<Tensor>): [string, Tensor] => [name, { name, dtype: 'float32', shape: [1], kind: 'constant', ...x } as Tensor];
  const tensors = new Map<string, Tensor>([
    t('x', { dtype: 'int8', shape: [1, k], kind: 'input', quant: { scale: 'x.scale', granularity: 'per_tensor' }, range: [-127, 127] }),
    t('x.scale', { data: Float32Array.of(1) }),
    t('w', { dtype: op === 'TernaryLinear' ? 'ternary' : 'binary', shape: [n, k], data: codes, quant: { scale: 'w.scale', granularity: 'per_row' } }),
    t('w.scale', { shape: [n], data: new Float32Array(n) }),
    t('y', { shape: [1, n], kind: 'activation' }),
  ]);
  const node: Node = { name: 'fc', op, inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel: kernel ?? 'auto' }, annotations: {} };
  return { g: { name: 'bench', source: 'bench', inputs: ['x'], outputs: ['y'], tensors, nodes: [node], sourceHash: '' }, node };
}

function buildCases(plan: TargetPlan): { cases: BuiltCase[]; blob: Uint8Array; source: string; runtime: Set<string>; extension: number } {
  const blob = new Blob();
  const cases: BuiltCase[] = [];
  const runtime = new Set<string>();
  const fns: string[] = [];
  let extension = 0; // bytes after the file's data where the harness puts weight copies
  let lastWeightOffset = 0;
  const tableRows: string[] = [];
  const mem = plan.target.memory;
  plan.cases.forEach((spec, index) => {
    const r = rng(1000 + spec.n * 7 + spec.k * 13 + index);
    const { n, k } = spec;
    const x = new Int8Array(k).map(() => Math.floor(r() * 255) - 127);
    const sx = fround(0.01 + r() * 0.02);
    const ws = new Float32Array(n).map(() => 0.001 + r() * 0.01);
    const xOff = blob.add(bytesOf(x));
    const sxOff = blob.add(bytesOf(Float32Array.of(sx)));
    const wsOff = blob.add(bytesOf(ws));
    const yOff = blob.reserve(4 * n);
    const expected = new Float32Array(n);
    let weights: Uint8Array;
    let call: string;
    let format: string;
    let window: number | undefined;
    let label = spec.label;
    const weightPtr = (woff: number, stride: number) => (spec.copies > 1 ? `d + ${'EXT'} + (size_t)copy * ${stride}u` : `d + ${woff}u`);
    let wBytesForCopies = 0;
    if (spec.kind === 'lowbit') {
      const ternary = spec.op === 'TernaryLinear';
      const density = spec.density;
      const codes = new Int8Array(n * k).map(() =>
        !ternary ? (r() < 0.5 ? -1 : 1) : density === undefined ? Math.floor(r() * 3) - 1 : r() < density ? (r() < 0.5 ? -1 : 1) : 0,
      );
      for (let o = 0; o < n; o++) {
        let acc = 0;
        for (let i = 0; i < k; i++) acc += codes[o * k + i]! * x[i]!;
        expected[o] = mul(mul(i2f(acc), ws[o]!), sx);
      }
      const { g, node } = layerGraph(spec.op!, n, k, codes, spec.kernel);
      const arena = k + 4 * n;
      chooseKernels(g, plan.target, { scratchBudget: mem ? mem.ram - arena - stackReserve(mem.ram) : 64 * 2 ** 20 });
      const choice = node.choice!;
      const kd = choice.kernel;
      if (spec.kernel === undefined) label = `${spec.label === 'auto' ? 'auto' : 'auto binary'}: ${kd.id}`;
      if (density !== undefined) label += `, ${Math.round(density * 100)} % nonzero`;
      for (const f of kd.runtime) runtime.add(f);
      format = kd.format;
      window = choice.window || undefined;
      const fmt = kd.format;
      weights =
        fmt === 't2'
          ? packT2(codes, k)
          : fmt === 't2b'
            ? packT2B(codes, k, n)
            : fmt === 't5'
              ? packT5(codes, k, k)
              : fmt === 't5w' || fmt === 't6w'
                ? bytesOf(packTW(codes, k, k, fmt === 't5w' ? 5 : 6, choice.window))
                : fmt === 'tbp'
                  ? bytesOf(packTBP(codes, k))
                  : packB1(codes, k);
      const wOff = blob.add(weights);
      lastWeightOffset = wOff;
      const scratch = choice.scratchBytes ? blob.reserve(choice.scratchBytes) : -1;
      const stride = Math.ceil(weights.length / 64) * 64;
      wBytesForCopies = stride;
      call = [
        `  tn_lowbit_weights w;`,
        `  w.codes = ${weightPtr(wOff, stride)};`,
        `  w.scale = (const float *)(const void *)(d + ${wsOff}u);`,
        `  w.planes = 1; w.n = ${n}; w.k = ${k}; w.granularity = TN_PER_ROW; w.group = ${k};`,
        `  w.window = ${choice.window}; w.scratch = ${scratch >= 0 ? `d + ${scratch}u` : 'NULL'}; w.scratch_bytes = ${choice.scratchBytes};`,
        `  ${kd.cFunction}((const int8_t *)(d + ${xOff}u), (const float *)(const void *)(d + ${sxOff}u), 0, 1, &w, NULL, 0, (float *)(void *)(d + ${yOff}u));`,
      ].join('\n');
      if (wOff < 0) throw new Error('internal');
    } else if (spec.kind === 'f32') {
      format = 'f32';
      const xf = Float32Array.from(x, (v) => fround(v * sx));
      const wt = new Float32Array(n * k).map(() => fround(r() * 2 - 1)); // panels of 8 outputs: [n / 8][k][8]
      const at = (o: number, i: number) => {
        const o0 = o - (o % 8);
        const m = Math.min(8, n - o0);
        return wt[o0 * k + i * m + (o - o0)]!;
      };
      for (let o = 0; o < n; o++) {
        let s = 0;
        for (let i = 0; i < k; i++) s = add(s, mul(at(o, i), xf[i]!));
        expected[o] = s;
      }
      weights = bytesOf(wt);
      const xfOff = blob.add(bytesOf(xf));
      const wOff = blob.add(weights);
      lastWeightOffset = wOff;
      const stride = Math.ceil(weights.length / 64) * 64;
      wBytesForCopies = stride;
      runtime.add('ref/tn_dense.c');
      call = `  tn_dense_f32((const float *)(const void *)(d + ${xfOff}u), 1, (const float *)(const void *)(${weightPtr(wOff, stride)}), ${n}, ${k}, NULL, (float *)(void *)(d + ${yOff}u));`;
    } else {
      format = 'int8';
      const w8 = new Int8Array(n * k).map(() => Math.floor(r() * 255) - 127);
      for (let o = 0; o < n; o++) {
        let acc = 0;
        for (let i = 0; i < k; i++) acc += w8[o * k + i]! * x[i]!;
        expected[o] = mul(mul(i2f(acc), ws[o]!), sx);
      }
      weights = bytesOf(w8);
      const wOff = blob.add(weights);
      lastWeightOffset = wOff;
      const stride = Math.ceil(weights.length / 64) * 64;
      wBytesForCopies = stride;
      runtime.add('ref/tn_dense.c');
      const args = `(const int8_t *)(d + ${xOff}u), (const float *)(const void *)(d + ${sxOff}u), 1, (const int8_t *)(${weightPtr(wOff, stride)}), (const float *)(const void *)(d + ${wsOff}u), ${n}, ${k}, NULL, (float *)(void *)(d + ${yOff}u)`;
      if (spec.kind === 'i8m4') {
        runtime.add('opt/armv7m/tn_dense_i8_m4.c');
        const xb = blob.reserve(4 * k);
        call = `  tn_dense_i8_m4(${args}, (int16_t *)(void *)(d + ${xb}u), ${spec.r});`;
      } else call = `  ${spec.kind === 'i8naive' ? 'tn_dense_i8_naive' : 'tn_dense_i8'}(${args});`;
    }
    let ext = 0;
    if (spec.copies > 1) {
      ext = extension;
      extension += spec.copies * wBytesForCopies;
    }
    const fn = `static void bench_case_${index}(uint8_t *d, uint32_t copy) {\n  (void)copy;\n${call.replace('EXT', `TN_BENCH_EXT + ${ext}u`)}\n}`;
    fns.push(fn);
    const wOffset = spec.kind === 'lowbit' || spec.kind === 'f32' || spec.kind.startsWith('i8') ? lastWeightOffset : 0;
    tableRows.push(
      `  {"${label} ${n}x${k}", bench_case_${index}, ${yOff}u, ${4 * n}u, ${spec.copies}u, ${wOffset}u, ${weights.length}u, TN_BENCH_EXT + ${ext}u, ${wBytesForCopies}u},`,
    );
    const bpw = spec.kind === 'f32' ? 32 : spec.kind === 'lowbit' ? (weights.length * 8) / (n * k) : 8;
    cases.push({ ...spec, label, index, format, bitsPerWeight: bpw, weightBytes: weights.length, c: fn, yOffset: yOff, expected, window });
  });
  const source = [
    `/* bench_cases.c: generated by bench/run.ts for ${plan.target.name}. */`,
    `#include <stddef.h>`,
    `#include "tn_runtime.h"`,
    `#include "bench.h"`,
    `#define TN_BENCH_EXT ${blob.size}u /* weight copies (host DRAM runs) live after the file's data */`,
    ...fns,
    `const tn_bench_case tn_bench_cases[] = {`,
    ...tableRows,
    `};`,
    `const uint32_t tn_bench_case_count = ${cases.length}u;`,
    `const uint32_t tn_bench_blob_bytes = ${blob.size}u;`,
    `const uint64_t tn_bench_ext_bytes = ${extension}u;`,
    '',
  ].join('\n');
  return { cases, blob: blob.bytes(), source, runtime, extension };
}

// ---- building and running ---------------------------------------------------------------------

interface Result {
  target: string;
  shape: string;
  n: number;
  k: number;
  label: string;
  format: string;
  bitsPerWeight: number;
  copies: number;
  /** Emulated targets. */
  instrPerWeight?: number;
  /** +- from the counter's resolution. */
  resolution?: number;
  /** Host. */
  nsPerCall?: number;
  gWeightsPerS?: number;
  weightGBs?: number;
  /** Host cases whose weights come from DRAM: the read bandwidth measured beside them (GB/s). */
  readGBs?: number;
}

interface TargetResult {
  target: string;
  note: string;
  bandwidthGBs?: number;
  /** Host: kB of the bench process on transparent huge pages (0: 4 KiB pages only). */
  hugePagesKiB?: number;
  results: Result[];
}

function checkOutput(c: BuiltCase, got: Uint8Array, target: string): void {
  const y = new Float32Array(Uint8Array.from(got).buffer);
  for (let i = 0; i < c.n; i++)
    if (f32Bits(y[i]!) !== f32Bits(c.expected[i]!))
      throw new Error(`bench: ${c.label} ${c.n}x${c.k} on ${target}: output ${i} is ${y[i]}, expected ${c.expected[i]} (bit-exact)`);
}

let pluginLib: string | undefined;
async function plugin(work: string): Promise<string> {
  if (pluginLib) return pluginLib;
  const out = join(work, 'libtn_insn_count.so');
  const r = await exec(requireZig().path, ['cc', '-shared', '-fPIC', '-O2', join(BENCH_DIR, 'qemu-plugin', 'tn_insn_count.c'), '-o', out]);
  if (r.code !== 0) throw new Error(`bench: cannot build the QEMU plugin:\n${r.stderr}`);
  return (pluginLib = out);
}

/** --huge-pages: the host bench asks for 2 MiB pages. */
const hugePages = process.argv.includes('--huge-pages'); // read where the harness is built (benchArgs checks the option)

async function runPlan(plan: TargetPlan, work: string, log: (s: string) => void): Promise<TargetResult> {
  const t0 = performance.now();
  const { cases, blob, source, runtime } = buildCases(plan);
  const dir = join(work, plan.target.name);
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'bench_cases.c'), source);
  writeFileSync(join(dir, 'bench.bin'), blob);
  const runtimeSources = [...runtime].sort().map((r) => join(RUNTIME_DIR, r));
  const includeDirs = [RUNTIME_DIR, join(BENCH_DIR, 'c'), join(TARGETS_DIR, 'common')];
  const results: Result[] = [];
  const base = (c: BuiltCase): Result => ({
    target: plan.target.name,
    shape: `${c.n}x${c.k}`,
    n: c.n,
    k: c.k,
    label: c.label,
    format: c.format,
    bitsPerWeight: c.bitsPerWeight,
    copies: c.copies,
  });
  log(`${plan.target.name}: ${cases.length} cases, ${(blob.length / 2 ** 20).toFixed(1)} MiB of data`);

  if (plan.kind === 'host') {
    const built = await buildProgram({
      target: plan.target,
      dir,
      modelSources: [join(dir, 'bench_cases.c'), ...runtimeSources],
      runnerSources: [join(BENCH_DIR, 'c', 'bench_host.c')],
      includeDirs,
      output: 'bench_host',
    });
    const env = { ...process.env, TN_BENCH_PAGES: hugePages ? '2m' : '4k' };
    const r = await exec(built.program, ['bench.bin', 'bench.out'], { cwd: dir, timeoutMs: 3600_000, env });
    if (r.code !== 0) throw new Error(`bench: ${built.program} failed: ${r.stderr}`);
    const out = readFileSync(join(dir, 'bench.out'));
    let at = 0;
    let bandwidth = 0;
    let hugeKiB = -1;
    for (const line of r.stdout.trim().split('\n')) {
      const f = line.split(' ');
      if (f[0] === 'bandwidth') bandwidth = Number(f[1]);
      if (f[0] === 'pages') hugeKiB = Number(f[1]);
      if (f[0] !== 'case') continue;
      const c = cases[Number(f[1])]!;
      checkOutput(c, out.subarray(at, at + 4 * c.n), plan.target.name);
      at += 4 * c.n;
      const ns = Number(f[2]);
      results.push({ ...base(c), nsPerCall: ns, gWeightsPerS: (c.n * c.k) / ns, weightGBs: c.weightBytes / ns, ...(f[5] ? { readGBs: Number(f[5]) } : {}) });
    }
    log(`${plan.target.name}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const pages =
      hugeKiB > 0
        ? `2 MiB pages (--huge-pages: ${(hugeKiB / 1024).toFixed(0)} MiB of the process on transparent huge pages)`
        : `4 KiB pages${hugePages ? ' (--huge-pages, but none were granted)' : ''}`;
    return { target: plan.target.name, note: `${plan.note}; weights and the read buffer on ${pages}`, bandwidthGBs: bandwidth, hugePagesKiB: hugeKiB, results };
  }

  const target: TargetDesc =
    plan.kind === 'icount'
      ? { ...plan.target, linkerScript: join(BENCH_DIR, 'ld', plan.target.features.includes('rv32') ? 'rv32imc.ld' : 'cortex-m.ld') }
      : plan.target;
  const defines = [`TN_BENCH_BLOB_MAX=${blob.length}u`, ...(plan.kind === 'icount' ? ['TN_BENCH_BLOB_SECTION=".benchblob"'] : [])];
  const built = await buildProgram({
    target,
    dir,
    modelSources: [join(dir, 'bench_cases.c'), ...runtimeSources],
    runnerSources: [join(BENCH_DIR, 'c', 'bench_count.c')],
    includeDirs,
    defines,
    output: 'bench.elf',
  });
  const ctl = (pairs: [number, number][]) => writeFileSync(join(dir, 'bench.ctl'), new Uint8Array(new Uint32Array(pairs.flat()).buffer));
  if (plan.kind === 'icount') {
    const reps = cases.map((c) => Math.max(1, Math.ceil(2e6 / (c.n * c.k))));
    ctl(cases.map((c, i) => [c.index, reps[i]!]));
    await executeOnTarget(target, built.program, dir, 3600);
    const out = readFileSync(join(dir, 'bench.out'));
    let at = 0;
    const unit = target.counter!;
    cases.forEach((c, i) => {
      checkOutput(c, out.subarray(at, at + 4 * c.n), target.name);
      at += 4 * c.n;
      const units = Number(out.readBigUInt64LE(at));
      at += 8;
      const weights = reps[i]! * c.n * c.k;
      results.push({ ...base(c), instrPerWeight: (units * unit.instructionsPerUnit) / weights, resolution: unit.resolutionInstructions / weights });
    });
  } else {
    const lib = await plugin(work);
    const qemu = requireQemu(target)!;
    const count = async (pairs: [number, number][]): Promise<{ insns: number; out: Buffer }> => {
      ctl(pairs);
      const args = ['-plugin', lib, ...target.qemu!.args.map((a) => a.replace('{elf}', built.program))];
      const r = await exec(qemu, args, { cwd: dir, timeoutMs: 3600_000 });
      const m = /tn-insns: (\d+)/.exec(r.stderr);
      if (r.code !== 0 || !m) throw new Error(`bench: ${qemu} ${args.join(' ')} failed:\n${r.stderr}`);
      return { insns: Number(m[1]), out: readFileSync(join(dir, 'bench.out')) };
    };
    for (const c of cases) {
      const extra = Math.max(1, Math.ceil(1e6 / (c.n * c.k)));
      const a = await count([[c.index, 1]]);
      const b = await count([[c.index, 1 + extra]]);
      checkOutput(c, b.out.subarray(0, 4 * c.n), target.name);
      results.push({ ...base(c), instrPerWeight: (b.insns - a.insns) / (extra * c.n * c.k), resolution: 0 });
    }
  }
  log(`${plan.target.name}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return { target: plan.target.name, note: plan.note, results };
}

// ---- reporting --------------------------------------------------------------------------------

function fmt(v: number | undefined, digits = 2): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(digits);
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

function report(tr: TargetResult): string {
  const out: string[] = [];
  const host = tr.bandwidthGBs !== undefined;
  out.push(
    `### ${tr.target}`,
    '',
    `${tr.note}.${host ? ` Measured read bandwidth at the start (a sum over 512 MiB, 1 thread, the faster of a scalar and an AVX2 loop): **${tr.bandwidthGBs!.toFixed(1)} GB/s**; the DRAM tables compare each kernel with the same read measured beside it (alternating repeats).` : ''}`,
    '',
  );
  const key = (r: Result) => `${r.shape}${r.readGBs !== undefined ? ' (DRAM)' : ''}`;
  const shapes = [...new Set(tr.results.map(key))].sort((a, b) => Number(a.endsWith('(DRAM)')) - Number(b.endsWith('(DRAM)'))); // stable: in-cache tables first
  for (const shape of shapes) {
    const rs = tr.results.filter((r) => key(r) === shape);
    const i8 =
      rs.find((r) => r.label.startsWith('int8 SMLAD 4')) ?? rs.find((r) => r.label.startsWith('int8 SMLAD 2')) ?? rs.find((r) => r.label === 'int8 4 rows (C)');
    const f32 = rs.find((r) => r.label === 'float32');
    const rows: string[][] = host
      ? [
          [
            'kernel',
            'format',
            'bits/w',
            'ns/call',
            'G weights/s',
            'weight GB/s',
            ...(shape.includes('DRAM') ? ['read GB/s beside it', '% of read BW'] : []),
            'x int8',
            'x f32',
          ],
        ]
      : [['kernel', 'format', 'bits/w', 'instr/weight', 'int8 / this', 'f32 / this']];
    for (const r of rs) {
      if (host)
        rows.push([
          r.label,
          r.format,
          fmt(r.bitsPerWeight),
          fmt(r.nsPerCall, 1),
          fmt(r.gWeightsPerS),
          fmt(r.weightGBs),
          ...(shape.includes('DRAM') ? [fmt(r.readGBs), `${((r.weightGBs! / r.readGBs!) * 100).toFixed(0)} %`] : []),
          i8 ? fmt(r.gWeightsPerS! / i8.gWeightsPerS!) : '—',
          f32 ? fmt(r.gWeightsPerS! / f32.gWeightsPerS!) : '—',
        ]);
      else
        rows.push([
          r.label,
          r.format,
          fmt(r.bitsPerWeight),
          `${r.instrPerWeight!.toFixed(3)}${r.resolution ? ` ±${r.resolution < 0.001 ? '<0.001' : r.resolution.toFixed(3)}` : ''}`,
          i8 ? fmt(i8.instrPerWeight! / r.instrPerWeight!) : '—',
          f32 ? fmt(f32.instrPerWeight! / r.instrPerWeight!) : '—',
        ]);
    }
    out.push(`**${shape}**${host ? '' : ` (int8 column: ${i8?.label ?? '—'})`}`, '', table(rows), '');
  }
  return out.join('\n');
}

/** The issue's goals, from the results that are present. */
function goals(all: TargetResult[]): string {
  const rows: string[][] = [['goal', 'measured', 'met']];
  const find = (t: string, shape: string, pred: (r: Result) => boolean, dram = false) =>
    all.find((x) => x.target === t)?.results.find((r) => r.shape === shape && (r.readGBs !== undefined) === dram && pred(r));
  const auto = (r: Result) => r.label.startsWith('auto: ');
  const host = all.find((x) => x.target === 'host');
  if (host) {
    const g = find('host', '2048x2048', auto);
    if (g)
      rows.push([
        'host AVX2 ternary GEMV >= 100 G weights/s at 2048x2048 (weights in cache)',
        `${g.gWeightsPerS!.toFixed(1)} G weights/s`,
        g.gWeightsPerS! >= 100 ? 'yes' : 'no',
      ]);
    for (const shape of ['2560x6912', '6912x2560', '16384x16384']) {
      const d = find('host', shape, auto, true);
      if (d) {
        const pct = (d.weightGBs! / d.readGBs!) * 100;
        rows.push([
          `host ternary from DRAM >= 90 % of the read bandwidth measured beside it (${shape})`,
          `${d.weightGBs!.toFixed(2)} of ${d.readGBs!.toFixed(1)} GB/s = ${pct.toFixed(0)} %`,
          pct >= 90 ? 'yes' : 'no',
        ]);
      }
    }
  }
  const m4 = (shape: string) => find('cortex-m4', shape, auto);
  const smlad = (shape: string) => find('cortex-m4', shape, (r) => r.label.startsWith('int8 SMLAD 4'));
  for (const [shape, limit] of [
    ['256x256', 0.8],
    ['1024x1024', 0.6],
  ] as const) {
    const r = m4(shape);
    if (r)
      rows.push([
        `cortex-m4 <= ${limit} instr/weight at ${shape} (table builds included)`,
        `${r.instrPerWeight!.toFixed(3)} (${r.label.slice(6)})`,
        r.instrPerWeight! <= limit ? 'yes' : 'no',
      ]);
    const s = smlad(shape);
    if (r && s)
      rows.push([
        `cortex-m4 >= 1.5x fewer than int8 SMLAD, 4 rows per pass (${shape})`,
        `${(s.instrPerWeight! / r.instrPerWeight!).toFixed(2)}x (${s.instrPerWeight!.toFixed(3)} / ${r.instrPerWeight!.toFixed(3)})`,
        s.instrPerWeight! / r.instrPerWeight! >= 1.5 ? 'yes' : 'no',
      ]);
  }
  for (const t of ['cortex-m3', 'rv32imc'])
    for (const shape of ['256x256', '1024x1024']) {
      const r = find(t, shape, auto);
      const i8 = find(t, shape, (x) => x.label === 'int8 4 rows (C)');
      if (r && i8)
        rows.push([
          `${t} >= 3x fewer than the best int8 kernel (${shape})`,
          `${(i8.instrPerWeight! / r.instrPerWeight!).toFixed(2)}x (${i8.instrPerWeight!.toFixed(3)} / ${r.instrPerWeight!.toFixed(3)})`,
          i8.instrPerWeight! / r.instrPerWeight! >= 3 ? 'yes' : 'no',
        ]);
    }
  const why =
    'Where the instructions go, and why the cortex-m3 and rv32imc goals at 256x256 are the hardest (the float epilogue in software, the same per row in the int8 kernel): docs/kernels.md, "LUT kernels". ' +
    'Why the host goals are met in some runs and not in others (the AVX2 loop has 52 vector operations per 512 weights on 4 vector pipes, a ceiling of 92-120 G weights/s with the clock this VM gets, and runs of the same bench program give medians from 71 to 99; from DRAM the decode is hardly faster than memory, and runs give 79-91 % of the read bandwidth): docs/kernels.md, "Host AVX2: where the time goes".';
  return rows.length > 1 ? ['### Goals of the kernel issue', '', table(rows), '', why, ''].join('\n') : '';
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let caches = '';
  try {
    caches = execFileSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^(L1d|L2|L3) cache/.test(l))
      .map((l) => l.replace(/\s+/g, ' ').trim())
      .join(', ');
  } catch {
    // no lscpu
  }
  const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  const isa = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni'].filter((f) => flags.split(' ').includes(f)).join(', ');
  const mem = Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 2 ** 20);
  const qemu = (() => {
    try {
      return execFileSync('qemu-system-arm', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    } catch {
      return 'QEMU not found';
    }
  })();
  return `${cpu}, ${cpus().length} vCPUs (${isa || 'no AVX2'}), ${caches}, ${mem} GiB RAM; Zig 0.11 (clang 16) -O2; ${qemu}`;
}

const USAGE = `npm run bench -- [options]   (the kernels against int8 and float32, per target)
  --targets <list>   comma-separated targets (default: every target of the bench)
  --json             print the results as JSON
  --update           also rewrite the kernels section of BENCHMARKS.md
  --quick            small shapes only (a smoke run)
  --keep             keep the work directory
  --huge-pages       host: weights and read buffer on 2 MiB transparent huge pages
  --shapes NxK,...   only these shapes on the MCU and Pi targets
  --density f        the sparse ternary cases: fraction of nonzero codes (default 0.05)`;

async function main(): Promise<void> {
  const args = benchArgs(USAGE, {
    targets: { type: 'string' },
    json: { type: 'boolean' },
    update: { type: 'boolean' },
    quick: { type: 'boolean' },
    keep: { type: 'boolean' },
    'huge-pages': { type: 'boolean' },
    shapes: { type: 'string' },
    density: { type: 'string' },
  });
  const json = args.json === true;
  const quick = args.quick === true;
  const names = (args.targets ?? 'host,cortex-m4,cortex-m3,rv32imc,rv32imc-zbb,rpi-aarch64,rpi5-aarch64,rpi-armv7,riscv64-linux,riscv64-rvv').split(',');
  const shapeArg = args.shapes;
  const shapes = shapeArg?.split(',').map((x) => {
    const m = /^(\d+)x(\d+)$/.exec(x);
    if (!m) throw new Error(`--shapes wants NxK[,NxK...], got ${x}`);
    return [Number(m[1]), Number(m[2])] as [number, number];
  });
  const density = Number(args.density ?? 0.05);
  if (!(density > 0 && density <= 1)) throw new Error(`--density wants a fraction in (0, 1], got ${args.density}`);
  const work = mkdtempSync(join(tmpdir(), 'tritc-kbench-'));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const keep = args.keep === true;
  log(`work directory: ${work}${keep ? ' (kept: --keep)' : ' (removed at the end; --keep keeps it)'}`);
  const all: TargetResult[] = [];
  try {
    for (const plan of plans(names, quick, density, shapes)) all.push(await runPlan(plan, work, log));
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true }); // the host data alone is ~600 MiB
  }
  const argv = process.argv.slice(2);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const desc = machine();
  if (json) {
    process.stdout.write(`${JSON.stringify({ command, machine: desc, date: new Date().toISOString(), targets: all }, null, 2)}\n`);
  } else {
    process.stdout.write(`${[goals(all), ...all.map(report)].join('\n')}\n`);
  }
  if (args.update) {
    const file = join(ROOT, 'BENCHMARKS.md');
    const body = [
      '## Kernels',
      '',
      `Command: \`${command}\` (${new Date().toISOString().slice(0, 10)}). Machine: ${desc}.`,
      '',
      'Host figures are the median of 7 repeats of at least 40 ms of thread CPU time each; emulated targets give',
      'instructions per weight (one layer call, table builds and float epilogue included), exact on',
      'rv32imc, +-40 instructions per measurement on Cortex-M, counted by a TCG plugin on the Pi',
      'targets. Every output is checked bit for bit. "x int8" / "int8 / this": how many times faster',
      'than (or how many fewer instructions than) the int8 kernel named above the table; "x f32",',
      '"f32 / this": the same against float32. bits/w: the packed weights only (scales excluded).',
      'Instruction counts are deterministic. Host times are not: this is a 2-vCPU VM shared with',
      'other jobs, and the same run repeated gives figures (and the read bandwidth) that differ by',
      '10-40 %, most for the DRAM cases. "auto": the kernel the compiler chooses for that layer.',
      '',
      goals(all),
      ...all.map(report),
    ].join('\n');
    writeSection(file, 'kernels', body);
    log(`wrote the kernels section of ${file}`);
  }
}

await runMain(main);

// npm run bench:lm: language models.
//
//   host            a TriLM-99M-shaped model (dim 512, FFN 1280, 16 layers, 8 heads, vocabulary 50304,
//                   random ternary weights), one thread: decode tokens/s (128 steps) and prefill
//                   tokens/s (512-token prompt), each the median of repeats, beside this machine's read
//                   bandwidth measured in the same program, the bytes read per token, and the share
//                   of the bound reached; heads f16, int8 and ternary; 2-bit and 1.6-bit weights
//   qemu-user       rpi-aarch64 and riscv64-linux: instructions per decoded token of the same model
//                   (the TCG plugin, the difference of two runs)
//   cortex-m4       stories260K: instructions per token, ternary against its int8 and float32 builds
//   scale           TriLM-99M and TriLM-1.1B-shaped GGUF files (TQ2_0) through `tritc compile`: seconds
//                   and peak memory
//
//   npm run bench:lm -- [--json] [--update] [--quick] [--sections host,qemu,mcu,scale]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileGraph } from '../../compiler/compile.ts';
import { runLmOnTarget } from '../../compiler/harness/lm_run.ts';
import { cloneGraph } from '../../compiler/ir.ts';
import { buildLmGraph, type LmBuildOptions } from '../../compiler/lm/build.ts';
import type { LmModel, LmTensor } from '../../compiler/lm/model.ts';
import { int8Model, ternarizeModel, ternarizeTensor } from '../../compiler/lm/ternarize.ts';
import { f16BitsToF32 } from '../../compiler/numerics/half.ts';
import { prepareGraph } from '../../compiler/passes/pipeline.ts';
import { readLlama2c } from '../../compiler/readers/llama2c/checkpoint.ts';
import { getTarget, PROJECT_ROOT, type TargetDesc } from '../../compiler/targets.ts';
import { median } from '../../compiler/util/stats.ts';
import { exec } from '../../compiler/toolchain/build.ts';
import { requireQemu } from '../../compiler/toolchain/qemu.ts';
import { requireZig } from '../../compiler/toolchain/zig.ts';
import { SHARED_DATA } from '../../examples/data.ts';
import { benchArgs, readSection, runMain, writeSection } from '../cli.ts';
import { hostRun, mcuRun, type HostRow } from './measure.ts';
import { randomModel, TRILM_1B, TRILM_99M, writeGgufModel } from './models.ts';

const USAGE = `npm run bench:lm -- [--json] [--update] [--quick] [--sections host,qemu,mcu,scale]
  --json       print the results as JSON
  --update     also rewrite the language-model section of BENCHMARKS.md
  --quick      fewer repeats and steps, no 1.1B model (a smoke run)
  --sections   which parts to run (default: all)`;

/** The peers, measured on this machine kind with this shape, 1 thread (llama-bench pp512 / tg128). */
const PEERS = [
  { name: 'llama.cpp TQ2_0', pp: 393, tg: 156 },
  { name: 'llama.cpp TQ1_0', pp: 274, tg: 137 },
  { name: 'bitnet.cpp I2_S', pp: 369, tg: 156 },
  { name: 'llama.cpp F16', pp: 281, tg: 76 },
];

/** The model with its head stored otherwise: float16 (as llama-quantize writes it), int8 per row, or ternary per row. */
function withHead(m: LmModel, head: 'f16' | 'int8' | 'ternary'): LmModel {
  if (head === 'f16') return m;
  const out = m.tensors.get('output')!;
  const values = Float32Array.from((out as Extract<LmTensor, { kind: 'float16' }>).bits, f16BitsToF32);
  const f32: LmTensor = { kind: 'float32', shape: out.shape, data: values };
  const tensors = new Map(m.tensors);
  if (head === 'ternary') tensors.set('output', ternarizeTensor('output', f32, { kind: 'per_row' }));
  else {
    // int8Model quantizes the projections; the head the same way, by hand.
    const one = int8Model({ ...m, tensors: new Map([['blk.0.attn_q', f32]]) }).tensors.get('blk.0.attn_q')!;
    tensors.set('output', one);
  }
  return { ...m, tensors };
}

interface CountRow {
  target: string;
  build: string;
  instructionsPerToken: number;
}

async function pluginLib(work: string): Promise<string> {
  const out = join(work, 'libtn_insn_count.so');
  const r = await exec(requireZig().path, ['cc', '-shared', '-fPIC', '-O2', join(PROJECT_ROOT, 'bench', 'qemu-plugin', 'tn_insn_count.c'), '-o', out]);
  if (r.code !== 0) throw new Error(`cannot build the QEMU plugin:\n${r.stderr}`);
  return out;
}

/** Instructions per decoded token under qemu-user: two runs of the LM runner with a and b steps. */
async function qemuCount(
  target: TargetDesc,
  name: string,
  model: LmModel,
  opts: LmBuildOptions,
  work: string,
  plugin: string,
  steps: [number, number],
): Promise<CountRow> {
  const g = prepareGraph(buildLmGraph(model, { context: 256, chunk: 16, kvCache: 'float16', ...opts }));
  const c = compileGraph(cloneGraph(g), { target, skipFitCheck: true });
  const qemu = requireQemu(target)!;
  const counts: number[] = [];
  for (const n of steps) {
    const dir = join(work, `${target.name}-${name.replace(/[^a-z0-9]+/gi, '-')}-${n}`);
    // Build once with the runner, then run it under the plugin ourselves.
    const run = await runLmOnTarget(c, [{ mode: 'generate', tokens: [1, 2, 3, 4, 5, 6, 7, 8], steps: n }], target, dir);
    const args = ['-plugin', plugin, ...target.qemu!.args.map((a) => a.replace('{elf}', run.program))];
    const r = await exec(qemu, args, { cwd: dir, timeoutMs: 3600_000 });
    const m = /tn-insns: (\d+)/.exec(r.stderr);
    if (r.code !== 0 || !m) throw new Error(`${qemu} ${args.join(' ')} failed:\n${r.stderr}`);
    counts.push(Number(m[1]));
  }
  return { target: target.name, build: name, instructionsPerToken: Math.round((counts[1]! - counts[0]!) / (steps[1] - steps[0])) };
}

interface McuRow {
  build: string;
  flashBytes: number | null;
  ramBytes: number | null;
  instructionsPerToken: number | null;
  note: string;
}

async function mcuRows(work: string, steps: number): Promise<McuRow[]> {
  const target = getTarget('cortex-m4');
  const base = readLlama2c(join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin'));
  const builds: [string, LmModel, LmBuildOptions][] = [
    ['ternary (absmean), int8 activations', ternarizeModel(base, { kind: 'per_tensor' }), { activations: 'int8-per-token' }],
    ['ternary (absmean), float activations', ternarizeModel(base, { kind: 'per_tensor' }), {}],
    ['int8 weights (absmax per row), int8 activations', int8Model(base), { activations: 'int8-per-token' }],
    ['int8 weights (absmax per row), float activations', int8Model(base), {}],
    ['float32 (as trained)', base, {}],
  ];
  const rows: McuRow[] = [];
  for (const [name, m, opts] of builds) {
    try {
      rows.push({ build: name, ...(await mcuRun(target, m, opts, steps, join(work, `m4-${rows.length}`))), note: '' });
    } catch (e) {
      // The linker's own words when a region overflows (its first line only names the step).
      const lines = (e as Error).message.split('\n');
      const why = lines.find((l) => /overflow|will not fit|does not fit/i.test(l)) ?? lines[0]!;
      rows.push({ build: name, flashBytes: null, ramBytes: null, instructionsPerToken: null, note: why.trim().slice(0, 200) });
    }
  }
  return rows;
}

interface ScaleRow {
  model: string;
  fileBytes: number;
  seconds: number;
  maxRssMiB: number;
  weightsBytes: number;
}

async function scaleRow(shape: typeof TRILM_99M, work: string): Promise<ScaleRow> {
  const file = join(work, `${shape.name}.gguf`);
  const fileBytes = writeGgufModel(shape, file);
  const r = await exec(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'lm', 'compile_child.ts'), file, '-o', join(work, `${shape.name}-out`), '--context', '2048'],
    { cwd: PROJECT_ROOT, timeoutMs: 1800_000 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const res = JSON.parse(line) as { code: number; seconds: number; maxRssMiB: number; result: { weightsBytes: number } };
  if (res.code !== 0) throw new Error(`tritc compile ${file} failed: ${JSON.stringify(res.result)}`);
  rmSync(file, { force: true });
  rmSync(join(work, `${shape.name}-out`), { recursive: true, force: true });
  return { model: shape.name, fileBytes, seconds: res.seconds, maxRssMiB: res.maxRssMiB, weightsBytes: res.result.weightsBytes };
}

/** The CPU's model and last-level cache, as Linux reports them (the bound depends on the cache). */
function cacheLine(): string {
  const model = cpus()[0]?.model ?? 'unknown';
  let l3 = '';
  try {
    const kb = Number(readFileSync('/sys/devices/system/cpu/cpu0/cache/index3/size', 'utf8').trim().replace(/K$/, ''));
    if (Number.isFinite(kb) && kb > 0) l3 = `, L3 ${kb >= 1024 ? `${Math.round(kb / 1024)} MiB` : `${kb} KiB`}`;
  } catch {
    // no L3 reported
  }
  return `${model}${l3}`;
}

/** Split a section into its preamble and its "### " subsections, keyed by the heading up to its colon. */
function subsections(body: string): { preamble: string; parts: Map<string, string> } {
  const [preamble, ...rest] = body.split(/^(?=### )/m);
  return { preamble: preamble!, parts: new Map(rest.map((p) => [p.slice(0, p.indexOf(':')), p.trimEnd() + '\n'])) };
}

/** This run's subsections, and the previous run's for the sections not run now (marked with its command). */
function mergeSubsections(old: string | undefined, md: string): string {
  if (!old) return md;
  const before = subsections(old);
  const now = subsections(md);
  const oldCommand = /^Command: (`[^`]*`)/m.exec(before.preamble)?.[1];
  const order = [...new Set([...before.parts.keys(), ...now.parts.keys()])];
  const parts = order.map((key) => {
    const fresh = now.parts.get(key);
    if (fresh) return fresh;
    const kept = before.parts.get(key)!;
    if (!oldCommand || kept.includes('From an earlier run')) return kept;
    const nl = kept.indexOf('\n');
    return `${kept.slice(0, nl + 1)}\nFrom an earlier run: ${oldCommand}.\n${kept.slice(nl + 1)}`;
  });
  return [now.preamble.trimEnd(), '', ...parts].join('\n').trimEnd() + '\n';
}

function markdown(host: HostRow[], counts: CountRow[], mcu: McuRow[], scale: ScaleRow[], command: string): string {
  const f = (v: number, d = 1) => v.toFixed(d);
  const lines = [
    '## Language models',
    '',
    `Command: \`${command}\` (${new Date().toISOString().slice(0, 10)}). Machine: ${cpus()[0]?.model ?? 'unknown'}, 1 thread.`,
    '',
  ];
  if (host.length) {
    const dram = median(host.map((r) => r.readGBs));
    lines.push(
      '### Host: a TriLM-99M-shaped model (dim 512, FFN 1280, 16 layers, 8 heads, vocabulary 50304), random ternary weights',
      '',
      'Decode: 128 steps after an 8-token prompt (positions 8 to 135); prefill: a 512-token prompt in chunks of 32. Each the median of 3',
      `repeats. The KV cache is float16, as llama.cpp's. "bound": the bytes a decode step must read (every weight once, one`,
      'embedding row, the cache up to the mean position) at the read bandwidth the same program measures over a buffer of that',
      'size, read again and again as decode reads it (a sum, the best of 10 passes): where the last-level cache holds the bytes,',
      `that is the cache's bandwidth, else DRAM's (${f(dram)} GB/s over 512 MiB here). This CPU: ${cacheLine()}. Host figures`,
      'move about 20 % between runs on this VM; compare rows of the same run.',
      '',
      '| build | weights | bytes read per token | head share | read GB/s (that size) | decode tokens/s | bound tokens/s | % of bound | prefill tokens/s |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...host.map(
        (r) =>
          `| ${r.build} | ${f(r.weightsBytes / 2 ** 20)} MiB | ${f(r.bytesPerToken / 2 ** 20)} MiB | ${f(r.headShare * 100, 0)} % | ${f(r.readStepGBs)} | **${f(r.decode)}** | ${f(r.boundTokensPerS)} | ${f((r.decode / r.boundTokensPerS) * 100, 0)} % | **${f(r.prefill)}** |`,
      ),
      '',
      'The peers, measured on this machine kind with this shape, 1 thread (llama-bench pp512 / tg128, F16 head):',
      PEERS.map((p) => `${p.name} ${p.pp} / ${p.tg}`).join('; ') + '.',
      '',
    );
  }
  if (counts.length) {
    lines.push(
      '### Linux boards under qemu-user: instructions per decoded token (TCG plugin), the same model',
      '',
      '| target | build | instructions per token |',
      '|---|---|---:|',
    );
    for (const c of counts) lines.push(`| ${c.target} | ${c.build} | ${c.instructionsPerToken.toLocaleString('en-US')} |`);
    lines.push('');
  }
  if (mcu.length) {
    lines.push(
      '### cortex-m4: stories260K (context 128, float16 cache, chunks of 4), instructions per decoded token',
      '',
      'SysTick under `-icount shift=0`, the mean over the decode steps after a 4-token prompt; every build bit-exact with the interpreter.',
      '',
      '| build | flash | RAM | instructions per token |',
      '|---|---:|---:|---:|',
      ...mcu.map((r) =>
        r.instructionsPerToken === null
          ? `| ${r.build} | — | — | does not fit: ${r.note} |`
          : `| ${r.build} | ${f(r.flashBytes! / 1024)} KiB | ${f(r.ramBytes! / 1024)} KiB | ${r.instructionsPerToken.toLocaleString('en-US')} |`,
      ),
      '',
    );
  }
  if (scale.length) {
    lines.push(
      '### Scale: `tritc compile` of a GGUF file (TQ2_0 projections, F16 embedding and head), context 2048',
      '',
      '| model | file | seconds | peak memory | weights emitted |',
      '|---|---:|---:|---:|---:|',
    );
    for (const s of scale)
      lines.push(
        `| ${s.model} | ${f(s.fileBytes / 2 ** 20, 0)} MiB | ${f(s.seconds)} | ${f(s.maxRssMiB / 1024, 2)} GiB | ${f(s.weightsBytes / 2 ** 20, 0)} MiB |`,
      );
    lines.push(
      '',
      'The time includes reading the file, the passes, the memory plan, the C, writing weights.bin and the stack estimate (zig compiles the C).',
      '',
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = benchArgs(USAGE, { json: { type: 'boolean' }, update: { type: 'boolean' }, quick: { type: 'boolean' }, sections: { type: 'string' } });
  const sections = new Set((args.sections ?? 'host,qemu,mcu,scale').split(','));
  for (const s of sections) if (!['host', 'qemu', 'mcu', 'scale'].includes(s)) throw new Error(`--sections: unknown section "${s}" (host, qemu, mcu, scale)`);
  const quick = args.quick === true;
  const work = mkdtempSync(join(tmpdir(), 'tritc-bench-lm-'));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const host: HostRow[] = [];
  const counts: CountRow[] = [];
  let mcu: McuRow[] = [];
  const scale: ScaleRow[] = [];
  try {
    if (sections.has('host') || sections.has('qemu')) {
      log('making the TriLM-99M-shaped model...');
      const m = randomModel(TRILM_99M);
      if (sections.has('host')) {
        const builds: [string, LmModel, LmBuildOptions & { kernel?: string }][] = [
          ['2-bit (t2b), int8 activations, f16 head', m, { activations: 'int8-per-token' }],
          ['2-bit (t2b), int8 activations, int8 head', withHead(m, 'int8'), { activations: 'int8-per-token' }],
          ['2-bit (t2b), int8 activations, ternary head', withHead(m, 'ternary'), { activations: 'int8-per-token' }],
          ['1.6-bit (t5), int8 activations, int8 head', withHead(m, 'int8'), { activations: 'int8-per-token', kernel: 't5' }],
          ['2-bit, float activations (exact), f16 head', m, { activations: 'float' }],
        ];
        for (const [name, model, opts] of builds) {
          log(`host: ${name}...`);
          host.push(await hostRun(name, model, opts, work, quick));
        }
      }
      if (sections.has('qemu')) {
        const plugin = await pluginLib(work);
        for (const t of ['rpi-aarch64', 'riscv64-linux']) {
          log(`${t}: counting instructions per token...`);
          counts.push(
            await qemuCount(
              getTarget(t),
              'int8 activations, int8 head',
              withHead(m, 'int8'),
              { activations: 'int8-per-token' },
              work,
              plugin,
              quick ? [2, 4] : [4, 12],
            ),
          );
        }
      }
    }
    if (sections.has('mcu')) {
      log('cortex-m4: stories260K...');
      mcu = await mcuRows(work, quick ? 8 : 32);
    }
    if (sections.has('scale')) {
      for (const s of quick ? [TRILM_99M] : [TRILM_99M, TRILM_1B]) {
        log(`scale: ${s.name}...`);
        scale.push(await scaleRow(s, work));
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const argv = process.argv.slice(2);
  const command = `npm run bench:lm${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  if (args.json) process.stdout.write(`${JSON.stringify({ command, host, counts, mcu, scale, peers: PEERS }, null, 2)}\n`);
  const md = markdown(host, counts, mcu, scale, command);
  if (!args.json) process.stdout.write(`${md}\n`);
  if (args.update) {
    // A run of some sections keeps the others' tables from the run before (each says its command).
    const file = join(PROJECT_ROOT, 'BENCHMARKS.md');
    writeSection(file, 'lm', sections.size === 4 ? md : mergeSubsections(readSection(file, 'lm'), md));
    log('wrote the language-model section of BENCHMARKS.md');
  }
}

await runMain(main);

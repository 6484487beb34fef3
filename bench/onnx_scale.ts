// npm run bench:onnx-scale: a large float ONNX model through `tritc compile`, in a process of its own:
// seconds, peak memory and what it wrote. The model is VGG-19 as torchvision defines it (16 3x3
// convolutions with ReLU, 5 max-pools, 3 fully connected layers; 143.7 M float32 weights, 548 MiB),
// with seeded random weights, exported at opset 13 with a symbolic batch (`--batch 1` fixes it).
// Before weights went to weights.bin in pieces, such a model ended after 86 s with
// "internal error: Invalid string length" (the weights written as C text).
//
//   npm run bench:onnx-scale -- [--json] [--update] [--target host]

import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeOnnxModel, type NodeSpec, type TensorSpec } from '../compiler/readers/onnx/write.ts';
import { PROJECT_ROOT } from '../compiler/targets.ts';
import { exec } from '../compiler/toolchain/build.ts';
import { benchArgs, runMain, writeSection } from './cli.ts';

const USAGE = `npm run bench:onnx-scale -- [--json] [--update] [--target T]
  --json     print the result as JSON
  --update   also rewrite the large-model section of BENCHMARKS.md
  --target   the target to compile for (default host)`;

/** torchvision's VGG-19 ("E"): output channels of each 3x3 convolution, "M" a 2x2 max-pool. */
const VGG19 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'] as const;

/** Seeded uniform weights in [-a, a) (a linear congruential generator: fast for 143 M values). */
function randomWeights(count: number, a: number, seed: number): Float32Array {
  const w = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = (s / 2 ** 32 - 0.5) * 2 * a;
  }
  return w;
}

function vgg19(): { bytes: Uint8Array; weights: number } {
  const nodes: NodeSpec[] = [];
  const initializers: (TensorSpec & { name: string })[] = [];
  let x = 'input';
  let c = 3;
  let weights = 0;
  let i = 0;
  const param = (name: string, shape: number[], fanIn: number) => {
    const count = shape.reduce((a, b) => a * b, 1);
    weights += count;
    initializers.push({ name, dtype: 'float32', shape, data: randomWeights(count, 1 / Math.sqrt(fanIn), initializers.length + 1) });
    return name;
  };
  for (const v of VGG19) {
    i++;
    if (v === 'M') {
      nodes.push({ op: 'MaxPool', inputs: [x], outputs: [`pool${i}`], attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
      x = `pool${i}`;
      continue;
    }
    const w = param(`features.${i}.weight`, [v, c, 3, 3], c * 9);
    const b = param(`features.${i}.bias`, [v], c * 9);
    nodes.push({ op: 'Conv', inputs: [x, w, b], outputs: [`conv${i}`], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
    nodes.push({ op: 'Relu', inputs: [`conv${i}`], outputs: [`relu${i}`] });
    x = `relu${i}`;
    c = v;
  }
  nodes.push({ op: 'Flatten', inputs: [x], outputs: ['flat'], attrs: { axis: 1 } });
  x = 'flat';
  const fc: [number, number][] = [
    [512 * 7 * 7, 4096],
    [4096, 4096],
    [4096, 1000],
  ];
  fc.forEach(([k, n], j) => {
    const w = param(`classifier.${j}.weight`, [n, k], k);
    const b = param(`classifier.${j}.bias`, [n], k);
    const out = j === fc.length - 1 ? 'logits' : `fc${j}`;
    nodes.push({ op: 'Gemm', inputs: [x, w, b], outputs: [j === fc.length - 1 ? out : `${out}_pre`], attrs: { transB: 1 } });
    if (j < fc.length - 1) nodes.push({ op: 'Relu', inputs: [`${out}_pre`], outputs: [out] });
    x = out;
  });
  const bytes = encodeOnnxModel({
    opset: 13,
    name: 'vgg19',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', 3, 224, 224] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['N', 1000] }],
    initializers,
    nodes,
  });
  return { bytes, weights };
}

interface Result {
  model: string;
  target: string;
  weights: number;
  fileBytes: number;
  code: number;
  seconds: number;
  maxRssMiB: number;
  outputBytes: Record<string, number>;
  message: string;
}

function markdown(r: Result, command: string): string {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const files = Object.entries(r.outputBytes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([f, b]) => `\`${f}\` ${mib(b)} MiB`)
    .join(', ');
  return [
    '## A large float ONNX model (VGG-19)',
    '',
    `Command: \`${command}\` (${new Date().toISOString().slice(0, 10)}): torchvision's VGG-19 with seeded random weights`,
    `(${(r.weights / 1e6).toFixed(1)} M float32 weights, a ${mib(r.fileBytes)} MiB ONNX file, symbolic batch fixed by \`--batch 1\`),`,
    `\`tritc compile\` for ${r.target} in a process of its own.`,
    '',
    '| model | file | exit | seconds | peak memory | largest outputs |',
    '|---|---:|---:|---:|---:|---|',
    `| VGG-19 | ${mib(r.fileBytes)} MiB | ${r.code} | ${r.seconds.toFixed(1)} | ${(r.maxRssMiB / 1024).toFixed(2)} GiB | ${files || r.message} |`,
    '',
    'The time covers reading the protobuf, the passes, the memory plan, the C and weights.bin, and the stack',
    'estimate. Before weights went to weights.bin, this model ended after 86 s with `internal error: Invalid',
    'string length` (its weights written as C text).',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = benchArgs(USAGE, { json: { type: 'boolean' }, update: { type: 'boolean' }, target: { type: 'string' } });
  const target = args.target ?? 'host';
  const work = mkdtempSync(join(tmpdir(), 'tritc-bench-onnx-scale-'));
  try {
    process.stderr.write('writing VGG-19 with random weights...\n');
    const { bytes, weights } = vgg19();
    const file = join(work, 'vgg19.onnx');
    writeFileSync(file, bytes);
    process.stderr.write(`tritc compile ${file} (${(bytes.length / 2 ** 20).toFixed(0)} MiB)...\n`);
    const out = join(work, 'out');
    const r = await exec(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'lm', 'compile_child.ts'), file, '--target', target, '--batch', '1', '-o', out],
      { cwd: PROJECT_ROOT, timeoutMs: 1800_000 },
    );
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let res: { code: number; seconds: number; maxRssMiB: number; result: unknown };
    try {
      res = JSON.parse(line) as typeof res;
    } catch {
      throw new Error(`tritc compile did not finish (exit ${r.code}, signal ${r.signal}):\n${r.stderr.slice(-2000)}`);
    }
    const outputBytes: Record<string, number> = {};
    if (res.code === 0) for (const f of readdirSync(out)) outputBytes[f] = statSync(join(out, f)).size;
    const result: Result = {
      model: 'vgg19',
      target,
      weights,
      fileBytes: bytes.length,
      code: res.code,
      seconds: res.seconds,
      maxRssMiB: res.maxRssMiB,
      outputBytes,
      message: res.code === 0 ? '' : String(res.result).trim().split('\n')[0]!,
    };
    const argv = process.argv.slice(2);
    const command = `npm run bench:onnx-scale${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
    if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    const md = markdown(result, command);
    if (!args.json) process.stdout.write(`${md}\n`);
    if (args.update) writeSection(join(PROJECT_ROOT, 'BENCHMARKS.md'), 'onnx-scale', md);
    if (res.code !== 0) throw new Error(`tritc compile failed: ${result.message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

void runMain(main);

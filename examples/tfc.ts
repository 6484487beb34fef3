// FINN/Brevitas TFC networks (QONNX, ../shared/data/qonnx/models) on MNIST: the interpreter's
// accuracy, and the generated C on a target, fed by semihosting from one firmware for all images.
// Used by the evaluate.ts scripts in examples/tfc-2w2a and examples/tfc-1w1a, and by test/tfc.test.ts.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileGraph } from '../compiler/compile.ts';
import { firstMismatch } from '../compiler/harness/compare.ts';
import { runOnTarget } from '../compiler/harness/run_target.ts';
import { interpret } from '../compiler/interpret.ts';
import { cloneGraph, type Graph, type TypedData } from '../compiler/ir.ts';
import { readOnnx } from '../compiler/readers/onnx/import.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { getTarget } from '../compiler/targets.ts';
import { SHARED_DATA, loadMnistTest, mnistInput } from './data.ts';

export type TfcModel = 'TFC_2W2A' | 'TFC_1W1A';

/** Published top-1 accuracy (qonnx model zoo README, from the Brevitas repository). */
export const PUBLISHED: Record<TfcModel, number> = { TFC_2W2A: 96.6, TFC_1W1A: 93.17 };

export function tfcPath(model: TfcModel): string {
  return join(SHARED_DATA, 'qonnx', 'models', `${model}.onnx`);
}

export function loadTfc(model: TfcModel, lowBit = true): Graph {
  return prepareGraph(readOnnx(tfcPath(model), { lowBit }, `../shared/data/qonnx/models/${model}.onnx`), { lowBit });
}

function argmax(y: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < y.length; k++) if (y[k]! > y[best]!) best = k;
  return best;
}

export interface Images {
  runs: Map<string, TypedData>[];
  labels: number[];
}

/** Images first..first+count-1 as runs of the model's input. */
export function mnistRuns(g: Graph, first: number, count: number): Images {
  const { pixels, labels } = loadMnistTest();
  const runs: Map<string, TypedData>[] = [];
  const lab: number[] = [];
  for (let i = first; i < first + count; i++) {
    runs.push(new Map([[g.inputs[0]!, mnistInput(pixels, i)]]));
    lab.push(labels[i]!);
  }
  return { runs, labels: lab };
}

export interface InterpreterResult {
  outputs: TypedData[];
  predictions: number[];
  correct: number;
}

export function interpretImages(g: Graph, images: Images): InterpreterResult {
  const outputs = images.runs.map((r) => interpret(g, r).get(g.outputs[0]!)!);
  const predictions = outputs.map((y) => argmax(y as Float32Array));
  return { outputs, predictions, correct: predictions.filter((p, i) => p === images.labels[i]).length };
}

export interface TargetResult {
  target: string;
  images: number;
  /** Images whose outputs are bit-identical to the interpreter's. */
  identical: number;
  /** Images whose predicted class equals the interpreter's. */
  samePrediction: number;
  correct: number;
  flashBytes: number;
  ramBytes: number;
  arenaBytes: number;
  stackBytes: number;
  /** Median over the images; null where the target cannot count. */
  instructionsPerInference: number | null;
  instructionsResolution: number | null;
  buildSeconds: number;
  runSeconds: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Compile for `targetName`, run every image through one program, compare with the interpreter. */
export async function runTfcOnTarget(g: Graph, images: Images, expected: InterpreterResult, targetName: string, workDir?: string): Promise<TargetResult> {
  const target = getTarget(targetName);
  const dir = workDir ?? mkdtempSync(join(tmpdir(), `tritc-tfc-${targetName}-`));
  try {
    const compiled = compileGraph(cloneGraph(g), { target, verify: true });
    const res = await runOnTarget([{ compiled, runs: images.runs, dir: 'model' }], target, dir, {
      timeoutSeconds: 3600,
      title: `${g.name} on ${images.runs.length} MNIST images`,
    });
    const records = res.records[0]!;
    const out = compiled.emitted.io.outputs[0]!;
    let identical = 0;
    let samePrediction = 0;
    let correct = 0;
    records.forEach((rec, i) => {
      const got = rec.outputs.get(out.cname)! as Float32Array;
      if (!firstMismatch(got, expected.outputs[i]!)) identical++;
      const p = argmax(got);
      if (p === expected.predictions[i]) samePrediction++;
      if (p === images.labels[i]) correct++;
    });
    const stack = Math.max(...records.map((r) => r.stackBytes));
    const fp = res.footprints[0]!;
    return {
      target: target.name,
      images: records.length,
      identical,
      samePrediction,
      correct,
      flashBytes: fp.flash,
      ramBytes: fp.ram + stack,
      arenaBytes: compiled.plan.arenaBytes,
      stackBytes: stack,
      instructionsPerInference: target.counter ? Math.round(median(records.map((r) => r.counter)) * target.counter.instructionsPerUnit) : null,
      instructionsResolution: target.counter ? target.counter.resolutionInstructions : null,
      buildSeconds: res.buildSeconds,
      runSeconds: res.runSeconds,
    };
  } finally {
    if (!workDir) rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the benchmark: accuracy, sizes and instruction counts, low-bit and float32 -----------------

export interface VariantReport {
  variant: 'low-bit' | 'float32';
  /** Interpreter accuracy on the images, percent. */
  accuracy: number | null;
  correct: number | null;
  targets: TargetResult[];
  error?: string;
}

export interface TfcReport {
  model: TfcModel;
  images: number;
  published: number;
  variants: VariantReport[];
}

const fmtInt = (n: number | null) => (n === null ? '—' : n.toLocaleString('en-US'));

/**
 * Evaluate one model: the low-bit build on `count` images on cortex-m4 (one firmware) and `sample`
 * images on cortex-m3 and rv32imc; the float32 build (ternary detection off) the same way.
 */
export async function benchmarkTfc(model: TfcModel, count: number, sample: number, log: (s: string) => void = () => {}): Promise<TfcReport> {
  const variants: VariantReport[] = [];
  for (const variant of ['low-bit', 'float32'] as const) {
    let g: Graph;
    try {
      g = loadTfc(model, variant === 'low-bit');
    } catch (e) {
      variants.push({ variant, accuracy: null, correct: null, targets: [], error: e instanceof Error ? e.message : String(e) });
      log(`${model} ${variant}: cannot import: ${e instanceof Error ? e.message : e}`);
      continue;
    }
    const images = mnistRuns(g, 0, count);
    log(`${model} ${variant}: interpreting ${count} images...`);
    const expected = interpretImages(g, images);
    const report: VariantReport = { variant, accuracy: (100 * expected.correct) / count, correct: expected.correct, targets: [] };
    for (const target of ['cortex-m4', 'cortex-m3', 'rv32imc']) {
      const n = target === 'cortex-m4' ? count : Math.min(sample, count);
      log(`${model} ${variant}: ${target}, ${n} images...`);
      const sub: Images = { runs: images.runs.slice(0, n), labels: images.labels.slice(0, n) };
      const exp: InterpreterResult = { outputs: expected.outputs.slice(0, n), predictions: expected.predictions.slice(0, n), correct: 0 };
      report.targets.push(await runTfcOnTarget(g, sub, exp, target));
    }
    variants.push(report);
  }
  return { model, images: count, published: PUBLISHED[model], variants };
}

/** One line comparing the low-bit build with the float32 baseline, target by target. */
export function comparisonLine(r: TfcReport): string {
  const [lb, fl] = [r.variants.find((v) => v.variant === 'low-bit'), r.variants.find((v) => v.variant === 'float32')];
  if (!lb || !fl || lb.error || fl.error) return '';
  const parts = lb.targets.map((t) => {
    const f = fl.targets.find((x) => x.target === t.target)!;
    const speed = t.instructionsPerInference && f.instructionsPerInference ? f.instructionsPerInference / t.instructionsPerInference : null;
    const ratio = (a: number, b: number, what: string) => (a >= b ? `${what} ${(a / b).toFixed(1)}x smaller` : `${what} ${(b / a).toFixed(1)}x larger`);
    return `${t.target}: ${ratio(f.flashBytes, t.flashBytes, 'flash')}, ${ratio(f.ramBytes, t.ramBytes, 'RAM')}, ${speed === null ? '' : speed >= 1 ? `${speed.toFixed(2)}x fewer instructions` : `${(1 / speed).toFixed(2)}x more instructions`}`;
  });
  return `Low-bit against float32 (${r.model}): ${parts.join('; ')}.`;
}

export function reportMarkdown(r: TfcReport): string {
  const lines = [
    `| ${r.model} | build | accuracy (interpreter, ${r.images.toLocaleString('en-US')} images) | target | images run | bit-identical | flash | RAM (arena + stack + other) | instructions/inference |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const v of r.variants) {
    if (v.error) {
      lines.push(`| | ${v.variant} | — | — | — | — | — | — | not available: ${v.error.split('\n')[0]!.replace(/\|/g, '\\|')} |`);
      continue;
    }
    v.targets.forEach((t, i) => {
      lines.push(
        `| | ${i === 0 ? v.variant : ''} | ${i === 0 ? `${v.accuracy!.toFixed(2)} %` : ''} | ${t.target} | ${fmtInt(t.images)} | ${t.identical === t.images ? 'yes' : `NO (${t.identical})`} | ${fmtInt(t.flashBytes)} B | ${fmtInt(t.ramBytes)} B (${fmtInt(t.arenaBytes)} + ${fmtInt(t.stackBytes)} + ${fmtInt(t.ramBytes - t.arenaBytes - t.stackBytes)}) | ${t.instructionsPerInference === null ? '—' : `${fmtInt(t.instructionsPerInference)}${t.instructionsResolution! > 1 ? ` ±${t.instructionsResolution}` : ''}`} |`,
      );
    });
  }
  return lines.join('\n');
}

// Command line of the evaluate.ts scripts in examples/tfc-2w2a and examples/tfc-1w1a:
// --count N (default 10000), --sample N (default 100), --json.
export async function evaluateMain(model: TfcModel, argv: string[]): Promise<void> {
  const opt = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return def;
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < 1 || v > 10_000) throw new Error(`--${name} expects an integer from 1 to 10000, got "${argv[i + 1] ?? ''}"`);
    return v;
  };
  const r = await benchmarkTfc(model, opt('count', 10_000), opt('sample', 100), (s) => process.stderr.write(`${s}\n`));
  process.stdout.write(`${model} (published top-1 ${r.published.toFixed(2)} %)\n\n${reportMarkdown(r)}\n`);
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}

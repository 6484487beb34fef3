// `tritc quantize` as a user meets it: a real float checkpoint in, a folder out that every other
// command reads back to the same quantized weights, --json for scripts, one-line errors.

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Io } from '../compiler/cli/command.ts';
import { main } from '../compiler/cli/main.ts';
import { buildLmGraph } from '../compiler/lm/build.ts';
import type { LmTensor } from '../compiler/lm/model.ts';
import { quantizeLmModel, type QuantizeSpec } from '../compiler/quantize/model.ts';
import { readHfFolder } from '../compiler/readers/hf/folder.ts';
import { readLlama2c } from '../compiler/readers/llama2c/checkpoint.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { workDir } from './support/differential.ts';

const STORIES = join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin');
const root = workDir('quantize-cli');

async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

/** The values a projection stands for, to compare what was written with what was quantized. */
function codesOf(t: LmTensor): number[] {
  switch (t.kind) {
    case 'ternary':
    case 'int8':
    case 'intb':
    case 'fairy2i':
      return Array.from(t.codes);
    default:
      throw new Error(`not quantized: ${t.kind}`);
  }
}

describe('tritc quantize', () => {
  const base = readLlama2c(STORIES);

  const cases: [string, string[], QuantizeSpec][] = [
    [
      'gptq int4 g32',
      ['--method', 'gptq', '--bits', '4', '--group', '32', '--calibration', '2', '--calibration-length', '12'],
      { method: 'gptq', bits: 4, groupSize: 32, calibration: { count: 2, length: 12, seed: 1 } },
    ],
    ['ptqtp', ['--method', 'ptqtp'], { method: 'ptqtp' }],
    ['tequila g64', ['-m', 'tequila', '--group', '64'], { method: 'tequila', groupSize: 64 }],
    ['fairy2i W2', ['-m', 'fairy2i', '--stages', '2'], { method: 'fairy2i', stages: 2 }],
    [
      'tbt A2',
      ['-m', 'tbt', '--act-bits', '2', '--calibration', '2', '--calibration-length', '12'],
      { method: 'tbt', actBits: 2, calibration: { count: 2, length: 12, seed: 1 } },
    ],
    ['tbt binary A8', ['-m', 'tbt', '--binary', '--act-bits', '8', '--act-clip', '4'], { method: 'tbt', binary: true, actBits: 8, actClip: 4 }],
  ];
  for (const [label, argv, spec] of cases)
    it(`${label}: the folder reads back to the quantized weights, and the float parts unchanged`, async () => {
      const out = join(root, label.replace(/ /g, '-'));
      rmSync(out, { recursive: true, force: true });
      const r = await tritc('quantize', STORIES, ...argv, '-o', out, '--json');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.out);
      expect(summary.projections).toBe(35);
      expect(summary.bitsPerWeight).toBeGreaterThan(2);
      expect(summary.bitsPerWeight).toBeLessThan(8);
      const want = quantizeLmModel(base, spec).model;
      const back = readHfFolder(out);
      for (const [name, t] of want.tensors) {
        const got = back.tensors.get(name)!;
        expect(got, name).toBeDefined();
        if (t.kind === 'float32') continue;
        expect(got.kind, name).toBe(t.kind);
        // Q and K rows are in transformers' RoPE order in the folder (read back as a half-split model):
        // folder row h*d + a*d/2 + i holds model row h*d + 2i + a. A model that is half-split already
        // (Fairy2i quantizes in that order) is written as it is.
        const heads = want.config.ropeStyle === 'half' ? 0 : name.endsWith('attn_q') ? base.config.nHeads : name.endsWith('attn_k') ? base.config.nKvHeads : 0;
        const d = base.config.headDim;
        const rowOf = (r: number) => (heads ? Math.floor(r / d) * d + 2 * (r % (d / 2)) + Math.floor((r % d) / (d / 2)) : r);
        const [rows, cols] = t.shape;
        const wantCodes = codesOf(t);
        const rowLength = heads ? cols : 1;
        const permuted = wantCodes.map((_, i) => {
          if (!heads) return wantCodes[i]!;
          const p = Math.floor(i / (rows * rowLength));
          const r = Math.floor((i % (rows * rowLength)) / rowLength);
          return wantCodes[p * rows * rowLength + rowOf(r) * rowLength + (i % rowLength)]!;
        });
        expect(codesOf(got), name).toEqual(permuted);
        // TBT's input quantizers: the same step or clip, signed except into the FFN's down projection.
        if (t.kind === 'ternary' && t.input) {
          expect(got.kind === 'ternary' && got.input, name).toEqual(t.input);
          expect(t.input.signed, name).toBe(!name.endsWith('ffn_down'));
        }
      }
    });

  it("TBT W2A2 compiles to TBT's integer form: int8 codes into TernaryLinear, the unsigned down projection on values", () => {
    const m = quantizeLmModel(base, { method: 'tbt', actBits: 2, calibration: { count: 2, length: 12, seed: 1 } }).model;
    const g = buildLmGraph(m, { context: 8, chunk: 2 });
    const producer = (t: string) => g.nodes.find((n) => n.outputs.includes(t))!;
    for (const proj of ['wq', 'wk', 'wv', 'wo', 'w_gate', 'w_up', 'w_down']) {
      const node = g.nodes.find((n) => n.name === `l0.${proj}`)!;
      const q = producer(node.inputs[0]!);
      expect(q.op, proj).toBe('ActQuant');
      const down = proj === 'w_down';
      expect([node.op, q.attrs.signed, q.attrs.int8, g.tensors.get(q.outputs[0]!)!.dtype], proj).toEqual(
        down ? ['Linear', false, false, 'float32'] : ['TernaryLinear', true, true, 'int8'],
      );
    }
    // q, k and v read one input through one quantizer (the same calibrated step).
    const wq = g.nodes.find((n) => n.name === 'l0.wq')!;
    expect(g.nodes.find((n) => n.name === 'l0.wv')!.inputs[0]).toBe(wq.inputs[0]);
    expect(g.lm!.summary.activations).toMatch(/TBT's quantizers on projection inputs \(elastic signed 2-bit x30, elastic unsigned 2-bit x5\)/);
  });

  it('the table line says what was done', async () => {
    const out = join(root, 'absmean');
    rmSync(out, { recursive: true, force: true });
    const r = await tritc('quantize', STORIES, '-m', 'absmean', '--granularity', 'per-row', '-o', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/35 projections quantized, absmean per row/);
    expect(r.out).toMatch(/bits per weight/);
  });

  it('bad options and inputs: one line, non-zero, nothing written', async () => {
    const out = join(root, 'never');
    rmSync(out, { recursive: true, force: true });
    const bad: [string[], RegExp][] = [
      [['quantize', STORIES, '-o', out], /--method.*is required/],
      [['quantize', STORIES, '-m', 'awq', '-o', out], /--method: expects one of absmean, int8, rtn, gptq, ptqtp, tequila, tbt, fairy2i, got "awq"/],
      [['quantize', STORIES, '-m', 'gptq', '--bits', '5', '-o', out], /--bits: expects 2, 3, 4 or 8, got 5/],
      [['quantize', STORIES, '-m', 'ptqtp', '--bits', '4', '-o', out], /--bits applies to gptq, rtn, not ptqtp/],
      [['quantize', STORIES, '-m', 'absmean'], /--output.*is required/],
      [['quantize', STORIES, '-m', 'tbt', '--act-bits', '4', '-o', out], /--act-bits: expects 1, 2 or 8/],
      [['quantize', STORIES, '-m', 'tbt', '--act-clip', '3', '-o', out], /act-clip need activation bits/],
      [['quantize', STORIES, '-m', 'tbt', '--act-bits', '2', '--act-clip', '3', '-o', out], /clip applies to 8-bit activations/],
      [['quantize', STORIES, '-m', 'ptqtp', '--act-bits', '2', '-o', out], /--act-bits applies to tbt, not ptqtp/],
      [['quantize', join(SHARED_DATA, 'SOURCES.md'), '-m', 'absmean', '-o', out], /SOURCES\.md/],
    ];
    for (const [argv, re] of bad) {
      const r = await tritc(...argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(re);
    }
    expect(existsSync(out)).toBe(false);
    // An existing folder is not written over.
    const r = await tritc('quantize', STORIES, '-m', 'absmean', '-o', root);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/exists; choose a new folder/);
  });
});

// The command line with ONNX models: compile, run and inspect take .onnx files wherever they take the
// native format (by extension, or by content for any other file name); `inspect` shows the kernel
// and packing chosen per layer; --no-lowbit turns detection off; bad files are one-line errors.

import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { workDir } from './support/differential.ts';

const TFC_2W2A = join(SHARED_DATA, 'qonnx', 'models', 'TFC_2W2A.onnx');
const TFC_1W1A = join(SHARED_DATA, 'qonnx', 'models', 'TFC_1W1A.onnx');
const root = workDir('onnx-cli');

async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('tritc with ONNX models', () => {
  it('inspect shows per layer the low-bit kernel and packing chosen', async () => {
    const r = await tritc('inspect', TFC_2W2A, '--target', 'cortex-m4', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const lin = j.layers.filter((l: { op: string }) => l.op === 'TernaryLinear');
    expect(lin).toHaveLength(4);
    for (const l of lin) {
      // The kernel and packing are the compiler's choice for the target (docs/kernels.md).
      expect(l.kernel).toMatch(/^tn_ternary_linear/);
      expect(l.annotations.packing).toMatch(/bit/);
      expect(l.annotations.why).toMatch(/instr\/weight on cortex-m4/);
      expect(l.annotations.weights).toMatch(/^ternary from Quant/);
    }
    expect(lin[0].annotations.folded).toBe('BatchNormalization "BatchNormalization_21"');
    const bin = JSON.parse((await tritc('inspect', TFC_1W1A, '--json', '--kernel', 'b1')).out);
    expect(bin.layers.filter((l: { annotations: { packing?: string } }) => l.annotations.packing === '1-bit, 8 per byte')).toHaveLength(4);
    const text = await tritc('inspect', TFC_2W2A, '--kernel', 't2');
    expect(text.out).toMatch(/MatMul_20 +TernaryLinear +tn_ternary_linear \(t2\.ref, int32 acc\) \[weights: ternary from Quant/);
  });

  it('recognises an ONNX file by its content, whatever its name', async () => {
    const p = join(root, 'tfc-model.bin');
    copyFileSync(TFC_1W1A, p);
    const r = await tritc('inspect', p, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).model).toBe('tfc-model.bin');
  });

  it('compile and run take .onnx files', async () => {
    const out = join(root, 'c');
    const c = await tritc('compile', TFC_2W2A, '--target', 'cortex-m4', '-o', out, '--json');
    expect(c.code).toBe(0);
    expect(JSON.parse(c.out).files).toEqual(expect.arrayContaining(['model.c', 'tn_quantize_static.c']));
    expect(JSON.parse(c.out).files.some((f: string) => /^tn_(ternary_linear|lut)/.test(f))).toBe(true);
    expect(existsSync(join(out, 'model.c'))).toBe(true);
    const r = await tritc('run', TFC_2W2A, '--target', 'host', '-n', '2', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).targets[0]).toMatchObject({ target: 'host', ok: true, identical: 2 });
  });

  it('--no-lowbit keeps the weights float32', async () => {
    const r = await tritc('inspect', TFC_2W2A, '--no-lowbit', '--json');
    expect(r.code).toBe(0);
    const ops = JSON.parse(r.out).layers.map((l: { op: string }) => l.op);
    expect(ops).not.toContain('TernaryLinear');
    expect(ops).toContain('MatMul');
  });

  it('a garbage .onnx file is a one-line error, exit status 1, no stack trace', async () => {
    const p = join(root, 'garbage.onnx');
    writeFileSync(p, 'not a model\n'.repeat(10));
    const r = await tritc('compile', p, '-o', join(root, 'never'));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^error: .*garbage\.onnx: is not a valid ONNX model/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});

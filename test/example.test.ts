// The example model, on every target, on real digits from the held-out split.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import { readNpz } from '../compiler/io/npz.ts';
import { writeNpy } from '../compiler/io/npy.ts';
import { loadDigits, SHARED_DATA } from '../examples/data.ts';
import { TRAIN_COUNT } from '../examples/digits-mlp/train.ts';
import { workDir } from './support/differential.ts';

describe('examples/digits-mlp', () => {
  it('runs bit-exact on all targets and classifies held-out digits', async () => {
    const dir = workDir('example');
    const { images, labels } = loadDigits();
    const n = 40;
    const x = new Float32Array(n * 64);
    for (let i = 0; i < n * 64; i++) x[i] = images[TRAIN_COUNT * 64 + i]! / 16;
    writeFileSync(join(dir, 'digits.npy'), writeNpy({ dtype: 'float32', shape: [n, 1, 64], data: x }));
    let out = '';
    const io = { out: (s: string) => (out += s), err: () => {}, progress: () => {}, endProgress: () => {} };
    const code = await main(
      [
        'run',
        join(import.meta.dirname, '../examples/digits-mlp'),
        '--target',
        'all',
        '--inputs',
        join(dir, 'digits.npy'),
        '--outputs',
        join(dir, 'out.npz'),
        '--json',
      ],
      io,
    );
    const report = JSON.parse(out);
    expect(report.targets.map((t: { target: string; ok: boolean; identical: number }) => [t.target, t.ok, t.identical])).toEqual(
      ['host', 'rpi-aarch64', 'rpi-armv7', 'riscv64-linux', 'cortex-m4', 'cortex-m3', 'rv32imc'].map((t) => [t, true, n]),
    );
    expect(code).toBe(0);
    for (const t of report.targets) {
      expect(t.flashBytes).toBeGreaterThan(2668); // at least the weights
      expect(t.ramBytes).toBeGreaterThanOrEqual(t.arenaBytes + t.stackBytes);
      if (['cortex-m4', 'cortex-m3', 'rv32imc'].includes(t.target)) expect(t.instructionsPerInference).toBeGreaterThan(10_000);
    }
    const cls = readNpz(readFileSync(join(dir, 'out.npz')), 'out.npz').get('class')!.data as Int32Array;
    const correct = cls.filter((c, i) => c === labels[TRAIN_COUNT + i]).length;
    expect(correct / n).toBeGreaterThanOrEqual(0.85);
  });
});

describe('examples/stories260k-m4', () => {
  it('stories260K, ternarized, generates on cortex-m4 bit-exact with the interpreter, in the flash and RAM of an STM32F4', async () => {
    let out = '';
    const io = { out: (s: string) => (out += s), err: () => {}, progress: () => {}, endProgress: () => {} };
    const code = await main(
      [
        'generate',
        join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin'),
        '--target',
        'cortex-m4',
        '--ternarize',
        'absmean',
        '--activations',
        'int8',
        '--context',
        '128',
        '--kv-cache',
        'f16',
        '--chunk',
        '4',
        '--prompt-ids',
        '1,400,300,500',
        '-n',
        '32',
        '--json',
      ],
      io,
    );
    const r = JSON.parse(out);
    expect(r.matched).toBe(true);
    expect(code).toBe(0);
    expect(r.ids).toHaveLength(32);
    expect(r.flashBytes).toBeLessThan(1024 * 1024);
    expect(r.ramBytes).toBeLessThan(128 * 1024);
    expect(r.decode.instructionsPerToken).toBeGreaterThan(100_000);
  });
});

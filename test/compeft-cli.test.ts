// `tritc delta make | inspect` and `tritc run | generate --delta` on llama2.c checkpoints (a base, a fine-tuned
// copy, another base): the blob is made, described, refused for the wrong base in one line, and run
// on the host bit for bit against the interpreter with the same delta.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpret } from '../compiler/api/index.ts';
import type { Io } from '../compiler/cli/command.ts';
import { main } from '../compiler/cli/main.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { readNpy } from '../compiler/io/npy.ts';
import { workDir } from './support/differential.ts';
import { randomWeights, writeLlama2c, type Llama2cSpec } from './support/llama2c_writer.ts';

async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

const SPEC: Llama2cSpec = { version: 0, dim: 16, hiddenDim: 24, nLayers: 2, nHeads: 2, nKvHeads: 2, vocabSize: 32, seqLen: 16, shared: false };

describe('tritc delta', () => {
  const dir = workDir('compeft-cli');
  const base = randomWeights(SPEC, 1);
  const next = rng(9);
  const tuned = new Map([...base].map(([k, v]) => [k, /attn_|ffn_(gate|up|down)/.test(k) ? Float32Array.from(v, (x) => x + 0.1 * (next() - 0.5)) : v]));
  writeFileSync(join(dir, 'base.bin'), writeLlama2c(SPEC, base));
  writeFileSync(join(dir, 'tuned.bin'), writeLlama2c(SPEC, tuned));
  writeFileSync(join(dir, 'other.bin'), writeLlama2c(SPEC, randomWeights(SPEC, 2)));
  const d = join(dir, 'd.tdelta');

  it('make reports the compression, inspect describes the blob and refuses another base in one line', async () => {
    const made = await tritc('delta', 'make', '--base', join(dir, 'base.bin'), '--tuned', join(dir, 'tuned.bin'), '--density', '0.2', '-o', d, '--json');
    expect(made.err).toBe('');
    expect(made.code).toBe(0);
    const r = JSON.parse(made.out);
    expect(r.kept).toBe(Math.round(0.2 * r.parameters));
    expect(r.blobBytes).toBe(readFileSync(d).length);
    expect(r.ratio).toBeGreaterThan(4);
    const text = await tritc('delta', 'make', '--base', join(dir, 'base.bin'), '--tuned', join(dir, 'tuned.bin'), '-o', join(dir, 'd10.tdelta'));
    expect(text.out).toMatch(/x smaller than the float32 task vector/);
    const ins = await tritc('delta', 'inspect', d, '--base', join(dir, 'base.bin'));
    expect(ins.code).toBe(0);
    expect(ins.out).toMatch(/slot 0 blk\.0\.attn_q \[16, 16\]/);
    const wrong = await tritc('delta', 'inspect', d, '--base', join(dir, 'other.bin'));
    expect(wrong.code).toBe(1);
    expect(wrong.err.trim().split('\n')).toHaveLength(1);
    expect(wrong.err).toMatch(/was made for base [0-9a-f]{16}, this model is base/);
    writeFileSync(join(dir, 'cut.tdelta'), readFileSync(d).subarray(0, 100));
    const cut = await tritc('delta', 'inspect', join(dir, 'cut.tdelta'));
    expect(cut.code).toBe(1);
    expect(cut.err.trim()).toMatch(/^error: .*cut\.tdelta: is truncated: its header says \d+ bytes, 100 are present$/);
    const compile = await tritc('compile', join(dir, 'base.bin'), '--delta', d, '-o', join(dir, 'out'));
    expect(compile.code).toBe(2);
  });

  it('run --delta: the host program loads the blob and matches the interpreter with it; the wrong base is refused before building', async () => {
    const logits: Float32Array[] = [];
    for (const delta of [['--delta', d], ['--deltas']]) {
      const out = join(dir, `logits${logits.length}.npy`);
      const run = await tritc('run', join(dir, 'base.bin'), ...delta, '--target', 'host', '--count', '1', '--chunk', '3', '--outputs', out, '--json');
      expect(run.err).toBe('');
      const r = JSON.parse(run.out);
      expect(r.ok).toBe(true);
      expect(r.targets[0].identical).toBe(r.tokens[0]);
      logits.push(readNpy(new Uint8Array(readFileSync(out)), out).data as Float32Array);
    }
    // The delta is applied: the logits differ from the base's.
    expect(logits[0]).not.toEqual(logits[1]);
    // The package API takes it too: interpret() with `delta` gives the logits the run checked.
    const api = await interpret(join(dir, 'base.bin'), { delta: d, count: 1, chunk: 3 });
    if (api.kind !== 'lm') throw new Error('expected a language model result');
    expect(Float32Array.from(api.logits[0]!.flatMap((l) => [...l]))).toEqual(logits[0]);
    const gen = await tritc('generate', join(dir, 'base.bin'), '--delta', d, '--prompt-ids', '1,2,3', '-n', '4', '--json');
    expect(gen.err).toBe('');
    expect(JSON.parse(gen.out)).toMatchObject({ ok: true, matched: true });
    const wrong = await tritc('run', join(dir, 'other.bin'), '--delta', d, '--target', 'host');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/was made for base/);
  });
});

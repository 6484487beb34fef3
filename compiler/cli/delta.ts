// `tritc delta`: ComPEFT task vectors (docs/formats.md, "ComPEFT task vectors").
//   tritc delta make --base A --tuned B --density 0.1 -o d.tdelta    compress B - A into a blob
//   tritc delta inspect d.tdelta [--base A]                           what a blob holds (and whether it fits A)
// A model built with --deltas applies a blob at run time (<prefix>_load_delta); `tritc run` and
// `tritc generate` take --delta d.tdelta to run one in the interpreter and on the target.

import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../diagnostics.ts';
import { baseHash, deltaSlots } from '../lm/delta/base.ts';
import { checkDeltaFits, decodeDelta, hex64, type TaskDelta } from '../lm/delta/blob.ts';
import { makeDelta } from '../lm/delta/make.ts';
import type { LmModel } from '../lm/model.ts';
import { detectFormat, isLanguageModel, readLanguageModel } from '../readers/index.ts';
import { formatBytes } from '../util/format.ts';
import { loadOptions, stringOpt, type Command, type ParsedArgs } from './command.ts';

function readLm(path: string, what: string, args?: ParsedArgs): LmModel {
  const format = detectFormat(path);
  if (!isLanguageModel(format)) fail('usage', path, `${what} must be a language model (GGUF, llama2.c or a Hugging Face folder), found ${format}`);
  return readLanguageModel(path, format, args ? loadOptions(args) : {});
}

/** Read and check a .tdelta file: one line naming the file on any problem. */
export function readDeltaFile(path: string): TaskDelta {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    fail('io', path, `cannot read: ${(e as Error).message}`);
  }
  return decodeDelta(bytes, path);
}

export const deltaCommand: Command = {
  name: 'delta',
  summary: 'make or inspect ComPEFT task-vector deltas that a compiled model applies at run time',
  usage: 'tritc delta make --base <model> --tuned <model> [--density 0.1] [--alpha-factor 1] -o <out.tdelta> | tritc delta inspect <d.tdelta> [--base <model>]',
  description: `make: compresses the difference between a fine-tuned (or LoRA-merged) float checkpoint and its base
over every per-layer projection as ComPEFT does: keep the --density largest |tuned - base| entries,
replace each by alpha * its sign with one alpha = --alpha-factor * std(tuned - base). Writes a .tdelta
blob (docs/formats.md) that names the base by a hash of its weights, and reports the compression.
The base is read as a compile reads it (--ternarize, --weights apply to it), so the blob fits the
model compiled from it with --deltas.
inspect: what a blob holds; with --base, whether it fits that base.`,
  positionals: { min: 1, max: 2 },
  options: {
    base: { type: 'string', valueName: 'model', help: 'the base model (as compiled: --ternarize and --weights apply to it)' },
    tuned: { type: 'string', valueName: 'model', help: 'make: the fine-tuned checkpoint, same architecture' },
    density: { type: 'string', valueName: 'd', help: 'make: the fraction of entries kept, in (0, 1] (default 0.1)' },
    'alpha-factor': { type: 'string', valueName: 'f', help: 'make: alpha = f * std of the task vector (default 1, the paper)' },
    output: { type: 'string', short: 'o', valueName: 'file', help: 'make: the .tdelta file to write' },
    ternarize: { type: 'string', valueName: 'method', help: 'the base: ternarize float projections on import (as tritc compile --ternarize)' },
    weights: { type: 'string', valueName: 'kind', help: 'the base: int8 projections on import (as tritc compile --weights int8)' },
  },
  async run(args, io) {
    const [action, file] = args.positionals;
    if (action === 'make') {
      if (file !== undefined) fail('usage', '', `tritc delta make takes no positional argument, got "${file}" (tritc delta --help)`);
      const basePath = stringOpt(args, 'base');
      const tunedPath = stringOpt(args, 'tuned');
      const out = stringOpt(args, 'output');
      if (!basePath || !tunedPath || !out) fail('usage', '', 'tritc delta make needs --base, --tuned and -o (tritc delta --help)');
      const num = (name: string, def: number) => {
        const v = stringOpt(args, name);
        const x = v === undefined ? def : Number(v);
        if (!Number.isFinite(x)) fail('usage', `--${name}`, `expects a number, got "${v}"`);
        return x;
      };
      const density = num('density', 0.1);
      const alphaFactor = num('alpha-factor', 1);
      const base = readLm(basePath, '--base', args);
      const tuned = readLm(tunedPath, '--tuned');
      const { blob, stats, delta } = makeDelta(base, tuned, { density, alphaFactor });
      // No half-written output: write beside it, then rename.
      const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
      try {
        writeFileSync(tmp, blob);
        renameSync(tmp, out);
      } catch (e) {
        rmSync(tmp, { force: true });
        fail('io', out, `cannot write: ${(e as Error).message}`);
      }
      const summary = {
        ok: true,
        output: out,
        base: hex64(delta.baseHash),
        tensors: delta.tensors.length,
        ...stats,
      };
      if (args.json) io.out(JSON.stringify(summary, null, 2));
      else {
        io.out(
          `${out}: ${stats.kept} of ${stats.parameters} entries (density ${(stats.kept / stats.parameters).toFixed(4)}) in ${delta.tensors.length} projections, alpha ${stats.alpha.toPrecision(6)} (std ${stats.sigma.toPrecision(6)}), base ${hex64(delta.baseHash)}`,
        );
        io.out(
          `${formatBytes(stats.blobBytes)}: ${stats.bitsPerParameter.toFixed(3)} bits per parameter, ${stats.ratio.toFixed(1)}x smaller than the float32 task vector (${formatBytes(stats.floatBytes)}); the entropy bound H(d) + d is ${stats.entropyBitsPerParameter.toFixed(3)} bits per parameter`,
        );
        if (stats.otherChanged.length)
          io.out(
            `note: ${stats.otherChanged.length} tensors outside the projections differ and are not in the delta: ${stats.otherChanged.slice(0, 6).join(', ')}${stats.otherChanged.length > 6 ? ', ...' : ''}`,
          );
      }
      return 0;
    }
    if (action === 'inspect') {
      if (file === undefined) fail('usage', '', 'tritc delta inspect needs the .tdelta file (tritc delta --help)');
      const delta = readDeltaFile(file);
      const basePath = stringOpt(args, 'base');
      let fits: string | undefined;
      let names: string[] | undefined;
      if (basePath) {
        const base = readLm(basePath, '--base', args);
        const slots = deltaSlots(base.config);
        checkDeltaFits(delta, { hash: baseHash(base), slots }, file);
        fits = basePath;
        names = slots.map((s) => s.name);
      }
      const rows = delta.tensors.map((t) => ({
        slot: t.slot,
        name: names?.[t.slot] ?? null,
        rows: t.rows,
        cols: t.cols,
        alpha: t.alpha,
        nonzeros: t.entries.length,
      }));
      if (args.json) io.out(JSON.stringify({ ok: true, file, base: hex64(delta.baseHash), fits: fits ?? null, tensors: rows }, null, 2));
      else {
        io.out(`${file}: ComPEFT delta for base ${hex64(delta.baseHash)}, ${rows.length} tensors${fits ? `; fits ${fits}` : ''}`);
        for (const r of rows)
          io.out(
            `  slot ${r.slot}${r.name ? ` ${r.name}` : ''} [${r.rows}, ${r.cols}]: ${r.nonzeros} nonzeros (${((100 * r.nonzeros) / (r.rows * r.cols)).toFixed(1)}%), alpha ${r.alpha.toPrecision(6)}`,
          );
      }
      return 0;
    }
    fail('usage', '', `unknown action "${action}"; tritc delta make ... or tritc delta inspect <file> (tritc delta --help)`);
  },
};

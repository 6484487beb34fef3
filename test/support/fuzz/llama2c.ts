// llama2.c cases: stories260K.bin and checkpoints written the way export.py writes them (versions 0,
// 1 and 2, shared or separate classifier), with or without a tokenizer.bin; the header's ints, flag
// and group size are recorded fields (huge, zero, negative, heads that do not divide), the tokenizer's
// lengths and scores too; then byte mutations (truncation is the common real-world damage). Read with
// loadModel and --tokenizer, as `tritc compile model.bin --tokenizer tokenizer.bin` does.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { writeTokenizerBin } from '../../../compiler/readers/llama2c/tokenizer_bin.ts';
import { loadModel } from '../../../compiler/readers/index.ts';
import { SHARED_DATA } from '../../../examples/data.ts';
import { randomWeights, writeLlama2c, type Llama2cSpec } from '../llama2c_writer.ts';
import { applyByteMutations, byteMutation, describeByteMutation } from './bytes.ts';
import { fieldMutation, mutateFields, type Field } from './fields.ts';
import { some, type FuzzCase, type FuzzReader } from './harness.ts';

const PARAMS = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'];

function headerFields(version: number): Field[] {
  if (version === 0) return PARAMS.map((p, i) => ({ at: 4 * i, width: 4, label: p }));
  return [
    { at: 0, width: 4, label: 'the magic' },
    { at: 4, width: 4, label: 'the version' },
    ...PARAMS.map((p, i): Field => ({ at: 8 + 4 * i, width: 4, label: p })),
    { at: 36, width: 1, label: 'shared_classifier' },
    ...(version === 2 ? [{ at: 37, width: 4 as const, label: 'group_size' }] : []),
  ];
}

let stories: Uint8Array | undefined;

const specArb: fc.Arbitrary<Llama2cSpec & { seed: number }> = fc
  .record({
    version: fc.constantFrom(0 as const, 1 as const, 2 as const),
    kvHeads: fc.constantFrom(1, 2),
    group: fc.constantFrom(1, 2),
    headSize: fc.constantFrom(2, 4, 8),
    hiddenDim: fc.constantFrom(4, 8, 16),
    nLayers: fc.constantFrom(1, 2),
    vocabSize: fc.constantFrom(4, 8, 19),
    seqLen: fc.constantFrom(4, 16),
    shared: fc.boolean(),
    seed: fc.nat(1000),
  })
  .map((p) => ({
    version: p.version,
    dim: p.kvHeads * p.group * p.headSize,
    hiddenDim: p.hiddenDim,
    nLayers: p.nLayers,
    nHeads: p.kvHeads * p.group,
    nKvHeads: p.kvHeads,
    vocabSize: p.vocabSize,
    seqLen: p.seqLen,
    shared: p.shared,
    groupSize: p.version === 2 ? 2 : undefined,
    seed: p.seed,
  }));

/** tokenizer.bin for `vocab` tokens, with where each score and length sits. */
function tokenizer(vocab: number): { bytes: Uint8Array; fields: Field[] } {
  const tokens = Array.from({ length: vocab }, (_, i) =>
    i === 0 ? '<unk>' : i === 1 ? '\n<s>\n' : i === 2 ? '\n</s>\n' : i < 259 ? `<0x${(i - 3).toString(16).padStart(2, '0').toUpperCase()}>` : ` t${i}`,
  );
  const bytes = writeTokenizerBin(
    tokens,
    Float32Array.from(tokens, (_, i) => -i),
  );
  const fields: Field[] = [{ at: 0, width: 4, label: 'max_token_length' }];
  let off = 4;
  const enc = new TextEncoder();
  tokens.forEach((t, i) => {
    fields.push({ at: off, width: 4, label: `token ${i} score` }, { at: off + 4, width: 4, label: `token ${i} length` });
    off += 8 + enc.encode(t).length;
  });
  return { bytes, fields };
}

export const llama2cReader: FuzzReader = {
  name: 'llama2c',
  about: 'llama2.c checkpoints (versions 0, 1, 2) and tokenizer.bin: stories260K and generated ones, header fields and bytes mutated',
  cases: () =>
    fc
      .record({
        seed: fc.oneof({ weight: 1, arbitrary: fc.constant('stories260K' as const) }, { weight: 4, arbitrary: specArb }),
        withTokenizer: fc.boolean(),
        fields: some(fieldMutation, 3),
        tokenizerFields: some(fieldMutation, 2, 5),
        bytes: some(byteMutation, 2),
        tokenizerBytes: some(byteMutation, 1, 6),
      })
      .map(({ seed, withTokenizer, fields, tokenizerFields, bytes, tokenizerBytes }): FuzzCase => {
        let file: Uint8Array;
        let version: number;
        let vocab: number;
        if (seed === 'stories260K') {
          stories ??= new Uint8Array(readFileSync(join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin')));
          file = stories;
          version = 0;
          vocab = 512;
        } else {
          file = writeLlama2c(seed, randomWeights(seed, seed.seed));
          version = seed.version;
          vocab = seed.vocabSize;
        }
        const f = mutateFields(file, headerFields(version), fields);
        const files: [string, Uint8Array][] = [['model.bin', applyByteMutations(f.bytes, bytes)]];
        const what = [
          seed === 'stories260K'
            ? 'llama2c stories260K.bin'
            : `llama2c v${seed.version} dim ${seed.dim} layers ${seed.nLayers} vocab ${seed.vocabSize}${seed.shared ? ' shared' : ''}`,
          ...f.what,
          ...bytes.map(describeByteMutation),
        ];
        if (withTokenizer) {
          const tok = tokenizer(vocab);
          const tf = mutateFields(tok.bytes, tok.fields, tokenizerFields);
          files.push(['tokenizer.bin', applyByteMutations(tf.bytes, tokenizerBytes)]);
          what.push(`with tokenizer.bin${[...tf.what, ...tokenizerBytes.map(describeByteMutation)].map((w) => `; tokenizer ${w}`).join('')}`);
        }
        return {
          what: what.join('; '),
          files,
          read: (dir) => void loadModel(join(dir, 'model.bin'), withTokenizer ? { tokenizer: join(dir, 'tokenizer.bin') } : {}),
        };
      }),
};

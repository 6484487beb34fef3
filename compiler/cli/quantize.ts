// `tritc quantize`: a float decoder in, a quantized Hugging Face folder out (AutoGPTQ's layout when
// it can hold the result, else tritc's own), readable by every other command.

import { buildLmGraph } from '../lm/build.ts';
import { fail } from '../diagnostics.ts';
import { detectFormat, isLanguageModel, readLanguageModel } from '../readers/index.ts';
import { projectionBits } from '../quantize/bits.ts';
import { DEFAULT_CALIBRATION, describeSpec, QUANTIZE_METHODS, quantizeLmModel, type QuantizeMethod, type QuantizeSpec } from '../quantize/model.ts';
import { writeHfModel } from '../quantize/write_hf.ts';
import { intOpt, stringOpt, type Command, type ParsedArgs } from './command.ts';

function specOf(args: ParsedArgs): QuantizeSpec {
  const method = stringOpt(args, 'method');
  if (method === undefined) fail('usage', '--method', `is required: one of ${QUANTIZE_METHODS.join(', ')}`);
  if (!(QUANTIZE_METHODS as readonly string[]).includes(method)) fail('usage', '--method', `expects one of ${QUANTIZE_METHODS.join(', ')}, got "${method}"`);
  const spec: QuantizeSpec = { method: method as QuantizeMethod };
  const given = (name: string) => args.values[name] !== undefined;
  if (given('granularity')) {
    const g = stringOpt(args, 'granularity');
    if (g !== 'per-tensor' && g !== 'per-row') fail('usage', '--granularity', `expects per-tensor or per-row, got "${g}"`);
    spec.granularity = g === 'per-row' ? 'per_row' : 'per_tensor';
  }
  if (given('bits')) {
    const b = intOpt(args, 'bits', 4, 2);
    if (![2, 3, 4, 8].includes(b)) fail('usage', '--bits', `expects 2, 3, 4 or 8, got ${b}`);
    spec.bits = b as 2 | 3 | 4 | 8;
  }
  if (args.values.trits === true) spec.trits = true;
  if (given('group')) spec.groupSize = intOpt(args, 'group', 0, 1);
  if (args.values['act-order'] === true) spec.actOrder = true;
  if (args.values.sym === true) spec.sym = true;
  if (args.values.asym === true) {
    if (spec.sym) fail('usage', '--asym', 'give --sym or --asym, not both');
    spec.sym = false;
  }
  if (given('lambda')) {
    const l = Number(stringOpt(args, 'lambda'));
    if (!(Number.isFinite(l) && l >= 0)) fail('usage', '--lambda', `expects a number >= 0, got "${stringOpt(args, 'lambda')}"`);
    spec.lambda = l;
  }
  if (args.values.binary === true) spec.binary = true;
  if (given('act-bits')) {
    const b = intOpt(args, 'act-bits', 8, 1);
    if (![1, 2, 8].includes(b)) fail('usage', '--act-bits', `expects 1, 2 or 8 (TBT's activation quantizers), got ${b}`);
    spec.actBits = b as 1 | 2 | 8;
  }
  if (args.values['act-signed'] === true) spec.actSigned = true;
  if (given('act-clip')) {
    const c = Number(stringOpt(args, 'act-clip'));
    if (!(Number.isFinite(c) && c > 0)) fail('usage', '--act-clip', `expects a positive number, got "${stringOpt(args, 'act-clip')}"`);
    spec.actClip = c;
  }
  if (given('stages')) spec.stages = intOpt(args, 'stages', 1, 1);
  if (given('calibration') || given('calibration-length') || given('seed'))
    spec.calibration = {
      count: intOpt(args, 'calibration', DEFAULT_CALIBRATION.count, 1),
      length: intOpt(args, 'calibration-length', DEFAULT_CALIBRATION.length, 2),
      seed: intOpt(args, 'seed', DEFAULT_CALIBRATION.seed, 0),
    };
  return spec;
}

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: "quantize a float language model's projections (GPTQ, PTQTP, Tequila, TBT, Fairy2i, absmean, int8)",
  usage: 'tritc quantize <model> --method <method> -o <folder> [method options]',
  description: `Reads a float decoder (GGUF, llama2.c or a Hugging Face folder), quantizes the seven projections of
every layer (q, k, v, output, gate, up, down) by one method, and writes a Hugging Face folder that
tritc compile, run, generate and inspect read back. Embedding, head and norms stay as trained.
Methods (docs/formats.md says exactly what each computes):
  absmean   BitNet b1.58 / TriLM ternary, scale mean|W| (--granularity per-tensor|per-row)
  int8      absmax per row, the int8 baseline
  rtn       round to nearest on GPTQ's grid (--bits, --trits, --group, --sym/--asym)
  gptq      GPTQ with calibration sequences sampled from the model (--bits 2|3|4|8 or --trits,
            --group, --act-order, --calibration N, --calibration-length T, --seed S)
  ptqtp     two trit-planes (--group)
  tequila   ternary with the deadzone bias (--group, default 128; --lambda)
  tbt       TBT's weight quantizer (ternary, or --binary), and with --act-bits 8|2|1 its
            activation quantizers on every projection's input (8: clip then absmax, --act-clip;
            2, 1: the elastic quantizers, steps from calibration sequences; the FFN's down
            projection unsigned unless --act-signed)
  fairy2i   complex weights in {±1, ±i}, the widely-linear form (--stages 1|2, up to 4)
The folder is in AutoGPTQ's v1 layout when every projection fits it (GPTQ b bits, dimensions
multiples of 32), else in tritc's layout. The output folder must not exist.`,
  positionals: { min: 1, max: 1 },
  options: {
    method: { type: 'string', short: 'm', valueName: 'method', help: `quantization method: ${QUANTIZE_METHODS.join(', ')}` },
    output: { type: 'string', short: 'o', valueName: 'folder', help: 'the folder to write (must not exist)' },
    granularity: { type: 'string', valueName: 'g', help: 'absmean: per-tensor (default) or per-row' },
    bits: { type: 'string', valueName: 'b', help: 'gptq, rtn: bits per weight, 2, 3, 4 or 8 (default 4)' },
    trits: { type: 'boolean', help: "gptq, rtn: GPTQ's ternary grid {xmin, 0, xmax} per row" },
    group: { type: 'string', valueName: 'N', help: 'gptq, rtn, ptqtp, tequila: columns per scale group' },
    'act-order': { type: 'boolean', help: 'gptq: quantize columns in decreasing order of the Hessian diagonal (desc_act)' },
    sym: { type: 'boolean', help: 'gptq, rtn: symmetric grid' },
    asym: { type: 'boolean', help: 'gptq, rtn: asymmetric grid' },
    lambda: { type: 'string', valueName: 'x', help: 'tequila: deadzone weight (default 1e-3; 0 leaves the bias out)' },
    binary: { type: 'boolean', help: 'tbt: binary weights instead of ternary' },
    'act-bits': { type: 'string', valueName: 'b', help: "tbt: quantize each projection's input, 8, 2 or 1 bits (default: float inputs)" },
    'act-signed': { type: 'boolean', help: "tbt: the symmetric activation quantizer for the FFN's down projection too" },
    'act-clip': { type: 'string', valueName: 'c', help: 'tbt: the 8-bit activation clip (default 2.5, as TBT)' },
    stages: { type: 'string', valueName: 'S', help: 'fairy2i: recursive residual stages, 1 (W1) or 2 (W2); up to 4' },
    calibration: { type: 'string', valueName: 'N', help: `gptq, tbt --act-bits 1|2: calibration sequences (default ${DEFAULT_CALIBRATION.count})` },
    'calibration-length': { type: 'string', valueName: 'T', help: `gptq, tbt: tokens per calibration sequence (default ${DEFAULT_CALIBRATION.length})` },
    seed: { type: 'string', valueName: 'S', help: `gptq, tbt: seed of the calibration sampling (default ${DEFAULT_CALIBRATION.seed})` },
    tokenizer: { type: 'string', valueName: 'file', help: 'llama2.c: the tokenizer.bin (not written to the folder)' },
  },
  async run(args, io) {
    const path = args.positionals[0]!;
    const out = stringOpt(args, 'output');
    if (out === undefined) fail('usage', '--output', 'is required: the folder to write (-o <folder>)');
    const spec = specOf(args);
    const format = detectFormat(path);
    if (!isLanguageModel(format)) fail('usage', path, `is ${format}; tritc quantize takes a language model (GGUF, llama2.c or a Hugging Face folder)`);
    const model = readLanguageModel(path, format, { tokenizer: stringOpt(args, 'tokenizer') });
    const started = Date.now();
    // The terminal's progress line draws the bar and the time left.
    const result = quantizeLmModel(model, spec, (what, done, total) => io.progress(`quantize: ${what}`, { done, total }));
    io.endProgress();
    const bits = projectionBits(buildLmGraph(result.model, { context: 2, chunk: 1 }));
    const written = writeHfModel(result.model, out);
    const seconds = (Date.now() - started) / 1000;
    const summary = {
      model: path,
      output: out,
      method: describeSpec(spec),
      projections: result.count,
      bitsPerWeight: bits,
      calibrationSequences: result.calibrationSequences,
      layout: written.format,
      files: written.files,
      seconds,
    };
    if (args.json) io.out(JSON.stringify(summary, null, 2));
    else
      io.out(
        [
          `${path}: ${result.count} projections quantized, ${describeSpec(spec)}${result.calibrationSequences ? ` (${result.calibrationSequences} calibration sequences)` : ''}`,
          `  ${bits.toFixed(3)} bits per weight (codes, scales, zero points, biases)`,
          `  wrote ${out} (${written.format === 'gptq' ? "AutoGPTQ's v1 layout" : written.format === 'tritc' ? "tritc's layout" : 'float'}): ${written.files.join(', ')}`,
          `  in ${seconds.toFixed(1)} s`,
        ].join('\n'),
      );
    return 0;
  },
};

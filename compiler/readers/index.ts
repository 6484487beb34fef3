// The first stage of the pipeline: every model file tritc reads, recognised by its content whatever
// it is named, each format in a folder of its own:
//
//   native/   tritc's model.json (+ weights.safetensors), or a directory holding one
//   onnx/     ONNX / QONNX protobuf
//   gguf/     GGUF v2/v3 language models (llama.cpp)
//   llama2c/  llama2.c checkpoints (legacy, v1, v2) and tokenizer.bin
//   hf/       Hugging Face folders: config.json + *.safetensors
//
// Graph readers hand their graph to the shared passes (prepareGraph); language-model readers deliver
// an LmModel (compiler/lm/model.ts), which compiler/lm/build.ts turns into a graph.

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../diagnostics.ts';
import type { Graph } from '../ir.ts';
import { buildLmGraph, type LmBuildOptions } from '../lm/build.ts';
import type { LmModel } from '../lm/model.ts';
import { int8Model, parseTernarize, ternarizeModel } from '../lm/ternarize.ts';
import { parseUpcycle, upcycleMoe } from '../lm/upcycle.ts';
import { prepareGraph } from '../passes/pipeline.ts';
import { looksLikeGguf, readGgufLm } from './gguf/lm.ts';
import { looksLikeHfFolder, readHfFolder } from './hf/folder.ts';
import { looksLikeLlama2c, readLlama2c } from './llama2c/checkpoint.ts';
import { readModel } from './native/read.ts';
import { looksLikeOnnx, readOnnx } from './onnx/import.ts';

export type ModelFormat = 'native' | 'onnx' | 'gguf' | 'llama2c' | 'hf';

export interface LoadOptions {
  /** ONNX: detect ternary/binary weights and quantised activations (default true). */
  lowBit?: boolean;
  /** Language models: how to build the decoder graph (context, chunk, KV cache). */
  lm?: LmBuildOptions;
  /** Language models: ternarize float projections on import (`absmean[:per-tensor|per-row|shard:N]`). */
  ternarize?: string;
  /** Language models: quantize float projections to int8 per row on import (the int8 baseline). */
  weights?: 'int8';
  /** Language models: up-cycle the dense FFNs into MoTE layers (`E:k[:p]`, compiler/lm/upcycle.ts), before any quantization. */
  upcycleMoe?: string;
  /** llama2.c: the tokenizer.bin to attach. */
  tokenizer?: string;
  /** ONNX: shapes for graph inputs with symbolic dimensions (--input-shape), and the batch (--batch). */
  shapes?: { inputs: ReadonlyMap<string, readonly number[]>; batch?: number };
}

function head(path: string, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  let fd: number | undefined;
  let got = 0;
  try {
    fd = openSync(path, 'r');
    got = readSync(fd, buf, 0, n, 0);
  } catch (e) {
    fail('io', path, `cannot read: ${(e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return buf.subarray(0, got);
}

/** What kind of model `path` holds, from its content (a directory: what it contains). */
export function detectFormat(path: string): ModelFormat {
  if (!existsSync(path)) fail('io', path, 'no such file or directory');
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'model.json'))) return 'native';
    if (looksLikeHfFolder(path)) return 'hf';
    fail('io', path, 'is a directory with neither a model.json (tritc\'s format) nor a config.json with "architectures" (a Hugging Face model folder)');
  }
  const size = statSync(path).size;
  const h = head(path, 256);
  if (looksLikeGguf(h)) return 'gguf';
  if (looksLikeLlama2c(h, size)) return 'llama2c';
  const text = new TextDecoder().decode(h.subarray(0, 64)).trimStart();
  if (text.startsWith('{')) return 'native';
  if (isSafetensors(h, size))
    fail(
      'unsupported',
      path,
      "is a safetensors file: weights alone. Give the folder that holds it with its config.json (a Hugging Face model) or its model.json (tritc's format)",
    );
  if (looksLikeOnnx(path, h)) return 'onnx';
  fail(
    'unsupported',
    path,
    `is not a model tritc reads (${describeBytes(h)}); it reads GGUF, llama2.c checkpoints, ONNX, Hugging Face folders and tritc's model.json`,
  );
}

function isSafetensors(h: Uint8Array, size: number): boolean {
  if (h.length < 10) return false;
  const n = Number(new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0, true));
  return n > 0 && n + 8 <= size && h[8] === 0x7b; // '{'
}

function describeBytes(h: Uint8Array): string {
  if (h.length === 0) return 'it is empty';
  const shown = Array.from(h.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const ascii = Array.from(h.subarray(0, 8), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `it starts with the bytes ${shown} ("${ascii}")`;
}

/** Read a language model file (GGUF, llama2.c, Hugging Face folder), ternarized if asked. */
export function readLanguageModel(path: string, format: ModelFormat, opts: LoadOptions = {}): LmModel {
  let model: LmModel;
  if (format === 'gguf') model = readGgufLm(path);
  else if (format === 'llama2c') model = readLlama2c(path, { tokenizer: opts.tokenizer });
  else if (format === 'hf') model = readHfFolder(path);
  else throw new Error(`internal: ${format} is not a language-model format`);
  if (opts.tokenizer && format !== 'llama2c')
    fail(
      'usage',
      '--tokenizer',
      `only llama2.c checkpoints take a tokenizer.bin; ${path} is ${format}${format === 'gguf' ? ' (its tokenizer is in the file)' : ''}`,
    );
  if (opts.ternarize && opts.weights) fail('usage', '--weights', 'give --ternarize or --weights int8, not both');
  if (opts.upcycleMoe) model = upcycleMoe(model, parseUpcycle(opts.upcycleMoe));
  if (opts.weights === 'int8') return int8Model(model);
  return opts.ternarize ? ternarizeModel(model, parseTernarize(opts.ternarize)) : model;
}

export function isLanguageModel(format: ModelFormat): boolean {
  return format === 'gguf' || format === 'llama2c' || format === 'hf';
}

/** Read any model and hand it on as a graph after the target-independent passes. */
export function loadModel(path: string, opts: LoadOptions = {}): Graph {
  const format = detectFormat(path);
  if (isLanguageModel(format)) return prepareGraph(buildLmGraph(readLanguageModel(path, format, opts), opts.lm));
  if (opts.ternarize || opts.weights || opts.upcycleMoe)
    fail(
      'usage',
      opts.ternarize ? '--ternarize' : opts.weights ? '--weights' : '--upcycle-moe',
      `${path} is not a language model (${format}); it applies to GGUF, llama2.c and Hugging Face checkpoints`,
    );
  if (opts.shapes && format !== 'onnx')
    fail('usage', opts.shapes.inputs.size ? '--input-shape' : '--batch', `${path} is ${format}, whose shapes are static; it applies to ONNX models`);
  const g = format === 'onnx' ? readOnnx(path, { lowBit: opts.lowBit ?? true, shapes: opts.shapes }) : readModel(path);
  return prepareGraph(g, { lowBit: opts.lowBit ?? true });
}

// Option and value types the package's functions share.

import type { TypedData } from '../ir.ts';

/** The typed array of a tensor's values, row-major: Float32Array (float32), Int8Array, Uint8Array
 * (uint8, bool), Int32Array, BigInt64Array (int64), Uint16Array (float16 bits). */
export type TensorData = TypedData;

/** How a model is read (the options every command that reads a model takes). */
export interface ModelOptions {
  /** ONNX: detect ternary/binary weights and fold into low-bit layers (default true; false is --no-lowbit). */
  lowBit?: boolean;
  /** ONNX: the shape of graph inputs by name, fixing their symbolic dimensions (--input-shape x=1,64). */
  inputShape?: Readonly<Record<string, readonly number[]>>;
  /** ONNX: fix every symbolic leading (batch) dimension of the graph inputs (--batch). */
  batch?: number;
  /** Language models: positions the KV cache holds (default: the model's context length). */
  context?: number;
  /** Language models: tokens per call of the graph (default 16). */
  chunk?: number;
  /** Language models: the KV cache element type (default f32; int8 with a scale per position and head). */
  kvCache?: 'f32' | 'f16' | 'int8';
  /** Language models: what the ternary layers take (default: the model's). */
  activations?: 'float' | 'int8';
  /** Language models: quantize float projections on import to int8 (absmax per row). */
  weights?: 'int8';
  /** Language models: ternarize float projections on import: absmean, absmean:per-row, absmean:shard:N. */
  ternarize?: string;
  /** llama2.c checkpoints: the tokenizer.bin. */
  tokenizer?: string;
  /** Language models: accept run-time ComPEFT deltas (<prefix>_load_delta; tritc delta make). */
  deltas?: boolean;
}

/** A model's inputs: files as `tritc run --inputs` takes them (.npy/.pb one per input, one .npz, or
 * ONNX test data set folders), or arrays by input name, each one run or a list of runs. */
export type InputsOption = string | readonly string[] | Readonly<Record<string, TensorData | readonly TensorData[]>>;

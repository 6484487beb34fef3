// One entry point for every model format tritc reads: the native format (a model.json, or a directory
// holding one) and ONNX / QONNX (.onnx, or any file whose first bytes are a ModelProto's).

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { fail } from '../diagnostics.ts';
import { readModel } from './native/read.ts';
import type { Graph } from '../ir.ts';
import { looksLikeOnnx, readOnnx } from './onnx/import.ts';
import { prepareGraph } from '../passes/pipeline.ts';

export interface LoadOptions {
  /** ONNX: detect ternary/binary weights and quantised activations (default true). */
  lowBit?: boolean;
}

export function isOnnxFile(path: string): boolean {
  if (!existsSync(path) || statSync(path).isDirectory()) return false;
  const head = new Uint8Array(16);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const n = readSync(fd, head, 0, head.length, 0);
    return looksLikeOnnx(path, head.subarray(0, n));
  } catch {
    return /\.onnx$/i.test(path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function loadModel(arg: string, opts: LoadOptions = {}): Graph {
  if (!existsSync(arg)) fail('io', arg, 'no such file or directory');
  const g = isOnnxFile(arg) ? readOnnx(arg, { lowBit: opts.lowBit ?? true }) : readModel(arg);
  return prepareGraph(g, { lowBit: opts.lowBit ?? true });
}

// Every reader the fuzzer knows, by the name `npm run fuzz -- --reader <name>` takes.

import { deltaReader } from './delta.ts';
import { ggufReader } from './gguf.ts';
import type { FuzzReader } from './harness.ts';
import { hfReader } from './hf.ts';
import { llama2cReader } from './llama2c.ts';
import { nativeReader } from './native.ts';
import { onnxReader } from './onnx.ts';
import { npyReader, npzReader } from './npy.ts';

export const READERS: readonly FuzzReader[] = [nativeReader, onnxReader, ggufReader, llama2cReader, hfReader, npyReader, npzReader, deltaReader];

export function fuzzReader(name: string): FuzzReader | undefined {
  return READERS.find((r) => r.name === name);
}

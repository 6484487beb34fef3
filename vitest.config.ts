import { defineConfig } from 'vitest/config';

// Test tiers (test/support/tier.ts): `npm run test:fast` runs the pure TypeScript files below with
// fewer random cases (under a minute); `npm run test:host` adds the files that build C with Zig and
// run it on the host; `npm test` runs everything (every QEMU target, Chromium), as CI does.
const FAST = [
  'api',
  'architecture',
  'atomic-output',
  'autogptq',
  'compeft',
  'fairy2i',
  'format-errors',
  'gguf',
  'hf',
  'hf-quantized',
  'io',
  'kernel-choice',
  'limits',
  'llama2c',
  'lm-quality',
  'lm-reference',
  'onnx-compute',
  'onnx-elementwise',
  'onnx-fuzz',
  'onnx-opsets',
  'onnx-reader',
  'onnx-shape',
  'pack',
  'planner',
  'quantize',
  'quantize-cli',
  'reader-fuzz',
  'snapshots',
  'tokenizer',
  'user-tests-units',
];
const HOST = [
  ...FAST,
  'compeft-cli',
  'deterministic-output',
  'differential-host',
  'generated-c',
  'onnx-backend-ops',
  'onnx-reduce-compare',
  'onnx-wide',
  'sampling',
  'sanitizers',
  'softfloat',
];
const tier = process.env.TRITC_TEST_TIER ?? 'all';
const files = (names: string[]) => names.map((n) => `test/${n}.test.ts`);

export default defineConfig({
  test: {
    include: tier === 'fast' ? files(FAST) : tier === 'host' ? files(HOST) : ['test/**/*.test.ts'],
    // Builds and emulators are CPU-bound: one test file per core.
    pool: 'forks',
    maxWorkers: 2,
    // A hang fails within minutes; the few tests that emulate a whole kernel table on the slowest
    // targets set their own, longer limit.
    testTimeout: 5 * 60_000,
    hookTimeout: 5 * 60_000,
  },
});

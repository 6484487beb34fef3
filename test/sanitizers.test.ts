// The generated C and the runtime under AddressSanitizer and UndefinedBehaviorSanitizer: every example,
// random graphs (low-bit chains with a format forced, ONNX ops) and random decoders built for the host
// with gcc and with clang, -fsanitize=address,undefined -fno-sanitize-recover=all, run clean (a report
// aborts the program) and bit for bit with the interpreter.

import { describe, expect, it } from 'vitest';
import { checkDecoder, checkGraphs, checkLm, exampleCase, graphCase, type GraphCase } from '../bench/campaign/check.ts';
import { requireHostCompiler } from '../bench/campaign/compilers.ts';
import { getTarget } from '../compiler/targets.ts';
import type { HostCompiler } from '../compiler/toolchain/build.ts';
import { workDir } from './support/differential.ts';
import { exampleGraphs } from './support/examples.ts';
import { scaled } from './support/tier.ts';

const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer', '-g'];
const host = getTarget('host');

for (const name of ['gcc', 'clang'] as const) {
  describe(`${name} -fsanitize=address,undefined`, () => {
    const cc = (): HostCompiler => ({ name, command: requireHostCompiler(name), flags: SANITIZE });

    it('every example and random graphs run clean', { timeout: 15 * 60_000 }, async () => {
      const examples = exampleGraphs();
      const cases: GraphCase[] = [
        ...examples.filter((e) => !e.graph.lm).map((e, i) => exampleCase(e.name, e.graph, i)),
        ...Array.from({ length: scaled(24) }, (_, i) => graphCase(name === 'gcc' ? 2 * i : 2 * i + 1000)),
        ...Array.from({ length: scaled(12) }, (_, i) => graphCase(2 * i + (name === 'gcc' ? 1 : 1001))),
      ];
      const found = await checkGraphs(cases, host, workDir(`asan-${name}`), { compiler: cc() });
      const bad = found.flatMap((f, i) => (f ? [`${cases[i]!.spec.name} (${cases[i]!.family} seed ${cases[i]!.seed}): ${f.kind}: ${f.message}`] : []));
      expect(bad).toEqual([]);
    });

    it('the stories260k example and random decoders run clean', { timeout: 15 * 60_000 }, async () => {
      const bad: string[] = [];
      for (const e of exampleGraphs().filter((x) => x.graph.lm)) {
        const f = await checkLm(e.graph, 1, host, workDir(`asan-${name}-${e.name}`), { compiler: cc() });
        if (f) bad.push(`${e.name}: ${f.kind}: ${f.message}`);
      }
      for (let i = 0; i < scaled(3); i++) {
        const seed = (name === 'gcc' ? 0 : 3) + i;
        const f = await checkDecoder(seed, host, workDir(`asan-${name}-lm${seed}`), undefined, { compiler: cc() });
        if (f) bad.push(`decoder seed ${seed}: ${f.kind}: ${f.message}`);
      }
      expect(bad).toEqual([]);
    });
  });
}

// TFC_1W1A on MNIST: interpreter accuracy, all test images through one cortex-m4 firmware, sizes and
// instruction counts, and the float32 baseline. See README.md beside this file.
//   npx tsx examples/tfc-1w1a/evaluate.ts [--count 10000] [--sample 100] [--json]

import { evaluateMain } from '../tfc.ts';
import { runMain } from '../../bench/cli.ts';

await runMain(() => evaluateMain('TFC_1W1A', process.argv.slice(2)));

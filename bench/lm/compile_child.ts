// One `tritc compile` in a process of its own, for the scale measurement of `npm run bench:lm`: prints
// {"seconds", "maxRssMiB", "code"} on stdout. Usage: tsx bench/lm/compile_child.ts <tritc compile args...>

import { main } from '../../compiler/cli/main.ts';

const t0 = performance.now();
let out = '';
const code = await main(['compile', ...process.argv.slice(2), '--json'], {
  out: (s) => (out += s),
  err: (s) => process.stderr.write(`${s}\n`),
  progress: () => {},
  endProgress: () => {},
});
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ code, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, result: code === 0 ? JSON.parse(out) : out })}\n`);

#!/usr/bin/env node
// tritc's command line. In a checkout it runs the compiler's TypeScript directly, through tsx's
// loader; the npm package ships it compiled to JavaScript in dist/ (scripts/build_package.ts) and runs
// that on plain Node.
import { existsSync } from 'node:fs';

// `tritc ... | head` closes the pipe early: stop quietly, as other command-line tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const source = new URL('../compiler/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else ({ main } = await import('../dist/compiler/cli/main.js'));
process.exitCode = await main(process.argv.slice(2));

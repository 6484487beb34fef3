#!/usr/bin/env node
// tritc's command line. The compiler is TypeScript, run directly through tsx's loader.
import { register } from 'tsx/esm/api';

// `tritc ... | head` closes the pipe early: stop quietly, as other command-line tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

register();
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

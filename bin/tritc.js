#!/usr/bin/env node
// tritc's command line. The compiler is TypeScript, run directly through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

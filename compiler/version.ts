// The compiler's version, recorded in every generated file.
import { readFileSync } from 'node:fs';

export const TRITC_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

// The package's options objects ({ target: 'cortex-m4', maxScratch: '4K' }) as the command line's
// parsed arguments (--target cortex-m4 --max-scratch 4K), so that an API call and the command do
// the same work through the same checks. A bad value's error names the option as the caller wrote
// it (options.maxScratch), not as a flag.

import { TritcError } from '../diagnostics.ts';
import type { ParsedArgs } from '../cli/command.ts';

/** Option names that are not the flag's name in camelCase. */
const RENAMED: Record<string, string> = { targets: 'target', timeoutSeconds: 'timeout' };

const kebab = (name: string) => RENAMED[name] ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `options` as the parsed arguments of a command whose flags are `flags`; `lowBit: false` is --no-lowbit. */
export function toArgs(options: Record<string, unknown>, flags: readonly string[], positionals: string[] = []): ParsedArgs {
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, v] of Object.entries(options)) {
    if (v === undefined) continue;
    if (name === 'inputShape' && flags.includes('input-shape')) {
      // { x: [1, 64] } is --input-shape x=1,64 (repeatable).
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new TritcError({ code: 'usage', where: 'options.inputShape', message: 'expects an object of input name to dimensions, e.g. { x: [1, 64] }' });
      values['input-shape'] = Object.entries(v).map(([input, dims]) => {
        if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'number'))
          throw new TritcError({ code: 'usage', where: `options.inputShape.${input}`, message: 'expects a list of dimensions, e.g. [1, 64]' });
        return `${input}=${dims.join(',')}`;
      });
      continue;
    }
    if (name === 'lowBit') {
      if (typeof v !== 'boolean') throw new TritcError({ code: 'usage', where: 'options.lowBit', message: 'expects true or false' });
      if (!v && flags.includes('no-lowbit')) values['no-lowbit'] = true;
      continue;
    }
    const flag = kebab(name);
    if (!flags.includes(flag)) throw new TritcError({ code: 'usage', where: `options.${name}`, message: 'is not an option of this function' });
    if (typeof v === 'boolean') values[flag] = v;
    else if (typeof v === 'string' || typeof v === 'number') values[flag] = String(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) values[flag] = v.join(',');
    else throw new TritcError({ code: 'usage', where: `options.${name}`, message: 'expects a string, a number, true/false or a list of strings' });
  }
  return { positionals, values, json: false, verbose: false };
}

/** Run `fn`; a user error that names a flag (--max-scratch) names the option (options.maxScratch) instead. */
export async function namingOptions<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    const camel = (flag: string) => {
      const renamed = Object.entries(RENAMED).find(([, f]) => f === flag)?.[0];
      return renamed ?? (flag === 'no-lowbit' ? 'lowBit' : flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
    };
    throw new TritcError(e.diagnostics.map((d) => (/^--[a-z-]+$/.test(d.where) ? { ...d, where: `options.${camel(d.where.slice(2))}` } : d)));
  }
}

// User-facing errors. Every problem with the user's input becomes a TritcError carrying one or more
// diagnostics; each diagnostic is one line naming the file, the place inside it (a JSON path, a node
// or a tensor) and what was expected. Compiler bugs are plain Errors (internal), never TritcErrors.

/** Stable codes, so tests and scripts can match on the class of problem rather than the wording. */
export type DiagnosticCode =
  | 'usage' // bad command line
  | 'io' // a file could not be read or written
  | 'json' // not JSON, or JSON of the wrong shape
  | 'schema' // a field is missing, has the wrong type or an unknown value
  | 'undefined-tensor'
  | 'duplicate'
  | 'shape'
  | 'dtype'
  | 'codes' // ternary/binary codes outside their alphabet
  | 'weights' // safetensors file missing, truncated or inconsistent
  | 'cycle'
  | 'unsupported'
  | 'limit' // a dimension beyond what the format allows
  | 'fit' // the model does not fit the target's memory
  | 'toolchain' // zig or qemu missing or failing
  | 'npy' // a NumPy file is malformed or does not match the model
  | 'onnx' // an ONNX protobuf that does not decode, or breaks the format's rules
  | 'mismatch'; // generated code disagrees with the interpreter

export interface Diagnostic {
  code: DiagnosticCode;
  /** Where: usually `file: path` such as `model.json: nodes[3].inputs[1]`. May be empty. */
  where: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return d.where ? `${d.where}: ${d.message}` : d.message;
}

/** Control characters (and the Unicode line separators) escaped: `\n`, `\t`, `\u0001`... */
function escapeControl(s: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class TritcError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[] | Diagnostic) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    if (list.length === 0) throw new Error('internal: TritcError needs at least one diagnostic');
    super(list.map(formatDiagnostic).join('\n'));
    this.name = 'TritcError';
    this.diagnostics = list;
  }
  get code(): DiagnosticCode {
    return this.diagnostics[0]!.code;
  }
}

/** Throw a single-diagnostic TritcError. */
export function fail(code: DiagnosticCode, where: string, message: string): never {
  throw new TritcError({ code, where, message });
}

/**
 * Collects diagnostics during a pass so that the user sees every problem at once,
 * then throws them together with `throwIfAny`.
 */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  error(code: DiagnosticCode, where: string, message: string): void {
    this.items.push({ code, where, message });
  }
  get count(): number {
    return this.items.length;
  }
  throwIfAny(): void {
    if (this.items.length > 0) throw new TritcError(this.items);
  }
}

/**
 * Run a reader so that its diagnostics are one line whatever the file holds: a tensor, node or key
 * name read from a file can contain newlines and control characters, which are shown escaped.
 * (Only readers: a toolchain's error quotes the compiler's output over several lines on purpose.)
 */
export function withOneLineDiagnostics<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    const clean = e.diagnostics.map((d) => ({ ...d, where: escapeControl(d.where), message: escapeControl(d.message) }));
    if (clean.every((d, i) => d.where === e.diagnostics[i]!.where && d.message === e.diagnostics[i]!.message)) throw e;
    throw new TritcError(clean);
  }
}

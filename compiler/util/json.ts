// Why a text is not JSON, in one line. JSON.parse's own messages quote the text around the error,
// raw newlines and control characters included, and often give no position; a reader's diagnostic
// must be one line naming where the file goes wrong, so this finds the offset itself.

/** A character as a message shows it: printable as is, anything else escaped. */
function shown(ch: string | undefined): string {
  if (ch === undefined) return 'the end of the text';
  const code = ch.codePointAt(0)!;
  return code >= 0x20 && code < 0x7f ? `"${ch}"` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The offset of the first character where `text` stops being JSON (text.length: it ends too early). */
function errorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const c of word) if (text[i++] !== c) fail();
  };
  const string = () => {
    i++; // "
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return void ((i += 2), fail());
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return void (i++, fail());
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail();
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 1000) fail();
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          string();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === close) return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    number();
  };
  try {
    value(0);
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    if (typeof at !== 'number') throw at;
    return Math.min(at, text.length);
  }
}

/** One line saying where and why `text` (which JSON.parse refused) is not JSON. */
export function jsonSyntaxProblem(text: string): string {
  const at = errorOffset(text);
  if (at < 0) return 'JSON.parse refused it';
  if (at >= text.length) return text.trim() === '' ? 'it is empty' : 'it ends in the middle of a value';
  const before = text.slice(0, at);
  const line = (before.match(/\n/g)?.length ?? 0) + 1;
  const column = at - (before.lastIndexOf('\n') + 1) + 1;
  return `unexpected ${shown(String.fromCodePoint(text.codePointAt(at)!))} at line ${line}, column ${column}`;
}

/** A JSON value as a diagnostic quotes it: JSON text cut at `max` characters (a value from a corrupt
 * file can be a whole object or a megabyte string; the message must stay one readable line). */
export function jsonBrief(v: unknown, max = 80): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

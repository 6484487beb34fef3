// Just enough XML for JUnit reports (regression/junit.ts): escaping for writing, and a strict parser
// of elements, attributes, text, CDATA, comments and the XML declaration for reading them back.
// Entities other than the five predefined ones and character references, DTDs and namespaces'
// meaning are outside what JUnit files use; a DOCTYPE is an error.

import { fail } from '../diagnostics.ts';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
  /** The element's source text is text.slice(start, end). */
  start: number;
  end: number;
}

/** Text or an attribute value, escaped; characters XML 1.0 cannot hold at all become U+FFFD. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Parse a document; returns its root element. Errors name the file and line. */
export function parseXml(text: string, label: string): XmlElement {
  let at = 0;
  const lineOf = (i: number) => text.slice(0, i).split('\n').length;
  const bad = (msg: string, i = at): never => fail('schema', `${label}: line ${lineOf(i)}`, msg);
  const decode = (s: string, i: number) =>
    s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (m, e: string | undefined) => {
      if (!e) bad('a bare "&" (write &amp;)', i);
      if (e!.startsWith('#x')) return String.fromCodePoint(parseInt(e!.slice(2), 16));
      if (e!.startsWith('#')) return String.fromCodePoint(parseInt(e!.slice(1), 10));
      return ENTITIES[e!] ?? bad(`unknown entity "${m}"`, i);
    });
  const skipMisc = () => {
    for (;;) {
      while (at < text.length && /\s/.test(text[at]!)) at++;
      if (text.startsWith('<?', at)) {
        const e = text.indexOf('?>', at);
        if (e < 0) bad('an unterminated <?...?>');
        at = e + 2;
      } else if (text.startsWith('<!--', at)) {
        const e = text.indexOf('-->', at);
        if (e < 0) bad('an unterminated comment');
        at = e + 3;
      } else if (text.startsWith('<!DOCTYPE', at)) bad('a DOCTYPE, which JUnit reports do not have');
      else return;
    }
  };
  const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
  const name = (): string => {
    NAME.lastIndex = at;
    const m = NAME.exec(text);
    if (!m) bad('expected a name');
    at += m![0].length;
    return m![0];
  };
  const element = (): XmlElement => {
    const start = at;
    if (text[at] !== '<') bad('expected an element');
    at++;
    const el: XmlElement = { name: name(), attrs: {}, children: [], start, end: start };
    for (;;) {
      while (/\s/.test(text[at] ?? '')) at++;
      if (text.startsWith('/>', at)) {
        at += 2;
        el.end = at;
        return el;
      }
      if (text[at] === '>') {
        at++;
        break;
      }
      const an = name();
      while (/\s/.test(text[at] ?? '')) at++;
      if (text[at] !== '=') bad(`expected = after attribute ${an}`);
      at++;
      while (/\s/.test(text[at] ?? '')) at++;
      const q = text[at];
      if (q !== '"' && q !== "'") bad(`expected a quoted value for attribute ${an}`);
      const e = text.indexOf(q!, at + 1);
      if (e < 0) bad(`an unterminated value of attribute ${an}`);
      if (an in el.attrs) bad(`attribute ${an} given twice`);
      el.attrs[an] = decode(text.slice(at + 1, e), at);
      at = e + 1;
    }
    for (;;) {
      if (at >= text.length) bad(`<${el.name}> is not closed`, start);
      if (text.startsWith('</', at)) {
        at += 2;
        const n = name();
        if (n !== el.name) bad(`</${n}> closes <${el.name}> (line ${lineOf(start)})`);
        while (/\s/.test(text[at] ?? '')) at++;
        if (text[at] !== '>') bad('expected >');
        at++;
        el.end = at;
        return el;
      }
      if (text.startsWith('<!--', at)) {
        const e = text.indexOf('-->', at);
        if (e < 0) bad('an unterminated comment');
        at = e + 3;
      } else if (text.startsWith('<![CDATA[', at)) {
        const e = text.indexOf(']]>', at);
        if (e < 0) bad('an unterminated CDATA section');
        el.children.push(text.slice(at + 9, e));
        at = e + 3;
      } else if (text[at] === '<') el.children.push(element());
      else {
        const e = text.indexOf('<', at);
        const end = e < 0 ? text.length : e;
        el.children.push(decode(text.slice(at, end), at));
        at = end;
      }
    }
  };
  skipMisc();
  if (at >= text.length) bad('no root element (an empty file?)');
  const root = element();
  skipMisc();
  if (at < text.length) bad('content after the root element');
  return root;
}

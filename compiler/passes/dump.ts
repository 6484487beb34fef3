// A readable text dump of the IR, for --dump-after and for debugging passes.

import { shapeStr, type Graph } from '../ir.ts';

export function dumpGraph(g: Graph, title: string): string {
  const lines = [`; ${g.name} ${title}`];
  for (const name of g.inputs) {
    const t = g.tensors.get(name)!;
    lines.push(`input  %${name}: ${t.dtype}${shapeStr(t.shape)}`);
  }
  for (const t of g.tensors.values()) {
    if (t.kind !== 'constant') continue;
    const q = t.quant ? ` scale=%${t.quant.scale} ${t.quant.granularity}${t.quant.groupSize ? `(${t.quant.groupSize})` : ''}` : '';
    lines.push(`const  %${t.name}: ${t.dtype}${shapeStr(t.shape)}${q}`);
  }
  for (const n of g.nodes) {
    const outs = n.outputs.map((o) => {
      const t = g.tensors.get(o);
      return t ? `%${o}: ${t.dtype}${shapeStr(t.shape)}` : `%${o}`;
    });
    const attrs = Object.entries(n.attrs).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    lines.push(
      `${outs.join(', ')} = ${n.op}(${n.inputs.map((i) => (i ? `%${i}` : '_')).join(', ')})${attrs.length ? ` {${attrs.join(', ')}}` : ''}  ; "${n.name}"`,
    );
    const c = n.choice;
    if (c) {
      const acc = c.accumulator.bits === 32 ? 'int32' : `int64, int32 partial sums of ${c.flush}`;
      lines.push(
        `    ; kernel ${c.kernel.id} (format ${c.format.id}, ${c.codeBytes} bytes of codes${c.window ? `, LUT window ${c.window}` : ''}${c.scratchBytes ? `, scratch ${c.scratchBytes}` : ''}, ${acc} accumulator): ${c.reason}`,
      );
    }
  }
  lines.push(`output ${g.outputs.map((o) => `%${o}`).join(', ')}`);
  return lines.join('\n');
}

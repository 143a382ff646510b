// The xt_bpf / tc cls_bpf bytecode string: `count,code jt jf k,code jt jf k,...`.
// iptables extensions/libxt_bpf.c bpf_parse_string and iproute2 tc/tc_bpf.c bpf_parse_ops: the count,
// then comma-separated decimal tuples; a trailing comma is allowed. We also accept newlines as
// separators (so `tcpdump -ddd` output and bytecode files with one tuple per line read the same).
import { assertInsn, type Program, type SockFilter } from '../../model/cbpf/insn.js';
import { parseDecField } from './numbers.js';
import { fail, lineCol, quote, type Parsed } from './types.js';

/** Print the bytecode string as nfbpf_compile and `tc filter show` write it: no trailing comma, then a newline. */
export function printBytecode(prog: Program): string {
  return `${[String(prog.length), ...prog.map((insn, n) => (assertInsn(insn, n), `${insn.code} ${insn.jt} ${insn.jf} ${insn.k}`))].join(',')}\n`;
}

/** Parse a bytecode string; the count must match the number of tuples (libxt_bpf/tc both check it). */
export function parseBytecode(text: string): Parsed {
  const items: { text: string; at: number }[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text[i] === ',' || text[i] === '\n') {
      items.push({ text: text.slice(start, i), at: start });
      start = i + 1;
    }
  }
  // Trailing separators (a final ',' or newline) leave empty items at the end: drop them.
  while (items.length > 0 && items[items.length - 1]!.text.trim() === '') items.pop();
  const where = (it: { text: string; at: number }, insn?: number) => {
    const lead = it.text.length - it.text.trimStart().length;
    return { ...lineCol(text, it.at + lead), ...(insn === undefined ? {} : { insn }) };
  };
  if (items.length === 0) return fail('empty bytecode: expected the instruction count first');
  const head = items[0]!;
  if (!/^\s*\d+\s*$/.test(head.text)) return fail(`expected the instruction count first, found ${quote(head.text.trim())}`, where(head));
  const count = Number(head.text.trim());
  const prog: SockFilter[] = [];
  for (const it of items.slice(1)) {
    const n = prog.length;
    if (n >= count) return fail(`more instructions than the count ${count} says`, where(it, n));
    const parts = [...it.text.matchAll(/\S+/g)];
    if (parts.length !== 4) return fail(`expected 'code jt jf k' (4 decimal numbers), found ${quote(it.text.trim())}`, where(it, n));
    const fields: number[] = [];
    for (const [i, field] of (['code', 'jt', 'jf', 'k'] as const).entries()) {
      const v = parseDecField(parts[i]![0], field);
      if (!v.ok) return fail(v.message, { ...lineCol(text, it.at + parts[i]!.index!), insn: n });
      fields.push(v.value);
    }
    prog.push({ code: fields[0]!, jt: fields[1]!, jf: fields[2]!, k: fields[3]! });
  }
  if (prog.length !== count) return fail(`the count says ${count} instructions but ${prog.length} follow`, where(head));
  return { ok: true, prog };
}

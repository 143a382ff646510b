// JSON programs: `[{"code":40,"jt":0,"jf":0,"k":12}, ...]` or an object with an "insns" array.
import { assertInsn, type Program, type SockFilter } from '../../model/cbpf/insn.js';
import { clip, describe, FIELD_MAX, fail, lineCol, quote, type Field, type Parsed } from './types.js';

/** One instruction per line, keys in struct order. */
export function printJson(prog: Program): string {
  if (prog.length === 0) return '[]\n';
  const lines = prog.map((insn, n) => (assertInsn(insn, n), `  {"code":${insn.code},"jt":${insn.jt},"jf":${insn.jf},"k":${insn.k}}`));
  return `[\n${lines.join(',\n')}\n]\n`;
}

/** JSON.parse, then every field checked: integers within struct sock_filter's widths, no unknown keys. */
export function parseJson(text: string): Parsed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).replace(/\r/g, '\\r').replace(/\n/g, '\\n');
    const pos = /position (\d+)/.exec(msg);
    return fail(`bad JSON: ${clip(msg, 160)}`, pos ? lineCol(text, Number(pos[1])) : {});
  }
  let arr: unknown = doc;
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    if (!('insns' in doc)) return fail('JSON object has no "insns" array');
    arr = (doc as { insns: unknown }).insns;
  }
  if (!Array.isArray(arr)) return fail('JSON program must be an array of {code, jt, jf, k} or an object with an "insns" array');
  const prog: SockFilter[] = [];
  for (const [n, item] of arr.entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return fail(`insn ${n} is not an object {code, jt, jf, k}`, { insn: n });
    const rec = item as Record<string, unknown>;
    const extra = Object.keys(rec).filter((key) => !Object.hasOwn(FIELD_MAX, key));
    if (extra.length > 0) return fail(`insn ${n} has unknown key ${quote(extra[0]!)} (only code, jt, jf, k)`, { insn: n });
    const out: Partial<Record<Field, number>> = {};
    for (const field of ['code', 'jt', 'jf', 'k'] as const) {
      const v = rec[field];
      if (v === undefined) return fail(`insn ${n} has no "${field}"`, { insn: n });
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > FIELD_MAX[field])
        return fail(`insn ${n}: ${field} ${describe(v)} is not an integer in 0..${FIELD_MAX[field]}`, { insn: n });
      out[field] = v;
    }
    prog.push(out as SockFilter);
  }
  return { ok: true, prog };
}

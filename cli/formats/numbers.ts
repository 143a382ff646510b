// Number syntax shared by the text formats; every parser returns a value or a message, never throws.
import { clip, FIELD_MAX, quote, type Field } from './types.js';

export type NumResult = { ok: true; value: number } | { ok: false; message: string };

const bad = (message: string): NumResult => ({ ok: false, message });

/**
 * A u32 written as C/printf prints it: decimal (`%d` or `%u`, so -2147483648..4294967295, negatives
 * wrap to u32 as the C cast does) or hex `0x...` (0..0xffffffff).
 */
export function parseU32Printf(s: string): NumResult {
  if (/^-?\d+$/.test(s)) {
    const v = Number(s);
    if (s.replace(/^-?0*/, '').length > 10 || v < -0x80000000 || v > 0xffffffff) return bad(`number ${clip(s)} does not fit in 32 bits`);
    return { ok: true, value: v >>> 0 };
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) {
    const digits = s.slice(2).replace(/^0+/, '');
    if (digits.length > 8) return bad(`number ${clip(s)} does not fit in 32 bits`);
    return { ok: true, value: parseInt(digits || '0', 16) >>> 0 };
  }
  return bad(`bad number ${quote(s)}`);
}

/** A C integer literal (hex 0x.., octal 0.., decimal; optional u/l suffixes) for a struct sock_filter field. */
export function parseCField(s: string, field: Field): NumResult {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*$/.exec(s);
  if (!m) return bad(`bad ${field} ${quote(s)}: expected a C integer literal`);
  const lit = m[1]!;
  let v: number;
  if (/^0[xX]/.test(lit)) v = bigValue(lit.slice(2), 16);
  else if (lit.length > 1 && lit[0] === '0') v = bigValue(lit.slice(1), 8);
  else v = bigValue(lit, 10);
  return inField(v, s, field);
}

/** Unsigned decimal digits only (tcpdump -ddd, xt_bpf/tc bytecode). */
export function parseDecField(s: string, field: Field): NumResult {
  if (!/^\d+$/.test(s)) return bad(`bad ${field} ${quote(s)}: expected an unsigned decimal number`);
  return inField(bigValue(s, 10), s, field);
}

/** Value of a digit string; Infinity when it is far beyond any field (so the range check fails cleanly). */
function bigValue(digits: string, radix: number): number {
  const stripped = digits.replace(/^0+/, '');
  if (stripped.length > 12) return Infinity;
  return stripped === '' ? 0 : parseInt(stripped, radix);
}

function inField(v: number, text: string, field: Field): NumResult {
  if (v > FIELD_MAX[field]) return bad(`${field} ${clip(text)} is out of range (max ${FIELD_MAX[field]})`);
  return { ok: true, value: v };
}

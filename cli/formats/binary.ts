// Raw struct sock_filter images (8 bytes per instruction) and their hex text.
import { decodeProgram, encodeProgram, type Endian, type Program } from '../../model/cbpf/insn.js';
import { fail, lineCol, type Parsed } from './types.js';

/** Raw bytes: decodeProgram (model/cbpf/insn.ts), little-endian unless told otherwise. */
export function parseRaw(bytes: Uint8Array, endian: Endian): Parsed {
  const r = decodeProgram(bytes, endian);
  if (r.ok) return r;
  return fail(`${r.error.message} (insn ${Math.floor(r.error.offset / 8)} is incomplete)`, { insn: Math.floor(r.error.offset / 8) });
}

export const printRaw = (prog: Program, endian: Endian): Uint8Array => encodeProgram(prog, endian);

/** Hex of the raw image: 16 hex digits (one instruction) per line, lowercase. */
export function printHex(prog: Program, endian: Endian): string {
  const bytes = encodeProgram(prog, endian);
  let out = '';
  for (let off = 0; off < bytes.length; off += 8) {
    out += `${Array.from(bytes.subarray(off, off + 8), (b) => b.toString(16).padStart(2, '0')).join('')}\n`;
  }
  return out;
}

/** Hex text of a raw image: whitespace and ':' separators allowed, an optional 0x prefix per word. */
export function parseHex(text: string, endian: Endian): Parsed {
  const digits: string[] = [];
  const re = /(0[xX])?([0-9a-fA-F]+)|([\s:]+)|(.)/gy;
  let m: RegExpExecArray | null;
  let ndig = 0;
  while ((m = re.exec(text)) !== null) {
    if (m[4] !== undefined) {
      const c = m[4];
      const shown = c === '\uFFFD' ? 'an invalid UTF-8 byte' : `'${c.charCodeAt(0) < 32 ? `\\x${c.charCodeAt(0).toString(16)}` : c}'`;
      return fail(`bad hex: unexpected ${shown}`, { ...lineCol(text, m.index), insn: Math.floor(ndig / 16) });
    }
    if (m[2] !== undefined) {
      digits.push(m[2]);
      ndig += m[2].length;
    }
  }
  if (ndig % 2 !== 0) return fail(`bad hex: odd number of hex digits (${ndig})`);
  const all = digits.join('');
  const bytes = new Uint8Array(all.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(all.slice(2 * i, 2 * i + 2), 16);
  return parseRaw(bytes, endian);
}

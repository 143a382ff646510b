// The program formats bpfspec reads and writes: detection, parsing, printing, error text.
//
//   tcpdump-d    libpcap bpf_image listing (`tcpdump -d`); lossy for fields it does not print
//   tcpdump-dd   C initialisers (`tcpdump -dd`, also `bpf_asm -c`)
//   tcpdump-ddd  decimal, count first (`tcpdump -ddd`)
//   bpf_asm      kernel tools/bpf assembler source (plus the `.insn` escape, see bpfasm.ts)
//   bytecode     xt_bpf / tc `count,code jt jf k,...`
//   raw          8-byte struct sock_filter records (little-endian unless told)
//   hex          hex of the raw records
//   json         [{"code","jt","jf","k"}] or {"insns": [...]}
import type { Endian, Program } from '../../model/cbpf/insn.js';
import { checkBpfAsmExpressible, lexBpfAsm, parseBpfAsm, printBpfAsm } from './bpfasm.js';
import { parseHex, parseRaw, printHex, printRaw } from './binary.js';
import { parseBytecode, printBytecode } from './bytecode.js';
import { parseJson, printJson } from './json.js';
import { parseTcpdumpD, parseTcpdumpDD, parseTcpdumpDDD, printTcpdumpD, printTcpdumpDD, printTcpdumpDDD } from './tcpdump.js';
import { decodeText, FORMAT_NAMES, type FormatName, type ParseError, type Parsed, type ParseResult } from './types.js';

export { FORMAT_NAMES, type FormatName, type ParseError, type ParseResult };
export { bpfImage } from './tcpdump.js';

export interface FormatOptions {
  /** Byte order of raw and hex images (default little, the x86-64 host order). */
  endian?: Endian;
}

/** True when the bytes look like text: valid UTF-8 without control characters other than tab, CR, LF. */
function isText(input: Uint8Array): boolean {
  for (const b of input) if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(input);
    return true;
  } catch {
    return false;
  }
}

/** The text with each C block comment replaced by a space (an unterminated one is kept); linear. */
function stripBlockComments(text: string): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const open = text.indexOf('/*', pos);
    const close = open < 0 ? -1 : text.indexOf('*/', open + 2);
    if (close < 0) return out + text.slice(pos);
    out += `${text.slice(pos, open)} `;
    pos = close + 2;
  }
}

/** Lines that are neither blank nor comments (C block comments, and `#`, `//` or `;` at the start), trimmed. */
function contentLines(text: string): string[] {
  return stripBlockComments(text)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('//') && !l.startsWith(';'));
}

/**
 * Which format an input is in, when that is unambiguous: binary bytes are raw; text is told apart by
 * its first meaningful line. Returns null when no format fits.
 */
export function detectFormat(input: Uint8Array): FormatName | null {
  if (input.length === 0) return null;
  if (!isText(input)) return 'raw';
  const text = decodeText(input);
  const lines = contentLines(text);
  const first = lines[0];
  if (first === undefined) return null;
  if (/^\(\d+\)\s/.test(first)) return 'tcpdump-d';
  if (first.startsWith('[')) return 'json';
  if (first.startsWith('{')) {
    if (/^\{\s*["}]/.test(first)) return 'json';
    if (/^\{\s*\d/.test(first)) return 'tcpdump-dd';
    return first === '{' && lines[1] !== undefined && /^["}]/.test(lines[1]) ? 'json' : null;
  }
  if (/^\d+\s*,/.test(first)) return 'bytecode';
  if (/^\d+$/.test(first) && Number(first) === lines.length - 1 && lines.slice(1).every((l) => /^\d+\s+\d+\s+\d+\s+\d+$/.test(l))) return 'tcpdump-ddd';
  const compact = lines.join('').replace(/[\s:]/g, '');
  if (/^[0-9a-fA-F]+$/.test(compact) && compact.length % 16 === 0) return 'hex';
  const lexed = lexBpfAsm(text, 2);
  if (lexed.ok && lexed.tokens.length > 0) {
    const t0 = lexed.tokens[0]!.tok;
    const t1 = lexed.tokens[1]?.tok;
    if (t0.t === 'op' || t0.t === 'insn' || (t0.t === 'label' && t1?.t === 'punct' && t1.v === ':')) return 'bpf_asm';
  }
  return null;
}

function parseAs(input: Uint8Array, format: FormatName, endian: Endian): Parsed {
  if (format === 'raw') return parseRaw(input, endian);
  const text = decodeText(input);
  switch (format) {
    case 'tcpdump-d':
      return parseTcpdumpD(text);
    case 'tcpdump-dd':
      return parseTcpdumpDD(text);
    case 'tcpdump-ddd':
      return parseTcpdumpDDD(text);
    case 'bpf_asm':
      return parseBpfAsm(text);
    case 'bytecode':
      return parseBytecode(text);
    case 'hex':
      return parseHex(text, endian);
    case 'json':
      return parseJson(text);
  }
}

/** Parse a program in the given format (detected when omitted). Total: never throws on any input. */
export function parseProgram(input: Uint8Array, format?: FormatName, opts: FormatOptions = {}): ParseResult {
  const fmt = format ?? detectFormat(input);
  if (fmt === null)
    return { ok: false, error: { message: input.length === 0 ? 'empty input' : `cannot tell the program format; name it (one of ${FORMAT_NAMES.join(', ')})` } };
  if (!FORMAT_NAMES.includes(fmt)) return { ok: false, error: { message: `unknown format '${String(fmt)}'` } };
  let r: Parsed;
  try {
    r = parseAs(input, fmt, opts.endian ?? 'little');
  } catch (e) {
    // Not expected: every parser is written to return errors. Kept so that parsing stays total.
    r = { ok: false, error: { message: `internal error while parsing ${fmt}: ${e instanceof Error ? e.message : String(e)}` } };
  }
  return r.ok ? { ok: true, prog: r.prog, format: fmt } : r;
}

/** Print a program: a string for the text formats, bytes for raw. Throws RangeError on a field wider than its C type. */
export function printProgram(prog: Program, format: FormatName, opts: FormatOptions = {}): Uint8Array | string {
  const endian = opts.endian ?? 'little';
  switch (format) {
    case 'tcpdump-d':
      return printTcpdumpD(prog);
    case 'tcpdump-dd':
      return printTcpdumpDD(prog);
    case 'tcpdump-ddd':
      return printTcpdumpDDD(prog);
    case 'bpf_asm':
      return printBpfAsm(prog);
    case 'bytecode':
      return printBytecode(prog);
    case 'raw':
      return printRaw(prog, endian);
    case 'hex':
      return printHex(prog, endian);
    case 'json':
      return printJson(prog);
    default:
      throw new TypeError(`unknown format '${String(format)}'`);
  }
}

/**
 * Whether printing in a format keeps every field. tcpdump-d drops the fields bpf_image does not show
 * (k of `x` forms, jt/jf of non-jumps, all but the code of `unimp`): the first such instruction is
 * named. bpf_asm keeps everything but needs the non-bpf_asm `.insn` escape for some instructions:
 * the first one is named. All other formats are lossless (null).
 */
export function checkExpressible(prog: Program, format: FormatName): ParseError | null {
  if (format === 'bpf_asm') return checkBpfAsmExpressible(prog);
  if (format !== 'tcpdump-d') return null;
  const back = parseTcpdumpD(printTcpdumpD(prog));
  /* c8 ignore next */
  if (!back.ok) return { message: `internal error: tcpdump -d text does not read back: ${back.error.message}` };
  for (const [pc, insn] of prog.entries()) {
    const b = back.prog[pc]!;
    const lost = (['code', 'jt', 'jf', 'k'] as const).filter((f) => insn[f] !== b[f]);
    if (lost.length > 0)
      return {
        message: `insn ${pc}: tcpdump -d does not show ${lost.map((f) => `${f} ${insn[f]}`).join(', ')} of code 0x${insn.code.toString(16)}`,
        insn: pc,
      };
  }
  return null;
}

/** One line for a parse error, like a compiler: `file:3:7: unknown mnemonic 'ldz'`. */
export function formatError(e: ParseError, file?: string): string {
  const parts: string[] = [];
  if (file !== undefined) parts.push(file);
  if (e.line !== undefined) {
    parts.push(String(e.line));
    if (e.column !== undefined) parts.push(String(e.column));
  }
  const where = parts.join(':');
  const insn = e.line === undefined && e.insn !== undefined ? `insn ${e.insn}: ` : '';
  return `${where === '' ? '' : `${where}: `}${insn}${e.message}`;
}

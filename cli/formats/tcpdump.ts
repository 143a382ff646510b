// tcpdump/libpcap dump formats: -d (bpf_image text), -dd (C initialisers), -ddd (decimal).
// Sources: libpcap bpf_image.c (bpf_image, bpf_print_abs_load_operand) and bpf_dump.c (bpf_dump).
import { assertInsn, type Program, type SockFilter } from '../../model/cbpf/insn.js';
import { BPF_JA, BPF_JMP, SKF_AD_OFF, bpfClass, bpfOp } from '../../model/uapi.js';
import { parseCField, parseDecField, parseU32Printf } from './numbers.js';
import { clip, fail, lineCol, quote, type Parsed } from './types.js';

/** How bpf_image prints the operand of one opcode. */
type Kind = 'none' | 'pktlen' | 'x' | 'kdec' | 'khex' | 'abs' | 'ind' | 'mem' | 'msh' | 'ja';

/** libpcap bpf_image.c bpf_image: the switch on p->code, as (code -> mnemonic, operand kind). */
export const IMAGE: ReadonlyMap<number, { readonly op: string; readonly kind: Kind }> = new Map<number, { op: string; kind: Kind }>([
  [0x06, { op: 'ret', kind: 'kdec' }],
  [0x16, { op: 'ret', kind: 'none' }],
  [0x20, { op: 'ld', kind: 'abs' }],
  [0x28, { op: 'ldh', kind: 'abs' }],
  [0x30, { op: 'ldb', kind: 'abs' }],
  [0x80, { op: 'ld', kind: 'pktlen' }],
  [0x81, { op: 'ldx', kind: 'pktlen' }],
  [0x40, { op: 'ld', kind: 'ind' }],
  [0x48, { op: 'ldh', kind: 'ind' }],
  [0x50, { op: 'ldb', kind: 'ind' }],
  [0x00, { op: 'ld', kind: 'khex' }],
  [0x01, { op: 'ldx', kind: 'khex' }],
  [0xb1, { op: 'ldxb', kind: 'msh' }],
  [0x60, { op: 'ld', kind: 'mem' }],
  [0x61, { op: 'ldx', kind: 'mem' }],
  [0x02, { op: 'st', kind: 'mem' }],
  [0x03, { op: 'stx', kind: 'mem' }],
  [0x05, { op: 'ja', kind: 'ja' }],
  [0x25, { op: 'jgt', kind: 'khex' }],
  [0x35, { op: 'jge', kind: 'khex' }],
  [0x15, { op: 'jeq', kind: 'khex' }],
  [0x45, { op: 'jset', kind: 'khex' }],
  [0x2d, { op: 'jgt', kind: 'x' }],
  [0x3d, { op: 'jge', kind: 'x' }],
  [0x1d, { op: 'jeq', kind: 'x' }],
  [0x4d, { op: 'jset', kind: 'x' }],
  [0x0c, { op: 'add', kind: 'x' }],
  [0x1c, { op: 'sub', kind: 'x' }],
  [0x2c, { op: 'mul', kind: 'x' }],
  [0x3c, { op: 'div', kind: 'x' }],
  [0x9c, { op: 'mod', kind: 'x' }],
  [0x5c, { op: 'and', kind: 'x' }],
  [0x4c, { op: 'or', kind: 'x' }],
  [0xac, { op: 'xor', kind: 'x' }],
  [0x6c, { op: 'lsh', kind: 'x' }],
  [0x7c, { op: 'rsh', kind: 'x' }],
  [0x04, { op: 'add', kind: 'kdec' }],
  [0x14, { op: 'sub', kind: 'kdec' }],
  [0x24, { op: 'mul', kind: 'kdec' }],
  [0x34, { op: 'div', kind: 'kdec' }],
  [0x94, { op: 'mod', kind: 'kdec' }],
  [0x54, { op: 'and', kind: 'khex' }],
  [0x44, { op: 'or', kind: 'khex' }],
  [0xa4, { op: 'xor', kind: 'khex' }],
  [0x64, { op: 'lsh', kind: 'kdec' }],
  [0x74, { op: 'rsh', kind: 'kdec' }],
  [0x84, { op: 'neg', kind: 'none' }],
  [0x07, { op: 'tax', kind: 'none' }],
  [0x87, { op: 'txa', kind: 'none' }],
]);

/**
 * libpcap bpf_image.c offsets[]: the names bpf_print_abs_load_operand prints for Linux ancillary
 * offsets (k = SKF_AD_OFF + index). Not the bpf_asm spellings: libpcap says "random" and "vlanp".
 */
export const PCAP_ANCILLARY: ReadonlyMap<number, string> = new Map([
  [0, 'proto'],
  [4, 'type'],
  [8, 'ifidx'],
  [12, 'nla'],
  [16, 'nlan'],
  [20, 'mark'],
  [24, 'queue'],
  [28, 'hatype'],
  [32, 'rxhash'],
  [36, 'cpu'],
  [40, 'xor_x'],
  [44, 'vlan_tci'],
  [48, 'vlanp'],
  [52, 'poff'],
  [56, 'random'],
  [60, 'vlan_tpid'],
]);
const PCAP_ANCILLARY_BY_NAME = new Map([...PCAP_ANCILLARY].map(([ad, name]) => [name, ad]));

/** BPF_CLASS == BPF_JMP && BPF_OP != BPF_JA: the lines bpf_image ends with "jt %d\tjf %d". */
const imageHasTargets = (code: number): boolean => bpfClass(code) === BPF_JMP && bpfOp(code) !== BPF_JA;

const s32 = (v: number): number => v | 0;

/** libpcap bpf_image.c bpf_print_abs_load_operand: `[name]` for a known ancillary offset, else `[%d]`. */
function absOperand(k: number): string {
  const ad = (k - (SKF_AD_OFF >>> 0)) >>> 0;
  const name = ad < 64 ? PCAP_ANCILLARY.get(ad) : undefined;
  return name !== undefined ? `[${name}]` : `[${s32(k)}]`;
}

/** libpcap bpf_image.c bpf_image: the operand text of one instruction at index n. */
function imageOperand(insn: SockFilter, n: number): { op: string; operand: string } {
  const e = IMAGE.get(insn.code);
  if (e === undefined) return { op: 'unimp', operand: `0x${insn.code.toString(16)}` };
  const k = insn.k;
  switch (e.kind) {
    case 'none':
      return { op: e.op, operand: '' };
    case 'pktlen':
      return { op: e.op, operand: '#pktlen' };
    case 'x':
      return { op: e.op, operand: 'x' };
    case 'kdec':
      return { op: e.op, operand: `#${s32(k)}` };
    case 'khex':
      return { op: e.op, operand: `#0x${k.toString(16)}` };
    case 'abs':
      return { op: e.op, operand: absOperand(k) };
    case 'ind':
      return { op: e.op, operand: `[x + ${s32(k)}]` };
    case 'mem':
      return { op: e.op, operand: `M[${s32(k)}]` };
    case 'msh':
      return { op: e.op, operand: `4*([${s32(k)}]&0xf)` };
    case 'ja':
      // n + 1 + p->k is unsigned arithmetic in C, printed with %d.
      return { op: e.op, operand: `${s32(n + 1 + k)}` };
  }
}

/** libpcap bpf_image.c bpf_image: one line of `tcpdump -d`, without the newline puts adds. */
export function bpfImage(insn: SockFilter, n: number): string {
  const { op, operand } = imageOperand(insn, n);
  const head = `(${String(n).padStart(3, '0')}) ${op.padEnd(8)} `;
  if (imageHasTargets(insn.code)) return `${head}${operand.padEnd(16)} jt ${n + 1 + insn.jt}\tjf ${n + 1 + insn.jf}`;
  return `${head}${operand}`;
}

/** libpcap bpf_dump.c bpf_dump(option 1): `tcpdump -d`. Fields bpf_image does not show are lost. */
export function printTcpdumpD(prog: Program): string {
  return prog.map((insn, n) => (assertInsn(insn, n), `${bpfImage(insn, n)}\n`)).join('');
}

/** libpcap bpf_dump.c bpf_dump(option 2): `tcpdump -dd`, `{ 0x%x, %d, %d, 0x%08x },`. */
export function printTcpdumpDD(prog: Program): string {
  return prog
    .map((insn, n) => {
      assertInsn(insn, n);
      return `{ 0x${insn.code.toString(16)}, ${insn.jt}, ${insn.jf}, 0x${insn.k.toString(16).padStart(8, '0')} },\n`;
    })
    .join('');
}

/** libpcap bpf_dump.c bpf_dump(option 3): `tcpdump -ddd`, the count then `%u %u %u %u` per line. */
export function printTcpdumpDDD(prog: Program): string {
  return `${prog.length}\n${prog.map((insn, n) => (assertInsn(insn, n), `${insn.code} ${insn.jt} ${insn.jf} ${insn.k}\n`)).join('')}`;
}

/** Which opcode a (mnemonic, operand shape) pair of bpf_image names: the inverse of IMAGE. */
const IMAGE_INVERSE = new Map<string, number>();
for (const [code, { op, kind }] of IMAGE) {
  const shape = kind === 'kdec' || kind === 'khex' ? 'k' : kind;
  IMAGE_INVERSE.set(`${op} ${shape}`, code);
}

/** The shape of a bpf_image operand and the number text inside it. */
function operandShape(operand: string): { shape: string; num?: string } | null {
  let m: RegExpExecArray | null;
  if (operand === '') return { shape: 'none' };
  if (operand === '#pktlen') return { shape: 'pktlen' };
  if (operand === 'x') return { shape: 'x' };
  if ((m = /^#(\S+)$/.exec(operand))) return { shape: 'k', num: m[1]! };
  if ((m = /^\[x \+ (\S+)\]$/.exec(operand))) return { shape: 'ind', num: m[1]! };
  if ((m = /^\[(\S+)\]$/.exec(operand))) return { shape: 'abs', num: m[1]! };
  if ((m = /^M\[(\S+)\]$/.exec(operand))) return { shape: 'mem', num: m[1]! };
  if ((m = /^4\*\(\[(\S+)\]&0xf\)$/.exec(operand))) return { shape: 'msh', num: m[1]! };
  if (/^-?\d+$/.test(operand)) return { shape: 'ja', num: operand };
  return null;
}

/**
 * Parse `tcpdump -d` output. Exact inverse of bpf_image for every field it prints; the fields it
 * does not print (k of `x` forms, jt/jf of non-jumps, everything but the code of `unimp`) read as 0.
 */
export function parseTcpdumpD(text: string): Parsed {
  const prog: SockFilter[] = [];
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const line = li + 1;
    const n = prog.length;
    const at = (column: number) => ({ line, column, insn: n });
    const m = /^(\s*)\((\d+)\)\s+(\S+)([\s\S]*)$/.exec(raw);
    if (!m) return fail(`not a tcpdump -d line: expected '(${String(n).padStart(3, '0')}) <mnemonic> <operand>'`, at(1));
    const [, lead, num, mnemonic, rest] = m as unknown as [string, string, string, string, string];
    if (Number(num) !== n) return fail(`instruction number (${clip(num)}) out of sequence: expected (${String(n).padStart(3, '0')})`, at(lead.length + 1));
    const opCol = raw.indexOf(mnemonic, lead.length + num.length + 2) + 1;
    let operand = rest.trim();
    const operandCol = operand === '' ? raw.length + 1 : raw.indexOf(operand, opCol - 1 + mnemonic.length) + 1;
    let targets: { jt: string; jf: string; col: number } | null = null;
    const tm = splitTargets(operand);
    if (tm) {
      targets = { jt: tm.jt, jf: tm.jf, col: raw.lastIndexOf('jt') + 1 };
      operand = tm.head;
    }
    let code: number;
    let k = 0;
    if (mnemonic === 'unimp') {
      const c = /^0x([0-9a-fA-F]{1,4})$/.exec(operand);
      if (!c) return fail(`bad unimp operand ${quote(operand)}: expected the opcode as 0x<hex> (at most 0xffff)`, at(operandCol));
      code = parseInt(c[1]!, 16);
    } else {
      const shape = operandShape(operand);
      const known = shape && IMAGE_INVERSE.get(`${mnemonic} ${shape.shape}`);
      if (!shape || known === undefined) {
        const isOp = [...IMAGE.values()].some((e) => e.op === mnemonic);
        return isOp
          ? fail(`bad operand ${quote(operand)} for ${quote(mnemonic)}`, at(operandCol))
          : fail(`unknown mnemonic ${quote(mnemonic)}`, at(opCol));
      }
      code = known as number;
      if (shape.num !== undefined) {
        let text = shape.num;
        if (shape.shape === 'abs' && PCAP_ANCILLARY_BY_NAME.has(text)) text = String((SKF_AD_OFF + PCAP_ANCILLARY_BY_NAME.get(text)!) | 0);
        const v = parseU32Printf(text);
        if (!v.ok) return fail(v.message, at(operandCol));
        k = shape.shape === 'ja' ? (v.value - n - 1) >>> 0 : v.value;
      }
    }
    let jt = 0;
    let jf = 0;
    if (imageHasTargets(code)) {
      if (!targets) return fail(`${quote(mnemonic)} needs 'jt <target> jf <target>'`, at(raw.length + 1));
      const t = relTarget(targets.jt, n, 'jt');
      if (typeof t === 'string') return fail(t, at(targets.col));
      const f = relTarget(targets.jf, n, 'jf');
      if (typeof f === 'string') return fail(f, at(targets.col));
      jt = t;
      jf = f;
    } else if (targets) {
      return fail(`${quote(mnemonic)} takes no jt/jf targets`, at(targets.col));
    }
    prog.push({ code, jt, jf, k });
  }
  return { ok: true, prog };
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isWord = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const SIGNED = /^-?\d+$/;

/**
 * The `jt N jf M` tail bpf_image prints after a conditional jump's operand, split off by scanning
 * back from the end (linear in the line: no backtracking pattern). `jt` must stand as a word, as the
 * `\bjt` of a pattern would require. Null when the operand has no such tail.
 */
function splitTargets(operand: string): { head: string; jt: string; jf: string } | null {
  let end = operand.length;
  const token = (): { start: number; text: string } | null => {
    while (end > 0 && isSpace(operand.charCodeAt(end - 1))) end--;
    const stop = end;
    while (end > 0 && !isSpace(operand.charCodeAt(end - 1))) end--;
    return stop === end ? null : { start: end, text: operand.slice(end, stop) };
  };
  const jf = token();
  if (jf === null || !SIGNED.test(jf.text) || jf.start === 0) return null;
  const jfWord = token();
  if (jfWord === null || jfWord.text !== 'jf' || jfWord.start === 0) return null;
  const jt = token();
  if (jt === null || !SIGNED.test(jt.text) || jt.start === 0) return null;
  const jtWord = token();
  if (jtWord === null || !jtWord.text.endsWith('jt')) return null;
  const at = jtWord.start + jtWord.text.length - 2;
  if (at > 0 && isWord(operand.charCodeAt(at - 1))) return null;
  return { head: operand.slice(0, at).trimEnd(), jt: jt.text, jf: jf.text };
}

/** An absolute bpf_image target (n + 1 + jt) back to the u8 offset, or a message. */
function relTarget(text: string, n: number, field: 'jt' | 'jf'): number | string {
  const target = Number(text);
  const off = target - n - 1;
  if (off < 0 || off > 255) return `${field} target ${clip(text)} is ${off} insns after insn ${n + 1}; ${field} must be 0..255`;
  return off;
}

/** Parse `tcpdump -dd` output: `{ code, jt, jf, k },` records (C literals; `#`, `//` and C comments allowed). */
export function parseTcpdumpDD(text: string): Parsed {
  const prog: SockFilter[] = [];
  let pos = 0;
  const where = (p: number) => ({ ...lineCol(text, p), insn: prog.length });
  // whitespace, `//` and `#` line comments, `/* */` block comments (an unterminated one is left for the error)
  const skip = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (isSpace(c)) pos++;
      else if (c === 35 || (c === 47 && text.charCodeAt(pos + 1) === 47)) {
        const nl = text.indexOf('\n', pos);
        pos = nl < 0 ? text.length : nl;
      } else if (c === 47 && text.charCodeAt(pos + 1) === 42) {
        const close = text.indexOf('*/', pos + 2);
        if (close < 0) return;
        pos = close + 2;
      } else return;
    }
  };
  const expect = (ch: string): boolean => {
    skip();
    if (text[pos] === ch) {
      pos++;
      return true;
    }
    return false;
  };
  const found = (): string => (pos >= text.length ? 'end of input' : `'${text[pos]}'`);
  for (;;) {
    skip();
    if (pos >= text.length) break;
    if (!expect('{')) return fail(`expected '{' to start an instruction, found ${found()}`, where(pos));
    const fields: number[] = [];
    for (const field of ['code', 'jt', 'jf', 'k'] as const) {
      skip();
      const m = /^[0-9A-Za-z_]+/.exec(text.slice(pos, pos + 64));
      if (!m) return fail(`expected the ${field} field, found ${found()}`, where(pos));
      const v = parseCField(m[0], field);
      if (!v.ok) return fail(v.message, where(pos));
      fields.push(v.value);
      pos += m[0].length;
      if (field !== 'k' && !expect(',')) return fail(`expected ',' after the ${field} field, found ${found()}`, where(pos));
    }
    if (!expect('}')) return fail(`expected '}' after the k field, found ${found()}`, where(pos));
    prog.push({ code: fields[0]!, jt: fields[1]!, jf: fields[2]!, k: fields[3]! });
    expect(',');
  }
  return { ok: true, prog };
}

/** Parse `tcpdump -ddd` output: a count line, then `code jt jf k` in decimal, one per line. */
export function parseTcpdumpDDD(text: string): Parsed {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let count: number | null = null;
  let countLine = 0;
  const prog: SockFilter[] = [];
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li]!;
    if (raw.trim() === '') continue;
    const line = li + 1;
    const col = raw.length - raw.trimStart().length + 1;
    if (count === null) {
      const c = parseDecField(raw.trim(), 'code');
      if (!/^\d+$/.test(raw.trim()) || !c.ok) return fail(`expected the instruction count on the first line, found ${quote(raw.trim())}`, { line, column: col });
      count = c.value;
      countLine = line;
      continue;
    }
    const parts = [...raw.matchAll(/\S+/g)];
    if (parts.length !== 4) return fail(`expected 'code jt jf k' (4 decimal numbers), found ${parts.length} field(s)`, { line, column: col, insn: prog.length });
    const fields: number[] = [];
    for (const [i, field] of (['code', 'jt', 'jf', 'k'] as const).entries()) {
      const v = parseDecField(parts[i]![0], field);
      if (!v.ok) return fail(v.message, { line, column: parts[i]!.index! + 1, insn: prog.length });
      fields.push(v.value);
    }
    prog.push({ code: fields[0]!, jt: fields[1]!, jf: fields[2]!, k: fields[3]! });
  }
  if (count === null) return fail('empty input: expected the instruction count');
  if (count !== prog.length) return fail(`the count line says ${count} instructions but ${prog.length} follow`, { line: countLine, column: 1 });
  return { ok: true, prog };
}

// seccomp-tools' disassembly (`seccomp-tools dump` / `disasm`), both ways:
//    line  CODE  JT   JF      K
//   =================================
//    0000: 0x20 0x00 0x00 0x00000004  A = arch
//    0001: 0x15 0x00 0x02 0xc000003e  if (A != ARCH_X86_64) goto 0004
//    0002: 0x06 0x00 0x00 0x7fff0000  return ALLOW
// Reading takes the four hex columns of each numbered line (they are the instruction exactly); lines
// without them are read as statements of seccomp-tools' assembly for the common subset (`A = arch`,
// `A = sys_number`, `A = args[i]`, `A = args_h[i]`, `A = instruction_pointer`, `A = data[k]`, `A &= K`,
// `if (A op K) goto N [else goto M]`, `goto N`, `return ACTION[(DATA)]`). Unknown text is an error
// naming the line.
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import { SYSCALL_TABLES } from '../../model/seccomp/syscalls.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from '../../model/seccomp/uapi.js';

const ARCH_NAMES: ReadonlyMap<number, string> = new Map([
  [AUDIT_ARCH_X86_64, 'ARCH_X86_64'],
  [AUDIT_ARCH_I386, 'ARCH_I386'],
  [AUDIT_ARCH_AARCH64, 'ARCH_AARCH64'],
  [AUDIT_ARCH_ARM, 'ARCH_ARM'],
]);
const ARCH_BY_NAME: ReadonlyMap<string, number> = new Map([...ARCH_NAMES].map(([k, v]) => [v, k]));
const RET_NAMES: readonly [number, string][] = [
  [0x80000000, 'KILL_PROCESS'],
  [0x00000000, 'KILL'],
  [0x00030000, 'TRAP'],
  [0x00050000, 'ERRNO'],
  [0x7fc00000, 'USER_NOTIF'],
  [0x7ff00000, 'TRACE'],
  [0x7ffc0000, 'LOG'],
  [0x7fff0000, 'ALLOW'],
];
const RET_BY_NAME: ReadonlyMap<string, number> = new Map([...RET_NAMES.map(([v, n]) => [n, v] as [string, number]), ['KILL_THREAD', 0]]);

const hex = (v: number, w: number): string => `0x${(v >>> 0).toString(16).padStart(w, '0')}`;
const line4 = (n: number): string => n.toString().padStart(4, '0');

function dataName(k: number): string {
  if (k === 0) return 'sys_number';
  if (k === 4) return 'arch';
  if (k === 8) return 'instruction_pointer';
  if (k === 12) return 'instruction_pointer >> 32';
  if (k >= 16 && k < 64 && k % 4 === 0) return (k - 16) % 8 === 0 ? `args[${(k - 16) / 8}]` : `args[${(k - 20) / 8}] >> 32`;
  return `data[${k}]`;
}

function retText(k: number): string {
  const action = (k & 0xffff0000) >>> 0;
  const data = k & 0xffff;
  const name = RET_NAMES.find(([v]) => v === action)?.[1];
  if (name === undefined) return `return ${hex(k, 8)}`;
  return data === 0 && name !== 'ERRNO' ? `return ${name}` : `return ${name}(${data})`;
}

/** The pseudo-code seccomp-tools prints for one instruction (A compared with a syscall name when it holds the number). */
export function statement(insn: SockFilter, pc: number, table: ReadonlyMap<number, string> | null, aIs: 'nr' | 'arch' | 'other'): string {
  const k = insn.k >>> 0;
  const op = ({ 0x15: '==', 0x25: '>', 0x35: '>=', 0x45: '&', 0x1d: '==', 0x2d: '>', 0x3d: '>=', 0x4d: '&' } as Record<number, string>)[insn.code];
  const neg: Record<string, string> = { '==': '!=', '>': '<=', '>=': '<', '&': '&' };
  switch (insn.code) {
    case 0x20:
      return `A = ${dataName(k)}`;
    case 0x06:
      return retText(k);
    case 0x16:
      return 'return A';
    case 0x05:
      return `goto ${line4(pc + 1 + k)}`;
    case 0x54:
      return `A &= ${hex(k, 0)}`;
    case 0x00:
      return `A = ${hex(k, 0)}`;
    case 0x01:
      return `X = ${hex(k, 0)}`;
    case 0x07:
      return 'X = A';
    case 0x87:
      return 'A = X';
    case 0x02:
      return `mem[${k}] = A`;
    case 0x03:
      return `mem[${k}] = X`;
    case 0x60:
      return `A = mem[${k}]`;
    case 0x61:
      return `X = mem[${k}]`;
    default:
      break;
  }
  if (op !== undefined) {
    const rhs = (insn.code & 8) !== 0 ? 'X' : aIs === 'nr' && table?.has(k) ? table.get(k)! : aIs === 'arch' && ARCH_NAMES.has(k) ? ARCH_NAMES.get(k)! : hex(k, 0);
    const t = pc + 1 + insn.jt;
    const f = pc + 1 + insn.jf;
    if (insn.jt === 0) return op === '&' ? `if (!(A & ${rhs})) goto ${line4(f)}` : `if (A ${neg[op]} ${rhs}) goto ${line4(f)}`;
    if (insn.jf === 0) return op === '&' ? `if (A & ${rhs}) goto ${line4(t)}` : `if (A ${op} ${rhs}) goto ${line4(t)}`;
    return `if (A ${op === '&' ? '&' : op} ${rhs}) goto ${line4(t)} else goto ${line4(f)}`;
  }
  const alu: Record<number, string> = { 0x04: '+=', 0x14: '-=', 0x24: '*=', 0x34: '/=', 0x44: '|=', 0xa4: '^=', 0x64: '<<=', 0x74: '>>=' };
  if (alu[insn.code] !== undefined) return `A ${alu[insn.code]} ${hex(k, 0)}`;
  if (alu[insn.code - 8] !== undefined) return `A ${alu[insn.code - 8]} X`;
  if (insn.code === 0x84) return 'A = -A';
  if (insn.code === 0x80) return 'A = len';
  return `unknown`;
}

/** The disassembly of a filter (numbers named from the table of `arch`, or x86_64). */
export function printSeccompTools(prog: Program, arch = 'x86_64'): string {
  const rows = SYSCALL_TABLES[arch === 'i386-int80' ? 'i386' : arch] ?? SYSCALL_TABLES.x86_64!;
  const table = new Map(rows.map(([n, v]) => [v, n]));
  const lines = [' line  CODE  JT   JF      K', '================================='];
  let aIs: 'nr' | 'arch' | 'other' = 'other';
  prog.forEach((insn, pc) => {
    lines.push(` ${line4(pc)}: ${hex(insn.code, 2)} ${hex(insn.jt, 2)} ${hex(insn.jf, 2)} ${hex(insn.k, 8)}  ${statement(insn, pc, table, aIs)}`);
    if (insn.code === 0x20) aIs = insn.k === 0 ? 'nr' : insn.k === 4 ? 'arch' : 'other';
    else if ((insn.code & 7) !== 5 && insn.code !== 0x06 && insn.code !== 0x16) aIs = 'other';
  });
  return `${lines.join('\n')}\n`;
}

/** Why a text is not seccomp-tools disassembly: the message and the 1-based line. */
export class SeccompToolsError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** Whether a text looks like seccomp-tools output (its header, or numbered `NNNN:` lines). */
export const looksLikeSeccompTools = (text: string): boolean => /^\s*line\s+CODE\s+JT\s+JF\s+K/m.test(text) || /^\s*\d{4}:\s/m.test(text);

/** Parse seccomp-tools disassembly (the hex columns), or its statements for the common subset. */
export function parseSeccompTools(text: string, arch = 'x86_64'): SockFilter[] {
  const rows = SYSCALL_TABLES[arch === 'i386-int80' ? 'i386' : arch] ?? SYSCALL_TABLES.x86_64!;
  const nrByName = new Map(rows);
  const out: SockFilter[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || /^line\s+CODE/.test(l) || /^=+$/.test(l) || l.startsWith('#')) return;
    const m = /^(\d+):\s+0x([0-9a-fA-F]{2})\s+0x([0-9a-fA-F]{2})\s+0x([0-9a-fA-F]{2})\s+0x([0-9a-fA-F]{8})\b/.exec(l);
    if (m) {
      if (Number(m[1]) !== out.length) throw new SeccompToolsError(`expected line ${line4(out.length)}, found ${m[1]}`, i + 1);
      out.push({ code: Number.parseInt(m[2]!, 16), jt: Number.parseInt(m[3]!, 16), jf: Number.parseInt(m[4]!, 16), k: Number.parseInt(m[5]!, 16) >>> 0 });
      return;
    }
    const stmt = l.replace(/^\d+:\s*/, '');
    out.push(parseStatement(stmt, out.length, nrByName, i + 1));
  });
  if (out.length === 0) throw new SeccompToolsError('no instruction', 1);
  return out;
}

function num(s: string, nrByName: ReadonlyMap<string, number>, line: number): number {
  const t = s.trim();
  if (/^0x[0-9a-fA-F]+$/.test(t) || /^\d+$/.test(t)) {
    const v = Number(t);
    if (v > 0xffffffff) throw new SeccompToolsError(`${t} does not fit in 32 bits`, line);
    return v >>> 0;
  }
  const a = ARCH_BY_NAME.get(t);
  if (a !== undefined) return a;
  const n = nrByName.get(t);
  if (n !== undefined) return n;
  throw new SeccompToolsError(`unknown value ${JSON.stringify(t)}`, line);
}

function parseStatement(s: string, pc: number, nrByName: ReadonlyMap<string, number>, line: number): SockFilter {
  const st = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });
  let m: RegExpExecArray | null;
  const loads: [RegExp, (m: RegExpExecArray) => number][] = [
    [/^A = sys_number$/, () => 0],
    [/^A = arch$/, () => 4],
    [/^A = instruction_pointer$/, () => 8],
    [/^A = instruction_pointer >> 32$/, () => 12],
    [/^A = args\[([0-5])\]$/, (x) => 16 + 8 * Number(x[1])],
    [/^A = (?:args\[([0-5])\] >> 32|args_h\[([0-5])\])$/, (x) => 20 + 8 * Number(x[1] ?? x[2])],
    [/^A = data\[(\d+)\]$/, (x) => Number(x[1])],
  ];
  for (const [re, k] of loads) if ((m = re.exec(s))) return st(0x20, k(m));
  if ((m = /^return (?:A)$/.exec(s))) return st(0x16, 0);
  if ((m = /^return ([A-Z_]+)(?:\((\d+|0x[0-9a-fA-F]+)\))?$/.exec(s))) {
    const base = RET_BY_NAME.get(m[1]!);
    if (base === undefined) throw new SeccompToolsError(`unknown action ${m[1]}`, line);
    const data = m[2] === undefined ? 0 : Number(m[2]);
    if (data > 0xffff) throw new SeccompToolsError(`data ${m[2]} does not fit in 16 bits`, line);
    return st(0x06, (base | data) >>> 0);
  }
  if ((m = /^return (0x[0-9a-fA-F]+|\d+)$/.exec(s))) return st(0x06, num(m[1]!, nrByName, line));
  if ((m = /^goto (\d+)$/.exec(s))) return st(0x05, Number(m[1]) - pc - 1);
  if ((m = /^A &= (.+)$/.exec(s))) return st(0x54, num(m[1]!, nrByName, line));
  if ((m = /^A = (0x[0-9a-fA-F]+|\d+)$/.exec(s))) return st(0x00, num(m[1]!, nrByName, line));
  if ((m = /^if \((!?)\(?A (==|!=|>|>=|<|<=|&) ([^)]+)\)?\) goto (\d+)(?: else goto (\d+))?$/.exec(s))) {
    const notted = m[1] === '!';
    let op = m[2]!;
    const k = num(m[3]!, nrByName, line);
    const target = Number(m[4]) - pc - 1;
    const other = m[5] === undefined ? 0 : Number(m[5]) - pc - 1;
    const code: Record<string, number> = { '==': 0x15, '!=': 0x15, '>': 0x25, '<=': 0x25, '>=': 0x35, '<': 0x35, '&': 0x45 };
    const inverted = op === '!=' || op === '<=' || op === '<' || notted;
    if (target < 0 || target > 255 || other < 0 || other > 255) throw new SeccompToolsError('jump target out of range', line);
    op = op;
    return inverted ? { code: code[op]!, jt: other, jf: target, k } : { code: code[op]!, jt: target, jf: other, k };
  }
  throw new SeccompToolsError(`not a seccomp-tools statement: ${JSON.stringify(s)}`, line);
}

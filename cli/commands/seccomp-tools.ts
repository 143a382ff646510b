// seccomp-tools' disassembly (`seccomp-tools dump` / `disasm`), both ways:
//    line  CODE  JT   JF      K
//   =================================
//    0000: 0x20 0x00 0x00 0x00000004  A = arch
//    0001: 0x15 0x00 0x02 0xc000003e  if (A != ARCH_X86_64) goto 0004
//    0002: 0x06 0x00 0x00 0x7fff0000  return ALLOW
// Written from seccomp-tools' source (david942j/seccomp-tools lib/seccomp-tools/instruction/*.rb,
// disasm/disasm.rb, const.rb) and README, without its code:
//   - what a comparison names depends on what A holds on every path reaching it (a forward data-flow
//     of which seccomp_data word A, X and each scratch cell hold, as Disasm.disasm's contexts, with
//     the arch an `A == K` proved on its taken branch): after `A = sys_number`, for `==` a system call
//     name of the proved architecture (`i386.read` when it is not the printing one; amd64 also names
//     x32 numbers `x32_read`), else 0x hex; after `A = arch` ARCH_X86_64, ARCH_I386, ARCH_AARCH64 or
//     ARCH_S390X, else 0x hex; 0x hex after any other load; decimal when A is no seccomp_data word or
//     not the same one on every path (read from seccomp-tools' jmp.rb and const.rb at 0ee8727dd025;
//     versions before it print an unnamed arch as hex without 0x, accepted when reading);
//   - `if (A op K) goto N` when jf is 0, `if (A !op K) goto N` (`if (!(A & K))` for JSET) when jt is
//     0, `if (...) goto N else goto M` otherwise, `goto N` when jt == jf, `/* no-op */` when both are 0;
//   - `return KILL_PROCESS | KILL | TRAP | ERRNO(n) | USER_NOTIF | TRACE | LOG | ALLOW` (only ERRNO
//     shows its data; the hex column keeps it); an unknown action as seccomp-tools does (`return `
//     and nothing);
//   - loads `A = sys_number | arch | instruction_pointer | instruction_pointer >> 32 | args[i] |
//     args[i] >> 32` (seccomp-tools >= 1.6 prints an argument's name and the prototype as a comment
//     when every path proved the system call; bpfspec keeps `args[i]`), immediates and lengths in decimal, ALU constants in 0x hex except shifts
//     (decimal), `mem[k] = A`, `X = A`, `A = X`, `A = -A`.
// Reading takes the four hex columns of each numbered line (they are the instruction exactly); lines
// without them (`seccomp-tools disasm --asm-able`) are read as the statements above, with `goto N`
// naming line N, the same data-flow deciding whether a bare number is hex (after `A = arch`), and
// `# comments` dropped. Our own additions, accepted when reading: `return TRAP(n)` and the others
// with data, `A &= K` as printed. Unknown text is an error naming the line.
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import { SYSCALL_TABLES } from '../../model/seccomp/syscalls.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from '../../model/seccomp/uapi.js';

/** const.rb Audit::ARCH: the only architectures seccomp-tools names. */
const ARCH_NAMES: ReadonlyMap<number, string> = new Map([
  [AUDIT_ARCH_X86_64, 'ARCH_X86_64'],
  [AUDIT_ARCH_I386, 'ARCH_I386'],
  [0xc00000b7, 'ARCH_AARCH64'],
  [0x80000016, 'ARCH_S390X'],
]);
const ARCH_BY_NAME: ReadonlyMap<string, number> = new Map([...ARCH_NAMES].map(([k, v]) => [v, k]));
/** const.rb BPF::ACTION, inverted (KILL, the alias, is the name 0 gets), plus LOG and USER_NOTIF. */
const RET_NAMES: ReadonlyMap<number, string> = new Map([
  [0x80000000, 'KILL_PROCESS'],
  [0x00000000, 'KILL'],
  [0x00030000, 'TRAP'],
  [0x00050000, 'ERRNO'],
  [0x7fc00000, 'USER_NOTIF'],
  [0x7ff00000, 'TRACE'],
  [0x7ffc0000, 'LOG'],
  [0x7fff0000, 'ALLOW'],
]);
const RET_BY_NAME: ReadonlyMap<string, number> = new Map([...[...RET_NAMES].map(([v, n]) => [n, v] as [string, number]), ['KILL_THREAD', 0]]);

const hex = (v: number, w: number): string => `0x${(v >>> 0).toString(16).padStart(w, '0')}`;
const line4 = (n: number): string => n.toString().padStart(4, '0');

function dataName(k: number): string {
  if (k === 0) return 'sys_number';
  if (k === 4) return 'arch';
  if (k === 8) return 'instruction_pointer';
  if (k === 12) return 'instruction_pointer >> 32';
  if (k >= 16 && k < 64 && k % 4 === 0) return (k - 16) % 8 === 0 ? `args[${(k - 16) / 8}]` : `args[${(k - 20) / 8}] >> 32`;
  return 'INVALID';
}

function retText(k: number): string {
  const name = RET_NAMES.get((k & 0xffff0000) >>> 0) ?? '';
  return name === 'ERRNO' ? `return ERRNO(${k & 0xffff})` : `return ${name}`;
}

/**
 * What one path knows (seccomp-tools' disasm Context): for A, X and each scratch cell, the offset of the
 * seccomp_data word it holds (null: not a seccomp_data word), and the arch value an `A == K` taken
 * after `A = arch` proved (known_data[4]).
 */
export interface ToolsContext {
  readonly a: number | null;
  readonly x: number | null;
  readonly mem: readonly (number | null)[];
  readonly arch: number | null;
}
const EMPTY: ToolsContext = { a: null, x: null, mem: Array(16).fill(null), arch: null };
const keyOf = (c: ToolsContext): string => JSON.stringify(c);

/** The contexts after one instruction, with the line each applies to (Instruction#branch). */
function branch(insn: SockFilter, pc: number, c: ToolsContext): [number, ToolsContext][] {
  const k = insn.k >>> 0;
  const code = insn.code;
  const next = pc + 1;
  switch (code & 7) {
    case 0: {
      const mode = code & 0xe0;
      return [[next, { ...c, a: mode === 0x20 ? k : mode === 0x60 ? (c.mem[k & 15] ?? null) : null }]];
    }
    case 1:
      return [[next, { ...c, x: (code & 0xe0) === 0x60 ? (c.mem[k & 15] ?? null) : null }]];
    case 2:
    case 3: {
      const mem = c.mem.slice();
      mem[k & 15] = (code & 7) === 2 ? c.a : c.x;
      return [[next, { ...c, mem }]];
    }
    case 4:
      return [[next, { ...c, a: null }]];
    case 5: {
      if (code === 0x05) return [[next + k, c]];
      if (insn.jt === insn.jf) return [[next + insn.jt, c]];
      // the taken branch of `A == K` knows the word A holds (eql!): kept for arch
      const taken = (code & 0x70) === 0x10 && (code & 8) === 0 && c.a === 4 ? { ...c, arch: k } : c;
      return [
        [next + insn.jt, taken],
        [next + insn.jf, c],
      ];
    }
    case 6:
      return [];
    default:
      return [[next, code === 0x07 ? { ...c, x: c.a } : { ...c, a: c.x }]];
  }
}

/** The contexts of every line (Disasm.disasm's forward pass: jumps only go forward). */
export function aContexts(prog: Program): ToolsContext[][] {
  const sets = prog.map(() => new Map<string, ToolsContext>());
  if (prog.length > 0) sets[0]!.set(keyOf(EMPTY), EMPTY);
  prog.forEach((insn, pc) => {
    for (const c of sets[pc]!.values()) for (const [t, n] of branch(insn, pc, c)) if (t < prog.length) sets[t]!.set(keyOf(n), n);
  });
  return sets.map((m) => [...m.values()]);
}

/** seccomp-tools' architecture names (Const::Audit ARCH / ARCH_NAME) and our tables for them. */
const TOOLS_ARCH: readonly { readonly audit: number; readonly name: string; readonly tools: string; readonly table: string }[] = [
  { audit: AUDIT_ARCH_X86_64, name: 'ARCH_X86_64', tools: 'amd64', table: 'x86_64' },
  { audit: AUDIT_ARCH_I386, name: 'ARCH_I386', tools: 'i386', table: 'i386' },
  { audit: 0xc00000b7, name: 'ARCH_AARCH64', tools: 'aarch64', table: 'aarch64' },
  { audit: 0x80000016, name: 'ARCH_S390X', tools: 's390x', table: 's390x' },
];

/** The comparison's right-hand side as seccomp-tools names it (jmp.rb src_str, sysname_by_k). */
function srcText(insn: SockFilter, ctxs: readonly ToolsContext[], arch: string): string {
  if ((insn.code & 8) !== 0) return 'X';
  const k = insn.k >>> 0;
  const as = new Set(ctxs.map((c) => c.a));
  if (as.size !== 1) return k.toString();
  const a = [...as][0]!;
  if (a === null) return k.toString();
  const hexK = `0x${k.toString(16)}`;
  if (a === 4) return ARCH_NAMES.get(k) ?? hexK;
  if (a !== 0 || (insn.code & 0x70) !== 0x10) return hexK;
  // a system call name, from the architecture every path proved, else the printing one
  const arches = new Set(ctxs.map((c) => c.arch));
  const proved = arches.size === 1 ? TOOLS_ARCH.find((t) => t.audit === [...arches][0]) : undefined;
  const own = TOOLS_ARCH.find((t) => t.table === arch) ?? TOOLS_ARCH[0]!;
  const use = proved ?? own;
  const name = tableOf(use.table).get(k);
  if (name === undefined) return hexK;
  return use === own ? name : `${use.tools}.${name}`;
}

/** The pseudo-code seccomp-tools prints for one instruction, given what A may hold before it. */
export function statement(insn: SockFilter, pc: number, arch: string, ctx: readonly ToolsContext[]): string {
  const k = insn.k >>> 0;
  const code = insn.code;
  const cls = code & 7;
  switch (cls) {
    case 0: // ld
    case 1: {
      // ldx
      const reg = cls === 0 ? 'A' : 'X';
      const mode = code & 0xe0;
      if (mode === 0x00) return `${reg} = ${k}`;
      if (mode === 0x80) return `${reg} = 64`;
      if (mode === 0x60) return `${reg} = mem[${k}]`;
      if (mode === 0x20 && cls === 0) return `A = ${dataName(k)}`;
      return 'unknown';
    }
    case 2:
      return `mem[${k}] = A`;
    case 3:
      return `mem[${k}] = X`;
    case 4: {
      const ops: Record<number, string> = { 0x00: '+', 0x10: '-', 0x20: '*', 0x30: '/', 0x40: '|', 0x50: '&', 0x60: '<<', 0x70: '>>', 0xa0: '^' };
      if ((code & 0xf0) === 0x80) return 'A = -A';
      const op = ops[code & 0xf0];
      if (op === undefined) return 'unknown';
      const src = (code & 8) !== 0 ? 'X' : op === '<<' || op === '>>' ? k.toString() : `0x${k.toString(16)}`;
      return `A ${op}= ${src}`;
    }
    case 5: {
      if (code === 0x05) return `goto ${line4(pc + 1 + k)}`;
      const op = ({ 0x10: '==', 0x20: '>', 0x30: '>=', 0x40: '&' } as Record<number, string>)[code & 0x70];
      if (op === undefined) return 'unknown';
      if (insn.jt === 0 && insn.jf === 0) return '/* no-op */';
      const t = line4(pc + 1 + insn.jt);
      const f = line4(pc + 1 + insn.jf);
      if (insn.jt === insn.jf) return `goto ${t}`;
      const rhs = srcText(insn, ctx, arch);
      if (insn.jt !== 0 && insn.jf !== 0) return `if (A ${op} ${rhs}) goto ${t} else goto ${f}`;
      if (insn.jf === 0) return `if (A ${op} ${rhs}) goto ${t}`;
      if (op === '&') return `if (!(A & ${rhs})) goto ${f}`;
      return `if (A ${({ '>=': '<', '>': '<=', '==': '!=' } as Record<string, string>)[op]} ${rhs}) goto ${f}`;
    }
    case 6:
      return (code & 0x18) === 0x10 ? 'return A' : retText(k);
    default:
      return code === 0x07 ? 'X = A' : code === 0x87 ? 'A = X' : 'unknown';
  }
}

/** Number -> name of an ABI's table; amd64's also names x32 numbers `x32_<name>`, as seccomp-tools' amd64 table does. */
function tableOf(arch: string): ReadonlyMap<number, string> {
  const m = new Map<number, string>();
  for (const [n, v] of SYSCALL_TABLES[arch === 'i386-int80' ? 'i386' : arch] ?? []) if (!m.has(v)) m.set(v, n);
  if (arch === 'x86_64') for (const [n, v] of SYSCALL_TABLES.x32 ?? []) if (!m.has(v)) m.set(v, `x32_${n}`);
  return m;
}

/** The disassembly of a filter (numbers named from the table of `arch`, or x86_64). */
export function printSeccompTools(prog: Program, arch = 'x86_64'): string {
  const ctx = aContexts(prog);
  const lines = [' line  CODE  JT   JF      K', '================================='];
  prog.forEach((insn, pc) => lines.push(` ${line4(pc)}: ${hex(insn.code, 2)} ${hex(insn.jt, 2)} ${hex(insn.jf, 2)} ${hex(insn.k, 8)}  ${statement(insn, pc, arch, ctx[pc]!)}`));
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

/** Parse seccomp-tools disassembly (the hex columns), or its statements (`--asm-able`). */
export function parseSeccompTools(text: string, arch = 'x86_64'): SockFilter[] {
  // names as seccomp-tools prints them: the ABI's own, `x32_<name>` with amd64, `<arch>.<name>` for a proved other arch
  const nrByName = new Map<string, number>();
  for (const [v, n] of tableOf(arch === 'i386-int80' ? 'i386' : arch)) nrByName.set(n, v);
  for (const t of TOOLS_ARCH) for (const [v, n] of tableOf(t.table)) nrByName.set(`${t.tools}.${n}`, v);
  const out: SockFilter[] = [];
  // the contexts before each line (statements only need them: a bare number after `A = arch` is hex),
  // propagated as aContexts does
  const ctx: Map<string, ToolsContext>[] = [new Map([[keyOf(EMPTY), EMPTY]])];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const l = raw.replace(/\s#.*$/, '').trim();
    if (l === '' || /^line\s+CODE/.test(l) || /^=+$/.test(l) || l.startsWith('#')) return;
    const m = /^(\d+):\s+0x([0-9a-fA-F]{2})\s+0x([0-9a-fA-F]{2})\s+0x([0-9a-fA-F]{2})\s+0x([0-9a-fA-F]{8})\b/.exec(l);
    const pc = out.length;
    const lm = /^(\d+):\s*/.exec(l);
    if (lm && Number(lm[1]) !== pc) throw new SeccompToolsError(`expected line ${line4(pc)}, found ${lm[1]}`, i + 1);
    const insn = m
      ? { code: Number.parseInt(m[2]!, 16), jt: Number.parseInt(m[3]!, 16), jf: Number.parseInt(m[4]!, 16), k: Number.parseInt(m[5]!, 16) >>> 0 }
      : parseStatement(l.replace(/^\d+:\s*/, ''), pc, nrByName, [...(ctx[pc] ?? new Map()).values()], i + 1);
    out.push(insn);
    for (const c of (ctx[pc] ?? new Map<string, ToolsContext>()).values()) for (const [t, n] of branch(insn, pc, c)) (ctx[t] ??= new Map()).set(keyOf(n), n);
  });
  if (out.length === 0) throw new SeccompToolsError('no instruction', 1);
  return out;
}

/** A number as seccomp-tools prints it on the right of a comparison, given what A holds. */
function num(s: string, nrByName: ReadonlyMap<string, number>, ctx: readonly ToolsContext[], line: number): number {
  const t = s.trim();
  const archCtx = ctx.length > 0 && ctx.every((c) => c.a === 4);
  let v: number | undefined;
  if (/^0x[0-9a-fA-F]{1,8}$/.test(t)) v = Number(t);
  else if (archCtx && /^[0-9a-f]{1,8}$/.test(t)) v = Number.parseInt(t, 16); // an unnamed arch: hex without 0x
  else if (/^\d{1,10}$/.test(t)) v = Number(t);
  else v = ARCH_BY_NAME.get(t) ?? nrByName.get(t);
  if (v === undefined) throw new SeccompToolsError(`unknown value ${JSON.stringify(t.slice(0, 40))}`, line);
  if (v > 0xffffffff) throw new SeccompToolsError(`${t} does not fit in 32 bits`, line);
  return v >>> 0;
}

function parseStatement(s: string, pc: number, nrByName: ReadonlyMap<string, number>, ctx: readonly ToolsContext[], line: number): SockFilter {
  const st = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });
  const target = (n: string): number => {
    const off = Number(n) - pc - 1;
    if (off < 0 || off > 255) throw new SeccompToolsError('jump target out of range', line);
    return off;
  };
  let m: RegExpExecArray | null;
  const loads: [RegExp, (m: RegExpExecArray) => number][] = [
    [/^A = sys_number$/, () => 0],
    [/^A = arch$/, () => 4],
    [/^A = instruction_pointer$/, () => 8],
    [/^A = instruction_pointer >> 32$/, () => 12],
    [/^A = args\[([0-5])\]$/, (x) => 16 + 8 * Number(x[1])],
    [/^A = (?:args\[([0-5])\] >> 32|args_h\[([0-5])\])$/, (x) => 20 + 8 * Number(x[1] ?? x[2])],
    [/^A = data\[(\d{1,2})\]$/, (x) => Number(x[1])],
  ];
  for (const [re, k] of loads) if ((m = re.exec(s))) return st(0x20, k(m));
  if (s === 'return A') return st(0x16, 0);
  if ((m = /^return ([A-Z_]*)(?:\((\d{1,5}|0x[0-9a-fA-F]{1,4})\))?$/.exec(s))) {
    const base = RET_BY_NAME.get(m[1]!);
    if (base === undefined) throw new SeccompToolsError(`unknown action ${JSON.stringify(m[1])}`, line);
    const data = m[2] === undefined ? 0 : Number(m[2]);
    if (data > 0xffff) throw new SeccompToolsError(`data ${m[2]} does not fit in 16 bits`, line);
    return st(0x06, (base | data) >>> 0);
  }
  if ((m = /^return (0x[0-9a-fA-F]{1,8}|\d{1,10})$/.exec(s))) return st(0x06, num(m[1]!, nrByName, [], line));
  if ((m = /^goto (\d{1,5})$/.exec(s))) {
    const off = Number(m[1]) - pc - 1;
    if (off < 0) throw new SeccompToolsError('jump target out of range', line);
    return st(0x05, off);
  }
  if (s === '/* no-op */') return { code: 0x15, jt: 0, jf: 0, k: 0 }; // any conditional jump with jt = jf = 0: read as JEQ #0
  if ((m = /^([AX]) = mem\[(\d{1,2})\]$/.exec(s))) return st(m[1] === 'A' ? 0x60 : 0x61, Number(m[2]));
  if ((m = /^mem\[(\d{1,2})\] = ([AX])$/.exec(s))) return st(m[2] === 'A' ? 0x02 : 0x03, Number(m[1]));
  if (s === 'X = A') return st(0x07, 0);
  if (s === 'A = X') return st(0x87, 0);
  if (s === 'A = -A') return st(0x84, 0);
  if ((m = /^([AX]) = (0x[0-9a-fA-F]{1,8}|\d{1,10})$/.exec(s))) return st(m[1] === 'A' ? 0x00 : 0x01, num(m[2]!, nrByName, [], line));
  if ((m = /^A (\+|-|\*|\/|\||&|<<|>>|\^)= (X|0x[0-9a-fA-F]{1,8}|\d{1,10})$/.exec(s))) {
    const op = ({ '+': 0x04, '-': 0x14, '*': 0x24, '/': 0x34, '|': 0x44, '&': 0x54, '<<': 0x64, '>>': 0x74, '^': 0xa4 } as Record<string, number>)[m[1]!]!;
    return m[2] === 'X' ? st(op | 8, 0) : st(op, num(m[2]!, nrByName, [], line));
  }
  if ((m = /^if \(!\(A & ([^)]+)\)\) goto (\d{1,5})$/.exec(s))) {
    const x = m[1]!.trim() === 'X';
    return { code: x ? 0x4d : 0x45, jt: 0, jf: target(m[2]!), k: x ? 0 : num(m[1]!, nrByName, ctx, line) };
  }
  if ((m = /^if \(A (==|!=|>|>=|<|<=|&) ([^)]+)\) goto (\d{1,5})(?: else goto (\d{1,5}))?$/.exec(s))) {
    const op = m[2 - 1]!;
    const x = m[2]!.trim() === 'X';
    const k = x ? 0 : num(m[2]!, nrByName, ctx, line);
    const codes: Record<string, number> = { '==': 0x15, '!=': 0x15, '>': 0x25, '<=': 0x25, '>=': 0x35, '<': 0x35, '&': 0x45 };
    const code = codes[op]! | (x ? 8 : 0);
    const t = target(m[3]!);
    if (m[4] !== undefined) {
      if (op !== '==' && op !== '>' && op !== '>=' && op !== '&') throw new SeccompToolsError(`${op} with an else branch is not seccomp-tools syntax`, line);
      return { code, jt: t, jf: target(m[4]), k };
    }
    return op === '!=' || op === '<=' || op === '<' ? { code, jt: 0, jf: t, k } : { code, jt: t, jf: 0, k };
  }
  throw new SeccompToolsError(`not a seccomp-tools statement: ${JSON.stringify(s.slice(0, 80))}`, line);
}

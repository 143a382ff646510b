// A parser for the bpf_conformance test files (tests/*.data of Alan-Jowett/bpf_conformance) and an
// assembler for their syntax, written after src/bpf_assembler.cc and src/bpf_test_parser.cc of that
// repository: sections "-- asm", "-- mem", "-- result", "-- raw", "-- c", "-- error", "-- no register offset".
import {
  BPF_ALU,
  BPF_JMP,
  BPF_K,
  BPF_X,
} from '../../model/uapi.js';
import {
  type BpfInsn,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_END,
  BPF_FETCH,
  BPF_JMP32,
  BPF_MEMSX,
  BPF_PSEUDO_CALL,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_XCHG,
  LD_IMM64_CODE,
} from '../../model/ebpf/insn.js';

export interface ConformanceCase {
  readonly name: string;
  /** the "-- asm" text */
  readonly asm: string;
  /** "-- mem" bytes (empty when absent) */
  readonly mem: Uint8Array;
  /** "-- result": expected r0 as a u64, or null when absent */
  readonly result: bigint | null;
  /** "-- raw": expected instruction words (u64, little-endian struct bpf_insn), or null */
  readonly raw: bigint[] | null;
  /** "-- error" text, or null */
  readonly error: string | null;
}

/** Split a .data file into its sections (comment lines starting with '#' outside "-- c" are dropped). */
export function parseDataFile(name: string, text: string): ConformanceCase {
  const sections = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const line of text.split(/\r?\n/)) {
    const m = /^-- (.*)$/.exec(line);
    if (m) {
      cur = [];
      sections.set(m[1]!.trim(), cur);
      continue;
    }
    if (cur) cur.push(line);
  }
  const body = (k: string): string | null => (sections.has(k) ? sections.get(k)!.join('\n') : null);
  const nonComment = (s: string): string[] =>
    s
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => l !== '');
  const memText = body('mem');
  const mem = memText === null ? new Uint8Array(0) : Uint8Array.from(nonComment(memText).join(' ').split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));
  const resText = body('result');
  const resLines = resText === null ? [] : nonComment(resText);
  const result = resLines.length > 0 ? parseU64(resLines[0]!) : null;
  const rawText = body('raw');
  const raw = rawText === null ? null : nonComment(rawText).map(parseU64);
  const err = body('error');
  return { name, asm: body('asm') ?? '', mem, result, raw, error: err === null ? null : nonComment(err).join('\n') };
}

/** std::stoull semantics: hex when it contains "0x", else decimal; negative values wrap mod 2^64. */
export function parseU64(s: string): bigint {
  const t = s.trim();
  const neg = t.startsWith('-');
  const body = neg || t.startsWith('+') ? t.slice(1) : t;
  const v = body.includes('0x') ? BigInt(body.slice(body.indexOf('0x'))) : BigInt(body);
  return BigInt.asUintN(64, neg ? -v : v);
}
const imm32 = (s: string): number => Number(BigInt.asIntN(32, parseU64(s)));
const off16 = (s: string): number => Number(BigInt.asIntN(16, parseU64(s)));

const REGS = new Map<string, number>(Array.from({ length: 16 }, (_, i) => [`%r${i}`, i]));
function reg(s: string | undefined): number {
  const r = s === undefined ? undefined : REGS.get(s);
  if (r === undefined) throw new Error(`Invalid register: ${s}`);
  return r;
}

// "[%r10-8]", "[%r1+2]", "[%r1]"
function regOff(s: string | undefined): [number, number] {
  const m = s === undefined ? null : /^\[(%r\d+)([+-][0-9a-fx]+)?\]$/i.exec(s);
  if (!m) throw new Error(`Failed to decode register and offset: ${s}`);
  return [reg(m[1]), m[2] === undefined ? 0 : off16(m[2])];
}

const ALU_OPS: Readonly<Record<string, number>> = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, sdiv: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, neg: 0x80, mod: 0x90, smod: 0x90, xor: 0xa0, mov: 0xb0, arsh: 0xc0 };
const JMP_OPS: Readonly<Record<string, number>> = { jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70, jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0 };
const ATOMIC_OPS: Readonly<Record<string, number>> = { add: 0x00, and: 0x50, or: 0x40, xor: 0xa0, xchg: BPF_XCHG, cmpxchg: BPF_CMPXCHG };
const SIZE: Readonly<Record<string, number>> = { b: 0x10, h: 0x08, w: 0x00, dw: BPF_DW };

interface Pending {
  insn: { code: number; dst: number; src: number; off: number; imm: number };
  label: string | null;
  /** the label fills imm (call local, ja32) instead of off */
  inImm: boolean;
}

/** Assemble bpf_conformance assembler text into instructions (ld_imm64 takes two slots). Throws on a syntax error. */
export function assemble(text: string): BpfInsn[] {
  const out: Pending[] = [];
  const labels = new Map<string, number>();
  let sawExit = false;
  const emit = (code: number, dst = 0, src = 0, off = 0, imm = 0, label: string | null = null, inImm = false): void => {
    out.push({ insn: { code, dst, src, off, imm }, label, inImm });
  };
  // a jump target: "+N"/"-N" is an offset, anything else a label
  const target = (s: string | undefined): [number, string | null] => {
    if (s === undefined) throw new Error('missing jump target');
    return /^[+-]/.test(s) ? [off16(s), null] : [0, s];
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const [mn0, ...rest] = line.split(/\s+/);
    const mn = mn0!;
    const ops = rest.map((o) => o.replace(/,$/, ''));
    if (mn.endsWith(':')) {
      const l = mn.slice(0, -1);
      if (labels.has(l)) throw new Error(`Duplicate label ${l}`);
      labels.set(l, out.length);
      continue;
    }
    if (mn === 'exit') {
      if (!sawExit) labels.set('exit', labels.get('exit') ?? out.length); // default label: the first exit
      sawExit = true;
      emit(BPF_JMP | 0x90);
      continue;
    }
    if (mn === 'lddw') {
      const v = parseU64(ops[1]!);
      emit(LD_IMM64_CODE, reg(ops[0]), 0, 0, Number(BigInt.asIntN(32, v & 0xffffffffn)));
      emit(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n)));
      continue;
    }
    if (mn === 'lock') {
      let fetch = false;
      if (ops[0] === 'fetch') {
        fetch = true;
        ops.shift();
      }
      const op = ops.shift()!;
      const is32 = op.endsWith('32');
      const base = is32 ? op.slice(0, -2) : op;
      const a = ATOMIC_OPS[base];
      if (a === undefined) throw new Error(`Invalid atomic op ${op}`);
      const [dst, off] = regOff(ops[0]);
      emit(0x03 | BPF_ATOMIC | (is32 ? 0x00 : BPF_DW), dst, reg(ops[1]), off, a | (fetch ? BPF_FETCH : 0));
      continue;
    }
    if (mn === 'call') {
      if (ops.length === 2 && ops[0] === 'local') {
        const [, l] = target(ops[1]);
        emit(BPF_JMP | 0x80, 0, BPF_PSEUDO_CALL, 0, 0, l, true);
      } else if (ops[0]?.startsWith('%')) emit(BPF_JMP | 0x80 | BPF_X, reg(ops[0])); // callx (not a v6.6 opcode)
      else emit(BPF_JMP | 0x80, 0, ops.length === 2 && ops[0] === 'runtime' ? 2 : 0, 0, imm32(ops[ops.length - 1]!));
      continue;
    }
    if (mn === 'ja') {
      const [off, l] = target(ops[0]);
      emit(BPF_JMP | 0x00, 0, 0, off, 0, l);
      continue;
    }
    if (mn === 'ja32') {
      const [off, l] = target(ops[0]);
      emit(BPF_JMP32 | 0x00, 0, 0, 0, off, l, true);
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^(ldx|ldxs|stx|st)(b|h|w|dw)$/.exec(mn))) {
      const sz = SIZE[m[2]!]!;
      if (m[1] === 'ldx' || m[1] === 'ldxs') {
        const [src, off] = regOff(ops[1]);
        emit(0x01 | sz | (m[1] === 'ldxs' ? BPF_MEMSX : 0x60), reg(ops[0]), src, off);
      } else if (m[1] === 'stx') {
        const [dst, off] = regOff(ops[0]);
        emit(0x03 | sz | 0x60, dst, reg(ops[1]), off);
      } else {
        const [dst, off] = regOff(ops[0]);
        emit(0x02 | sz | 0x60, dst, 0, off, imm32(ops[1]!));
      }
      continue;
    }
    if ((m = /^(be|le|swap|bswap)(16|32|64)$/.exec(mn))) {
      const code = m[1] === 'be' ? BPF_ALU | BPF_END | BPF_TO_BE : m[1] === 'le' ? BPF_ALU | BPF_END | BPF_TO_LE : BPF_ALU64 | BPF_END | BPF_TO_LE;
      emit(code, reg(ops[0]), 0, 0, Number(m[2]));
      continue;
    }
    if ((m = /^movsx(8|16|32)(32|64)$/.exec(mn))) {
      emit((m[2] === '32' ? BPF_ALU : BPF_ALU64) | 0xb0 | BPF_X, reg(ops[0]), reg(ops[1]), Number(m[1]));
      continue;
    }
    const is32 = mn.endsWith('32');
    const base = is32 ? mn.slice(0, -2) : mn;
    if (ALU_OPS[base] !== undefined) {
      const cls = is32 ? BPF_ALU : BPF_ALU64;
      const off = base === 'sdiv' || base === 'smod' ? 1 : 0;
      if (base === 'neg') emit(cls | 0x80 | BPF_K, reg(ops[0]));
      else if (ops[1]?.startsWith('%')) emit(cls | ALU_OPS[base]! | BPF_X, reg(ops[0]), reg(ops[1]), off);
      else emit(cls | ALU_OPS[base]! | BPF_K, reg(ops[0]), 0, off, imm32(ops[1]!));
      continue;
    }
    if (JMP_OPS[base] !== undefined) {
      const cls = is32 ? BPF_JMP32 : BPF_JMP;
      const [off, l] = target(ops[2]);
      if (ops[1]?.startsWith('%')) emit(cls | JMP_OPS[base]! | BPF_X, reg(ops[0]), reg(ops[1]), off, 0, l);
      else emit(cls | JMP_OPS[base]! | BPF_K, reg(ops[0]), 0, off, imm32(ops[1]!), l);
      continue;
    }
    throw new Error(`Invalid mnemonic: ${mn}`);
  }
  // fix up label references: target - pc - 1
  return out.map((p, pc) => {
    if (p.label !== null) {
      const t = labels.get(p.label);
      if (t === undefined) throw new Error(`Invalid label: ${p.label}`);
      if (p.inImm) p.insn.imm = t - pc - 1;
      else p.insn.off = t - pc - 1;
    }
    return p.insn;
  });
}

/** The u64 word of an instruction as "-- raw" lists it (little-endian struct bpf_insn read as a u64). */
export const insnWord = (i: BpfInsn): bigint =>
  (BigInt(i.imm >>> 0) << 32n) | (BigInt(i.off & 0xffff) << 16n) | (BigInt(((i.src & 0xf) << 4) | (i.dst & 0xf)) << 8n) | BigInt(i.code);

// bpfspec's compiled backend for eBPF programs ("eBPF JIT"): a program (in practice a migrated
// classic program) is translated once into a JavaScript function that does what the interpreter
// (./interp.ts EbpfEngineVm, kernel/bpf/core.c:1680 ___bpf_prog_run) does, on the same register file,
// memory model and helper table. It lives beside the spec and is fuzzed against it; the kernel's
// counterpart is the eBPF JIT that bpf_prog_select_runtime runs (bpf_int_jit_compile,
// arch/x86/net/bpf_jit_comp.c).
//
// Generated code: straight-line statements on locals l<n>/h<n> holding each register's words (read
// from the interpreter's register file `r` on entry and written back to it in a `finally` and around
// helper calls, so `r` ends as the interpreter leaves it), the same 64-bit helpers (./alu64.ts) for
// MUL, 64-bit shifts, NEG, BSWAP64 and DIV/MOD, and Memory.load/store for every memory access, so
// faults carry the same kind, pc and address as the interpreter's. Forward jumps become `break` out of
// labelled blocks (see model/cbpf/jit.ts).
//
// What is NOT compiled (the function falls back to the interpreter for the whole program; see
// EbpfJsProgram.supported): backward jumps (loops need the interpreter's step budget), atomics,
// PROBE_MEM loads, internal call/tail-call opcodes, register fields >= 12, unknown opcodes, and
// jumps into the second slot of an ld_imm64. The JIT does not count steps (EbpfJitVm.steps is the
// interpreter's count only after a fallback run).
import {
  add64,
  arsh64,
  lsh64,
  mul64,
  neg64,
  rsh64,
  sub64,
  swab16,
  swab32,
  swab64,
  type Regs,
} from '../../model/ebpf/alu64.js';
import { type BpfInsn, BPF_REG_AX } from '../../model/ebpf/insn.js';
import { aluDivMod, divFault, type HelperTable } from '../../model/ebpf/interp.js';
import { compileEbpfColumns, EbpfEngineVm, type EbpfColumns, type EbpfEngineOptions } from './interp.js';
import { type Fault, type Memory, makeFault } from '../../model/ebpf/memory.js';

/** What the generated code calls. */
interface Runtime {
  readonly add64: typeof add64;
  readonly sub64: typeof sub64;
  readonly mul64: typeof mul64;
  readonly neg64: typeof neg64;
  readonly lsh64: typeof lsh64;
  readonly rsh64: typeof rsh64;
  readonly arsh64: typeof arsh64;
  readonly swab16: typeof swab16;
  readonly swab32: typeof swab32;
  readonly swab64: typeof swab64;
  readonly divmod: (r: Regs, code: number, d: number, s: number, off: number, imm: number) => number;
}

/** The compiled body: the registers are set up by the caller; returns R0's low word, or 0 after a fault. */
type Body = (r: Regs, mem: Memory, helpers: HelperTable, vm: EbpfJitVm, rt: Runtime) => number;

/** A program compiled to JS (or marked for the interpreter). */
export interface EbpfJsProgram {
  /** the decoded program (what the interpreter runs on a fallback) */
  readonly compiled: EbpfColumns;
  /** false when the program uses something the JIT does not compile (see the file header) */
  readonly supported: boolean;
  /** why it is not supported ('' when it is) */
  readonly reason: string;
  /** the JS source of the body ('' when not supported) */
  readonly source: string;
  readonly body: Body | null;
}

const AX = 2 * BPF_REG_AX;
const SIZE_BYTES = [4, 2, 1, 8] as const;
const hex2 = (v: number): string => v.toString(16).padStart(2, '0');

const RUNTIME: Runtime = { add64, sub64, mul64, neg64, lsh64, rsh64, arsh64, swab16, swab32, swab64, divmod: aluDivMod };

/** Unsigned/signed 64-bit comparison expressions for COND_JMP (kernel/bpf/core.c:2020). */
export function cond64(op: number, aLo: string, aHi: string, bLo: string, bHi: string, bHiS: string): string | null {
  const gtU = `(${aHi} > ${bHi} || (${aHi} === ${bHi} && ${aLo} > ${bLo}))`;
  const ltU = `(${aHi} < ${bHi} || (${aHi} === ${bHi} && ${aLo} < ${bLo}))`;
  const gtS = `((${aHi} | 0) > ${bHiS} || (${aHi} === ${bHi} && ${aLo} > ${bLo}))`;
  const ltS = `((${aHi} | 0) < ${bHiS} || (${aHi} === ${bHi} && ${aLo} < ${bLo}))`;
  switch (op) {
    case 0x10: return `(${aLo} === ${bLo} && ${aHi} === ${bHi})`;
    case 0x50: return `(${aLo} !== ${bLo} || ${aHi} !== ${bHi})`;
    case 0x20: return gtU;
    case 0xa0: return ltU;
    case 0x30: return `!${ltU}`;
    case 0xb0: return `!${gtU}`;
    case 0x40: return `((${aLo} & ${bLo}) !== 0 || (${aHi} & ${bHi}) !== 0)`;
    case 0x60: return gtS;
    case 0xc0: return ltS;
    case 0x70: return `!${ltS}`;
    case 0xd0: return `!${gtS}`;
    default: return null;
  }
}

/** 32-bit comparison expressions for COND_JMP on BPF_JMP32. */
export function cond32(op: number, a: string, b: string): string | null {
  switch (op) {
    case 0x10: return `${a} === ${b}`;
    case 0x50: return `${a} !== ${b}`;
    case 0x20: return `${a} > ${b}`;
    case 0xa0: return `${a} < ${b}`;
    case 0x30: return `${a} >= ${b}`;
    case 0xb0: return `${a} <= ${b}`;
    case 0x40: return `(${a} & ${b}) !== 0`;
    case 0x60: return `(${a} | 0) > (${b} | 0)`;
    case 0xc0: return `(${a} | 0) < (${b} | 0)`;
    case 0x70: return `(${a} | 0) >= (${b} | 0)`;
    case 0xd0: return `(${a} | 0) <= (${b} | 0)`;
    default: return null;
  }
}

/** Effective address (kernel/bpf/core.c:2070 LDST: (unsigned long)(REG + off)) into locals hi, lo. */
function eaCode(base: number, off: number): string {
  let s = `lo = l${base >> 1} + ${off}; hi = h${base >> 1};`;
  if (off > 0) s += ' if (lo > 0xffffffff) { lo -= 0x100000000; hi = (hi + 1) >>> 0; }';
  if (off < 0) s += ' if (lo < 0) { lo += 0x100000000; hi = (hi - 1) >>> 0; }';
  return s;
}

// Registers live in locals: l<n> / h<n> hold register n's low and high words, always as u32 values
// (every assignment ends in `>>> 0`, which the interpreter's Uint32Array stores did implicitly). The
// register file `r` is written back in a `finally` on every way out (exit, fault, falling off), and
// around the few operations that work on it: helper calls (R1..R5 out, R0 back) and the shared 64-bit
// helpers of ./alu64.ts for MUL, shifts, NEG, BSWAP64 and DIV/MOD (the operands out, DST and AX back).
const rl = (w: number): string => `l${w >> 1}`;
const rh = (w: number): string => `h${w >> 1}`;
const u = (e: string): string => `(${e}) >>> 0`;
/** write register w's locals into r */
const spill = (w: number): string => `r[${w}] = ${rl(w)}; r[${w + 1}] = ${rh(w)};`;
/** read register w's locals back from r */
const fill = (w: number): string => `${rl(w)} = r[${w}]; ${rh(w)} = r[${w + 1}];`;

/**
 * Model helper (no kernel counterpart): the JS statements of a register-only ALU instruction (ALU and
 * ALU64 ops, MOV/MOVSX, NEG, END/BSWAP; not DIV/MOD) on the locals l<n>/h<n>, or null when `code` is
 * not one. The 64-bit helpers (MUL, 64-bit shifts, NEG, BSWAP64) work on word `w` of the register
 * file `r`, reached through `viaR(call)`. Shared by this JIT and the skb one (./skbjit.ts).
 */
export function emitAlu(code: number, d: number, s: number, off: number, imm: number, w: number, viaR: (call: string) => string): string | null {
  const immU = imm >>> 0;
  const immHi = (imm >> 31) >>> 0;
  const dl = rl(d);
  const dh = rh(d);
  const sl = rl(s);
  const sh = rh(s);
  const z = `${dh} = 0;`;
  switch (code) {
    case 0x0f: return `v = ${dl} + ${sl}; ${dh} = ${u(`${dh} + ${sh} + (v > 0xffffffff ? 1 : 0)`)}; ${dl} = ${u('v')};`;
    case 0x07: return `v = ${dl} + ${immU}; ${dh} = ${u(`${dh} + ${immHi} + (v > 0xffffffff ? 1 : 0)`)}; ${dl} = ${u('v')};`;
    case 0x0c: return `${dl} = ${u(`${dl} + ${sl}`)}; ${z}`;
    case 0x04: return `${dl} = ${u(`${dl} + ${imm}`)}; ${z}`;
    case 0x1f: return `v = ${dl} - ${sl}; ${dh} = ${u(`${dh} - ${sh} - (v < 0 ? 1 : 0)`)}; ${dl} = ${u('v')};`;
    case 0x17: return `v = ${dl} - ${immU}; ${dh} = ${u(`${dh} - ${immHi} - (v < 0 ? 1 : 0)`)}; ${dl} = ${u('v')};`;
    case 0x1c: return `${dl} = ${u(`${dl} - ${sl}`)}; ${z}`;
    case 0x14: return `${dl} = ${u(`${dl} - ${imm}`)}; ${z}`;
    case 0x5f: return `${dl} = ${u(`${dl} & ${sl}`)}; ${dh} = ${u(`${dh} & ${sh}`)};`;
    case 0x57: return `${dl} = ${u(`${dl} & ${imm}`)}; ${dh} = ${u(`${dh} & ${imm >> 31}`)};`;
    case 0x5c: return `${dl} = ${u(`${dl} & ${sl}`)}; ${z}`;
    case 0x54: return `${dl} = ${u(`${dl} & ${imm}`)}; ${z}`;
    case 0x4f: return `${dl} = ${u(`${dl} | ${sl}`)}; ${dh} = ${u(`${dh} | ${sh}`)};`;
    case 0x47: return `${dl} = ${u(`${dl} | ${imm}`)}; ${dh} = ${u(`${dh} | ${imm >> 31}`)};`;
    case 0x4c: return `${dl} = ${u(`${dl} | ${sl}`)}; ${z}`;
    case 0x44: return `${dl} = ${u(`${dl} | ${imm}`)}; ${z}`;
    case 0xaf: return `${dl} = ${u(`${dl} ^ ${sl}`)}; ${dh} = ${u(`${dh} ^ ${sh}`)};`;
    case 0xa7: return `${dl} = ${u(`${dl} ^ ${imm}`)}; ${dh} = ${u(`${dh} ^ ${imm >> 31}`)};`;
    case 0xac: return `${dl} = ${u(`${dl} ^ ${sl}`)}; ${z}`;
    case 0xa4: return `${dl} = ${u(`${dl} ^ ${imm}`)}; ${z}`;
    case 0x2f: return `v = ${sl}; w = ${sh}; ${viaR(`rt.mul64(r, ${w}, v, w);`)}`;
    case 0x27: return viaR(`rt.mul64(r, ${w}, ${imm}, ${imm >> 31});`);
    case 0x2c: return `${dl} = ${u(`Math.imul(${dl}, ${sl})`)}; ${z}`;
    case 0x24: return `${dl} = ${u(`Math.imul(${dl}, ${imm})`)}; ${z}`;
    case 0x6f: return `v = ${sl} & 63; ${viaR(`rt.lsh64(r, ${w}, v);`)}`;
    case 0x67: return viaR(`rt.lsh64(r, ${w}, ${imm & 63});`);
    case 0x6c: return `${dl} = ${u(`${dl} << (${sl} & 31)`)}; ${z}`;
    case 0x64: return `${dl} = ${u(`${dl} << ${imm & 31}`)}; ${z}`;
    case 0x7f: return `v = ${sl} & 63; ${viaR(`rt.rsh64(r, ${w}, v);`)}`;
    case 0x77: return viaR(`rt.rsh64(r, ${w}, ${imm & 63});`);
    case 0x7c: return `${dl} = ${dl} >>> (${sl} & 31); ${z}`;
    case 0x74: return `${dl} = ${dl} >>> ${imm & 31}; ${z}`;
    case 0xcf: return `v = ${sl} & 63; ${viaR(`rt.arsh64(r, ${w}, v);`)}`;
    case 0xc7: return viaR(`rt.arsh64(r, ${w}, ${imm & 63});`);
    case 0xcc: return `${dl} = ${u(`(${dl} | 0) >> (${sl} & 31)`)}; ${z}`;
    case 0xc4: return `${dl} = ${u(`(${dl} | 0) >> ${imm & 31}`)}; ${z}`;
    case 0x84: return `${dl} = ${u(`-${dl}`)}; ${z}`;
    case 0x87: return viaR(`rt.neg64(r, ${w});`);
    case 0xbc:
      if (off === 0) return `${dl} = ${sl}; ${z}`;
      if (off === 8) return `${dl} = ${u(`(${sl} << 24) >> 24`)}; ${z}`;
      if (off === 16) return `${dl} = ${u(`(${sl} << 16) >> 16`)}; ${z}`;
      return '';
    case 0xb4: return `${dl} = ${immU}; ${z}`;
    case 0xbf:
      if (off === 0) return `${dh} = ${sh}; ${dl} = ${sl};`;
      if (off === 8 || off === 16 || off === 32) {
        const v = off === 32 ? `${sl} | 0` : `(${sl} << ${32 - off}) >> ${32 - off}`;
        return `v = ${v}; ${dl} = ${u('v')}; ${dh} = ${u('v >> 31')};`;
      }
      return '';
    case 0xb7: return `${dl} = ${immU}; ${dh} = ${immHi};`;
    case 0xdc:
      if (imm === 16) return `${dl} = rt.swab16(${dl} & 0xffff); ${z}`;
      if (imm === 32) return `${dl} = rt.swab32(${dl}); ${z}`;
      if (imm === 64) return viaR(`rt.swab64(r, ${w});`);
      return '';
    case 0xd4:
      if (imm === 16) return `${dl} = ${dl} & 0xffff; ${z}`;
      if (imm === 32) return z;
      return '';
    case 0xd7:
      if (imm === 16) return `${dl} = rt.swab16(${dl} & 0xffff); ${z}`;
      if (imm === 32) return `${dl} = rt.swab32(${dl}); ${z}`;
      if (imm === 64) return viaR(`rt.swab64(r, ${w});`);
      return '';
    default:
      return null;
  }
}

// Model helper (no kernel counterpart): the JS statements of instruction `pc`, or null when the JIT
// does not compile it. `jump(t)` continues at eBPF pc t.
function emitInsn(p: EbpfColumns, pc: number, jump: (t: number) => string): string | null {
  const code = p.code[pc]!;
  const d = p.dst[pc]!;
  const s = p.src[pc]!;
  const off = p.off[pc]!;
  const imm = p.imm[pc]!;
  const immU = imm >>> 0;
  const immHi = (imm >> 31) >>> 0;
  const dl = rl(d);
  const dh = rh(d);
  const sl = rl(s);
  const sh = rh(s);
  const x = (code & 0x08) !== 0;
  // DST op= (bLo, bHi) through an ./alu64.ts helper on the register file
  const viaR = (call: string): string => `${spill(d)} ${call} ${fill(d)}`;
  const alu = emitAlu(code, d, s, off, imm, d, viaR);
  if (alu !== null) return alu;
  switch (code) {
    case 0x18:
      if (pc + 1 >= p.len) return `return vm.faultAt('pc-out-of-range', ${pc + 1}, 'ld_imm64 at ${pc} has no second slot');`;
      return `${dl} = ${immU}; ${dh} = ${p.imm[pc + 1]! >>> 0};`;
    case 0x3f: case 0x37: case 0x9f: case 0x97: case 0x3c: case 0x34: case 0x9c: case 0x94: // prettier-ignore
      // DST and SRC out, DST and AX back (the 32-bit MOD forms use AX as scratch, see alu64.ts)
      return `${spill(d)} ${x ? spill(s) : ''} st = rt.divmod(r, ${code}, ${d}, ${s}, ${off}, ${imm}); ${fill(d)} ${fill(AX)} if (st !== 0) return vm.divFault(st, ${pc});`;
    case 0x85: {
      // the helper reads R1..R5 from r and writes R0 there (read back before its fault is looked at)
      const args = [2, 4, 6, 8, 10].map(spill).join(' ');
      return `h = helpers.get(${imm}); if (h === undefined) return vm.unknownHelper(${imm}, ${pc}); ${args} f = h(r, mem, ${pc}); ${fill(0)} if (f !== null) return vm.stop(f);`;
    }
    case 0x95: return `return ${rl(0)};`;
    case 0x05: return jump(pc + 1 + off);
    case 0x06: return jump(pc + 1 + imm);
    case 0x71: case 0x69: case 0x61: case 0x79: case 0x91: case 0x89: case 0x81: { // prettier-ignore
      const size = SIZE_BYTES[(code >> 3) & 3]!;
      const load = `${eaCode(s, off)} st = mem.load(hi, lo, ${size}); if (st !== 0) return vm.memFault(st, ${pc}, hi, lo, ${size}, false);`;
      if ((code & 0xe0) === 0x80) {
        const shift = 32 - size * 8;
        return `${load} v = (mem.valLo << ${shift}) >> ${shift}; ${dl} = ${u('v')}; ${dh} = ${u('v >> 31')};`;
      }
      return `${load} ${dl} = mem.valLo; ${dh} = mem.valHi;`;
    }
    case 0x73: case 0x6b: case 0x63: case 0x7b: { // prettier-ignore
      const size = SIZE_BYTES[(code >> 3) & 3]!;
      return `${eaCode(d, off)} st = mem.store(hi, lo, ${size}, ${sl}, ${sh}); if (st !== 0) return vm.memFault(st, ${pc}, hi, lo, ${size}, true);`;
    }
    case 0x72: case 0x6a: case 0x62: case 0x7a: { // prettier-ignore
      const size = SIZE_BYTES[(code >> 3) & 3]!;
      return `${eaCode(d, off)} st = mem.store(hi, lo, ${size}, ${imm}, ${imm >> 31}); if (st !== 0) return vm.memFault(st, ${pc}, hi, lo, ${size}, true);`;
    }
    case 0xc2: return '';
    default:
      break;
  }
  const cls = code & 0x07;
  const op = code & 0xf0;
  let c: string | null = null;
  if (cls === 0x05) c = cond64(op, dl, dh, x ? sl : String(immU), x ? sh : String(immHi), x ? `(${sh} | 0)` : String(imm >> 31));
  else if (cls === 0x06) c = cond32(op, dl, x ? sl : String(immU));
  if (c === null || code > 0xff) return null;
  const t = jump(pc + 1 + off);
  return t === '' ? '' : `if (${c}) { ${t} }`;
}

/** Whether instruction pc jumps, and where (for labels); null when it does not. */
function jumpTarget(p: EbpfColumns, pc: number): number | null {
  const code = p.code[pc]!;
  if (code === 0x05) return pc + 1 + p.off[pc]!;
  if (code === 0x06) return pc + 1 + p.imm[pc]!;
  const cls = code & 0x07;
  if ((cls === 0x05 || cls === 0x06) && code <= 0xff) {
    const op = code & 0xf0;
    if (op !== 0x00 && op !== 0x80 && op !== 0x90 && op !== 0xe0 && op !== 0xf0) return pc + 1 + p.off[pc]!;
  }
  return null;
}

/** Above this many jump targets the code uses a dispatch loop. */
export const MAX_LABELS = 512;

/** Model helper (no kernel counterpart): the JS body of a decoded program, or why it cannot be compiled. */
export function ebpfJsSource(p: EbpfColumns): { source: string } | { reason: string } {
  const len = p.len;
  const targets = new Set<number>();
  const second = new Set<number>();
  for (let pc = 0; pc < len; pc++) {
    if (p.code[pc] === 0x18) second.add(pc + 1);
    const t = jumpTarget(p, pc);
    if (t === null) continue;
    if (t <= pc) return { reason: `backward jump at ${pc}` };
    targets.add(t);
  }
  for (const t of targets) if (second.has(t)) return { reason: `jump into the second slot of an ld_imm64 at ${t}` };
  const inside = [...targets].filter((t) => t < len);
  const useLabels = inside.length <= MAX_LABELS;
  const out = (t: number): string => `return vm.pcOut(${t}, ${len});`;
  // The registers the program names (fields < 12; a used field >= 12 is not compiled), R0 (the
  // result), R1 (ctx) and FP, R1..R5 when it calls a helper, AX when it divides: their locals start
  // from the register file (zeroed by EbpfEngineVm.enter, R1 and FP set) and go back to it in `finally`.
  const regs = new Set<number>([0, 2, 20]);
  for (let pc = 0; pc < len; pc++) {
    if (p.dst[pc]! < 24) regs.add(p.dst[pc]!);
    if (p.src[pc]! < 24) regs.add(p.src[pc]!);
    if (p.code[pc] === 0x85) for (const w of [2, 4, 6, 8, 10]) regs.add(w);
    if ((p.code[pc]! & 0x07) >= 0x04 && (p.code[pc]! & 0x07) !== 0x05 && (p.code[pc]! & 0x07) !== 0x06 && ((p.code[pc]! & 0xf0) === 0x30 || (p.code[pc]! & 0xf0) === 0x90)) regs.add(AX);
  }
  const words = [...regs].sort((a, b) => a - b);
  const lines: string[] = [
    'let lo = 0, hi = 0, st = 0, v = 0, w = 0, h, f;',
    `let ${words.map((w) => `${rl(w)} = r[${w}], ${rh(w)} = r[${w + 1}]`).join(', ')};`,
    'try {',
  ];
  const labelled = inside.sort((a, b) => b - a);
  if (useLabels) lines.push(labelled.map((t) => `L${t}: {`).join(' '));
  else lines.push('let pc = 0;', 'for (;;) {', 'switch (pc) {');
  const open = new Set(labelled);
  for (let pc = 0; pc < len; pc++) {
    if (useLabels && open.has(pc)) lines.push(`} // L${pc}`);
    if (!useLabels) lines.push(`case ${pc}:`);
    const jump = (t: number): string => (t >= len ? out(t) : useLabels ? (t === pc + 1 ? '' : `break L${t};`) : `pc = ${t}; continue;`);
    const stmt = emitInsn(p, pc, jump);
    if (stmt === null) return { reason: `opcode 0x${hex2(p.code[pc]! & 0xff)} at ${pc} is not compiled` };
    lines.push(stmt);
    if (p.code[pc] === 0x18) pc++; // the second slot holds data only (never a jump target, checked above)
  }
  if (!useLabels) lines.push('}');
  lines.push(out(len));
  if (!useLabels) lines.push('}');
  lines.push(`} finally { ${words.map(spill).join(' ')} }`);
  return { source: lines.join('\n') };
}

/** Compile a decoded program (no cache). */
export function compileEbpfProgramJs(compiled: EbpfColumns): EbpfJsProgram {
  const src = ebpfJsSource(compiled);
  if ('reason' in src) return { compiled, supported: false, reason: src.reason, source: '', body: null };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const body = new Function('r', 'mem', 'helpers', 'vm', 'rt', `"use strict";\n${src.source}`) as Body;
  return { compiled, supported: true, reason: '', source: src.source, body };
}

/** Bound on cached compiled programs; the cache is emptied when it is full. */
export const JIT_CACHE_LIMIT = 4096;
const cache = new Map<string, EbpfJsProgram>();

/** The cache key of an instruction sequence. */
export const insnsKey = (insns: readonly BpfInsn[]): string => {
  let s = '';
  for (const i of insns) s += `${i.code},${i.dst},${i.src},${i.off},${i.imm};`;
  return s;
};

/**
 * Compile eBPF instructions (the interpreter's input, e.g. a migrated program's insns) to JS, cached
 * per instruction content. Throws on API misuse only (as compileEbpfColumns).
 */
export function compileEbpfJs(insns: readonly BpfInsn[]): EbpfJsProgram {
  const key = insnsKey(insns);
  let p = cache.get(key);
  if (p === undefined) {
    p = compileEbpfProgramJs(compileEbpfColumns(insns));
    if (cache.size >= JIT_CACHE_LIMIT) cache.clear();
    cache.set(key, p);
  }
  return p;
}

/**
 * Runs compiled programs with the interpreter's state: the register file, memory and helpers of an
 * EbpfEngineVm (which also runs the programs the JIT does not compile). Results and faults are the
 * interpreter's, by construction and by the differential tests.
 */
export class EbpfJitVm {
  /** the interpreter that owns the state and runs unsupported programs */
  readonly interp: EbpfEngineVm;
  /** null after a normal exit, else why the run stopped */
  fault: Fault | null = null;

  constructor(mem: Memory, helpers: HelperTable = new Map(), opts: EbpfEngineOptions = {}) {
    this.interp = new EbpfEngineVm(mem, helpers, opts);
  }

  get regs(): Regs {
    return this.interp.regs;
  }

  // kernel/bpf/core.c:2176 __bpf_prog_run<stackSize>: as EbpfEngineVm.run, with the compiled body
  /** Run a compiled program: R1 = ctx, FP = end of a stackSize-byte stack; returns (u32) R0, 0 on a fault. */
  run(prog: EbpfJsProgram, ctxHi: number, ctxLo: number, stackSize: number): number {
    const vm = this.interp;
    if (prog.body === null) {
      const res = vm.run(prog.compiled, ctxHi, ctxLo, stackSize);
      this.fault = vm.fault;
      return res;
    }
    vm.enter(stackSize);
    const r = vm.regs;
    r[2] = ctxLo;
    r[3] = ctxHi;
    this.fault = null;
    return prog.body(r, vm.mem, vm.helpers, this, RUNTIME) >>> 0;
  }

  /** (generated code) stop with a fault; returns 0 */
  stop(f: Fault): number {
    this.fault = f;
    return 0;
  }

  /** (generated code) a memory fault, as EbpfEngineVm.memFault */
  memFault(status: number, pc: number, hi: number, lo: number, size: number, write: boolean): number {
    return this.stop(this.interp.mem.fault(status, pc, hi, lo, size, write));
  }

  /** (generated code) DIV/MOD trap, as the interpreter reports it */
  divFault(st: number, pc: number): number {
    return this.stop(divFault(st, pc));
  }

  /** (generated code) pc left the program */
  pcOut(pc: number, len: number): number {
    return this.stop(makeFault('pc-out-of-range', pc, `pc ${pc} is outside the program (0..${len - 1})`));
  }

  /** (generated code) a fault of a given kind at pc */
  faultAt(kind: 'pc-out-of-range', pc: number, detail: string): number {
    return this.stop(makeFault(kind, pc, detail));
  }

  /** (generated code) CALL of an imm with no helper */
  unknownHelper(imm: number, pc: number): number {
    return this.stop(makeFault('unknown-helper', pc, `call to imm ${imm}: no such helper`));
  }
}

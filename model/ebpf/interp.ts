// The eBPF interpreter: kernel/bpf/core.c:1680 ___bpf_prog_run and its wrappers __bpf_prog_runN
// (core.c:2176 DEFINE_BPF_PROG_RUN, interpreters[] core.c:2213), for the whole v6.6 instruction set.
//
// STABLE INTERFACE (used by the migration and helper modules)
//   - Registers: one Uint32Array `vm.regs`, register r at words [2r] (low) and [2r+1] (high); R0..R10,
//     AX = 11 (BPF_REG_AX), see ./alu64.ts. Word helpers: regLo(r) = 2r, regHi(r) = 2r+1.
//   - Memory: ./memory.ts Memory (regions with fixed 64-bit addresses; the stack is region 0).
//   - Helpers: `HelperCall = (regs, mem, pc) => Fault | null`. On BPF_JMP|BPF_CALL with imm = k the VM
//     calls helpers.get(k) with the register file; the helper reads its arguments from R1..R5 and writes
//     its u64 result into R0 (regs[0] low, regs[1] high), or returns a Fault. The interpreter itself leaves
//     R1..R5 as they were (the C passes them by value; core.c JMP_CALL), like the kernel interpreter.
//   - Programs: compileEbpf(insns) once, then vm.run(prog, ctxHi, ctxLo, stackSize, trace?) many times.
//     run() returns the u32 the __bpf_prog_runN wrappers return (R0 truncated to unsigned int);
//     vm.fault is null on a normal exit, else the Fault (and run returned 0); vm.steps counts
//     executed instructions; vm.r0() gives the full u64 R0.
//
// MODEL CHOICES (where the C is undefined or machine-dependent; x86-64 is the reference)
//   - Shift counts from the immediate (ALU64_LSH_K `DST << IMM`, ALU_LSH_K `(u32) DST << (u32) IMM`, ARSH
//     likewise) are not masked by the C; a count >= the width is undefined behaviour in C. The x86-64 shift
//     instructions mask the count (& 63 for 64-bit, & 31 for 32-bit), so the model masks. Register counts
//     are masked by the C itself (SRC & 63, SRC & 31).
//   - DIV/MOD by zero and S64_MIN / -1 (div64_s64) trap on x86 (#DE, a kernel oops): Fault 'div-by-zero' /
//     'div-overflow'. The signed 32-bit forms use abs() as the C does, including abs(INT_MIN) = INT_MIN
//     sign-extended into the u64 AX (see alu64.ts).
//   - The stack is not zeroed by the kernel (`u64 stack[size/8]`, only KMSAN-unpoisoned). The model fills
//     it with STACK_POISON bytes at the start of every run, so runs are reproducible.
//   - Registers: `u64 regs[MAX_BPF_EXT_REG] = {}` zeroed, FP = end of the stack, R1 = ctx.
//   - A register field >= 12 used by an instruction indexes past regs[] in C: Fault 'bad-register'.
//   - pc outside the program (jump out of range, running off the end, an ld_imm64 missing its second
//     slot): Fault 'pc-out-of-range'. Every run is bounded by a step budget: Fault 'step-budget'.
//   - Internal opcodes: ST_NOSPEC is a no-op; LDX_PROBE_MEM[SX] read like LDX but give 0 on a fault
//     (bpf_probe_read_kernel_common zero-fills); JMP_CALL_ARGS and JMP_TAIL_CALL need bpf-to-bpf frames
//     and prog arrays the socket-filter path never has: Fault 'unsupported'.
import {
  DIV_BY_ZERO,
  DIV_OK,
  add64,
  alu32Div,
  alu32Mod,
  alu64Div,
  alu64Mod,
  arsh64,
  cmp64s,
  cmp64u,
  getU64,
  lsh64,
  mul64,
  neg64,
  rsh64,
  setU64,
  sub64,
  swab16,
  swab32,
  swab64,
  type Regs,
} from './alu64.js';
import { type BpfInsn, BPF_REG_AX, MAX_BPF_EXT_REG, MAX_BPF_STACK, assertBpfInsn } from './insn.js';
import { type Fault, MEM_OK, Memory, STACK_END_LO, makeFault } from './memory.js';

/** A helper function the CALL instruction reaches: reads R1..R5 from regs, writes R0, or returns a Fault. */
export type HelperCall = (regs: Regs, mem: Memory, pc: number) => Fault | null;
/** Helpers by the CALL instruction's imm. */
export type HelperTable = ReadonlyMap<number, HelperCall>;

/** Word index of a register's low half in the register file. */
export const regLo = (r: number): number => 2 * r;
/** Word index of a register's high half. */
export const regHi = (r: number): number => 2 * r + 1;

/** Words in the register file: 16 registers (R0..R10, AX, a model scratch slot for IMM operands, 3 unused). */
export const REG_WORDS = 32;
const AX = 2 * BPF_REG_AX;
/** word index of the scratch slot that holds (u64)(s64) IMM for the K forms of DIV/MOD (not a kernel register) */
const KS = 2 * 12;

/** The byte the model fills the stack with before each run (the kernel leaves stale data). */
export const STACK_POISON = 0xcc;
/** Default bound on executed instructions per run. */
export const DEFAULT_STEP_BUDGET = 1 << 20;

/** Internal code marking an instruction that uses a register field >= MAX_BPF_EXT_REG. */
const BAD_REG = 0x100;

/** A program decoded once into flat typed arrays. */
export interface CompiledEbpf {
  readonly insns: readonly BpfInsn[];
  readonly len: number;
  /** opcode byte, or 0x100 when a register field the opcode uses is >= 12 */
  readonly code: Uint16Array;
  /** word index 2 * dst_reg */
  readonly dst: Uint8Array;
  /** word index 2 * src_reg */
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
}

/** One executed step of a trace: the pc and the registers before the instruction ran. */
export interface EbpfStep {
  readonly pc: number;
  readonly code: number;
  /** R0..R10 and AX, 24 words (low, high per register) */
  readonly regs: Uint32Array;
}

// Model helper (no kernel counterpart). Which register fields an opcode reads or writes (for the bad-register check): bit 0 dst, bit 1 src.
function usedRegFields(code: number): number {
  const cls = code & 0x07;
  const isX = (code & 0x08) !== 0;
  switch (cls) {
    case 0x04: // ALU
    case 0x07: // ALU64
      if ((code & 0xf0) === 0xd0 || (code & 0xf0) === 0x80) return 1; // END, NEG: dst only
      return isX ? 3 : 1;
    case 0x05: // JMP
    case 0x06: {
      // JMP32
      const op = code & 0xf0;
      if (op === 0x00 || op === 0x80 || op === 0x90 || op === 0xe0 || op === 0xf0) return 0; // JA, CALL, EXIT, internal
      return isX ? 3 : 1;
    }
    case 0x01: // LDX
    case 0x03: // STX
      return 3;
    case 0x02: // ST
      return (code & 0xe0) === 0xc0 ? 0 : 1; // NOSPEC uses none
    default: // LD (only ld_imm64 runs)
      return 1;
  }
}

// kernel/bpf/core.c:1816-1909 ALU(64)_DIV/MOD_X/K: the DIV and MOD case bodies (the K forms through a
// scratch slot holding (u64)(s64) IMM; see alu64.ts). Shared by the interpreter and the compiled
// backend (./jit.ts). DIV_OK, or the status of the trap.
export function aluDivMod(r: Regs, code: number, d: number, s: number, off: number, imm: number): number {
  let so = s;
  if ((code & 0x08) === 0) {
    r[KS] = imm;
    r[KS + 1] = imm >> 31;
    so = KS;
  }
  const isMod = (code & 0xf0) === 0x90;
  if ((code & 0x07) === 0x07) return isMod ? alu64Mod(r, d, so, off, AX) : alu64Div(r, d, so, off);
  return isMod ? alu32Mod(r, d, so, off, AX) : alu32Div(r, d, so, off, AX);
}

/** Model helper: the Fault of a DIV/MOD trap status (x86 #DE: a kernel oops). */
export const divFault = (st: number, pc: number): Fault =>
  makeFault(st === DIV_BY_ZERO ? 'div-by-zero' : 'div-overflow', pc, st === DIV_BY_ZERO ? 'divide error: division by zero (x86 #DE)' : 'divide error: S64_MIN / -1 (x86 #DE)');

/** Model helper (the kernel runs struct bpf_insn in place): decode once into flat arrays (throws on API misuse only). */
export function compileEbpf(insns: readonly BpfInsn[]): CompiledEbpf {
  const len = insns.length;
  // Five columns (imm | code | off | dst | src). On Node 20 a typed array of up to 64 bytes lives on the
  // JS heap (~25 ns to create), a larger one gets a buffer of its own (~1.3 us), and a view on a shared
  // buffer costs ~40 ns: programs over 32 instructions put their columns in one buffer.
  const buf = len > 32 ? new ArrayBuffer(10 * len) : null;
  const imm = buf ? new Int32Array(buf, 0, len) : new Int32Array(len);
  const code = buf ? new Uint16Array(buf, 4 * len, len) : new Uint16Array(len);
  const off = buf ? new Int16Array(buf, 6 * len, len) : new Int16Array(len);
  const dst = buf ? new Uint8Array(buf, 8 * len, len) : new Uint8Array(len);
  const src = buf ? new Uint8Array(buf, 9 * len, len) : new Uint8Array(len);
  insns.forEach((insn, pc) => {
    assertBpfInsn(insn, pc);
    const used = usedRegFields(insn.code);
    const bad = ((used & 1) !== 0 && insn.dst >= MAX_BPF_EXT_REG) || ((used & 2) !== 0 && insn.src >= MAX_BPF_EXT_REG);
    code[pc] = bad ? BAD_REG : insn.code;
    dst[pc] = 2 * insn.dst;
    src[pc] = 2 * insn.src;
    off[pc] = insn.off;
    imm[pc] = insn.imm;
  });
  return { insns, len, code, dst, src, off, imm };
}

/**
 * kernel/bpf/core.c:2341 bpf_prog_select_func: the stack size of the interpreter variant
 * interpreters[round_up(max(stack_depth, 1), 32) / 32 - 1], i.e. 32, 64, ..., 512.
 */
export function bpfInterpreterStackSize(stackDepth: number): number {
  const depth = Math.max(stackDepth >>> 0, 1);
  const size = Math.ceil(depth / 32) * 32;
  if (size > MAX_BPF_STACK) throw new RangeError(`stack depth ${stackDepth} exceeds MAX_BPF_STACK ${MAX_BPF_STACK}`);
  return size;
}

export interface EbpfVmOptions {
  /** bound on executed instructions per run (default DEFAULT_STEP_BUDGET) */
  readonly stepBudget?: number;
  /** the byte the stack is filled with before each run (default STACK_POISON) */
  readonly stackPoison?: number;
}

/** The interpreter with its reusable state (registers, memory, helpers). */
export class EbpfVm {
  /** the register file: R0..R10, AX (words 0..23), then a scratch slot; see alu64.ts */
  readonly regs: Regs = new Uint32Array(REG_WORDS);
  readonly mem: Memory;
  readonly helpers: HelperTable;
  stepBudget: number;
  stackPoison: number;
  /** null after a normal exit, else why the run stopped */
  fault: Fault | null = null;
  /** instructions executed by the last run */
  steps = 0;
  // effective address of the last memory instruction
  private eaLo = 0;
  private eaHi = 0;

  constructor(mem: Memory, helpers: HelperTable = new Map(), opts: EbpfVmOptions = {}) {
    this.mem = mem;
    this.helpers = helpers;
    this.stepBudget = opts.stepBudget ?? DEFAULT_STEP_BUDGET;
    this.stackPoison = opts.stackPoison ?? STACK_POISON;
  }

  /** R0 as a u64 (after a run). */
  r0(): bigint {
    return getU64(this.regs, 0);
  }

  /** A register as a u64. */
  reg(r: number): bigint {
    return getU64(this.regs, 2 * r);
  }

  /**
   * kernel/bpf/core.c:2176 __bpf_prog_run<stackSize>(ctx, insn): zeroed registers, FP = end of a
   * stackSize-byte stack, R1 = ctx, then ___bpf_prog_run; the result truncated to unsigned int.
   */
  run(prog: CompiledEbpf, ctxHi: number, ctxLo: number, stackSize: number, trace: EbpfStep[] | null = null): number {
    this.enter(stackSize);
    this.regs[2] = ctxLo;
    this.regs[3] = ctxHi;
    return this.exec(prog, trace);
  }

  /**
   * kernel/bpf/core.c:2189 __bpf_prog_run_args<stackSize>(r1..r5, insn): R1..R5 given (the C leaves the
   * other registers uninitialised; the model zeroes them). Returns the u32 of R0 like run(); see r0().
   */
  runArgs(prog: CompiledEbpf, args: readonly bigint[], stackSize: number, trace: EbpfStep[] | null = null): number {
    if (args.length > 5) throw new RangeError('at most 5 arguments (R1..R5)');
    this.enter(stackSize);
    args.forEach((v, i) => setU64(this.regs, 2 * (i + 1), v));
    return this.exec(prog, trace);
  }

  // kernel/bpf/core.c:2176 DEFINE_BPF_PROG_RUN prologue: stack, zeroed regs, FP
  /** (public for the compiled backend, model/ebpf/jit.ts, which runs on this VM's state) */
  enter(stackSize: number): void {
    const stack = this.mem.stack;
    if (!(stackSize >= 0 && stackSize <= stack.capacity && (stackSize | 0) === stackSize))
      throw new RangeError(`stack size ${stackSize} outside 0..${stack.capacity}`);
    this.regs.fill(0);
    if (stack.size !== stackSize) this.mem.setStackSize(stackSize);
    // Only the live stack (buf[bufOff..capacity)) is poisoned: the bytes below it are out of bounds
    // for this run, and a later run with a larger stack poisons them itself.
    this.mem.stack.buf.fill(this.stackPoison, this.mem.stack.bufOff);
    this.regs[20] = STACK_END_LO; // FP = R10 = &stack[ARRAY_SIZE(stack)]
    this.regs[21] = this.mem.stack.hi;
    this.fault = null;
    this.steps = 0;
  }

  private stop(f: Fault): number {
    this.fault = f;
    return 0;
  }

  private memFault(status: number, pc: number, size: number, write: boolean): number {
    return this.stop(this.mem.fault(status, pc, this.eaHi, this.eaLo, size, write));
  }

  // kernel/bpf/core.c:2070 LDST: (unsigned long) (DST + insn->off), into eaHi:eaLo
  private ea(base: number, off: number): void {
    const r = this.regs;
    let lo = r[base]! + off;
    let hi = r[base + 1]!;
    if (lo < 0) {
      lo += 0x100000000;
      hi = (hi - 1) >>> 0;
    } else if (lo > 0xffffffff) {
      lo -= 0x100000000;
      hi = (hi + 1) >>> 0;
    }
    this.eaLo = lo;
    this.eaHi = hi;
  }

  /** kernel/bpf/core.c:1680 ___bpf_prog_run(regs, insn) */
  private exec(prog: CompiledEbpf, trace: EbpfStep[] | null): number {
    const r = this.regs;
    const mem = this.mem;
    const codes = prog.code;
    const dsts = prog.dst;
    const srcs = prog.src;
    const offs = prog.off;
    const imms = prog.imm;
    const len = prog.len;
    const budget = this.stepBudget;
    let steps = 0;
    let pc = 0;
    for (;;) {
      if (pc < 0 || pc >= len) {
        this.steps = steps;
        return this.stop(makeFault('pc-out-of-range', pc, `pc ${pc} is outside the program (0..${len - 1})`));
      }
      if (steps >= budget) {
        this.steps = steps;
        return this.stop(makeFault('step-budget', pc, `step budget of ${budget} instructions exhausted`));
      }
      steps++;
      if (trace !== null) trace.push({ pc, code: codes[pc]! & 0xff, regs: r.slice(0, 24) });
      const code = codes[pc]!;
      const d = dsts[pc]!;
      const s = srcs[pc]!;
      const off = offs[pc]!;
      const imm = imms[pc]!;
      switch (code) {
        // The cases a migrated classic program runs most come first (the dispatch tests them in order).
        case 0x71: // LDX_MEM_B (core.c:2070 LDST): DST = *(u8 *)(SRC + off)
        case 0x69: // LDX_MEM_H
        case 0x61: // LDX_MEM_W
        case 0x79: {
          // LDX_MEM_DW
          const size = SIZE_BYTES[(code >> 3) & 3]!;
          this.ea(s, off);
          const st = mem.load(this.eaHi, this.eaLo, size);
          if (st !== MEM_OK) {
            this.steps = steps;
            return this.memFault(st, pc, size, false);
          }
          r[d] = mem.valLo;
          r[d + 1] = mem.valHi;
          break;
        }
        case 0xbf: // ALU64_MOV_X: switch (OFF) 0: SRC; 8: (s8) SRC; 16: (s16) SRC; 32: (s32) SRC; else unchanged
          if (off === 0) {
            r[d + 1] = r[s + 1]!;
            r[d] = r[s]!;
          } else if (off === 8 || off === 16 || off === 32) {
            const v = off === 32 ? r[s]! | 0 : (r[s]! << (32 - off)) >> (32 - off);
            r[d] = v;
            r[d + 1] = v >> 31;
          }
          break;
        case 0xac: // ALU_XOR_X
          r[d] = r[d]! ^ r[s]!;
          r[d + 1] = 0;
          break;
        case 0x05: // JMP_JA: insn += insn->off
          pc += off;
          break;
        // The forms a migrated classic program uses most, inlined (the same comparisons as jmpCond):
        case 0x15: // JMP_JEQ_K: (u64) DST == (u64)(s64) IMM
          if (r[d] === imm >>> 0 && r[d + 1] === (imm >> 31) >>> 0) pc += off;
          break;
        case 0x55: // JMP_JNE_K
          if (r[d] !== imm >>> 0 || r[d + 1] !== (imm >> 31) >>> 0) pc += off;
          break;
        case 0x45: // JMP_JSET_K
          if ((r[d]! & imm) !== 0 || (r[d + 1]! & (imm >> 31)) !== 0) pc += off;
          break;
        case 0xc5: // JMP_JSLT_K: (s64) DST < (s64) IMM
          if ((r[d + 1]! | 0) < imm >> 31 || (r[d + 1]! | 0) === imm >> 31 && r[d]! < imm >>> 0) pc += off;
          break;
        case 0x17: // ALU64_SUB_K
          sub64(r, d, imm, imm >> 31);
          break;
        case 0xdc: // ALU_END_TO_BE: cpu_to_be16/32/64 on a little-endian host = byte swap, truncated
          if (imm === 16) {
            r[d] = swab16(r[d]! & 0xffff);
            r[d + 1] = 0;
          } else if (imm === 32) {
            r[d] = swab32(r[d]!);
            r[d + 1] = 0;
          } else if (imm === 64) swab64(r, d);
          break;
        case 0xb4: // ALU_MOV_K: DST = (u32) IMM
          r[d] = imm;
          r[d + 1] = 0;
          break;
        case 0x95: // JMP_EXIT: return BPF_R0 (the wrapper returns it as unsigned int)
          this.steps = steps;
          return r[0]!;
        case 0x1c: // ALU_SUB_X
          r[d] = r[d]! - r[s]!;
          r[d + 1] = 0;
          break;
        // ---- ALU64 / ALU: ADD SUB AND OR XOR MUL (core.c ALU() macro)
        case 0x0f: // ALU64_ADD_X: DST = DST + SRC
          add64(r, d, r[s]!, r[s + 1]!);
          break;
        case 0x07: // ALU64_ADD_K: DST = DST + IMM
          add64(r, d, imm, imm >> 31);
          break;
        case 0x0c: // ALU_ADD_X: DST = (u32) DST + (u32) SRC
          r[d] = r[d]! + r[s]!;
          r[d + 1] = 0;
          break;
        case 0x04: // ALU_ADD_K
          r[d] = r[d]! + imm;
          r[d + 1] = 0;
          break;
        case 0x1f: // ALU64_SUB_X
          sub64(r, d, r[s]!, r[s + 1]!);
          break;
        case 0x14: // ALU_SUB_K
          r[d] = r[d]! - imm;
          r[d + 1] = 0;
          break;
        case 0x5f: // ALU64_AND_X
          r[d] = r[d]! & r[s]!;
          r[d + 1] = r[d + 1]! & r[s + 1]!;
          break;
        case 0x57: // ALU64_AND_K
          r[d] = r[d]! & imm;
          r[d + 1] = r[d + 1]! & (imm >> 31);
          break;
        case 0x5c: // ALU_AND_X
          r[d] = r[d]! & r[s]!;
          r[d + 1] = 0;
          break;
        case 0x54: // ALU_AND_K
          r[d] = r[d]! & imm;
          r[d + 1] = 0;
          break;
        case 0x4f: // ALU64_OR_X
          r[d] = r[d]! | r[s]!;
          r[d + 1] = r[d + 1]! | r[s + 1]!;
          break;
        case 0x47: // ALU64_OR_K
          r[d] = r[d]! | imm;
          r[d + 1] = r[d + 1]! | (imm >> 31);
          break;
        case 0x4c: // ALU_OR_X
          r[d] = r[d]! | r[s]!;
          r[d + 1] = 0;
          break;
        case 0x44: // ALU_OR_K
          r[d] = r[d]! | imm;
          r[d + 1] = 0;
          break;
        case 0xaf: // ALU64_XOR_X
          r[d] = r[d]! ^ r[s]!;
          r[d + 1] = r[d + 1]! ^ r[s + 1]!;
          break;
        case 0xa7: // ALU64_XOR_K
          r[d] = r[d]! ^ imm;
          r[d + 1] = r[d + 1]! ^ (imm >> 31);
          break;
        case 0xa4: // ALU_XOR_K
          r[d] = r[d]! ^ imm;
          r[d + 1] = 0;
          break;
        case 0x2f: // ALU64_MUL_X
          mul64(r, d, r[s]!, r[s + 1]!);
          break;
        case 0x27: // ALU64_MUL_K
          mul64(r, d, imm, imm >> 31);
          break;
        case 0x2c: // ALU_MUL_X
          r[d] = Math.imul(r[d]!, r[s]!);
          r[d + 1] = 0;
          break;
        case 0x24: // ALU_MUL_K
          r[d] = Math.imul(r[d]!, imm);
          r[d + 1] = 0;
          break;
        // ---- shifts (core.c SHT() macro); K counts masked as x86 does (see header)
        case 0x6f: // ALU64_LSH_X: DST = DST << (SRC & 63)
          lsh64(r, d, r[s]! & 63);
          break;
        case 0x67: // ALU64_LSH_K: DST = DST << IMM
          lsh64(r, d, imm & 63);
          break;
        case 0x6c: // ALU_LSH_X: DST = (u32) DST << ((u32) SRC & 31)
          r[d] = r[d]! << (r[s]! & 31);
          r[d + 1] = 0;
          break;
        case 0x64: // ALU_LSH_K: DST = (u32) DST << (u32) IMM
          r[d] = r[d]! << (imm & 31);
          r[d + 1] = 0;
          break;
        case 0x7f: // ALU64_RSH_X
          rsh64(r, d, r[s]! & 63);
          break;
        case 0x77: // ALU64_RSH_K
          rsh64(r, d, imm & 63);
          break;
        case 0x7c: // ALU_RSH_X
          r[d] = r[d]! >>> (r[s]! & 31);
          r[d + 1] = 0;
          break;
        case 0x74: // ALU_RSH_K
          r[d] = r[d]! >>> (imm & 31);
          r[d + 1] = 0;
          break;
        case 0xcf: // ALU64_ARSH_X: (*(s64 *) &DST) >>= (SRC & 63)
          arsh64(r, d, r[s]! & 63);
          break;
        case 0xc7: // ALU64_ARSH_K: (*(s64 *) &DST) >>= IMM
          arsh64(r, d, imm & 63);
          break;
        case 0xcc: // ALU_ARSH_X: DST = (u64) (u32) (((s32) DST) >> (SRC & 31))
          r[d] = (r[d]! | 0) >> (r[s]! & 31);
          r[d + 1] = 0;
          break;
        case 0xc4: // ALU_ARSH_K: DST = (u64) (u32) (((s32) DST) >> IMM)
          r[d] = (r[d]! | 0) >> (imm & 31);
          r[d + 1] = 0;
          break;
        // ---- NEG, MOV, MOVSX
        case 0x84: // ALU_NEG: DST = (u32) -DST
          r[d] = -r[d]!;
          r[d + 1] = 0;
          break;
        case 0x87: // ALU64_NEG: DST = -DST
          neg64(r, d);
          break;
        case 0xbc: // ALU_MOV_X: switch (OFF) 0: (u32) SRC; 8: (u32)(s8) SRC; 16: (u32)(s16) SRC; else unchanged
          if (off === 0) r[d] = r[s]!;
          else if (off === 8) r[d] = (r[s]! << 24) >> 24;
          else if (off === 16) r[d] = (r[s]! << 16) >> 16;
          else break;
          r[d + 1] = 0;
          break;
        case 0xb7: // ALU64_MOV_K: DST = IMM (sign-extended)
          r[d] = imm;
          r[d + 1] = imm >> 31;
          break;
        case 0x18: // LD_IMM_DW: DST = (u64)(u32) insn[0].imm | ((u64)(u32) insn[1].imm) << 32; insn++
          if (pc + 1 >= len) {
            this.steps = steps;
            return this.stop(makeFault('pc-out-of-range', pc + 1, `ld_imm64 at ${pc} has no second slot`));
          }
          r[d] = imm;
          r[d + 1] = imms[pc + 1]!;
          pc++;
          break;
        // ---- DIV / MOD (the K forms use a scratch slot holding (u64)(s64) IMM; see alu64.ts)
        case 0x3f: // ALU64_DIV_X
        case 0x37: // ALU64_DIV_K
        case 0x9f: // ALU64_MOD_X
        case 0x97: // ALU64_MOD_K
        case 0x3c: // ALU_DIV_X
        case 0x34: // ALU_DIV_K
        case 0x9c: // ALU_MOD_X
        case 0x94: {
          // ALU_MOD_K
          const st = aluDivMod(r, code, d, s, off, imm);
          if (st !== DIV_OK) {
            this.steps = steps;
            return this.stop(divFault(st, pc));
          }
          break;
        }
        // ---- END / BSWAP
        case 0xd4: // ALU_END_TO_LE: cpu_to_le16/32/64 on a little-endian host = truncation
          if (imm === 16) {
            r[d] = r[d]! & 0xffff;
            r[d + 1] = 0;
          } else if (imm === 32) r[d + 1] = 0;
          break;
        case 0xd7: // ALU64_END_TO_LE: __swab16/32/64, truncated
          if (imm === 16) {
            r[d] = swab16(r[d]! & 0xffff);
            r[d + 1] = 0;
          } else if (imm === 32) {
            r[d] = swab32(r[d]!);
            r[d + 1] = 0;
          } else if (imm === 64) swab64(r, d);
          break;
        // ---- CALL, EXIT, JA
        case 0x85: {
          // JMP_CALL: BPF_R0 = (__bpf_call_base + insn->imm)(BPF_R1, ..., BPF_R5)
          const h = this.helpers.get(imm);
          if (h === undefined) {
            this.steps = steps;
            return this.stop(makeFault('unknown-helper', pc, `call to imm ${imm}: no such helper`));
          }
          const f = h(r, mem, pc);
          if (f !== null) {
            this.steps = steps;
            return this.stop(f);
          }
          break;
        }
        case 0x06: // JMP32_JA: insn += insn->imm
          pc += imm;
          break;
        // ---- conditional jumps (core.c COND_JMP): JMP on 64 bits, JMP32 on the low 32 bits
        case 0x1d: case 0x5d: case 0x2d: case 0x25: case 0xad: case 0xa5: // prettier-ignore
        case 0x3d: case 0x35: case 0xbd: case 0xb5: case 0x4d: case 0x45: case 0x6d: case 0x65: // prettier-ignore
        case 0xcd: case 0xc5: case 0x7d: case 0x75: case 0xdd: case 0xd5: { // prettier-ignore
          const x = (code & 0x08) !== 0;
          if (jmpCond(code & 0xf0, r[d]!, r[d + 1]!, x ? r[s]! : imm >>> 0, x ? r[s + 1]! : imm >> 31)) pc += off;
          break;
        }
        case 0x1e: case 0x16: case 0x5e: case 0x56: case 0x2e: case 0x26: case 0xae: case 0xa6: // prettier-ignore
        case 0x3e: case 0x36: case 0xbe: case 0xb6: case 0x4e: case 0x46: case 0x6e: case 0x66: // prettier-ignore
        case 0xce: case 0xc6: case 0x7e: case 0x76: case 0xde: case 0xd6: { // prettier-ignore
          const x = (code & 0x08) !== 0;
          if (jmp32Cond(code & 0xf0, r[d]!, x ? r[s]! : imm >>> 0)) pc += off;
          break;
        }
        // ---- LDX / ST / STX (core.c LDST, LDSX)
        case 0x91: // LDX_MEMSX_B (core.c:2092 LDSX): DST = *(s8 *)(SRC + off)
        case 0x89: // LDX_MEMSX_H
        case 0x81: {
          // LDX_MEMSX_W
          const size = SIZE_BYTES[(code >> 3) & 3]!;
          this.ea(s, off);
          const st = mem.load(this.eaHi, this.eaLo, size);
          if (st !== MEM_OK) {
            this.steps = steps;
            return this.memFault(st, pc, size, false);
          }
          const sh = 32 - size * 8;
          const v = (mem.valLo << sh) >> sh;
          r[d] = v;
          r[d + 1] = v >> 31;
          break;
        }
        case 0x31: // LDX_PROBE_MEM_B: bpf_probe_read_kernel_common(&DST, size, SRC + off); DST = *(SIZE *)&DST
        case 0x29: // LDX_PROBE_MEM_H
        case 0x21: // LDX_PROBE_MEM_W
        case 0x39: // LDX_PROBE_MEM_DW
        case 0x51: // LDX_PROBE_MEMSX_B
        case 0x49: // LDX_PROBE_MEMSX_H
        case 0x41: {
          // LDX_PROBE_MEMSX_W
          const size = SIZE_BYTES[(code >> 3) & 3]!;
          this.ea(s, off);
          let lo = 0;
          let hi = 0;
          if (mem.load(this.eaHi, this.eaLo, size) === MEM_OK) {
            lo = mem.valLo;
            hi = mem.valHi;
          }
          if ((code & 0xe0) === 0x40 && size < 8) {
            const sh = 32 - size * 8;
            lo = (lo << sh) >> sh;
            hi = lo >> 31;
          }
          r[d] = lo;
          r[d + 1] = hi;
          break;
        }
        case 0x73: // STX_MEM_B: *(SIZE *)(DST + off) = SRC
        case 0x6b: // STX_MEM_H
        case 0x63: // STX_MEM_W
        case 0x7b: {
          // STX_MEM_DW
          const size = SIZE_BYTES[(code >> 3) & 3]!;
          this.ea(d, off);
          const st = mem.store(this.eaHi, this.eaLo, size, r[s]!, r[s + 1]!);
          if (st !== MEM_OK) {
            this.steps = steps;
            return this.memFault(st, pc, size, true);
          }
          break;
        }
        case 0x72: // ST_MEM_B: *(SIZE *)(DST + off) = IMM
        case 0x6a: // ST_MEM_H
        case 0x62: // ST_MEM_W
        case 0x7a: {
          // ST_MEM_DW (IMM sign-extended to 64)
          const size = SIZE_BYTES[(code >> 3) & 3]!;
          this.ea(d, off);
          const st = mem.store(this.eaHi, this.eaLo, size, imm, imm >> 31);
          if (st !== MEM_OK) {
            this.steps = steps;
            return this.memFault(st, pc, size, true);
          }
          break;
        }
        case 0xc2: // ST_NOSPEC: barrier_nospec()
          break;
        case 0xc3: // STX_ATOMIC_W
        case 0xdb: {
          // STX_ATOMIC_DW
          const f = this.atomic(code === 0xdb ? 8 : 4, d, s, off, imm, pc);
          if (f !== null) {
            this.steps = steps;
            return this.stop(f);
          }
          break;
        }
        case 0xe5: // JMP_CALL_ARGS
        case 0xf5: // JMP_TAIL_CALL
          this.steps = steps;
          return this.stop(makeFault('unsupported', pc, `internal opcode ${hex2(code)} needs bpf-to-bpf frames or a prog array`));
        case BAD_REG:
          this.steps = steps;
          return this.stop(makeFault('bad-register', pc, `register field >= ${MAX_BPF_EXT_REG} in opcode ${hex2(prog.insns[pc]!.code)}`));
        default:
          // default_label: pr_warn("BPF interpreter: unknown opcode %02x (imm: 0x%x)\n"); BUG_ON(1);
          this.steps = steps;
          return this.stop(makeFault('bug', pc, `BPF interpreter: unknown opcode ${hex2(code)} (imm: 0x${(imm >>> 0).toString(16)})`));
      }
      pc++;
    }
  }

  /** kernel/bpf/core.c:2127 STX_ATOMIC_DW / STX_ATOMIC_W: switch (IMM) (ATOMIC_ALU_OP core.c:2107) */
  private atomic(size: number, d: number, s: number, off: number, imm: number, pc: number): Fault | null {
    const r = this.regs;
    const mem = this.mem;
    const op = imm & ~0x01;
    const fetch = (imm & 0x01) !== 0;
    // BPF_ADD/AND/OR/XOR, each with or without BPF_FETCH, BPF_XCHG, BPF_CMPXCHG; anything else: default_label
    const known = imm === 0xe1 || imm === 0xf1 || op === 0x00 || op === 0x50 || op === 0x40 || op === 0xa0;
    if (!known) return makeFault('bug', pc, `BPF interpreter: unknown opcode ${hex2(size === 8 ? 0xdb : 0xc3)} (imm: 0x${(imm >>> 0).toString(16)})`);
    this.ea(d, off);
    const st = mem.check(this.eaHi, this.eaLo, size, true);
    if (st !== MEM_OK) return mem.fault(st, pc, this.eaHi, this.eaLo, size, true);
    mem.readAt(size);
    const oldLo = mem.valLo;
    const oldHi = size === 8 ? mem.valHi : 0;
    const sLo = r[s]!;
    const sHi = size === 8 ? r[s + 1]! : 0;
    if (imm === 0xf1) {
      // BPF_CMPXCHG: R0 = atomic_cmpxchg(ptr, R0, SRC) ((u32) R0 and (u32) SRC for W)
      const eq = oldLo === r[0] && (size === 4 || oldHi === r[1]);
      if (eq) mem.writeAt(size, sLo, sHi);
      r[0] = oldLo;
      r[1] = oldHi;
      return null;
    }
    if (imm === 0xe1) {
      // BPF_XCHG: SRC = atomic_xchg(ptr, SRC)
      mem.writeAt(size, sLo, sHi);
      r[s] = oldLo;
      r[s + 1] = oldHi;
      return null;
    }
    // ATOMIC_ALU_OP: add/and/or/xor, with BPF_FETCH: SRC = old value ((u32) for W)
    let nLo: number;
    let nHi: number;
    switch (op) {
      case 0x00: {
        const lo = oldLo + sLo;
        nLo = lo >>> 0;
        nHi = (oldHi + sHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
        break;
      }
      case 0x50:
        nLo = oldLo & sLo;
        nHi = oldHi & sHi;
        break;
      case 0x40:
        nLo = oldLo | sLo;
        nHi = oldHi | sHi;
        break;
      default:
        nLo = oldLo ^ sLo;
        nHi = oldHi ^ sHi;
    }
    mem.writeAt(size, nLo, nHi);
    if (fetch) {
      r[s] = oldLo;
      r[s + 1] = oldHi;
    }
    return null;
  }
}

/** bytes of BPF_W (0), BPF_H (1), BPF_B (2), BPF_DW (3) indexed by (code >> 3) & 3 */
const SIZE_BYTES = [4, 2, 1, 8] as const;

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');

/** kernel/bpf/core.c:2020 COND_JMP for BPF_JMP: (u64)/(s64) DST op SRC-or-IMM */
function jmpCond(op: number, aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  switch (op) {
    case 0x10: // JEQ
      return aLo === bLo >>> 0 && aHi === bHi >>> 0;
    case 0x50: // JNE
      return aLo !== bLo >>> 0 || aHi !== bHi >>> 0;
    case 0x20: // JGT
      return cmp64u(aLo, aHi, bLo, bHi) > 0;
    case 0xa0: // JLT
      return cmp64u(aLo, aHi, bLo, bHi) < 0;
    case 0x30: // JGE
      return cmp64u(aLo, aHi, bLo, bHi) >= 0;
    case 0xb0: // JLE
      return cmp64u(aLo, aHi, bLo, bHi) <= 0;
    case 0x40: // JSET
      return (aLo & bLo) !== 0 || (aHi & bHi) !== 0;
    case 0x60: // JSGT
      return cmp64s(aLo, aHi, bLo, bHi) > 0;
    case 0xc0: // JSLT
      return cmp64s(aLo, aHi, bLo, bHi) < 0;
    case 0x70: // JSGE
      return cmp64s(aLo, aHi, bLo, bHi) >= 0;
    default: // 0xd0 JSLE
      return cmp64s(aLo, aHi, bLo, bHi) <= 0;
  }
}

/** kernel/bpf/core.c:2020 COND_JMP for BPF_JMP32: (u32)/(s32) DST op SRC-or-IMM */
function jmp32Cond(op: number, a: number, b: number): boolean {
  const au = a >>> 0;
  const bu = b >>> 0;
  switch (op) {
    case 0x10:
      return au === bu;
    case 0x50:
      return au !== bu;
    case 0x20:
      return au > bu;
    case 0xa0:
      return au < bu;
    case 0x30:
      return au >= bu;
    case 0xb0:
      return au <= bu;
    case 0x40:
      return (au & bu) !== 0;
    case 0x60:
      return (a | 0) > (b | 0);
    case 0xc0:
      return (a | 0) < (b | 0);
    case 0x70:
      return (a | 0) >= (b | 0);
    default:
      return (a | 0) <= (b | 0);
  }
}

/** Result of a whole run, for callers that do not keep a VM. */
export interface EbpfRunResult {
  /** the u32 the kernel wrapper returns (0 when faulted) */
  readonly result: number;
  /** full R0 */
  readonly r0: bigint;
  readonly fault: Fault | null;
  readonly steps: number;
  readonly trace: EbpfStep[] | null;
}

/**
 * Run a program the way the socket-filter path runs it: interpreters[] variant for `stackDepth`
 * (bpf_prog_select_func), R1 = ctx. Convenience around EbpfVm for one-off runs and tests.
 */
export function bpfProgRun(
  vm: EbpfVm,
  prog: CompiledEbpf,
  ctx: { readonly hi: number; readonly lo: number },
  stackDepth: number,
  withTrace = false,
): EbpfRunResult {
  const trace: EbpfStep[] | null = withTrace ? [] : null;
  const result = vm.run(prog, ctx.hi, ctx.lo, bpfInterpreterStackSize(stackDepth), trace);
  return { result, r0: vm.r0(), fault: vm.fault, steps: vm.steps, trace };
}

// The eBPF interpreter: kernel/bpf/core.c:1680 ___bpf_prog_run and its wrappers __bpf_prog_runN
// (core.c:2176 DEFINE_BPF_PROG_RUN, interpreters[] kernel/bpf/core.c:2223), for the whole v6.6
// instruction set.
//
// STABLE INTERFACE (used by the migration and helper modules)
//   - Registers: one Uint32Array `vm.regs`, register r at words [2r] (low) and [2r+1] (high); R0..R10,
//     AX = 11 (BPF_REG_AX), see ./alu64.ts. Word helpers: regLo(r) = 2r, regHi(r) = 2r+1.
//   - Memory: ./memory.ts Memory (regions with fixed 64-bit addresses; the stack is region 0).
//   - Helpers: `HelperCall = (regs, mem, pc) => Fault | null`. On BPF_JMP|BPF_CALL with imm = k the VM
//     calls helpers.get(k) with the register file; the helper reads its arguments from R1..R5 and writes
//     its u64 result into R0 (regs[0] low, regs[1] high), or returns a Fault. The interpreter itself leaves
//     R1..R5 as they were (the C passes them by value; core.c JMP_CALL), like the kernel interpreter.
//   - Programs: compileEbpf(insns) once (it checks the instructions' fields), then
//     vm.run(prog, ctxHi, ctxLo, stackSize, trace?) many times; the interpreter reads the struct
//     bpf_insn records in place, as ___bpf_prog_run does.
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
import {
  type BpfInsn,
  BPF_ALU64,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CALL_ARGS,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NOSPEC,
  BPF_PROBE_MEM,
  BPF_PROBE_MEMSX,
  BPF_REG_AX,
  BPF_TAIL_CALL,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_XCHG,
  MAX_BPF_EXT_REG,
  MAX_BPF_STACK,
  assertBpfInsn,
} from './insn.js';
import {
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MOD,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_W,
  BPF_X,
  BPF_XOR,
} from '../uapi.js';
import { type Fault, MEM_OK, Memory, STACK_END_LO, makeFault } from './memory.js';

/** A helper function the CALL instruction reaches: reads R1..R5 from regs, writes R0, or returns a Fault. */
export type HelperCall = (regs: Regs, mem: Memory, pc: number) => Fault | null;
/** Helpers by the CALL instruction's imm. */
export type HelperTable = ReadonlyMap<number, HelperCall>;

/** Word index of a register's low half in the register file. */
export const regLo = (r: number): number => 2 * r;
/** Word index of a register's high half. */
export const regHi = (r: number): number => 2 * r + 1;

/** Words in the register file: 16 registers (R0..R10, AX, a model slot for IMM operands, 3 unused). */
export const REG_WORDS = 32;
const AX = 2 * BPF_REG_AX;
/**
 * Word index of the slot that holds (u64)(s64) IMM for the K forms of DIV/MOD, so that they run the
 * same body as the X forms (./alu64.ts reads both operands from the register file). Not a kernel
 * register; no instruction can name it.
 */
const IMM_SLOT = 2 * 12;

/** The byte the model fills the stack with before each run (the kernel leaves stale data). */
export const STACK_POISON = 0xcc;
/** Default bound on executed instructions per run. */
export const DEFAULT_STEP_BUDGET = 1 << 20;

/** A program ready to run: the instructions, checked once (see compileEbpf). */
export interface CompiledEbpf {
  readonly insns: readonly BpfInsn[];
  readonly len: number;
  /** per instruction: whether a register field it uses is >= MAX_BPF_EXT_REG (the C indexes past regs[]) */
  readonly badRegister: Uint8Array;
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
  const isX = (code & BPF_X) !== 0;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      if ((code & 0xf0) === BPF_END || (code & 0xf0) === BPF_NEG) return 1; // dst only
      return isX ? 3 : 1;
    case BPF_JMP:
    case BPF_JMP32: {
      const op = code & 0xf0;
      if (op === BPF_JA || op === BPF_CALL || op === BPF_EXIT || op === BPF_CALL_ARGS || op === BPF_TAIL_CALL) return 0;
      return isX ? 3 : 1;
    }
    case BPF_LDX:
    case BPF_STX:
      return 3;
    case BPF_ST:
      return (code & 0xe0) === BPF_NOSPEC ? 0 : 1;
    default: // BPF_LD (only ld_imm64 runs)
      return 1;
  }
}

// kernel/bpf/core.c:1816-1909 ALU(64)_DIV/MOD_X/K: the DIV and MOD case bodies (the K forms through
// IMM_SLOT, holding (u64)(s64) IMM). DIV_OK, or the status of the trap.
export function aluDivMod(r: Regs, code: number, d: number, s: number, off: number, imm: number): number {
  let so = s;
  if ((code & BPF_X) === 0) {
    r[IMM_SLOT] = imm;
    r[IMM_SLOT + 1] = imm >> 31;
    so = IMM_SLOT;
  }
  const isMod = (code & 0xf0) === BPF_MOD;
  if ((code & 0x07) === BPF_ALU64) return isMod ? alu64Mod(r, d, so, off, AX) : alu64Div(r, d, so, off);
  return isMod ? alu32Mod(r, d, so, off, AX) : alu32Div(r, d, so, off, AX);
}

/** Model helper: the Fault of a DIV/MOD trap status (x86 #DE: a kernel oops). */
export const divFault = (st: number, pc: number): Fault =>
  makeFault(st === DIV_BY_ZERO ? 'div-by-zero' : 'div-overflow', pc, st === DIV_BY_ZERO ? 'divide error: division by zero (x86 #DE)' : 'divide error: S64_MIN / -1 (x86 #DE)');

/**
 * Model helper (the kernel runs struct bpf_insn in place): check every instruction's fields once
 * (a field outside its C width is API misuse and throws) and note which use a register field >= 12.
 */
export function compileEbpf(insns: readonly BpfInsn[]): CompiledEbpf {
  const badRegister = new Uint8Array(insns.length);
  insns.forEach((insn, pc) => {
    assertBpfInsn(insn, pc);
    const used = usedRegFields(insn.code);
    if (((used & 1) !== 0 && insn.dst >= MAX_BPF_EXT_REG) || ((used & 2) !== 0 && insn.src >= MAX_BPF_EXT_REG)) badRegister[pc] = 1;
  });
  return { insns, len: insns.length, badRegister };
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

/** bytes of BPF_SIZE(code): BPF_W, BPF_H, BPF_B, BPF_DW */
const sizeBytes = (code: number): number => {
  switch (code & 0x18) {
    case BPF_W:
      return 4;
    case BPF_H:
      return 2;
    case BPF_B:
      return 1;
    default: // BPF_DW
      return 8;
  }
};

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');

/** The interpreter with its reusable state (registers, memory, helpers). */
export class EbpfVm {
  /** the register file: R0..R10, AX (words 0..23), then IMM_SLOT; see alu64.ts */
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
   * kernel/bpf/core.c:2175 __bpf_prog_run<stackSize>(ctx, insn) (the name, PROG_NAME; the function is
   * DEFINE_BPF_PROG_RUN, :2176-2186): zeroed registers, FP = end of a stackSize-byte stack, R1 = ctx,
   * then ___bpf_prog_run; the result truncated to unsigned int.
   */
  run(prog: CompiledEbpf, ctxHi: number, ctxLo: number, stackSize: number, trace: EbpfStep[] | null = null): number {
    this.enter(stackSize);
    this.regs[2] = ctxLo;
    this.regs[3] = ctxHi;
    return this.bpfProgRunInsns(prog, trace);
  }

  /**
   * kernel/bpf/core.c:2188 __bpf_prog_run_args<stackSize>(r1..r5, insn) (PROG_NAME_ARGS; the function is
   * DEFINE_BPF_PROG_RUN_ARGS, :2189-2200): R1..R5 given (the C leaves the
   * other registers uninitialised; the model zeroes them). Returns the u32 of R0 like run(); see r0().
   */
  runArgs(prog: CompiledEbpf, args: readonly bigint[], stackSize: number, trace: EbpfStep[] | null = null): number {
    if (args.length > 5) throw new RangeError('at most 5 arguments (R1..R5)');
    this.enter(stackSize);
    args.forEach((v, i) => setU64(this.regs, 2 * (i + 1), v));
    return this.bpfProgRunInsns(prog, trace);
  }

  // kernel/bpf/core.c:2176 DEFINE_BPF_PROG_RUN prologue: stack, zeroed regs, FP
  /** The state every run starts from: zeroed registers, the stack of `stackSize` bytes, FP. */
  enter(stackSize: number): void {
    const stack = this.mem.stack;
    if (!(stackSize >= 0 && stackSize <= stack.capacity && (stackSize | 0) === stackSize))
      throw new RangeError(`stack size ${stackSize} outside 0..${stack.capacity}`);
    this.regs.fill(0); // u64 regs[MAX_BPF_EXT_REG] = {}
    this.mem.setStackSize(stackSize); // u64 stack[stack_size / sizeof(u64)]
    // The kernel leaves the stack as it finds it; the model poisons the live stack for reproducible runs.
    this.mem.stack.buf.fill(this.stackPoison, this.mem.stack.bufOff);
    this.regs[20] = STACK_END_LO; // FP = (u64) (unsigned long) &stack[ARRAY_SIZE(stack)]
    this.regs[21] = this.mem.stack.hi;
    this.fault = null;
    this.steps = 0;
  }

  private stop(f: Fault, steps: number): number {
    this.fault = f;
    this.steps = steps;
    return 0;
  }

  // kernel/bpf/core.c LDST: (unsigned long) (DST + insn->off), into eaHi:eaLo
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

  /**
   * kernel/bpf/core.c:1680 ___bpf_prog_run(regs, insn): one case per jumptable label, in the order
   * and under the names of core.c (the ALU() and SHT() macros expand to the 64-bit X, 32-bit X,
   * 64-bit K and 32-bit K labels; COND_JMP to JMP X, JMP32 X, JMP K, JMP32 K). `CONT` is `break` out
   * of the switch, then `pc++`; a jump adds insn->off first.
   */
  private bpfProgRunInsns(prog: CompiledEbpf, trace: EbpfStep[] | null): number {
    const r = this.regs;
    const mem = this.mem;
    const insns = prog.insns;
    const len = prog.len;
    const budget = this.stepBudget;
    let steps = 0;
    let pc = 0;
    for (;;) {
      if (pc < 0 || pc >= len) return this.stop(makeFault('pc-out-of-range', pc, `pc ${pc} is outside the program (0..${len - 1})`), steps);
      if (steps >= budget) return this.stop(makeFault('step-budget', pc, `step budget of ${budget} instructions exhausted`), steps);
      steps++;
      const insn = insns[pc]!;
      const code = insn.code;
      if (trace !== null) trace.push({ pc, code, regs: r.slice(0, 24) });
      if (prog.badRegister[pc] === 1) return this.stop(makeFault('bad-register', pc, `register field >= ${MAX_BPF_EXT_REG} in opcode ${hex2(code)}`), steps);
      const d = 2 * insn.dst; // DST
      const s = 2 * insn.src; // SRC
      const off = insn.off; // OFF
      const imm = insn.imm; // IMM
      switch (code) {
        // ALU(ADD, +)
        case BPF_ALU64 | BPF_ADD | BPF_X: // ALU64_ADD_X: DST = DST + SRC
          add64(r, d, r[s]!, r[s + 1]!);
          break;
        case BPF_ALU | BPF_ADD | BPF_X: // ALU_ADD_X: DST = (u32) DST + (u32) SRC
          r[d] = r[d]! + r[s]!;
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_ADD | BPF_K: // ALU64_ADD_K: DST = DST + IMM
          add64(r, d, imm, imm >> 31);
          break;
        case BPF_ALU | BPF_ADD | BPF_K: // ALU_ADD_K: DST = (u32) DST + (u32) IMM
          r[d] = r[d]! + imm;
          r[d + 1] = 0;
          break;
        // ALU(SUB, -)
        case BPF_ALU64 | BPF_SUB | BPF_X: // ALU64_SUB_X
          sub64(r, d, r[s]!, r[s + 1]!);
          break;
        case BPF_ALU | BPF_SUB | BPF_X: // ALU_SUB_X
          r[d] = r[d]! - r[s]!;
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_SUB | BPF_K: // ALU64_SUB_K
          sub64(r, d, imm, imm >> 31);
          break;
        case BPF_ALU | BPF_SUB | BPF_K: // ALU_SUB_K
          r[d] = r[d]! - imm;
          r[d + 1] = 0;
          break;
        // ALU(AND, &)
        case BPF_ALU64 | BPF_AND | BPF_X: // ALU64_AND_X
          r[d] = r[d]! & r[s]!;
          r[d + 1] = r[d + 1]! & r[s + 1]!;
          break;
        case BPF_ALU | BPF_AND | BPF_X: // ALU_AND_X
          r[d] = r[d]! & r[s]!;
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_AND | BPF_K: // ALU64_AND_K
          r[d] = r[d]! & imm;
          r[d + 1] = r[d + 1]! & (imm >> 31);
          break;
        case BPF_ALU | BPF_AND | BPF_K: // ALU_AND_K
          r[d] = r[d]! & imm;
          r[d + 1] = 0;
          break;
        // ALU(OR, |)
        case BPF_ALU64 | BPF_OR | BPF_X: // ALU64_OR_X
          r[d] = r[d]! | r[s]!;
          r[d + 1] = r[d + 1]! | r[s + 1]!;
          break;
        case BPF_ALU | BPF_OR | BPF_X: // ALU_OR_X
          r[d] = r[d]! | r[s]!;
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_OR | BPF_K: // ALU64_OR_K
          r[d] = r[d]! | imm;
          r[d + 1] = r[d + 1]! | (imm >> 31);
          break;
        case BPF_ALU | BPF_OR | BPF_K: // ALU_OR_K
          r[d] = r[d]! | imm;
          r[d + 1] = 0;
          break;
        // ALU(XOR, ^)
        case BPF_ALU64 | BPF_XOR | BPF_X: // ALU64_XOR_X
          r[d] = r[d]! ^ r[s]!;
          r[d + 1] = r[d + 1]! ^ r[s + 1]!;
          break;
        case BPF_ALU | BPF_XOR | BPF_X: // ALU_XOR_X
          r[d] = r[d]! ^ r[s]!;
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_XOR | BPF_K: // ALU64_XOR_K
          r[d] = r[d]! ^ imm;
          r[d + 1] = r[d + 1]! ^ (imm >> 31);
          break;
        case BPF_ALU | BPF_XOR | BPF_K: // ALU_XOR_K
          r[d] = r[d]! ^ imm;
          r[d + 1] = 0;
          break;
        // ALU(MUL, *)
        case BPF_ALU64 | BPF_MUL | BPF_X: // ALU64_MUL_X
          mul64(r, d, r[s]!, r[s + 1]!);
          break;
        case BPF_ALU | BPF_MUL | BPF_X: // ALU_MUL_X
          r[d] = Math.imul(r[d]!, r[s]!);
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_MUL | BPF_K: // ALU64_MUL_K
          mul64(r, d, imm, imm >> 31);
          break;
        case BPF_ALU | BPF_MUL | BPF_K: // ALU_MUL_K
          r[d] = Math.imul(r[d]!, imm);
          r[d + 1] = 0;
          break;
        // SHT(LSH, <<): register counts masked by the C, immediate counts as x86 masks them (header)
        case BPF_ALU64 | BPF_LSH | BPF_X: // ALU64_LSH_X: DST = DST << (SRC & 63)
          lsh64(r, d, r[s]! & 63);
          break;
        case BPF_ALU | BPF_LSH | BPF_X: // ALU_LSH_X: DST = (u32) DST << ((u32) SRC & 31)
          r[d] = r[d]! << (r[s]! & 31);
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_LSH | BPF_K: // ALU64_LSH_K: DST = DST << IMM
          lsh64(r, d, imm & 63);
          break;
        case BPF_ALU | BPF_LSH | BPF_K: // ALU_LSH_K: DST = (u32) DST << (u32) IMM
          r[d] = r[d]! << (imm & 31);
          r[d + 1] = 0;
          break;
        // SHT(RSH, >>)
        case BPF_ALU64 | BPF_RSH | BPF_X: // ALU64_RSH_X
          rsh64(r, d, r[s]! & 63);
          break;
        case BPF_ALU | BPF_RSH | BPF_X: // ALU_RSH_X
          r[d] = r[d]! >>> (r[s]! & 31);
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_RSH | BPF_K: // ALU64_RSH_K
          rsh64(r, d, imm & 63);
          break;
        case BPF_ALU | BPF_RSH | BPF_K: // ALU_RSH_K
          r[d] = r[d]! >>> (imm & 31);
          r[d + 1] = 0;
          break;
        case BPF_ALU | BPF_NEG: // ALU_NEG: DST = (u32) -DST
          r[d] = -r[d]!;
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_NEG: // ALU64_NEG: DST = -DST
          neg64(r, d);
          break;
        case BPF_ALU | BPF_MOV | BPF_X: // ALU_MOV_X: switch (OFF) 0: (u32) SRC; 8: (u32)(s8) SRC; 16: (u32)(s16) SRC
          if (off === 0) r[d] = r[s]!;
          else if (off === 8) r[d] = (r[s]! << 24) >> 24;
          else if (off === 16) r[d] = (r[s]! << 16) >> 16;
          else break; // no case matches: DST unchanged
          r[d + 1] = 0;
          break;
        case BPF_ALU | BPF_MOV | BPF_K: // ALU_MOV_K: DST = (u32) IMM
          r[d] = imm;
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_MOV | BPF_X: // ALU64_MOV_X: switch (OFF) 0: SRC; 8: (s8) SRC; 16: (s16) SRC; 32: (s32) SRC
          if (off === 0) {
            r[d + 1] = r[s + 1]!;
            r[d] = r[s]!;
          } else if (off === 8 || off === 16 || off === 32) {
            const v = off === 32 ? r[s]! | 0 : (r[s]! << (32 - off)) >> (32 - off);
            r[d] = v;
            r[d + 1] = v >> 31;
          }
          break;
        case BPF_ALU64 | BPF_MOV | BPF_K: // ALU64_MOV_K: DST = IMM
          r[d] = imm;
          r[d + 1] = imm >> 31;
          break;
        case BPF_LD | BPF_IMM | BPF_DW: // LD_IMM_DW: DST = (u64) (u32) insn[0].imm | ((u64) (u32) insn[1].imm) << 32; insn++
          if (pc + 1 >= len) return this.stop(makeFault('pc-out-of-range', pc + 1, `ld_imm64 at ${pc} has no second slot`), steps);
          r[d] = imm;
          r[d + 1] = insns[pc + 1]!.imm;
          pc++;
          break;
        case BPF_ALU | BPF_ARSH | BPF_X: // ALU_ARSH_X: DST = (u64) (u32) (((s32) DST) >> (SRC & 31))
          r[d] = (r[d]! | 0) >> (r[s]! & 31);
          r[d + 1] = 0;
          break;
        case BPF_ALU | BPF_ARSH | BPF_K: // ALU_ARSH_K: DST = (u64) (u32) (((s32) DST) >> IMM)
          r[d] = (r[d]! | 0) >> (imm & 31);
          r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_ARSH | BPF_X: // ALU64_ARSH_X: (*(s64 *) &DST) >>= (SRC & 63)
          arsh64(r, d, r[s]! & 63);
          break;
        case BPF_ALU64 | BPF_ARSH | BPF_K: // ALU64_ARSH_K: (*(s64 *) &DST) >>= IMM
          arsh64(r, d, imm & 63);
          break;
        case BPF_ALU64 | BPF_MOD | BPF_X: // ALU64_MOD_X
        case BPF_ALU | BPF_MOD | BPF_X: // ALU_MOD_X
        case BPF_ALU64 | BPF_MOD | BPF_K: // ALU64_MOD_K
        case BPF_ALU | BPF_MOD | BPF_K: // ALU_MOD_K
        case BPF_ALU64 | BPF_DIV | BPF_X: // ALU64_DIV_X
        case BPF_ALU | BPF_DIV | BPF_X: // ALU_DIV_X
        case BPF_ALU64 | BPF_DIV | BPF_K: // ALU64_DIV_K
        case BPF_ALU | BPF_DIV | BPF_K: { // ALU_DIV_K (the bodies: ./alu64.ts, through aluDivMod)
          const st = aluDivMod(r, code, d, s, off, imm);
          if (st !== DIV_OK) return this.stop(divFault(st, pc), steps);
          break;
        }
        case BPF_ALU | BPF_END | BPF_TO_BE: // ALU_END_TO_BE: cpu_to_be16/32/64 on a little-endian host = swab, truncated
          if (imm === 16) {
            r[d] = swab16(r[d]! & 0xffff);
            r[d + 1] = 0;
          } else if (imm === 32) {
            r[d] = swab32(r[d]!);
            r[d + 1] = 0;
          } else if (imm === 64) swab64(r, d);
          break;
        case BPF_ALU | BPF_END | BPF_TO_LE: // ALU_END_TO_LE: cpu_to_le16/32/64 on a little-endian host = truncation
          if (imm === 16) {
            r[d] = r[d]! & 0xffff;
            r[d + 1] = 0;
          } else if (imm === 32) r[d + 1] = 0;
          break;
        case BPF_ALU64 | BPF_END | BPF_TO_LE: // ALU64_END_TO_LE: __swab16/32/64
          if (imm === 16) {
            r[d] = swab16(r[d]! & 0xffff);
            r[d + 1] = 0;
          } else if (imm === 32) {
            r[d] = swab32(r[d]!);
            r[d + 1] = 0;
          } else if (imm === 64) swab64(r, d);
          break;
        case BPF_JMP | BPF_CALL: { // JMP_CALL: BPF_R0 = (__bpf_call_base + insn->imm)(BPF_R1, ..., BPF_R5)
          const h = this.helpers.get(imm);
          if (h === undefined) return this.stop(makeFault('unknown-helper', pc, `call to imm ${imm}: no such helper`), steps);
          const f = h(r, mem, pc);
          if (f !== null) return this.stop(f, steps);
          break;
        }
        case BPF_JMP | BPF_CALL_ARGS: // JMP_CALL_ARGS
        case BPF_JMP | BPF_TAIL_CALL: // JMP_TAIL_CALL
          return this.stop(makeFault('unsupported', pc, `internal opcode ${hex2(code)} needs bpf-to-bpf frames or a prog array`), steps);
        case BPF_JMP | BPF_JA: // JMP_JA: insn += insn->off
          pc += off;
          break;
        case BPF_JMP32 | BPF_JA: // JMP32_JA: insn += insn->imm
          pc += imm;
          break;
        case BPF_JMP | BPF_EXIT: // JMP_EXIT: return BPF_R0 (the wrapper returns it as unsigned int)
          this.steps = steps;
          return r[0]!;
        // COND_JMP(SIGN, OPCODE, CMP_OP): JMP_<op>_X, JMP32_<op>_X, JMP_<op>_K, JMP32_<op>_K
        case BPF_JMP | BPF_JEQ | BPF_X: case BPF_JMP32 | BPF_JEQ | BPF_X: case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP32 | BPF_JEQ | BPF_K: // COND_JMP(u, JEQ, ==)
        case BPF_JMP | BPF_JNE | BPF_X: case BPF_JMP32 | BPF_JNE | BPF_X: case BPF_JMP | BPF_JNE | BPF_K: case BPF_JMP32 | BPF_JNE | BPF_K: // COND_JMP(u, JNE, !=)
        case BPF_JMP | BPF_JGT | BPF_X: case BPF_JMP32 | BPF_JGT | BPF_X: case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP32 | BPF_JGT | BPF_K: // COND_JMP(u, JGT, >)
        case BPF_JMP | BPF_JLT | BPF_X: case BPF_JMP32 | BPF_JLT | BPF_X: case BPF_JMP | BPF_JLT | BPF_K: case BPF_JMP32 | BPF_JLT | BPF_K: // COND_JMP(u, JLT, <)
        case BPF_JMP | BPF_JGE | BPF_X: case BPF_JMP32 | BPF_JGE | BPF_X: case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP32 | BPF_JGE | BPF_K: // COND_JMP(u, JGE, >=)
        case BPF_JMP | BPF_JLE | BPF_X: case BPF_JMP32 | BPF_JLE | BPF_X: case BPF_JMP | BPF_JLE | BPF_K: case BPF_JMP32 | BPF_JLE | BPF_K: // COND_JMP(u, JLE, <=)
        case BPF_JMP | BPF_JSET | BPF_X: case BPF_JMP32 | BPF_JSET | BPF_X: case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP32 | BPF_JSET | BPF_K: // COND_JMP(u, JSET, &)
        case BPF_JMP | BPF_JSGT | BPF_X: case BPF_JMP32 | BPF_JSGT | BPF_X: case BPF_JMP | BPF_JSGT | BPF_K: case BPF_JMP32 | BPF_JSGT | BPF_K: // COND_JMP(s, JSGT, >)
        case BPF_JMP | BPF_JSLT | BPF_X: case BPF_JMP32 | BPF_JSLT | BPF_X: case BPF_JMP | BPF_JSLT | BPF_K: case BPF_JMP32 | BPF_JSLT | BPF_K: // COND_JMP(s, JSLT, <)
        case BPF_JMP | BPF_JSGE | BPF_X: case BPF_JMP32 | BPF_JSGE | BPF_X: case BPF_JMP | BPF_JSGE | BPF_K: case BPF_JMP32 | BPF_JSGE | BPF_K: // COND_JMP(s, JSGE, >=)
        case BPF_JMP | BPF_JSLE | BPF_X: case BPF_JMP32 | BPF_JSLE | BPF_X: case BPF_JMP | BPF_JSLE | BPF_K: case BPF_JMP32 | BPF_JSLE | BPF_K: { // COND_JMP(s, JSLE, <=)
          const x = (code & BPF_X) !== 0;
          const taken =
            (code & 0x07) === BPF_JMP
              ? condJmp64(code & 0xf0, r[d]!, r[d + 1]!, x ? r[s]! : imm >>> 0, x ? r[s + 1]! : imm >> 31)
              : condJmp32(code & 0xf0, r[d]!, x ? r[s]! : imm >>> 0);
          if (taken) pc += off; // insn += insn->off; CONT_JMP
          break;
        }
        case BPF_ST | BPF_NOSPEC: // ST_NOSPEC: barrier_nospec()
          break;
        // LDST(SIZEOP, SIZE) for B, H, W, DW: STX_MEM, ST_MEM, LDX_MEM, LDX_PROBE_MEM
        case BPF_STX | BPF_MEM | BPF_B: case BPF_STX | BPF_MEM | BPF_H: case BPF_STX | BPF_MEM | BPF_W: case BPF_STX | BPF_MEM | BPF_DW: { // STX_MEM_<size>: *(SIZE *)(unsigned long) (DST + insn->off) = SRC
          const size = sizeBytes(code);
          this.ea(d, off);
          const st = mem.store(this.eaHi, this.eaLo, size, r[s]!, r[s + 1]!);
          if (st !== MEM_OK) return this.stop(mem.fault(st, pc, this.eaHi, this.eaLo, size, true), steps);
          break;
        }
        case BPF_ST | BPF_MEM | BPF_B: case BPF_ST | BPF_MEM | BPF_H: case BPF_ST | BPF_MEM | BPF_W: case BPF_ST | BPF_MEM | BPF_DW: { // ST_MEM_<size>: *(SIZE *)(unsigned long) (DST + insn->off) = IMM
          const size = sizeBytes(code);
          this.ea(d, off);
          const st = mem.store(this.eaHi, this.eaLo, size, imm, imm >> 31);
          if (st !== MEM_OK) return this.stop(mem.fault(st, pc, this.eaHi, this.eaLo, size, true), steps);
          break;
        }
        case BPF_LDX | BPF_MEM | BPF_B: case BPF_LDX | BPF_MEM | BPF_H: case BPF_LDX | BPF_MEM | BPF_W: case BPF_LDX | BPF_MEM | BPF_DW: { // LDX_MEM_<size>: DST = *(SIZE *)(unsigned long) (SRC + insn->off)
          const size = sizeBytes(code);
          this.ea(s, off);
          const st = mem.load(this.eaHi, this.eaLo, size);
          if (st !== MEM_OK) return this.stop(mem.fault(st, pc, this.eaHi, this.eaLo, size, false), steps);
          r[d] = mem.valLo;
          r[d + 1] = mem.valHi;
          break;
        }
        case BPF_LDX | BPF_PROBE_MEM | BPF_B: case BPF_LDX | BPF_PROBE_MEM | BPF_H: case BPF_LDX | BPF_PROBE_MEM | BPF_W: case BPF_LDX | BPF_PROBE_MEM | BPF_DW: // LDX_PROBE_MEM_<size>
        // LDSX(SIZEOP, SIZE) for B, H, W: LDX_MEMSX, LDX_PROBE_MEMSX
        case BPF_LDX | BPF_PROBE_MEMSX | BPF_B: case BPF_LDX | BPF_PROBE_MEMSX | BPF_H: case BPF_LDX | BPF_PROBE_MEMSX | BPF_W: { // LDX_PROBE_MEMSX_<size>
          // bpf_probe_read_kernel_common(&DST, sizeof(SIZE), SRC + off) zero-fills on a fault; DST = *((SIZE *)&DST)
          const size = sizeBytes(code);
          this.ea(s, off);
          let lo = 0;
          let hi = 0;
          if (mem.load(this.eaHi, this.eaLo, size) === MEM_OK) {
            lo = mem.valLo;
            hi = mem.valHi;
          }
          if ((code & 0xe0) === BPF_PROBE_MEMSX && size < 8) {
            const sh = 32 - size * 8;
            lo = (lo << sh) >> sh;
            hi = lo >> 31;
          }
          r[d] = lo;
          r[d + 1] = hi;
          break;
        }
        case BPF_LDX | BPF_MEMSX | BPF_B: case BPF_LDX | BPF_MEMSX | BPF_H: case BPF_LDX | BPF_MEMSX | BPF_W: { // LDX_MEMSX_<size>: DST = *(SIZE *)(unsigned long) (SRC + insn->off), SIZE signed
          const size = sizeBytes(code);
          this.ea(s, off);
          const st = mem.load(this.eaHi, this.eaLo, size);
          if (st !== MEM_OK) return this.stop(mem.fault(st, pc, this.eaHi, this.eaLo, size, false), steps);
          const sh = 32 - size * 8;
          const v = (mem.valLo << sh) >> sh;
          r[d] = v;
          r[d + 1] = v >> 31;
          break;
        }
        case BPF_STX | BPF_ATOMIC | BPF_DW: // STX_ATOMIC_DW
        case BPF_STX | BPF_ATOMIC | BPF_W: { // STX_ATOMIC_W
          const f = this.atomic(code === (BPF_STX | BPF_ATOMIC | BPF_DW) ? 8 : 4, d, s, off, imm, pc);
          if (f !== null) return this.stop(f, steps);
          break;
        }
        default:
          // default_label: pr_warn("BPF interpreter: unknown opcode %02x (imm: 0x%x)\n"); BUG_ON(1);
          return this.stop(makeFault('bug', pc, `BPF interpreter: unknown opcode ${hex2(code)} (imm: 0x${(imm >>> 0).toString(16)})`), steps);
      }
      pc++; // CONT: insn++
    }
  }

  /** kernel/bpf/core.c:2127 STX_ATOMIC_DW / STX_ATOMIC_W: switch (IMM) (ATOMIC_ALU_OP core.c:2107) */
  private atomic(size: number, d: number, s: number, off: number, imm: number, pc: number): Fault | null {
    const r = this.regs;
    const mem = this.mem;
    const op = imm & ~BPF_FETCH;
    const fetch = (imm & BPF_FETCH) !== 0;
    // BPF_ADD/AND/OR/XOR, each with or without BPF_FETCH, BPF_XCHG, BPF_CMPXCHG; anything else: default_label
    const known = imm === BPF_XCHG || imm === BPF_CMPXCHG || op === BPF_ADD || op === BPF_AND || op === BPF_OR || op === BPF_XOR;
    if (!known) return makeFault('bug', pc, `BPF interpreter: unknown opcode ${hex2(size === 8 ? BPF_STX | BPF_ATOMIC | BPF_DW : BPF_STX | BPF_ATOMIC | BPF_W)} (imm: 0x${(imm >>> 0).toString(16)})`);
    this.ea(d, off);
    const st = mem.check(this.eaHi, this.eaLo, size, true);
    if (st !== MEM_OK) return mem.fault(st, pc, this.eaHi, this.eaLo, size, true);
    mem.readAt(size);
    const oldLo = mem.valLo;
    const oldHi = size === 8 ? mem.valHi : 0;
    const sLo = r[s]!;
    const sHi = size === 8 ? r[s + 1]! : 0;
    if (imm === BPF_CMPXCHG) {
      // BPF_CMPXCHG: R0 = atomic_cmpxchg(ptr, R0, SRC) ((u32) R0 and (u32) SRC for W)
      const eq = oldLo === r[0] && (size === 4 || oldHi === r[1]);
      if (eq) mem.writeAt(size, sLo, sHi);
      r[0] = oldLo;
      r[1] = oldHi;
      return null;
    }
    if (imm === BPF_XCHG) {
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
      case BPF_ADD: {
        const lo = oldLo + sLo;
        nLo = lo >>> 0;
        nHi = (oldHi + sHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
        break;
      }
      case BPF_AND:
        nLo = oldLo & sLo;
        nHi = oldHi & sHi;
        break;
      case BPF_OR:
        nLo = oldLo | sLo;
        nHi = oldHi | sHi;
        break;
      default: // BPF_XOR
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

/** kernel/bpf/core.c:2020 COND_JMP for BPF_JMP: (u64)/(s64) DST op SRC-or-IMM */
function condJmp64(op: number, aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  switch (op) {
    case BPF_JEQ:
      return aLo === bLo >>> 0 && aHi === bHi >>> 0;
    case BPF_JNE:
      return aLo !== bLo >>> 0 || aHi !== bHi >>> 0;
    case BPF_JGT:
      return cmp64u(aLo, aHi, bLo, bHi) > 0;
    case BPF_JLT:
      return cmp64u(aLo, aHi, bLo, bHi) < 0;
    case BPF_JGE:
      return cmp64u(aLo, aHi, bLo, bHi) >= 0;
    case BPF_JLE:
      return cmp64u(aLo, aHi, bLo, bHi) <= 0;
    case BPF_JSET:
      return (aLo & bLo) !== 0 || (aHi & bHi) !== 0;
    case BPF_JSGT:
      return cmp64s(aLo, aHi, bLo, bHi) > 0;
    case BPF_JSLT:
      return cmp64s(aLo, aHi, bLo, bHi) < 0;
    case BPF_JSGE:
      return cmp64s(aLo, aHi, bLo, bHi) >= 0;
    default: // BPF_JSLE
      return cmp64s(aLo, aHi, bLo, bHi) <= 0;
  }
}

/** kernel/bpf/core.c:2020 COND_JMP for BPF_JMP32: (u32)/(s32) DST op SRC-or-IMM */
function condJmp32(op: number, a: number, b: number): boolean {
  const au = a >>> 0;
  const bu = b >>> 0;
  switch (op) {
    case BPF_JEQ:
      return au === bu;
    case BPF_JNE:
      return au !== bu;
    case BPF_JGT:
      return au > bu;
    case BPF_JLT:
      return au < bu;
    case BPF_JGE:
      return au >= bu;
    case BPF_JLE:
      return au <= bu;
    case BPF_JSET:
      return (au & bu) !== 0;
    case BPF_JSGT:
      return (a | 0) > (b | 0);
    case BPF_JSLT:
      return (a | 0) < (b | 0);
    case BPF_JSGE:
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

// The x86-64 eBPF JIT's pass loop, as lengths: bpf_int_jit_compile runs do_jit until the image length
// stops changing, then once more into the allocated image, and gives up (the program stays
// interpreted, which with the JIT required is -ENOTSUPP at attach) when it does not settle in
// MAX_PASSES, or when a pass fails. arch/x86/net/bpf_jit_comp.c, lines of v6.18.35 (6.6.80 in
// parentheses); the trees are named in model/jit/facts.ts.
//
// What do_jit does that decides acceptance, and the model does too:
//  - addrs[] is updated in place while a pass runs: addrs[k] is the end of eBPF insn k-1 (addrs[0]
//    the end of the prologue). A jump at insn i (1-based, as in do_jit) reads addrs[i + off] and
//    addrs[i]: for a forward jump both are still the previous pass's values, for a backward one the
//    target is this pass's. The first pass starts from 64 bytes per insn.
//  - An exit after the first is a jump back to the first exit's code (ctx->cleanup_addr, set in this
//    pass) from addrs[i] of the previous pass. A backward displacement so counts the jump's own
//    previous size: a jump that was near (5 bytes, as every exit is in the first pass) only becomes
//    short when the near form itself would reach, so a short exit jump never goes further back than
//    -125 although rel8 reaches -128. The model does the same.
//  - The loop stops at the first pass whose *total* length equals the previous pass's (proglen ==
//    oldproglen), although instructions may have traded sizes between the two. The emitting pass
//    then checks each instruction's end against the previous pass's addrs[i] (the check
//    e4d4d456436b added, CVE-2021-29154) and fails with "bpf_jit: fatal error" at the first that moved.
//  - From pass PADDING_PASSES (15) on, a jump that would shrink is padded with nops to its previous
//    size; padding of any size but the expected ones fails ("unexpected ... padding").
import { BPF_B, BPF_H, BPF_JA, BPF_LDX, BPF_MEM, BPF_ST, BPF_STX, BPF_W, BPF_X, EFAULT, EINVAL, ENOTSUPP, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc } from '../uapi.js';
import {
  BPF_ADD,
  BPF_AND,
  BPF_DIV,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JSET,
  BPF_LSH,
  BPF_MOD,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_SUB,
  BPF_XOR,
} from '../uapi.js';
import {
  BPF_ALU64,
  BPF_ARSH,
  BPF_CALL,
  BPF_END,
  BPF_EXIT,
  BPF_FROM_BE,
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
  BPF_PSEUDO_CALL,
  BPF_REG_0,
  BPF_REG_3,
  BPF_REG_4,
  type BpfInsn,
} from '../ebpf/insn.js';
import { reject, type Rejection } from '../verdict.js';
import type { X86JitFacts } from './facts.js';
import { bpfJitBlindConstants, blindingRandom, type BlindingRandom } from './blind.js';
import {
  AUX_REG,
  BPF_MAX_INSN_SIZE,
  detectRegUsage,
  emitCall,
  emitLdsx,
  emitLdx,
  emitMovImm32,
  emitMovReg,
  emitMovsxReg,
  emitNops,
  emitPrologue,
  emitReturn,
  emitShiftx,
  emitSpectreBhbBarrier,
  emitStx,
  isEreg,
  isImm8,
  isImm8JmpOffset,
  isSimm32,
  maybeEmit1mod,
  maybeEmitMod,
  popCalleeRegs,
  pushCalleeRegs,
  x86CallDepthEmitAccounting,
} from './emit.js';

/** :3642 (6.6.80:2751) MAX_PASSES */
export const MAX_PASSES = 20;
/** :3643 (6.6.80:2752) PADDING_PASSES: from this pass on, shrinking jumps are padded */
export const PADDING_PASSES = MAX_PASSES - 5;

/** What the JIT is given: the (migrated) eBPF program and the bpf_prog facts its passes read. */
export interface JitProgram {
  readonly insns: readonly BpfInsn[];
  /** bpf_prog->aux->stack_depth (for a migrated program: 4 * (max k of ST/STX) + 4, or 0) */
  readonly stackDepth: number;
  /** bpf_prog_was_classic(): no eBPF-only prologue nop, and the BHB barrier applies */
  readonly wasClassic: boolean;
  /** fp->jit_requested (default true): without it bpf_int_jit_compile returns the program untouched */
  readonly jitRequested?: boolean;
  /** fp->blinding_requested (default false): compile a constant-blinded clone (model/jit/blind.ts) */
  readonly blindingRequested?: boolean;
  /** the get_random_u32() draws of the blinding (default: model/jit/blind.ts blindingRandom()) */
  readonly rnd?: BlindingRandom;
}

/** Why a JIT run failed: do_jit's error (with its pr_err text), or the loop never settling. */
export type JitFailure =
  /** :2741 (6.6.80:1981) the emitting pass found insn i ending elsewhere than in the previous pass */
  | 'emit-mismatch'
  /** :2590 (6.6.80:1844) a conditional jump's padding was neither 0 nor 4 bytes */
  | 'jmp-cond-padding'
  /** :2644 (6.6.80:1898) an offset-0 JA's padding was neither 0, 2 nor 5 bytes */
  | 'nop-jump-padding'
  /** :2669 (6.6.80:1923) a jump's padding was neither 0 nor 3 bytes */
  | 'jmp-padding'
  /** :2724 (6.6.80:1964) one eBPF insn needed more than BPF_MAX_INSN_SIZE bytes */
  | 'insn-size'
  /** :2417 a call with imm 0 (-EINVAL) */
  | 'call-imm-zero'
  /** :3762 (6.6.80:2852) the emitting pass's total differs from the previous pass's */
  | 'proglen-mismatch'
  /** :3740 (6.6.80:2830) MAX_PASSES sizing passes without two equal totals */
  | 'not-converged'
  /** :3664 (6.6.80:2771) fp->jit_requested is false: the program is returned unJITed */
  | 'not-requested'
  /** :3672 (6.6.80:2779) bpf_jit_blind_constants failed (-ERANGE: a jump pushed out of range): the original program, unJITed */
  | 'blinding-failed';

/** The kernel line of each failure. */
export const JIT_FAILURE_AT: Readonly<Record<JitFailure, string>> = {
  'emit-mismatch': 'arch/x86/net/bpf_jit_comp.c:2741',
  'jmp-cond-padding': 'arch/x86/net/bpf_jit_comp.c:2592',
  'nop-jump-padding': 'arch/x86/net/bpf_jit_comp.c:2646',
  'jmp-padding': 'arch/x86/net/bpf_jit_comp.c:2671',
  'insn-size': 'arch/x86/net/bpf_jit_comp.c:2726',
  'call-imm-zero': 'arch/x86/net/bpf_jit_comp.c:2417',
  'proglen-mismatch': 'arch/x86/net/bpf_jit_comp.c:3763',
  'not-converged': 'arch/x86/net/bpf_jit_comp.c:3740',
  'not-requested': 'arch/x86/net/bpf_jit_comp.c:3664',
  'blinding-failed': 'arch/x86/net/bpf_jit_comp.c:3672',
};

/** One run of do_jit. */
export interface JitPass {
  /** the loop's `pass` (0-based) */
  readonly pass: number;
  /** jmp_padding of this run */
  readonly padding: boolean;
  /** whether this run wrote the image (image != NULL) */
  readonly emitting: boolean;
  /** bytes of the prologue (emit_prologue and the callee-saved pushes) */
  readonly prologue: number;
  /** bytes emitted for each eBPF insn in this run; -1 for the insns after a failure */
  readonly lengths: Int32Array;
  /** what do_jit returned: the image length, or a negative errno */
  readonly proglen: number;
}

/** The JIT's outcome for one program. */
export type JitResult =
  | {
      readonly jited: true;
      /** the image length (proglen of the last passes) */
      readonly proglen: number;
      /** prog->jited_len = proglen - cfi_get_offset() */
      readonly jitedLen: number;
      readonly passes: readonly JitPass[];
      /** the constant-blinded clone the passes ran on, which replaces the program (null: not blinded) */
      readonly blinded: readonly BpfInsn[] | null;
      /** for each insn of `blinded`, the index of the insn of the program it came from */
      readonly blindedFrom: Int32Array | null;
    }
  | {
      readonly jited: false;
      readonly reason: JitFailure;
      /** the kernel's message (pr_err), or null where there is none (not converged) */
      readonly message: string | null;
      /** the pass that failed (MAX_PASSES when none settled) */
      readonly pass: number;
      /** the eBPF insn (0-based) do_jit failed at, or null */
      readonly insn: number | null;
      readonly passes: readonly JitPass[];
      /** the blinded clone the passes ran on (released: the original program stays), or null */
      readonly blinded: readonly BpfInsn[] | null;
      /** for each insn of `blinded`, the index of the insn of the program it came from */
      readonly blindedFrom: Int32Array | null;
    };

// The do_jit state that lives across passes (struct jit_context, :310 (6.6.80:287)): cleanup_addr.
interface JitContext {
  cleanupAddr: number;
}

/** A failure inside do_jit: the errno it returns and why. */
interface DoJitError {
  readonly errno: number;
  readonly reason: JitFailure;
  readonly message: string;
  /** the eBPF insn (0-based) */
  readonly insn: number | null;
}

const fail = (errno: number, reason: JitFailure, message: string, insn: number | null): DoJitError => ({ errno, reason, message, insn });

/** A program do_jit's model does not cover (an opcode the attach path never produces): API misuse. */
function unmodelled(insn: BpfInsn, i: number): never {
  throw new Error(`model/jit: eBPF insn ${i - 1} (code 0x${insn.code.toString(16).padStart(2, '0')}) is outside the modelled instruction set`);
}

// The cursor state of one do_jit run that the instruction lengths read.
interface Pass {
  readonly prog: JitProgram;
  readonly facts: X86JitFacts;
  readonly addrs: Int32Array;
  readonly ctx: JitContext;
  readonly padding: boolean;
  readonly calleeRegsUsed: readonly boolean[];
  proglen: number;
  seenExit: boolean;
}

// arch/x86/net/bpf_jit_comp.c:2654 emit_jmp (6.6.80:1908): the unconditional jump (and the jump of a later exit); `sofar` bytes of
// this insn are already emitted (0 here: INSN_SZ_DIFF = addrs[i] - addrs[i-1] - (prog - temp))
function emitJmp(p: Pass, i: number, jmpOffset: number, sofar: number): number | DoJitError {
  if (isImm8JmpOffset(jmpOffset, p.facts)) {
    let n = 0;
    if (p.padding) {
      // :2666 pad by the bytes this insn shrank since the last pass (5 -> 2), measured from this
      // pass's start of the insn to the last pass's end
      const nops = p.addrs[i]! - p.addrs[i - 1]! - sofar - 2;
      if (nops !== 0 && nops !== 3) return fail(-EFAULT, 'jmp-padding', `unexpected jump padding: ${nops} bytes`, i - 1);
      n += emitNops(nops);
    }
    return n + 2; // jmp rel8
  }
  if (isSimm32(jmpOffset)) return 5; // jmp rel32
  return fail(-EFAULT, 'jmp-padding', `jmp gen bug ${jmpOffset.toString(16)}`, i - 1);
}

// arch/x86/net/bpf_jit_comp.c:2528 emit_cond_jmp (6.6.80:1782): jcc rel8 (2 bytes) or jcc rel32 (6), `sofar` bytes (the cmp/test) before it
function emitCondJmp(p: Pass, i: number, insn: BpfInsn, sofar: number): number | DoJitError {
  const jmpOffset = p.addrs[i + insn.off]! - p.addrs[i]!;
  if (isImm8JmpOffset(jmpOffset, p.facts)) {
    let n = 0;
    if (p.padding) {
      const nops = p.addrs[i]! - p.addrs[i - 1]! - sofar - 2; // INSN_SZ_DIFF - 2
      if (nops !== 0 && nops !== 4) return fail(-EFAULT, 'jmp-cond-padding', `unexpected jmp_cond padding: ${nops} bytes`, i - 1);
      n += emitNops(nops);
    }
    return n + 2;
  }
  if (isSimm32(jmpOffset)) return 6;
  return fail(-EFAULT, 'jmp-cond-padding', `cond_jmp gen bug ${jmpOffset.toString(16)}`, i - 1);
}

// One turn of do_jit's loop body (:1684-2721 (6.6.80:1108-1961)): the bytes eBPF insn i (1-based) emits.
function insnLength(p: Pass, i: number, insn: BpfInsn): number | DoJitError {
  const { facts } = p;
  const cls = bpfClass(insn.code);
  const op = bpfOp(insn.code);
  const dst = insn.dst;
  const src = insn.src;
  const imm = insn.imm | 0;
  switch (cls) {
    case 0x04: // BPF_ALU
    case BPF_ALU64: {
      const is64 = cls === BPF_ALU64;
      const x = bpfSrc(insn.code) === BPF_X;
      switch (op) {
        case BPF_ADD:
        case BPF_SUB:
        case BPF_AND:
        case BPF_OR:
        case BPF_XOR:
          // :1706 reg forms: REX? op modrm; :1785 imm forms: 83 /n ib, or 05.. id for eax, or 81 /n id
          if (x) return maybeEmitMod(dst, src, is64) + 2;
          return maybeEmit1mod(dst, is64) + (isImm8(imm) ? 3 : dst === BPF_REG_0 ? 5 : 6);
        case BPF_MOV:
          if (x) {
            // :1722 address-space casts and per-CPU moves (arena, v6.9+) are not modelled
            if (is64 && insn.off !== 0 && insn.off !== 8 && insn.off !== 16 && insn.off !== 32) unmodelled(insn, i);
            return insn.off === 0 ? emitMovReg(is64, dst, src) : emitMovsxReg(insn.off, is64, dst, src);
          }
          return emitMovImm32(is64, dst, imm); // :1833
        case BPF_NEG:
          return maybeEmit1mod(dst, is64) + 2; // :1778
        case BPF_DIV:
        case BPF_MOD: {
          // :1846 (6.6.80:1219) through rax/rdx: push/pop what the insn does not own, the divisor in r11
          let n = 0;
          let s = src;
          if (dst !== BPF_REG_0) n += 1; // push rax
          if (dst !== BPF_REG_3) n += 1; // push rdx
          if (x) {
            if (src === BPF_REG_0 || src === BPF_REG_3) {
              n += 3; // mov r11, src
              s = AUX_REG;
            }
          } else {
            n += 7; // mov r11, imm32
            s = AUX_REG;
          }
          if (dst !== BPF_REG_0) n += emitMovReg(is64, BPF_REG_0, dst);
          if (insn.off === 0) n += 2 + maybeEmit1mod(s, is64) + 2; // xor edx, edx; div
          else n += (is64 ? 2 : 1) + maybeEmit1mod(s, is64) + 2; // cqo / cdq; idiv
          if (op === BPF_MOD && dst !== BPF_REG_3) n += emitMovReg(is64, dst, BPF_REG_3);
          else if (op === BPF_DIV && dst !== BPF_REG_0) n += emitMovReg(is64, dst, BPF_REG_0);
          if (dst !== BPF_REG_3) n += 1; // pop rdx
          if (dst !== BPF_REG_0) n += 1; // pop rax
          return n;
        }
        case BPF_MUL:
          // :1915 imul dst, dst, imm8/imm32; :1931 imul dst, src
          if (x) return maybeEmitMod(src, dst, is64) + 3;
          return maybeEmitMod(dst, dst, is64) + (isImm8(imm) ? 3 : 6);
        case BPF_LSH:
        case BPF_RSH:
        case BPF_ARSH: {
          if (!x) return maybeEmit1mod(dst, is64) + (imm === 1 ? 2 : 3); // :1941 d1 /n, or c1 /n ib
          // :1957 (6.6.80:1330) by register: shlx/shrx/sarx with BMI2 unless the count is already in rcx
          if (facts.bmi2 && src !== BPF_REG_4) return emitShiftx();
          let n = 0;
          let d = dst;
          if (src !== BPF_REG_4) {
            if (dst === BPF_REG_4) {
              n += 3; // mov r11, dst
              d = AUX_REG;
            } else n += 1; // push rcx
            n += 3; // mov rcx, src
          }
          n += maybeEmit1mod(d, is64) + 2; // shl/shr/sar dst, cl
          if (src !== BPF_REG_4) n += dst === BPF_REG_4 ? 3 : 1; // mov dst, r11 / pop rcx
          return n;
        }
        case BPF_END: {
          const e = isEreg(dst);
          if (cls === 0x04 && bpfSrc(insn.code) !== BPF_FROM_BE) {
            // :2049 (6.6.80:1422) BPF_ALU | BPF_END | BPF_FROM_LE: zero extension only
            if (imm === 16) return (e ? 3 : 2) + 1; // movzwl
            if (imm === 32) return (e ? 1 : 0) + 2; // mov eax, eax
            return 0; // 64, and any other width (no default in the switch): nothing
          }
          if (cls === BPF_ALU64 && bpfSrc(insn.code) === BPF_FROM_BE) unmodelled(insn, i); // not a do_jit case: -EINVAL
          // :2016 (6.6.80:1389) BPF_ALU | BPF_END | BPF_FROM_BE and BPF_ALU64 | BPF_END | BPF_FROM_LE: byte swaps
          if (imm === 16) return 1 + (e ? 1 : 0) + 3 + (e ? 3 : 2) + 1; // ror ax, 8; movzwl
          if (imm === 32) return (e ? 2 : 1) + 1; // bswap eax
          if (imm === 64) return 3; // bswap rax
          return 0;
        }
        default:
          return unmodelled(insn, i);
      }
    }

    case BPF_LDX: {
      const mode = bpfMode(insn.code);
      if (mode === BPF_MEM) return emitLdx(bpfSize(insn.code), dst, src, insn.off); // :2197 (6.6.80:1491)
      if (mode === BPF_MEMSX) return emitLdsx(bpfSize(insn.code), insn.off);
      return unmodelled(insn, i);
    }

    case BPF_ST: {
      if (insn.code === (BPF_ST | BPF_NOSPEC)) return 3; // lfence
      if (bpfMode(insn.code) !== BPF_MEM) return unmodelled(insn, i);
      // :2080 (6.6.80:1453) mov [dst + off], imm
      const size = bpfSize(insn.code);
      const e = isEreg(dst);
      const opcode = size === BPF_B ? (e ? 2 : 1) : size === BPF_H ? (e ? 3 : 2) : size === BPF_W ? (e ? 2 : 1) : 2;
      const immBytes = size === BPF_B ? 1 : size === BPF_H ? 2 : 4; // bpf_size_to_x86_bytes: DW stores an imm32
      return opcode + (isImm8(insn.off) ? 2 : 5) + immBytes;
    }

    case BPF_STX:
      if (bpfMode(insn.code) !== BPF_MEM) return unmodelled(insn, i);
      return emitStx(bpfSize(insn.code), dst, src, insn.off); // :2110 (6.6.80:1483)

    case 0x05: // BPF_JMP
    case BPF_JMP32: {
      const is64 = cls === 0x05;
      if (is64 && op === BPF_CALL) {
        // :2409 (6.6.80:1668) the program cannot tail call; no private stack
        if (src === BPF_PSEUDO_CALL) unmodelled(insn, i);
        if (imm === 0) return fail(-EINVAL, 'call-imm-zero', 'call with imm 0', i - 1);
        return x86CallDepthEmitAccounting(facts) + emitCall();
      }
      if (is64 && op === BPF_EXIT) {
        if (p.seenExit) return emitJmp(p, i, p.ctx.cleanupAddr - p.addrs[i]!, 0); // :2687
        p.seenExit = true;
        p.ctx.cleanupAddr = p.proglen; // :2693 the epilogue starts here, in this pass
        let n = 0;
        // :2694 spectre-BHB barrier for classic programs of unprivileged tasks (v6.15+, 6.6.91+)
        if (facts.bhbBarrier && p.prog.wasClassic && !facts.capSysAdmin) n += emitSpectreBhbBarrier(facts);
        n += popCalleeRegs(p.calleeRegsUsed);
        n += 1; // leave
        return n + emitReturn(facts);
      }
      if (op === BPF_JA) {
        // :2608 (6.6.80:1862) JMP32 JA takes its offset from imm; off (imm) -1 is always -2 bytes
        const off = is64 ? insn.off : imm;
        const jmpOffset = off === -1 ? -2 : p.addrs[i + off]! - p.addrs[i]!;
        if (jmpOffset === 0) {
          // :2628 a jump to the next insn is left out; padded to its last size from PADDING_PASSES on
          if (!p.padding) return 0;
          const nops = p.addrs[i]! - p.addrs[i - 1]!; // INSN_SZ_DIFF
          if (nops !== 0 && nops !== 2 && nops !== 5) return fail(-EFAULT, 'nop-jump-padding', `unexpected nop jump padding: ${nops} bytes`, i - 1);
          return emitNops(nops);
        }
        return emitJmp(p, i, jmpOffset, 0);
      }
      if (op !== BPF_JEQ && op !== BPF_JGT && op !== BPF_JGE && op !== BPF_JSET && op !== BPF_JNE && op !== BPF_JSGT && op !== BPF_JSGE && op !== BPF_JLT && op !== BPF_JLE && op !== BPF_JSLT && op !== BPF_JSLE)
        return unmodelled(insn, i);
      let n: number;
      if (bpfSrc(insn.code) === BPF_X) n = maybeEmitMod(dst, src, is64) + 2; // :2449 cmp / :2475 test dst, src
      else if (op === BPF_JSET) n = maybeEmit1mod(dst, is64) + 6; // :2483 test dst, imm32
      else if (imm === 0) n = maybeEmitMod(dst, dst, is64) + 2; // :2514 test dst, dst
      else n = maybeEmit1mod(dst, is64) + (isImm8(imm) ? 3 : 6); // :2519 cmp dst, imm8/imm32
      const j = emitCondJmp(p, i, insn, n);
      return typeof j === 'number' ? n + j : j;
    }

    default:
      return unmodelled(insn, i);
  }
}

/** What do_jit returned for one run, with the lengths it emitted. */
interface DoJitRun {
  readonly proglen: number;
  readonly prologue: number;
  readonly lengths: Int32Array;
  readonly error: DoJitError | null;
}

// arch/x86/net/bpf_jit_comp.c:1622 do_jit (6.6.80:1075)
/**
 * One pass over the program, updating `addrs` in place. `emitting` stands for image != NULL: each
 * insn's end is then checked against the previous pass's addrs[i], and against oldproglen. Returns
 * proglen, or the negative errno do_jit returns, with the bytes of each insn up to the failure.
 */
export function doJit(
  prog: JitProgram,
  addrs: Int32Array,
  emitting: boolean,
  oldproglen: number,
  ctx: { cleanupAddr: number },
  jmpPadding: boolean,
  facts: X86JitFacts,
  memo: Int32Array | null = null,
): DoJitRun {
  const insns = prog.insns;
  const lengths = new Int32Array(insns.length).fill(-1);
  const calleeRegsUsed = detectRegUsage(insns);
  const prologue = emitPrologue(prog.stackDepth, prog.wasClassic, facts) + pushCalleeRegs(calleeRegsUsed);
  const p: Pass = { prog, facts, addrs, ctx, padding: jmpPadding, calleeRegsUsed, proglen: prologue, seenExit: false };
  addrs[0] = p.proglen; // :1681
  for (let i = 1; i <= insns.length; i++) {
    const insn = insns[i - 1]!;
    const m = memo === null ? -1 : memo[i - 1]!;
    const r = m >= 0 ? m : insnLength(p, i, insn);
    if (typeof r !== 'number') return { proglen: r.errno, prologue, lengths, error: r };
    const ilen = r;
    if (ilen > BPF_MAX_INSN_SIZE) {
      const e = fail(-EFAULT, 'insn-size', 'bpf_jit: fatal insn size error', i - 1);
      return { proglen: e.errno, prologue, lengths, error: e };
    }
    if (emitting && (p.proglen + ilen > oldproglen || p.proglen + ilen !== addrs[i]!)) {
      // :2739 ii) addrs[i] did not change from the prior run
      const e = fail(-EFAULT, 'emit-mismatch', 'bpf_jit: fatal error', i - 1);
      lengths[i - 1] = ilen;
      return { proglen: e.errno, prologue, lengths, error: e };
    }
    lengths[i - 1] = ilen;
    p.proglen += ilen;
    addrs[i] = p.proglen; // :2747
  }
  return { proglen: p.proglen, prologue, lengths, error: null };
}

/**
 * Model speed-up (no kernel counterpart): the bytes of every insn that is neither a jump nor an exit,
 * which depend on the insn and the facts only, never on addrs[] or the pass; -1 for the others (and
 * for an insn do_jit fails on), which every pass computes as do_jit does.
 */
export function staticLengths(prog: JitProgram, facts: X86JitFacts): Int32Array {
  const out = new Int32Array(prog.insns.length).fill(-1);
  const p: Pass = { prog, facts, addrs: new Int32Array(prog.insns.length + 1), ctx: { cleanupAddr: 0 }, padding: false, calleeRegsUsed: detectRegUsage(prog.insns), proglen: 0, seenExit: false };
  prog.insns.forEach((insn, k) => {
    const cls = bpfClass(insn.code);
    if ((cls === 0x05 || cls === BPF_JMP32) && insn.code !== (0x05 | BPF_CALL)) return;
    const r = insnLength(p, k + 1, insn);
    if (typeof r === 'number') out[k] = r;
  });
  return out;
}

/** cfi_get_offset() (arch/x86/include/asm/cfi.h): the preamble bytes before prog->bpf_func. */
export function cfiGetOffset(facts: X86JitFacts): number {
  if (facts.cfi === 'fineibt') return 16;
  if (facts.cfi === 'kcfi') return 5 + facts.cfiPadding;
  return 0;
}

// arch/x86/net/bpf_jit_comp.c:3645 bpf_int_jit_compile (6.6.80:2754)
/**
 * The JIT's passes over a program, with every allocation succeeding: nothing when the JIT was not
 * requested; with fp->blinding_requested, over the constant-blinded clone (bpf_jit_blind_constants,
 * model/jit/blind.ts), which replaces the program when the JIT succeeds and is released when it
 * fails. `jited: false` is the kernel's fallback to the interpreter (`prog = orig_prog`), which
 * bpf_prog_select_runtime turns into -ENOTSUPP when the JIT is required (jitRejection).
 */
export function bpfIntJitCompile(orig: JitProgram, facts: X86JitFacts): JitResult {
  // :3664 if (!prog->jit_requested) return orig_prog;
  if (orig.jitRequested === false) return { jited: false, reason: 'not-requested', message: null, pass: 0, insn: null, passes: [], blinded: null, blindedFrom: null };
  // :3667 tmp = bpf_jit_blind_constants(prog); an error falls back to the interpreter (:3672)
  const tmp = bpfJitBlindConstants(orig.insns, orig.blindingRequested === true, orig.rnd ?? blindingRandom());
  if (!('insns' in tmp)) return { jited: false, reason: 'blinding-failed', message: null, pass: 0, insn: null, passes: [], blinded: null, blindedFrom: null };
  const blinded = tmp.insns !== orig.insns ? tmp.insns : null;
  const blindedFrom = blinded === null ? null : tmp.from;
  const prog: JitProgram = blinded === null ? orig : { ...orig, insns: blinded };
  const len = prog.insns.length;
  const addrs = new Int32Array(len + 1);
  // :3726 a rough first estimate: 64 bytes per insn
  let proglen = 0;
  for (let i = 0; i <= len; i++) {
    proglen += 64;
    addrs[i] = proglen;
  }
  const ctx: JitContext = { cleanupAddr: proglen };
  const memo = staticLengths(prog, facts);
  const passes: JitPass[] = [];
  let oldproglen = 0;
  let padding = false;
  let image = false;
  for (let pass = 0; pass < MAX_PASSES || image; pass++) {
    if (!padding && pass >= PADDING_PASSES) padding = true;
    const run = doJit(prog, addrs, image, oldproglen, ctx, padding, facts, memo);
    passes.push({ pass, padding, emitting: image, prologue: run.prologue, lengths: run.lengths, proglen: run.proglen });
    if (run.error !== null) {
      // :3744 proglen <= 0: out_image, fall back to the interpreter
      return { jited: false, reason: run.error.reason, message: run.error.message, pass, insn: run.error.insn, passes, blinded, blindedFrom };
    }
    proglen = run.proglen;
    if (image) {
      if (proglen !== oldproglen) {
        return { jited: false, reason: 'proglen-mismatch', message: `bpf_jit: proglen=${proglen} != oldproglen=${oldproglen}`, pass, insn: null, passes, blinded, blindedFrom };
      }
      return { jited: true, proglen, jitedLen: proglen - cfiGetOffset(facts), passes, blinded, blindedFrom };
    }
    // :3769 the total did not change: allocate the image (bpf_jit_binary_pack_alloc; -ENOMEM not modelled)
    if (proglen === oldproglen) image = true;
    oldproglen = proglen;
  }
  return { jited: false, reason: 'not-converged', message: null, pass: MAX_PASSES, insn: null, passes, blinded, blindedFrom };
}

/**
 * The attach verdict of a JIT outcome when the JIT is required (kernel/bpf/core.c bpf_prog_select_runtime:
 * `if (!fp->jited && jit_needed) { *err = -ENOTSUPP; ... }`): null when jited. `pcOf` maps an eBPF insn
 * index to the classic pc it came from (the converter's map), for the rejection's pc.
 */
export function jitRejection(r: JitResult, pcOf: ((insn: number) => number | null) | null = null): Rejection | null {
  if (r.jited) return null;
  // an insn of the blinded clone is reported at the insn of the program it came from
  const insn = r.insn === null ? null : r.blindedFrom === null ? r.insn : r.blindedFrom[r.insn]!;
  const pc = insn === null || pcOf === null ? null : pcOf(insn);
  return reject(-ENOTSUPP, 'runtime', `jit-${r.reason}`, pc, JIT_FAILURE_AT[r.reason]);
}

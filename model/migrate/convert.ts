// bpf_convert_filter: classic BPF -> eBPF, bit-exact with Linux v6.6, and the pieces of
// bpf_migrate_filter around it (net/core/filter.c, 6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6
// @ 79226fb0ba80; line numbers are that tree's, counted from the start of the file).
//
// The kernel calls bpf_convert_filter twice (bpf_migrate_filter, F:1277 and F:1297):
//  1. new_prog == NULL: only counts. addrs is NULL, so every jump gets off = 0 - slot; the target
//     and offset range checks still run. The prologue counts 3; `seen_ld_abs` adds 4 at the end.
//  2. new_prog != NULL: addrs = kcalloc(len) (all zero) and the do_pass loop: iteration 1 emits
//     with addrs[] filled only up to the current insn, so a forward target still reads 0 and
//     off = -(addrs[i] + 1 + slot) — which fails the s16 range check once a jump sits past eBPF
//     index ~32767 (digest A4); iteration 2 has every addrs[] and, the lengths being independent of
//     the offsets, the same length, which ends the loop (pass 2). `pass > 2` is an error that
//     cannot happen for that reason, and so is the BUG_ON(*new_len != new_flen) after it.
// Every `goto err` is -EINVAL.
import {
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_ABS,
  BPF_LSH,
  BPF_MAXINSNS,
  BPF_MOD,
  BPF_ST,
  BPF_SUB,
  BPF_W,
  BPF_X,
  BPF_XOR,
  EINVAL,
  ENOTSUPP,
  bpfClass,
  bpfMode,
  bpfOp,
  bpfRval,
  bpfSrc,
} from '../uapi.js';
import type { Program, SockFilter } from '../cbpf/insn.js';
import type { KernelConfig } from '../config.js';
import { reject, type Rejection } from '../verdict.js';
import {
  BPF_JLE,
  BPF_JLT,
  BPF_JNE,
  BPF_REG_0,
  BPF_REG_A,
  BPF_REG_ARG1,
  BPF_REG_CTX,
  BPF_REG_D,
  BPF_REG_FP,
  BPF_REG_H,
  BPF_REG_TMP,
  BPF_REG_X,
  type BpfInsn,
  bpfAlu32Imm,
  bpfAlu32Reg,
  bpfExitInsn,
  bpfJmpImm,
  bpfLdxMem,
  bpfMov32Imm,
  bpfMov32Raw,
  bpfMov32Reg,
  bpfMov64Reg,
  bpfRawInsn,
  bpfStxMem,
} from '../ebpf/insn.js';
import { SK_BUFF } from '../ebpf/layout.js';
import { convertBpfExtensions } from './extensions.js';
import { convertBpfLdAbs } from './ldabs.js';
import { bpfInterpreterStackSize } from '../ebpf/interp.js';
import { bpfProgSize } from './charge.js';
import { bpfIntJitCompile, jitRejection, type JitResult } from '../jit/x86.js';
import { bpfJitBlindConstants, bpfJitBlindingEnabled } from '../jit/blind.js';

export interface ConvertResult {
  readonly ok: true;
  /** The eBPF program (prologue included). */
  readonly insns: BpfInsn[];
  /** new_prog->aux->stack_depth: 4 * (max k of any ST/STX) + 4, or 0. */
  readonly stackDepth: number;
  /** Whether the program uses packet loads (LD ABS non-ancillary, LD IND, LDX MSH): the 7-insn prologue. */
  readonly seenLdAbs: boolean;
  /** classic pc -> [first eBPF index, end): map[2*pc], map[2*pc+1]. */
  readonly map: Int32Array;
  /** Iterations of the do_pass loop in the second call (2 for every program that converts). */
  readonly passes: number;
}

/** The convert-stage rules: name -> kernel line. */
export const CONVERT_RULE_AT = {
  'bad-len': 'net/core/filter.c:582',
  'jump-target-out-of-range': 'net/core/filter.c:704',
  'jump-offset-overflow': 'net/core/filter.c:710',
  'unknown-opcode': 'net/core/filter.c:879',
  'too-many-passes': 'net/core/filter.c:901',
} as const;
export type ConvertRule = keyof typeof CONVERT_RULE_AT;

const fail = (rule: ConvertRule, pc: number | null): Rejection => reject(-EINVAL, 'convert', rule, pc, CONVERT_RULE_AT[rule]);

const S16_MIN = -0x8000;
const S16_MAX = 0x7fff;

/** State shared by the instructions of one bpf_convert_filter call. */
interface CallState {
  readonly prog: Program;
  readonly len: number;
  readonly config: KernelConfig;
  /** NULL in the first call */
  readonly addrs: Int32Array | null;
  /** whether new_prog != NULL (stack_depth is only tracked then, F:834) */
  readonly newProg: boolean;
  seenLdAbs: boolean;
  stackDepth: number;
}

// net/core/filter.c:699 BPF_EMIT_JMP, as a function: `out.length` is `insn - tmp_insns`, the slot.
function emitJmp(st: CallState, i: number, out: BpfInsn[], target: number, code: number, dst: number, src: number, imm: number): Rejection | null {
  if (target >= st.len || target < 0) return fail('jump-target-out-of-range', i);
  let off = st.addrs ? st.addrs[target]! - st.addrs[i]! - 1 : 0;
  off -= out.length; // F:708 adjust for the 2nd or 3rd insn of the expansion
  if (off < S16_MIN || off > S16_MAX) return fail('jump-offset-overflow', i);
  out.push(bpfRawInsn(code, dst, src, off, imm));
  return null;
}

// net/core/filter.c:721 bpf_convert_filter: the conditional jumps (JEQ, JSET, JGT, JGE; K and X)
function convertCondJump(st: CallState, i: number, fp: SockFilter, out: BpfInsn[]): Rejection | null {
  let src: number;
  let imm: number;
  let bpfSrcBit: number;
  if (bpfSrc(fp.code) === BPF_K && (fp.k | 0) < 0) {
    // F:734 immediates are signed: zero-extend k into TMP and compare registers
    out.push(bpfMov32Imm(BPF_REG_TMP, fp.k));
    src = BPF_REG_TMP;
    imm = 0;
    bpfSrcBit = BPF_X;
  } else {
    // F:740 note imm = k for the X forms too
    imm = fp.k;
    bpfSrcBit = bpfSrc(fp.code);
    src = bpfSrcBit === BPF_X ? BPF_REG_X : 0;
  }
  const op = bpfOp(fp.code);

  // F:747 jump_false is the next insn: one jump (also jt == jf == 0)
  if (fp.jf === 0) return emitJmp(st, i, out, i + fp.jt + 1, BPF_JMP | op | bpfSrcBit, BPF_REG_A, src, imm);

  // F:755 jump_true is the next insn: invert JEQ/JGT/JGE (JSET has no inverse)
  if (fp.jt === 0) {
    const inverted = op === BPF_JEQ ? BPF_JNE : op === BPF_JGT ? BPF_JLE : op === BPF_JGE ? BPF_JLT : -1;
    if (inverted >= 0) return emitJmp(st, i, out, i + fp.jf + 1, BPF_JMP | inverted | bpfSrcBit, BPF_REG_A, src, imm);
  }

  // F:774 jmp_rest: Jxx to jt, then JA to jf
  const r = emitJmp(st, i, out, i + fp.jt + 1, BPF_JMP | op | bpfSrcBit, BPF_REG_A, src, imm);
  if (r) return r;
  return emitJmp(st, i, out, i + fp.jf + 1, BPF_JMP | BPF_JA, 0, 0, 0);
}

// One turn of the F:629 loop body: the tmp_insns[] expansion of classic insn i.
function convertInsn(st: CallState, i: number): BpfInsn[] | Rejection {
  const fp = st.prog[i]!;
  const out: BpfInsn[] = [];
  switch (fp.code) {
    // F:637 all arithmetic insns and skb loads map as-is
    case 0x0c: case 0x04: case 0x1c: case 0x14: case 0x5c: case 0x54: case 0x4c: case 0x44: // ADD SUB AND OR
    case 0x6c: case 0x64: case 0x7c: case 0x74: case 0xac: case 0xa4: case 0x2c: case 0x24: // LSH RSH XOR MUL
    case 0x3c: case 0x34: case 0x9c: case 0x94: case 0x84: // DIV MOD NEG
    case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50: { // LD ABS W/H/B, LD IND W/H/B
      // F:669 an overloaded ancillary load converts directly
      if (bpfClass(fp.code) === BPF_LD && bpfMode(fp.code) === BPF_ABS) {
        const ext = convertBpfExtensions(fp, st.config);
        if (ext) return ext;
      }
      if (bpfClass(fp.code) === BPF_LD) {
        const ld = convertBpfLdAbs(fp, st.config);
        if (ld) {
          st.seenLdAbs = true;
          return ld;
        }
      }
      // F:679 DIV/MOD by X: X == 0 returns 0, as classic BPF always did
      if (fp.code === (BPF_ALU | BPF_DIV | BPF_X) || fp.code === (BPF_ALU | BPF_MOD | BPF_X)) {
        out.push(bpfMov32Reg(BPF_REG_X, BPF_REG_X));
        // H8 variant: the pre-2018 conversion (68fda450a7df's MOV32 only) left the X == 0 test to the interpreter
        if (st.config.divXGuard)
          out.push(bpfJmpImm(BPF_JNE, BPF_REG_X, 0, 2), bpfAlu32Reg(BPF_XOR, BPF_REG_A, BPF_REG_A), bpfExitInsn());
      }
      // F:690 the classic code unchanged, dst = A and src = X even for the K forms and NEG
      out.push(bpfRawInsn(fp.code, BPF_REG_A, BPF_REG_X, 0, fp.k));
      return out;
    }

    case BPF_JMP | BPF_JA: {
      // F:715 target = i + k + 1, computed in unsigned int and stored in an int
      const r = emitJmp(st, i, out, (i + fp.k + 1) | 0, fp.code, 0, 0, 0);
      return r ?? out;
    }

    case 0x15: case 0x1d: case 0x45: case 0x4d: case 0x25: case 0x2d: case 0x35: case 0x3d: {
      const r = convertCondJump(st, i, fp, out);
      return r ?? out;
    }

    case 0xb1: {
      // F:787 ldxb 4*([k]&0xf): X = A; A = byte at k (or return 0); A = (A & 0xf) << 2; swap A and X
      const tmp: SockFilter = { code: BPF_LD | BPF_ABS | BPF_B, jt: 0, jf: 0, k: fp.k };
      st.seenLdAbs = true;
      out.push(bpfMov64Reg(BPF_REG_X, BPF_REG_A));
      out.push(...convertBpfLdAbs(tmp, st.config)!);
      out.push(bpfAlu32Imm(BPF_AND, BPF_REG_A, 0xf));
      out.push(bpfAlu32Imm(BPF_LSH, BPF_REG_A, 2));
      out.push(bpfMov64Reg(BPF_REG_TMP, BPF_REG_X));
      out.push(bpfMov64Reg(BPF_REG_X, BPF_REG_A));
      out.push(bpfMov64Reg(BPF_REG_A, BPF_REG_TMP));
      return out;
    }

    case 0x16: // RET A
    case 0x06: // RET K
      // F:815 RET K moves k into R0 first; RET A needs nothing, A is R0
      if (bpfRval(fp.code) === BPF_K) out.push(bpfMov32Raw(BPF_K, BPF_REG_0, 0, fp.k));
      out.push(bpfExitInsn());
      return out;

    case 0x02: // ST
    case 0x03: { // STX
      // F:824 M[k] lives at FP - (4k + 4)
      const stackOff = (fp.k * 4 + 4) | 0;
      out.push(bpfStxMem(BPF_W, BPF_REG_FP, bpfClass(fp.code) === BPF_ST ? BPF_REG_A : BPF_REG_X, -stackOff));
      // F:834 stack_depth (u32) is only tracked on the real calls
      if (st.newProg && st.stackDepth >>> 0 < stackOff >>> 0) st.stackDepth = stackOff >>> 0;
      return out;
    }

    case 0x60: // LD MEM
    case 0x61: { // LDX MEM
      const stackOff = (fp.k * 4 + 4) | 0;
      out.push(bpfLdxMem(BPF_W, bpfClass(fp.code) === BPF_LD ? BPF_REG_A : BPF_REG_X, BPF_REG_FP, -stackOff));
      return out;
    }

    case 0x00: // LD IMM
    case 0x01: // LDX IMM
      out.push(bpfMov32Imm(bpfClass(fp.code) === BPF_LD ? BPF_REG_A : BPF_REG_X, fp.k));
      return out;

    case 0x07: // TAX
      out.push(bpfMov64Reg(BPF_REG_X, BPF_REG_A));
      return out;

    case 0x87: // TXA
      out.push(bpfMov64Reg(BPF_REG_A, BPF_REG_X));
      return out;

    case 0x80: // LD W LEN
    case 0x81: // LDX W LEN
      out.push(bpfLdxMem(BPF_W, bpfClass(fp.code) === BPF_LD ? BPF_REG_A : BPF_REG_X, BPF_REG_CTX, SK_BUFF.len.offset));
      return out;

    case 0x21: // LDX W ABS: seccomp_data access, A = *(u32 *)(ctx + k); unreachable for sockets
      out.push(bpfLdxMem(BPF_W, BPF_REG_A, BPF_REG_CTX, fp.k));
      return out;

    default:
      return fail('unknown-opcode', i);
  }
}

// net/core/filter.c:595 bpf_convert_filter: the prologue (F:602-623)
function prologue(seenLdAbs: boolean): BpfInsn[] {
  const out = [
    bpfAlu32Reg(BPF_XOR, BPF_REG_A, BPF_REG_A),
    bpfAlu32Reg(BPF_XOR, BPF_REG_X, BPF_REG_X),
    bpfMov64Reg(BPF_REG_CTX, BPF_REG_ARG1),
  ];
  if (seenLdAbs) {
    // cache skb->data in R8 and headlen = len - data_len in R9 (F:616-623)
    out.push(bpfLdxMem(0x18, BPF_REG_D, BPF_REG_CTX, SK_BUFF.data.offset)); // BPF_FIELD_SIZEOF(data) = DW
    out.push(bpfLdxMem(BPF_W, BPF_REG_H, BPF_REG_CTX, SK_BUFF.len.offset));
    out.push(bpfLdxMem(BPF_W, BPF_REG_TMP, BPF_REG_CTX, SK_BUFF.dataLen.offset));
    out.push(bpfAlu32Reg(BPF_SUB, BPF_REG_H, BPF_REG_TMP));
  }
  return out;
}

/** What one call of bpf_convert_filter leaves behind. */
export interface ConvertCall {
  /** *new_len: the count (first call) or the emitted length (second call). */
  readonly newLen: number;
  /** *seen_ld_abs after the call. */
  readonly seenLdAbs: boolean;
  /** The emitted program (second call only). */
  readonly insns: BpfInsn[] | null;
  /** new_prog->aux->stack_depth (second call only; 0 in the first). */
  readonly stackDepth: number;
  /** do_pass iterations run (second call), 1 for the first call. */
  readonly passes: number;
  /** The addrs[] of the last iteration (second call), and the end of each expansion. */
  readonly addrs: Int32Array | null;
  readonly ends: Int32Array | null;
}

// net/core/filter.c:569 bpf_convert_filter
/**
 * One call of bpf_convert_filter(prog, len, new_prog, new_len, seen_ld_abs). `newProgLen` is null
 * for the first (length-only) call, else fp->len of the reallocated program, which the kernel
 * BUG_ONs against the emitted length. `seenLdAbs` is the in/out flag.
 */
export function bpfConvertFilterCall(
  prog: Program,
  config: KernelConfig,
  newProgLen: number | null,
  seenLdAbs: boolean,
): ConvertCall | Rejection {
  const len = prog.length;
  if (len <= 0 || len > BPF_MAXINSNS) return fail('bad-len', null);
  const newProg = newProgLen !== null;
  // F:585 kcalloc: all zero (the -ENOMEM of a failed allocation is not modelled)
  const addrs = newProg ? new Int32Array(len) : null;
  // model helper: where each expansion ends (for ConvertResult.map)
  const ends = newProg ? new Int32Array(len) : null;
  const st: CallState = { prog, len, config, addrs, newProg, seenLdAbs, stackDepth: 0 };
  let newFlen = 0;
  let pass = 0;

  for (;;) {
    // F:593 do_pass
    const emitted: BpfInsn[] | null = newProg ? prologue(st.seenLdAbs) : null;
    let count = 3 + (newProg && st.seenLdAbs ? 4 : 0); // F:626 `new_insn += 3` in the first call
    for (let i = 0; i < len; i++) {
      if (addrs) addrs[i] = count;
      const r = convertInsn(st, i);
      if (!Array.isArray(r)) return r;
      if (emitted) for (let j = 0; j < r.length; j++) emitted.push(r[j]!);
      count += r.length;
      if (ends) ends[i] = count;
    }

    if (!newProg) {
      // F:890 only calculating the new length
      return { newLen: count + (st.seenLdAbs ? 4 : 0), seenLdAbs: st.seenLdAbs, insns: null, stackDepth: 0, passes: 1, addrs: null, ends: null };
    }

    pass++;
    if (newFlen !== count) {
      newFlen = count;
      if (pass > 2) return fail('too-many-passes', null);
      continue;
    }
    // F:907 BUG_ON(*new_len != new_flen): a kernel crash, unreachable; here a model bug
    if (newProgLen !== newFlen) throw new Error(`BUG_ON: bpf_convert_filter emitted ${newFlen} insns, expected ${newProgLen}`);
    return { newLen: newFlen, seenLdAbs: st.seenLdAbs, insns: emitted, stackDepth: st.stackDepth, passes: pass, addrs, ends };
  }
}

// net/core/filter.c:1252 bpf_migrate_filter (its two bpf_convert_filter calls, F:1277 and F:1297)
/** Convert a classic program as bpf_migrate_filter does: the length call, then the emitting call. */
export function bpfConvertFilter(prog: Program, config: KernelConfig): ConvertResult | Rejection {
  const first = bpfConvertFilterCall(prog, config, null, false);
  if ('errno' in first) return first;
  const second = bpfConvertFilterCall(prog, config, first.newLen, first.seenLdAbs);
  if ('errno' in second) return second;
  const map = new Int32Array(2 * prog.length);
  for (let i = 0; i < prog.length; i++) {
    map[2 * i] = second.addrs![i]!;
    map[2 * i + 1] = second.ends![i]!;
  }
  return { ok: true, insns: second.insns!, stackDepth: second.stackDepth, seenLdAbs: second.seenLdAbs, map, passes: second.passes };
}

/** struct bpf_prog as bpf_prog_select_runtime gets it from bpf_migrate_filter: the fields it reads. */
export interface BpfProg {
  /** fp->insnsi[0 .. fp->len): the migrated eBPF program */
  readonly insns: readonly BpfInsn[];
  /** fp->aux->stack_depth */
  readonly stackDepth: number;
  /** fp->jit_requested, set when the program was allocated (ebpf_jit_enabled()) */
  readonly jitRequested: boolean;
  /** fp->blinding_requested, set when the program was allocated (model/jit/blind.ts bpfJitBlindingEnabled) */
  readonly blindingRequested: boolean;
}

/** What the architecture's bpf_int_jit_compile made of a program. */
export interface ArchJit {
  /** fp->jited */
  readonly jited: boolean;
  /** the constant-blinded clone that replaced the program (jited only), or null */
  readonly blinded: readonly BpfInsn[] | null;
  /** the x86-64 JIT's passes (model/jit/x86.ts), or null where the record does not model its acceptance */
  readonly jit: JitResult | null;
}

/** fp->blinding_requested for a program allocated under `config` (bpf_prog_alloc_no_stats, kernel/bpf/core.c:118). */
export const blindingRequested = (config: KernelConfig): boolean =>
  bpfJitBlindingEnabled({ jitRequested: config.jitRequested, bpfJitHarden: config.bpfJitHarden, bpfCapable: config.bpfCapable });

/**
 * Model helper (no kernel function of its own): the bpf_int_jit_compile of the record's architecture.
 * On x86-64 with KernelConfig.x86Jit, the JIT's passes (arch/x86/net/bpf_jit_comp.c:3645
 * bpf_int_jit_compile, model/jit/x86.ts), blinding included; elsewhere the JIT succeeds as
 * KernelConfig.jitAvailable says, on the blinded clone when blinding is requested (every eBPF JIT
 * starts with bpf_jit_blind_constants, and a clone it cannot make leaves the program unJITed).
 */
export function archIntJitCompile(fp: BpfProg, config: KernelConfig): ArchJit {
  if (config.arch === 'x86_64' && config.x86Jit !== null && config.jitAvailable) {
    const jit = bpfIntJitCompile({ insns: fp.insns, stackDepth: fp.stackDepth, wasClassic: true, jitRequested: fp.jitRequested, blindingRequested: fp.blindingRequested }, config.x86Jit);
    return { jited: jit.jited, blinded: jit.jited ? jit.blinded : null, jit };
  }
  if (!fp.jitRequested || !config.jitAvailable) return { jited: false, blinded: null, jit: null };
  const tmp = bpfJitBlindConstants(fp.insns, fp.blindingRequested);
  if (!('insns' in tmp)) return { jited: false, blinded: null, jit: null };
  return { jited: true, blinded: tmp.insns !== fp.insns ? tmp.insns : null, jit: null };
}

/** The runtime bpf_prog_select_runtime chose, and the program it returns. */
export interface SelectedRuntime {
  readonly ok: true;
  /** fp->jited: native code (same semantics as the interpreter the model runs) */
  readonly jited: boolean;
  /** fp->len of the program returned: the blinded clone's length when the JIT compiled one */
  readonly len: number;
  readonly blinded: readonly BpfInsn[] | null;
  readonly jit: JitResult | null;
}

// kernel/bpf/core.c:2363 bpf_prog_select_runtime
/**
 * jit_needed starts as the record says (C:2368: false in v6.6.0, fp->jit_requested in 6.6.y after
 * 86bc9c742426) and CONFIG_BPF_JIT_ALWAYS_ON sets it (C:2373); bpf_prog_select_func picks the
 * interpreter by stack depth (C:2377 -> C:2341, MigratedProgram.stackSize); then the architecture's
 * bpf_int_jit_compile (archIntJitCompile) and a program that needed the JIT and did not get it is
 * refused with -ENOTSUPP (C:2390-2393): with the x86-64 JIT modelled, with its reason and the classic
 * pc (`pcOf` maps an eBPF insn to it). The JIT's program replaces fp: a blinded clone is what the
 * socket is charged for.
 */
export function bpfProgSelectRuntime(fp: BpfProg, config: KernelConfig, pcOf: ((insn: number) => number | null) | null = null): SelectedRuntime | Rejection {
  let jitNeeded = config.jitNeeded === 'jit-requested' ? fp.jitRequested : false;
  if (config.jitAlwaysOn) jitNeeded = true;
  const arch = archIntJitCompile(fp, config);
  if (!arch.jited && jitNeeded) return (arch.jit !== null ? jitRejection(arch.jit, pcOf) : null) ?? reject(-ENOTSUPP, 'runtime', 'jit-required', null, 'kernel/bpf/core.c:2393');
  return { ok: true, jited: arch.jited, len: (arch.blinded ?? fp.insns).length, blinded: arch.blinded, jit: arch.jit };
}

/** The classic pc an eBPF insn of a converted program came from (the converter's map), or null for the prologue. */
export function classicPcOf(prog: Program, converted: ConvertResult): (insn: number) => number | null {
  return (e: number): number | null => {
    for (let pc = 0; pc < prog.length; pc++) if (e >= converted.map[2 * pc]! && e < converted.map[2 * pc + 1]!) return pc;
    return null;
  };
}

/** The migrated program and how the kernel would run it. */
export interface MigratedProgram {
  readonly ok: true;
  readonly converted: ConvertResult;
  /** fp->len after bpf_prog_select_runtime: converted.insns.length, or the blinded clone's length */
  readonly len: number;
  /** bpf_prog_size(len): what __sk_filter_charge later charges. */
  readonly progSize: number;
  /** The interpreter bucket's stack size (what runs when the JIT is off). */
  readonly stackSize: number;
  /** Whether bpf_int_jit_compile produced native code (the x86 JIT; same semantics). */
  readonly jited: boolean;
  /** The constant-blinded clone the JIT compiled (bpf_jit_harden), or null. */
  readonly blinded: readonly BpfInsn[] | null;
  /** The x86-64 JIT's passes where the record models them, or null. */
  readonly jit: JitResult | null;
}

// net/core/filter.c:1252 bpf_migrate_filter
/**
 * The two conversion calls, then bpf_prog_select_runtime. `blinding` is fp->blinding_requested of the
 * program being migrated (decided when it was allocated; by default under `config`). Allocation
 * failures (-ENOMEM) are not modelled.
 */
export function bpfMigrateFilter(prog: Program, config: KernelConfig, blinding: boolean = blindingRequested(config)): MigratedProgram | Rejection {
  const converted = bpfConvertFilter(prog, config);
  if ('errno' in converted) return converted;
  const fp: BpfProg = { insns: converted.insns, stackDepth: converted.stackDepth, jitRequested: config.jitRequested, blindingRequested: blinding };
  const sel = bpfProgSelectRuntime(fp, config, classicPcOf(prog, converted));
  if ('errno' in sel) return sel;
  return {
    ok: true,
    converted,
    len: sel.len,
    progSize: bpfProgSize(sel.len, config.bpfProgHeaderSize),
    stackSize: bpfInterpreterStackSize(converted.stackDepth),
    jited: sel.jited,
    blinded: sel.blinded,
    jit: sel.jit,
  };
}

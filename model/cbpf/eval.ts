// The classic evaluator: the semantics of the last pre-eBPF kernel interpreter, sk_run_filter, with
// the Linux v3.14 text (3.14.y, with the April 2014 nlattr guards) as the reference. It runs the cBPF
// instructions directly; the kernel path (check, migrate, eBPF interpreter) lives elsewhere, and the
// two are compared by the fuzzer.
//
// Line references: "3.14:N" is line N of net/core/filter.c in an indexed copy of the 3.14.y file
// (it has PAY_OFFSET, `A /= K`, and the `skb->len < sizeof(struct nlattr)` guards; lines counted by
// hand from the top of that file, so they may be off by a line or two). "F:N" is net/core/filter.c
// and "C:N" kernel/bpf/core.c of the 6.6.y tree (eclipse-oniro-mirrors/kernel_linux_6.6), as in
// /work/shared/research/kernel-spec.md.
//
// What the evaluator assumes: a program that bpf_check_classic accepted (model/cbpf/check.ts). On any
// other program it still terminates without throwing, and documents what it does instead:
//   - a code outside the 49-code table (and RET|X etc.) ends the run with 0, as sk_run_filter's
//     `default:` branch did (3.14:397);
//   - ST/STX/LD MEM/LDX MEM with k >= 16 and DIV|K / MOD|K with k == 0 end the run with 0 (the kernel
//     would index past mem[] or trap; the checker keeps both out);
//   - a jump past the end, or running off the end without a RET, ends the run with 0;
//   - scratch cells start at 0 on every run (the kernel leaves mem[] uninitialised, and
//     check_load_and_stores guarantees that no accepted program reads a cell before writing it);
//   - LD|ABS with k >= SKF_AD_OFF that is not a known SKF_AD_* offset is run as a plain load at the
//     negative offset (int)k, which is what sk_run_filter would have done had the checker let it by.
//
// Architecture assumption: shifts. sk_run_filter did `A <<= X` / `A >>= X` (3.14:197-208) on a u32;
// a count >= 32 is undefined behaviour in C, and gcc on x86-64 emits shl/shr with the count in %cl,
// which the CPU masks with 31. The model follows x86-64: the count is taken & 31 (also for LSH_K/RSH_K,
// which the 3.14 checker accepted with k >= 32 and v6.6 rejects at F:1089).
//
// Named decision points (ClassicSemantics) make the points where classic and v6.6 differ switchable,
// so the fuzzer can predict the migrated program's result by re-running this evaluator with one
// decision switched (kernel-spec.md section 8.1). `ClassicVm.events` records which points a run reached.

import type { KernelConfig } from '../config.js';
import { DEFAULT_CONFIG } from '../config.js';
import { skbGetPoff } from '../flow.js';
import { bpfInternalLoadPointerNegHelper, bpfSkbLoadHelperConvertOffset, INT_MIN, readBe } from '../ebpf/helpers.js';
import { nlaFind, nlaFindNested, nlattrGuardFails } from '../netlink.js';
import { NLA_OOB, reciprocalDivide, reciprocalValue, skRunFilterNlattrUnchecked } from '../variants.js';
import { prandomSeedState, prandomU32State } from '../prandom.js';
import type { Env, SkBuff } from '../skb.js';
import { DEFAULT_ENV } from '../skb.js';
import {
  BPF_MEMWORDS,
  SKF_AD_ALU_XOR_X,
  SKF_AD_CPU,
  SKF_AD_HATYPE,
  SKF_AD_IFINDEX,
  SKF_AD_MARK,
  SKF_AD_NLATTR,
  SKF_AD_NLATTR_NEST,
  SKF_AD_OFF,
  SKF_AD_PAY_OFFSET,
  SKF_AD_PKTTYPE,
  SKF_AD_PROTOCOL,
  SKF_AD_QUEUE,
  SKF_AD_RANDOM,
  SKF_AD_RXHASH,
  SKF_AD_VLAN_TAG,
  SKF_AD_VLAN_TAG_PRESENT,
  SKF_AD_VLAN_TPID,
  SKF_LL_OFF,
  SKF_NET_OFF,
} from '../uapi.js';
import type { Program } from './insn.js';
import { assertInsn } from './insn.js';

// ---------------------------------------------------------------------------------------------
// Decision points

/** The switchable decisions where the classic semantics and a later kernel differ. */
export interface ClassicSemantics {
  /** IFINDEX/HATYPE with skb->dev == NULL: classic returns 0 (3.14:322); v6.6 EXITs with the current A (F:377). */
  readonly devNull: 'return0' | 'returnA';
  /** NLATTR/NLATTR_NEST guard failures: classic returns 0 (3.14:356); v6.6 helpers give A = 0 and run on (F:170). */
  readonly nlattrGuard: 'return0' | 'zeroContinue';
  /** classic: VLAN_TAG = tci & ~0x1000, PRESENT = skb.vlanPresent; v6.6: full TCI, present = vlan_all != 0 (F:331). */
  readonly vlanTag: 'classic' | 'v6.6';
  /** Negative-offset loads reaching frags: fail in 3.14 and v6.6.0 ('linear'); succeed with the 2025 backport / 6.15+ ('frags'). */
  readonly negativeLoads: 'linear' | 'frags';
  /** SKF_LL_OFF loads without a mac header: 3.14 used the unset offset 0xffff ('v3.14'); 6.6 fails them (C:81, F:222). */
  readonly macUnset: 'v3.14' | 'fail';
}

/** The classic (3.14) semantics. */
export const CLASSIC: ClassicSemantics = Object.freeze({
  devNull: 'return0',
  nlattrGuard: 'return0',
  vlanTag: 'classic',
  negativeLoads: 'linear',
  macUnset: 'v3.14',
});

/** Every decision switched to what the migrated program does on pristine v6.6.0. */
export const V6_6_0: ClassicSemantics = Object.freeze({
  devNull: 'returnA',
  nlattrGuard: 'zeroContinue',
  vlanTag: 'v6.6',
  negativeLoads: 'linear',
  macUnset: 'fail',
});

/** As V6_6_0, with the load helpers of 6.6.y after the d4bac0288a2b backport (and 6.15+). */
export const V6_6_BACKPORT: ClassicSemantics = Object.freeze({ ...V6_6_0, negativeLoads: 'frags' });

const SEMANTICS_CACHE = new Map<string, ClassicSemantics>();

/**
 * The classic semantics with every decision switched to what the kernel `config` describes does:
 * its decision fields (KernelConfig devNull, nlattrGuard, vlanTag, macUnset) and, from its load
 * helpers, negativeLoads. One frozen object per distinct answer, so callers can key caches by it.
 */
export function kernelSemantics(config: KernelConfig): ClassicSemantics {
  const negativeLoads = config.loadHelpers === 'backport' ? 'frags' : 'linear';
  const key = `${config.devNull}|${config.nlattrGuard}|${config.vlanTag}|${negativeLoads}|${config.macUnset}`;
  let sem = SEMANTICS_CACHE.get(key);
  if (sem === undefined) {
    sem = Object.freeze({ devNull: config.devNull, nlattrGuard: config.nlattrGuard, vlanTag: config.vlanTag, negativeLoads, macUnset: config.macUnset });
    SEMANTICS_CACHE.set(key, sem);
  }
  return sem;
}

// Event bits: which decision points a run reached, and how (ClassicVm.events, reset by every run).
/** IFINDEX or HATYPE loaded with skb->dev == NULL. */
export const EV_DEV_NULL = 1 << 0;
/** An NLATTR/NLATTR_NEST guard failed (nonlinear, len < 4, A > len - 4, or nest nla_len > len - A). */
export const EV_NLATTR_GUARD = 1 << 1;
/** VLAN_TAG loaded while TCI bit 12 (DEI/CFI, classic VLAN_TAG_PRESENT) is set. */
export const EV_VLAN_DEI = 1 << 2;
/** VLAN_TAG_PRESENT loaded while skb.vlanPresent disagrees with (vlanProto | vlanTci) != 0. */
export const EV_VLAN_PRESENT_ODD = 1 << 3;
/** A negative-offset load whose bytes end past the linear part but within skb->len (frags). */
export const EV_NEG_FRAG = 1 << 4;
/** An SKF_LL_OFF load on an skb whose mac header was never set. */
export const EV_MAC_UNSET = 1 << 5;
/** SKF_AD_RANDOM was loaded (the value depends on the seeded generator). */
export const EV_RANDOM = 1 << 6;
/** SKF_AD_CPU was loaded (the value depends on the machine). */
export const EV_CPU = 1 << 7;
/** SKF_AD_PAY_OFFSET was loaded (the flow dissector of the era decides). */
export const EV_POFF = 1 << 8;
/** A shift (K or X) by a count >= 32: the x86-64 masking assumption was used. */
export const EV_SHIFT_WIDE = 1 << 9;

// How a run ended (ClassicVm.exit).
/** RET K or RET A. */
export const EXIT_RET = 0;
/** A packet load failed: return 0 (3.14:247). */
export const EXIT_LOAD_FAIL = 1;
/** DIV X / MOD X with X == 0: return 0 (3.14:163). */
export const EXIT_DIV0 = 2;
/** IFINDEX/HATYPE with dev == NULL (return 0, or A under devNull 'returnA'). */
export const EXIT_DEV_NULL = 3;
/** An NLATTR guard failed under nlattrGuard 'return0'. */
export const EXIT_NLATTR_GUARD = 4;
/** A code the checker would reject (unknown code, mem index >= 16, DIV/MOD K 0): return 0. */
export const EXIT_INVALID = 5;
/** pc left the program (a jump past the end or no final RET): return 0. */
export const EXIT_FELL_OFF = 6;
/** A read past the end of the skb (only under a historical variant, model/variants.ts): return 0. */
export const EXIT_OOB = 7;

// ---------------------------------------------------------------------------------------------
// Decoded form

// Internal operation numbers, in the spirit of the 3.14 BPF_S_* codes that sk_chk_filter wrote back
// into the program (include/linux/filter.h of 3.14). Ancillary loads get their own operations.
export const enum Op {
  INVALID = 0,
  ADD_K, ADD_X, SUB_K, SUB_X, MUL_K, MUL_X, DIV_K, DIV_X, MOD_K, MOD_X,
  AND_K, AND_X, OR_K, OR_X, XOR_K, XOR_X, LSH_K, LSH_X, RSH_K, RSH_X, NEG,
  LD_W_ABS, LD_H_ABS, LD_B_ABS, LD_W_IND, LD_H_IND, LD_B_IND, LD_W_LEN, LD_IMM, LD_MEM,
  LDX_W_LEN, LDX_B_MSH, LDX_IMM, LDX_MEM, ST, STX, TAX, TXA, RET_K, RET_A,
  JA, JEQ_K, JEQ_X, JGE_K, JGE_X, JGT_K, JGT_X, JSET_K, JSET_X,
  ANC_PROTOCOL, ANC_PKTTYPE, ANC_IFINDEX, ANC_NLATTR, ANC_NLATTR_NEST, ANC_MARK, ANC_QUEUE, ANC_HATYPE,
  ANC_RXHASH, ANC_CPU, ANC_ALU_XOR_X, ANC_VLAN_TAG, ANC_VLAN_TAG_PRESENT, ANC_PAY_OFFSET, ANC_RANDOM,
  ANC_VLAN_TPID,
}

/** The 49 classic codes with their operations (the table of F:974 chk_code_allowed / 3.14 sk_chk_filter). */
const CODE_OPS: ReadonlyMap<number, Op> = new Map<number, Op>([
  [0x04, Op.ADD_K], [0x0c, Op.ADD_X], [0x14, Op.SUB_K], [0x1c, Op.SUB_X], [0x24, Op.MUL_K], [0x2c, Op.MUL_X],
  [0x34, Op.DIV_K], [0x3c, Op.DIV_X], [0x94, Op.MOD_K], [0x9c, Op.MOD_X], [0x54, Op.AND_K], [0x5c, Op.AND_X],
  [0x44, Op.OR_K], [0x4c, Op.OR_X], [0xa4, Op.XOR_K], [0xac, Op.XOR_X], [0x64, Op.LSH_K], [0x6c, Op.LSH_X],
  [0x74, Op.RSH_K], [0x7c, Op.RSH_X], [0x84, Op.NEG],
  [0x20, Op.LD_W_ABS], [0x28, Op.LD_H_ABS], [0x30, Op.LD_B_ABS], [0x40, Op.LD_W_IND], [0x48, Op.LD_H_IND],
  [0x50, Op.LD_B_IND], [0x80, Op.LD_W_LEN], [0x00, Op.LD_IMM], [0x60, Op.LD_MEM],
  [0x81, Op.LDX_W_LEN], [0xb1, Op.LDX_B_MSH], [0x01, Op.LDX_IMM], [0x61, Op.LDX_MEM],
  [0x02, Op.ST], [0x03, Op.STX], [0x07, Op.TAX], [0x87, Op.TXA], [0x06, Op.RET_K], [0x16, Op.RET_A],
  [0x05, Op.JA], [0x15, Op.JEQ_K], [0x1d, Op.JEQ_X], [0x35, Op.JGE_K], [0x3d, Op.JGE_X], [0x25, Op.JGT_K],
  [0x2d, Op.JGT_X], [0x45, Op.JSET_K], [0x4d, Op.JSET_X],
]);

/** SKF_AD_* offset -> ancillary operation (3.14:ANCILLARY list in sk_chk_filter, plus RANDOM and VLAN_TPID). */
const ANC_OPS: ReadonlyMap<number, Op> = new Map<number, Op>([
  [SKF_AD_PROTOCOL, Op.ANC_PROTOCOL], [SKF_AD_PKTTYPE, Op.ANC_PKTTYPE], [SKF_AD_IFINDEX, Op.ANC_IFINDEX],
  [SKF_AD_NLATTR, Op.ANC_NLATTR], [SKF_AD_NLATTR_NEST, Op.ANC_NLATTR_NEST], [SKF_AD_MARK, Op.ANC_MARK],
  [SKF_AD_QUEUE, Op.ANC_QUEUE], [SKF_AD_HATYPE, Op.ANC_HATYPE], [SKF_AD_RXHASH, Op.ANC_RXHASH],
  [SKF_AD_CPU, Op.ANC_CPU], [SKF_AD_ALU_XOR_X, Op.ANC_ALU_XOR_X], [SKF_AD_VLAN_TAG, Op.ANC_VLAN_TAG],
  [SKF_AD_VLAN_TAG_PRESENT, Op.ANC_VLAN_TAG_PRESENT], [SKF_AD_PAY_OFFSET, Op.ANC_PAY_OFFSET],
  [SKF_AD_RANDOM, Op.ANC_RANDOM], [SKF_AD_VLAN_TPID, Op.ANC_VLAN_TPID],
]);

/** A classic program decoded once into flat typed arrays, ready to be run many times. */
export interface ClassicProgram {
  readonly len: number;
  /** The original 16-bit codes (for traces). */
  readonly code: Uint16Array;
  /** The internal operation of each instruction (ancillary loads and invalid instructions resolved). */
  readonly ops: Uint8Array;
  readonly jt: Uint8Array;
  readonly jf: Uint8Array;
  readonly k: Uint32Array;
}

// 3.14 sk_chk_filter (3.14:483) rewrote each code to its BPF_S_* operation, and LD|ABS at a known
// SKF_AD_* offset to BPF_S_ANC_*; this is the same decoding, done once per program.
/** Decode a program for ClassicVm.run. Throws a RangeError on a field outside its C width (API misuse). */
export function compileClassic(prog: Program): ClassicProgram {
  const len = prog.length;
  const k = new Uint32Array(len);
  const code = new Uint16Array(len);
  const ops = new Uint8Array(len);
  const jt = new Uint8Array(len);
  const jf = new Uint8Array(len);
  for (let pc = 0; pc < len; pc++) {
    const insn = prog[pc]!;
    assertInsn(insn, pc);
    code[pc] = insn.code;
    jt[pc] = insn.jt;
    jf[pc] = insn.jf;
    k[pc] = insn.k;
    ops[pc] = decodeOp(insn.code, insn.k >>> 0);
  }
  return { len, code, ops, jt, jf, k };
}

// 3.14 sk_chk_filter: the BPF_S_* operation of one instruction (ancillary loads resolved, invalid ones marked)
export function decodeOp(code: number, k: number): Op {
  const op = CODE_OPS.get(code) ?? Op.INVALID;
  switch (op) {
    case Op.LD_W_ABS:
    case Op.LD_H_ABS:
    case Op.LD_B_ABS: {
      // Ancillary loads: LD|ABS of any size at SKF_AD_OFF + SKF_AD_* (F:350 convert_bpf_extensions).
      const ad = k - (SKF_AD_OFF >>> 0);
      return ad >= 0 ? (ANC_OPS.get(ad) ?? op) : op;
    }
    case Op.LD_MEM:
    case Op.LDX_MEM:
    case Op.ST:
    case Op.STX:
      return k < BPF_MEMWORDS ? op : Op.INVALID; // the checker rejects k >= 16 (F:1097)
    case Op.DIV_K:
    case Op.MOD_K:
      return k !== 0 ? op : Op.INVALID; // the checker rejects k == 0 (F:1084)
    default:
      return op;
  }
}

// ---------------------------------------------------------------------------------------------
// The machine

/** One executed instruction with the registers as they were when it started (tracing only). */
export interface ClassicStep {
  readonly pc: number;
  readonly code: number;
  readonly k: number;
  readonly A: number;
  readonly X: number;
  readonly M: readonly number[];
}

/**
 * skb->mac_header of an skb whose mac header was never set, in 3.14: (typeof(mac_header))~0U with the
 * 16-bit header offsets from head (UNVERIFIED against 3.14's include/linux/skbuff.h: recalled as
 * introduced in v3.13; before that the offset was 32 bits and an unset header pointed far away).
 */
export const MAC_UNSET_OFFSET = 0xffff;

/** Reusable classic machine: state in typed arrays, nothing allocated per step unless tracing. */
export class ClassicVm {
  /** Event bits (EV_*) of the last run. */
  events = 0;
  /** How the last run ended (EXIT_*). */
  exit = EXIT_RET;
  /** pc of the instruction that ended the last run (a pc >= len when it ran off the end). */
  exitPc = 0;
  /** Instructions executed by the last run. */
  steps = 0;
  /** A and X when the last run ended. */
  a = 0;
  x = 0;
  /**
   * Scratch memory M[0..15] (3.14:129 u32 mem[BPF_MEMWORDS], uninitialised in the kernel; the model
   * clears it before each run, and check_load_and_stores keeps accepted programs from telling).
   */
  readonly mem = new Uint32Array(BPF_MEMWORDS);
  private readonly rnd = new Uint32Array(4);

  constructor(
    readonly config: KernelConfig = DEFAULT_CONFIG,
    readonly sem: ClassicSemantics = CLASSIC,
  ) {}

  // 3.14:123 sk_run_filter (6.6: the migrated program run by ___bpf_prog_run)
  /** Run a decoded program on an skb; returns the filter's u32 result. */
  run(p: ClassicProgram, skb: SkBuff, env: Env = DEFAULT_ENV, trace: ClassicStep[] | null = null): number {
    const { ops, k: ks, jt, jf, len } = p;
    const mem = this.mem;
    mem.fill(0);
    this.events = 0;
    let A = 0; // 3.14:127 u32 A = 0
    let X = 0; // 3.14:128 u32 X = 0
    let pc = 0;
    let steps = 0;
    let exit = EXIT_RET;
    let ret = 0;
    let v = 0;
    run: for (; ; pc++) {
      if (pc >= len) {
        exit = EXIT_FELL_OFF;
        break;
      }
      const K = ks[pc]!;
      steps++;
      if (trace !== null) trace.push({ pc, code: p.code[pc]!, k: K, A, X, M: Array.from(mem) });
      switch (ops[pc]) {
        case Op.ADD_X: A = (A + X) >>> 0; continue;
        case Op.ADD_K: A = (A + K) >>> 0; continue;
        case Op.SUB_X: A = (A - X) >>> 0; continue;
        case Op.SUB_K: A = (A - K) >>> 0; continue;
        case Op.MUL_X: A = Math.imul(A, X) >>> 0; continue;
        case Op.MUL_K: A = Math.imul(A, K) >>> 0; continue;
        case Op.DIV_X: // 3.14:162
          if (X === 0) {
            exit = EXIT_DIV0;
            break run;
          }
          A = Math.floor(A / X) >>> 0;
          continue;
        case Op.DIV_K: // 3.14:167 A /= K (KernelConfig.classicDivK 'reciprocal': the pre-3.14 reciprocal multiply)
          A = this.config.classicDivK === 'reciprocal' ? reciprocalDivide(A, reciprocalValue(K)) : Math.floor(A / K) >>> 0; // model/variants.ts
          continue;
        case Op.MOD_X: // 3.14:170
          if (X === 0) {
            exit = EXIT_DIV0;
            break run;
          }
          A = A % X;
          continue;
        case Op.MOD_K: A = A % K; continue;
        case Op.AND_X: A = (A & X) >>> 0; continue;
        case Op.AND_K: A = (A & K) >>> 0; continue;
        case Op.OR_X: A = (A | X) >>> 0; continue;
        case Op.OR_K: A = (A | K) >>> 0; continue;
        case Op.XOR_X:
        case Op.ANC_ALU_XOR_X: // 3.14:190 BPF_S_ANC_ALU_XOR_X shares the XOR_X case
          A = (A ^ X) >>> 0;
          continue;
        case Op.XOR_K: A = (A ^ K) >>> 0; continue;
        // 3.14:197 shifts: x86-64 masks the count with 31 (JS shift operators do the same).
        case Op.LSH_X:
          if (X >= 32) {
            this.events |= EV_SHIFT_WIDE;
            // KernelConfig.classicShiftX 'zero': libpcap's bpf_filter gives 0 for a count >= 32
            if (this.config.classicShiftX === 'zero') {
              A = 0;
              continue;
            }
          }
          A = (A << (X & 31)) >>> 0;
          continue;
        case Op.LSH_K:
          if (K >= 32) this.events |= EV_SHIFT_WIDE;
          A = (A << (K & 31)) >>> 0;
          continue;
        case Op.RSH_X:
          if (X >= 32) {
            this.events |= EV_SHIFT_WIDE;
            if (this.config.classicShiftX === 'zero') {
              A = 0;
              continue;
            }
          }
          A = A >>> (X & 31);
          continue;
        case Op.RSH_K:
          if (K >= 32) this.events |= EV_SHIFT_WIDE;
          A = A >>> (K & 31);
          continue;
        case Op.NEG: A = -A >>> 0; continue; // 3.14:209
        case Op.JA: pc += K; continue; // 3.14:212 fentry += K, then the loop's fentry++
        case Op.JGT_K: pc += A > K ? jt[pc]! : jf[pc]!; continue;
        case Op.JGE_K: pc += A >= K ? jt[pc]! : jf[pc]!; continue;
        case Op.JEQ_K: pc += A === K ? jt[pc]! : jf[pc]!; continue;
        case Op.JSET_K: pc += (A & K) !== 0 ? jt[pc]! : jf[pc]!; continue;
        case Op.JGT_X: pc += A > X ? jt[pc]! : jf[pc]!; continue;
        case Op.JGE_X: pc += A >= X ? jt[pc]! : jf[pc]!; continue;
        case Op.JEQ_X: pc += A === X ? jt[pc]! : jf[pc]!; continue;
        case Op.JSET_X: pc += (A & X) !== 0 ? jt[pc]! : jf[pc]!; continue;
        // 3.14:239 LD ABS: k = K as int; load_pointer; NULL -> return 0
        case Op.LD_W_ABS: v = this.loadPointer(skb, K | 0, 4); break;
        case Op.LD_H_ABS: v = this.loadPointer(skb, K | 0, 2); break;
        case Op.LD_B_ABS: v = this.loadPointer(skb, K | 0, 1); break;
        // 3.14:272 LD IND: k = X + K (u32 wrap, then int)
        case Op.LD_W_IND: v = this.loadInd(skb, X, K, 4); break;
        case Op.LD_H_IND: v = this.loadInd(skb, X, K, 2); break;
        case Op.LD_B_IND: v = this.loadInd(skb, X, K, 1); break;
        case Op.LD_W_LEN: A = skb.data.length; continue; // 3.14:266 A = skb->len
        case Op.LDX_W_LEN: X = skb.data.length; continue;
        case Op.LDX_B_MSH: // 3.14:281 X = (*ptr & 0xf) << 2; A is left alone
          v = this.loadPointer(skb, K | 0, 1);
          if (v < 0) {
            exit = EXIT_LOAD_FAIL;
            break run;
          }
          X = (v & 0xf) << 2;
          continue;
        case Op.LD_IMM: A = K; continue;
        case Op.LDX_IMM: X = K; continue;
        case Op.LD_MEM: A = mem[K]!; continue;
        case Op.LDX_MEM: X = mem[K]!; continue;
        case Op.TAX: // 3.14:300 X = A (KernelConfig.classicTax 'a-from-x': gVisor's pkg/bpf does A = X, variant impl-gvisor-tax-txa-swapped)
          if (this.config.classicTax === 'a-from-x') A = X;
          else X = A;
          continue;
        case Op.TXA: // 3.14:303 A = X (KernelConfig.classicTxa 'x-from-a': gVisor's pkg/bpf does X = A, variant impl-gvisor-tax-txa-swapped)
          if (this.config.classicTxa === 'x-from-a') X = A;
          else A = X;
          continue;
        case Op.RET_K: ret = K; break run; // 3.14:306
        case Op.RET_A: ret = A; break run;
        case Op.ST: mem[K] = A; continue;
        case Op.STX: mem[K] = X; continue;
        // Ancillary loads (3.14:316 on)
        case Op.ANC_PROTOCOL: A = skb.protocol; continue; // ntohs(skb->protocol): the model keeps host order
        case Op.ANC_PKTTYPE: A = skb.pktType; continue;
        case Op.ANC_IFINDEX: // 3.14:322 if (!skb->dev) return 0
        case Op.ANC_HATYPE: // 3.14:333
          if (skb.dev === null) {
            this.events |= EV_DEV_NULL;
            exit = EXIT_DEV_NULL;
            // v6.6 emits `JNE TMP,0,+1; EXIT` (F:377): the program returns the current A.
            ret = this.sem.devNull === 'returnA' ? A : 0;
            break run;
          }
          A = (ops[pc] === Op.ANC_IFINDEX ? skb.dev.ifindex : skb.dev.type) >>> 0;
          continue;
        case Op.ANC_MARK: A = skb.mark >>> 0; continue;
        case Op.ANC_QUEUE: A = skb.queueMapping; continue;
        case Op.ANC_RXHASH: A = skb.hash >>> 0; continue; // skb->rxhash in 3.14, skb->hash in 6.6
        case Op.ANC_CPU: // raw_smp_processor_id()
          this.events |= EV_CPU;
          A = env.cpu >>> 0;
          continue;
        case Op.ANC_VLAN_TAG: // 3.14:344 vlan_tx_tag_get = tci & ~VLAN_TAG_PRESENT; 6.6: full TCI (F:331)
          if ((skb.vlanTci & 0x1000) !== 0) this.events |= EV_VLAN_DEI;
          A = this.sem.vlanTag === 'classic' ? skb.vlanTci & ~0x1000 : skb.vlanTci;
          continue;
        case Op.ANC_VLAN_TAG_PRESENT: {
          // 3.14:347 !!(tci & VLAN_TAG_PRESENT), kept in the model as skb.vlanPresent;
          // 6.6 (F:338): vlan_all != 0, i.e. vlan_proto or vlan_tci non-zero.
          const all = (skb.vlanProto | skb.vlanTci) !== 0;
          if (all !== skb.vlanPresent) this.events |= EV_VLAN_PRESENT_ODD;
          A = (this.sem.vlanTag === 'classic' ? skb.vlanPresent : all) ? 1 : 0;
          continue;
        }
        case Op.ANC_PAY_OFFSET: // 3.14:350 __skb_get_poff; 6.6 skb_get_poff (F:165). One dissector serves both.
          this.events |= EV_POFF;
          A = skbGetPoff(skb, this.config) >>> 0;
          continue;
        case Op.ANC_NLATTR:
          v = this.nlattr(skb, A, X, false);
          if (v < 0) {
            exit = v === NLA_OOB ? EXIT_OOB : EXIT_NLATTR_GUARD;
            break run;
          }
          A = v;
          continue;
        case Op.ANC_NLATTR_NEST:
          v = this.nlattr(skb, A, X, true);
          if (v < 0) {
            exit = v === NLA_OOB ? EXIT_OOB : EXIT_NLATTR_GUARD;
            break run;
          }
          A = v;
          continue;
        // Not in the 3.14 checker's list (it rejected both). bpfspec gives them their v6.6 meaning:
        // RANDOM = prandom_u32_state of a state seeded from env.randomSeed at the start of each run
        // (bpf_user_rnd_u32, kernel/bpf/core.c), VLAN_TPID = ntohs(skb->vlan_proto) (F:420).
        case Op.ANC_RANDOM:
          if ((this.events & EV_RANDOM) === 0) prandomSeedState(this.rnd, env.randomSeed); // first draw of this run
          this.events |= EV_RANDOM;
          A = prandomU32State(this.rnd);
          continue;
        case Op.ANC_VLAN_TPID: A = skb.vlanProto; continue;
        default: // 3.14:397 unknown code: WARN and return 0
          exit = EXIT_INVALID;
          break run;
      }
      // Packet loads (W/H/B, ABS/IND) land here with v = value or -1.
      if (v < 0) {
        exit = EXIT_LOAD_FAIL;
        break;
      }
      A = v;
    }
    this.exit = exit;
    this.exitPc = pc;
    this.steps = steps;
    this.a = A;
    this.x = X;
    return ret >>> 0;
  }

  // 3.14:272 BPF_S_LD_W_IND..B_IND: k = X + K in u32 arithmetic, then load_pointer(skb, k, size)
  /** LD IND: the load at (int)(X + K). KernelConfig.classicIndSum 'no-wrap': the BSD bpf_filter (libpcap, FreeBSD) checks X and K apart, so a sum past 2^32 fails the load. */
  loadInd(skb: SkBuff, X: number, K: number, size: number): number {
    if (X + K > 0xffffffff && this.config.classicIndSum === 'no-wrap') return -1;
    return this.loadPointer(skb, (X + K) | 0, size);
  }

  // 3.14:61 load_pointer: k >= 0 -> skb_header_pointer, k < 0 -> bpf_internal_load_pointer_neg_helper.
  // Returns the big-endian value read, or -1 where the kernel got NULL.
  /** (public for the compiled backend, model/cbpf/jit.ts, which calls it for the rare negative offsets) */
  loadPointer(skb: SkBuff, k: number, size: number): number {
    if (k >= 0) {
      // skb_header_pointer: the linear part when headlen - k >= size, else skb_copy_bits, which fails
      // iff k > (int)skb->len - size (net/core/skbuff.c skb_copy_bits). Frags are read the same way.
      const data = skb.data;
      if (k > data.length - size) return -1;
      if (size === 4) return ((data[k]! << 24) | (data[k + 1]! << 16) | (data[k + 2]! << 8) | data[k + 3]!) >>> 0;
      if (size === 2) return (data[k]! << 8) | data[k + 1]!;
      return data[k]!;
    }
    return this.bpfInternalLoadPointerNegHelper(skb, k, size);
  }

  // 3.14:47 bpf_internal_load_pointer_neg_helper: kernel/bpf/core.c:74 (model/ebpf/helpers.ts) without
  // its skb_mac_header_was_set() test; and, where that fails on bytes in frags, what the 6.6.y backport
  // reads there (F:214 bpf_skb_load_helper_convert_offset, then skb_copy_bits).
  private bpfInternalLoadPointerNegHelper(skb: SkBuff, k: number, size: number): number {
    const headroom = skb.headroom.length;
    let pos: number; // from skb->data
    if (k >= SKF_LL_OFF && k < SKF_NET_OFF && skb.macHeader === null) {
      this.events |= EV_MAC_UNSET;
      if (this.sem.macUnset === 'fail') return -1; // C:81
      // 3.14 has no skb_mac_header_was_set() test: skb_mac_header() is head + (u16)~0
      pos = MAC_UNSET_OFFSET - headroom + (k - SKF_LL_OFF);
      if (pos >= -headroom && pos + size <= skb.headlen) return readBe(skb, pos, size);
    } else {
      const p = bpfInternalLoadPointerNegHelper(skb, k, size);
      if (p !== null) return readBe(skb, p, size);
      pos = bpfSkbLoadHelperConvertOffset(skb, k);
      if (pos === INT_MIN) return -1; // below SKF_LL_OFF: ptr stays NULL
    }
    // The bytes reach past the linear data: 3.14 and v6.6.0 fail; the backport's skb_copy_bits reads frags.
    if (pos < -headroom || pos + size > skb.data.length) return -1;
    this.events |= EV_NEG_FRAG;
    return this.sem.negativeLoads === 'frags' ? readBe(skb, pos, size) : -1;
  }

  // 3.14:353 BPF_S_ANC_NLATTR / 3.14:371 BPF_S_ANC_NLATTR_NEST (6.6: F:170 bpf_skb_get_nlattr,
  // F:190 bpf_skb_get_nlattr_nest). Returns the new A, or -1 when the filter must return 0.
  /** (public for the compiled backend, model/cbpf/jit.ts) */
  nlattr(skb: SkBuff, A: number, X: number, nest: boolean): number {
    const le = this.config.littleEndian;
    // KernelConfig.classicNlattrGuards 'unchecked': the pre-CVE-2014-3144 guards (model/variants.ts)
    if (this.config.classicNlattrGuards === 'unchecked') return skRunFilterNlattrUnchecked(skb, A, X, nest, le);
    const len = skb.data.length;
    // the guards the v6.6 helpers share (model/netlink.ts)
    if (nlattrGuardFails(skb, A, nest, le)) {
      this.events |= EV_NLATTR_GUARD;
      return this.sem.nlattrGuard === 'return0' ? -1 : 0;
    }
    // nla_find(&data[A], len - A, X) / nla_find_nested(&data[A], X): attrtype is X as an int.
    const at = nest ? nlaFindNested(skb.data, A, X | 0, le) : nlaFind(skb.data, A, len - A, X | 0, le);
    return at < 0 ? 0 : at;
  }
}

/** Options of evalClassic. */
export interface EvalOptions {
  readonly config?: KernelConfig;
  readonly sem?: ClassicSemantics;
  readonly trace?: ClassicStep[] | null;
}

/** Convenience: decode and run once (use compileClassic + ClassicVm for many runs). */
export function evalClassic(prog: Program, skb: SkBuff, env: Env = DEFAULT_ENV, opts: EvalOptions = {}): number {
  const vm = new ClassicVm(opts.config ?? DEFAULT_CONFIG, opts.sem ?? CLASSIC);
  return vm.run(compileClassic(prog), skb, env, opts.trace ?? null);
}

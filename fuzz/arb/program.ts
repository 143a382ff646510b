// Valid classic programs by construction: every program validProgram() draws passes
// bpf_check_classic (net/core/filter.c:1065) and bpf_check_basics_ok (net/core/filter.c:1040).
//
// A program is drawn as an array of "genes" (three integers per instruction) and mapped by a pure
// function onto instructions, so fast-check's array shrinker shrinks programs toward short ones
// made of `ld #0` (gene [0, 0, 0]). Construction rules, per kernel check:
// - code: one of the 49 codes chk_code_allowed allows (net/core/filter.c:974), drawn from a
//   weighted table in which every code appears;
// - DIV/MOD K: k != 0 (:1084); LSH/RSH K: k < 32 (:1089); memory k < 16 (:1097);
// - JA: k < flen - pc - 1 (:1105); Jcond: pc + jt + 1 < flen and pc + jf + 1 < flen (:1117);
// - LD ABS: k < 0xfffff000 or exactly one of the 16 ancillary k (:1128);
// - last instruction RET K or RET A (:1134);
// - scratch memory: a forward pass with check_load_and_stores' own memvalid/masks bookkeeping
//   (:921) repairs every LD/LDX MEM that would read an unwritten cell (pick a valid cell, or turn
//   the load into a store of that cell).
import fc from 'fast-check';
import type { KernelConfig } from '../../model/config.js';
import { X86_64 } from '../../model/config.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { BPF_MAXINSNS, SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';
import {
  ANCILLARY_T,
  BOUNDARY_T,
  HEADER_T,
  NEG_BOUNDARY_T,
  NEG_REL_T,
  RET_K,
  SKF_AD_OFF_U32,
  biasedI32,
  isAncillaryK,
} from './constants.js';
import { ebpfLen, isCondJump } from './ebpf-size.js';
import { realisticProgram } from './realistic.js';
import { jitBoundaryProgram } from './jit-boundary.js';

/** The 49 codes chk_code_allowed accepts (net/core/filter.c:976), sorted. */
export const ALLOWED_CODES: readonly number[] = Object.freeze([
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x14, 0x15, 0x16, 0x1c, 0x1d, 0x20, 0x24, 0x25, 0x28, 0x2c, 0x2d,
  0x30, 0x34, 0x35, 0x3c, 0x3d, 0x40, 0x44, 0x45, 0x48, 0x4c, 0x4d, 0x50, 0x54, 0x5c, 0x60, 0x61, 0x64, 0x6c, 0x74, 0x7c,
  0x80, 0x81, 0x84, 0x87, 0x94, 0x9c, 0xa4, 0xac, 0xb1,
]);

/** A mutable instruction while a program is being built. */
type MInsn = { code: number; jt: number; jf: number; k: number };

/**
 * Weighted opcode table: every allowed code once, plus extra weight on the loads (ABS, IND, MSH),
 * the memory instructions and the conditional jumps, which drive most of the interesting paths.
 * Index 0 is `ld #k` so genes shrink toward it.
 */
const OP_TABLE: readonly number[] = Object.freeze([
  ...ALLOWED_CODES,
  ...[0x20, 0x28, 0x30, 0x20, 0x28, 0x30, 0x30, 0x28], // LD ABS (ancillary and packet)
  ...[0x40, 0x48, 0x50, 0xb1, 0xb1], // LD IND, LDX MSH
  ...[0x02, 0x03, 0x60, 0x61, 0x02, 0x60], // ST/STX, LD/LDX MEM
  ...[0x15, 0x25, 0x35, 0x45, 0x1d, 0x15, 0x45, 0x05], // jumps
  ...[0x3c, 0x9c, 0x6c, 0x7c, 0x07, 0x87], // DIV/MOD X (X==0 case), X shifts, TAX/TXA
]);

/**
 * One instruction's randomness, a single integer in [0, 2^53): the low 32 bits `a` give k; the high
 * 21 bits give the opcode (bits 0-6, so shrinking toward 0 goes to `ld #k` first), the k family
 * `sel` (bits 7-11), the jt/jf choices (bits 12-15, 16-19) and the garbage flag (bit 20). One
 * unbiased integer per instruction keeps drawing fast and keeps genes aligned while shrinking.
 */
export type Gene = number;

/** fast-check arbitrary of one gene. */
export const gene = (): fc.Arbitrary<Gene> => fc.noBias(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

/** k for LD ABS: mostly header offsets, often ancillary, sometimes s16/s32 edges and NET/LL offsets. */
function absK(sel: number, a: number): number {
  // as biasedI32: the pools as typed arrays of constant lengths (constants.ts checks them), and the
  // k as an int32 (the same 32 bits)
  switch (sel % 10) {
    case 0:
    case 1:
    case 2:
      return HEADER_T[a % 31]!;
    case 3:
    case 4:
      return ANCILLARY_T[a & 15]! | 0;
    case 5:
      return a % 80;
    case 6:
      return ((a & 1 ? SKF_NET_OFF : SKF_LL_OFF) + NEG_REL_T[(a >>> 1) % 13]!) | 0;
    case 7:
      return NEG_BOUNDARY_T[a % 9]! | 0;
    case 8:
      return absWindow(BOUNDARY_T[a % 26]!);
    default:
      return absWindow(a);
  }
}

/**
 * The ABS window rule (net/core/filter.c:1128) on a u32 k, as an int32: a non-ancillary k >=
 * SKF_AD_OFF is rejected, so fold such k onto one of the 16 ancillary values. Only absK's last two
 * families reach the window with a k that is not ancillary (the others are below it or ancillary).
 */
const absWindow = (k: number): number => (k >= SKF_AD_OFF_U32 && !isAncillaryK(k) ? ANCILLARY_T[k & 15]! : k) | 0;

/** k for LD IND / LDX MSH (an int32, as biasedI32): no check at all, so anything (offsets, negatives, window, garbage). */
function anyLoadK(sel: number, a: number): number {
  return (sel & 2) === 0 ? HEADER_T[a % 31]! : biasedI32(sel >>> 2, a); // sel % 4 < 2: a header offset
}

/** Memory cell index: mostly cells 0..3 (so loads meet stores), sometimes any of 0..15. */
const memK = (a: number): number => ((a & 0x100) !== 0 ? a & 15 : a & 3);

/**
 * Forward jump distance in 0..range-1 (capped: 255 for the u8 jt/jf): r4 (0..15) < 12 picks a short
 * one (0..3), otherwise `wide` picks anywhere in range.
 */
function jumpOff(r4: number, wide: number, range: number, cap: number): number {
  const lim = Math.min(range, cap);
  return r4 < 12 ? r4 % Math.min(lim, 4) : wide % lim;
}

/**
 * Map one gene onto a checker-valid instruction at pc of a program of flen instructions
 * (pc < flen - 1: the last instruction is placed by the caller).
 */
export function insnFromGene(g: Gene, pc: number, flen: number): MInsn {
  return insnFromWords(g % 0x100000000, Math.floor(g / 0x100000000), pc, flen);
}

/** insnFromWords' words when they come as numbers (a, high bits, jump word) */
const ONE = new Uint32Array(3);

/**
 * insnFromGene of the gene hi * 2^32 + a (a: u32, hi: its 21 high bits). With `jw` (a genome's jump
 * word, fuzz/genome.ts) the wide jump choices come from it (JA: jw; jt, jf: its bytes 0 and 1)
 * instead of from a, so that a jump's target can be moved without touching its k.
 */
export function insnFromWords(a: number, hi: number, pc: number, flen: number, jw?: number): MInsn {
  ONE[0] = a;
  ONE[1] = hi;
  ONE[2] = jw ?? 0;
  return insnAt(ONE, 0, pc, flen, jw !== undefined);
}

/**
 * insnFromWords of the words w[o] (a), w[o + 1] (high bits) and, with `jump`, w[o + 2] (the jump
 * word). The words are read here rather than passed: a u32 argument above 2^30 would be boxed.
 */
export function insnAt(w: Uint32Array, o: number, pc: number, flen: number, jump: boolean): MInsn {
  const a = w[o]!;
  const hi = w[o + 1]! & 0x1fffff;
  const code = OPCODE_OF[hi & 127]!;
  const sel = (hi >>> 7) & 31;
  // Unused fields are ignored by the checker (net/core/filter.c:1065 never reads jt/jf of
  // non-jumps, nor k of TAX/RET A/...); half the genes with bit 20 set fill them with garbage.
  // (as masks, not branches: the flag is a coin toss, which a branch would mispredict half the time)
  const gmask = -((hi >>> 20) & a & 1);
  let jt = (a >>> 8) & 0xff & gmask;
  let jf = (a >>> 16) & 0xff & gmask;
  // k as an int32 (the same 32 bits) until the instruction is made: the draws below are calls
  // (not inlined: each kind is a few of the instructions), and a u32 returned above 2^31 is a heap
  // number (absK, anyLoadK and biasedI32 as int32: decodeProgram of short programs 0.965x)
  let k: number;
  switch (GENE_KIND[code]!) {
    case G_BIASED: // ALU K ops, LD IMM, LDX IMM
      k = biasedI32(sel, a);
      break;
    case G_NONZERO: // DIV K, MOD K: k != 0
      k = biasedI32(sel, a) || 1;
      break;
    case G_SHIFT: // LSH K, RSH K: k < 32
      k = biasedI32(sel, a) & 31;
      break;
    case G_ABS: // LD ABS
      k = absK(sel, a);
      break;
    case G_ANY_LOAD: // LD IND, LDX MSH
      k = anyLoadK(sel, a);
      break;
    case G_MEM: // ST, STX, LD MEM, LDX MEM
      k = memK(a);
      break;
    case G_JA: // JA: k < flen - pc - 1
      k = jumpOff((hi >>> 12) & 15, jump ? w[o + 2]! : a, flen - pc - 1, 0x7fffffff);
      break;
    case G_RET: // RET K in the middle of a program
      k = sel & 1 ? RET_K_T[a % 10]! | 0 : biasedI32(sel >>> 1, a);
      break;
    case G_JCOND: {
      // Jcond: jt, jf < flen - pc - 1
      k = (code & 0x08) === 0 ? biasedI32(sel, a) : a & gmask;
      const jw = jump ? w[o + 2]! : a >>> 8;
      const range = flen - pc - 1; // >= 1
      jt = jumpOff((hi >>> 12) & 15, jw & 0xff, range, 256);
      jf = jumpOff((hi >>> 16) & 15, (jw >>> 8) & 0xff, range, 256);
      break;
    }
    default:
      // ALU X ops, NEG, LEN, TAX, TXA, RET A: nothing to choose but the ignored fields.
      k = a & gmask;
  }
  return { code, jt, jf, k: k >>> 0 };
}

// insnAt's tables: the opcode of each 7-bit opcode choice (OP_TABLE[h % OP_TABLE.length]), and how
// each code's k (and jt, jf) is drawn
const OPCODE_OF = Uint8Array.from({ length: 128 }, (_, h) => OP_TABLE[h % OP_TABLE.length]!);
const G_OTHER = 0;
const G_BIASED = 1;
const G_NONZERO = 2;
const G_SHIFT = 3;
const G_ABS = 4;
const G_ANY_LOAD = 5;
const G_MEM = 6;
const G_JA = 7;
const G_RET = 8;
const G_JCOND = 9;
const GENE_KIND: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(G_OTHER);
  const set = (kind: number, codes: readonly number[]): void => {
    for (const c of codes) t[c] = kind;
  };
  set(G_BIASED, [0x04, 0x14, 0x24, 0x44, 0x54, 0xa4, 0x00, 0x01]);
  set(G_NONZERO, [0x34, 0x94]);
  set(G_SHIFT, [0x64, 0x74]);
  set(G_ABS, [0x20, 0x28, 0x30]);
  set(G_ANY_LOAD, [0x40, 0x48, 0x50, 0xb1]);
  set(G_MEM, [0x02, 0x03, 0x60, 0x61]);
  set(G_JA, [0x05]);
  set(G_RET, [0x06]);
  set(G_JCOND, [0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d]);
  return t;
})();
/** RET_K as a typed array (insnAt divides by its length, 10) */
const RET_K_T = Uint32Array.from(RET_K);
if (RET_K_T.length !== 10) throw new Error('fuzz/arb/program.ts: insnAt divides by RET_K\'s length: update it with the pool');

/** The final instruction: RET K (boundary snap lengths) or RET A. */
export const finalRet = (sel: number, k: number): MInsn =>
  sel % 3 === 2 ? { code: 0x16, jt: 0, jf: 0, k: 0 } : { code: 0x06, jt: 0, jf: 0, k: sel % 3 === 0 ? RET_K[k % RET_K.length]! : k >>> 0 };

/** check_load_and_stores' masks, reused from program to program (the builders are not re-entrant). */
let masksScratch = new Uint16Array(512);

// net/core/filter.c:921 check_load_and_stores: the same bookkeeping, used here to REPAIR.
// The builders walk the program with check_load_and_stores' memvalid/masks algorithm as they make
// it (one instruction at a time, repairStep) and rewrite every LD/LDX MEM that would be rejected:
// read a cell that is valid there (if any), else store to the cell instead (LD MEM -> ST, LDX MEM
// -> STX). Forward-only jumps make one pass exact: the state at pc depends only on instructions
// before pc, so a rewrite never invalidates an earlier decision, and each instruction can be
// repaired as soon as it is decoded (one pass over the words instead of a second one over the
// objects: decodeProgram of short programs 0.93x).

/** The masks for a program of flen instructions: masksScratch, all cells valid at every pc. */
function masksFor(flen: number): Uint16Array {
  if (masksScratch.length < flen) masksScratch = new Uint16Array(Math.max(flen, 2 * masksScratch.length));
  masksScratch.fill(0xffff, 0, flen);
  return masksScratch;
}

/**
 * check_load_and_stores at one instruction: `memvalid` is the state at pc (masks[pc] applied);
 * repairs insn in place, narrows the masks of its jump targets and returns the state after it.
 */
function repairStep(insn: MInsn, pc: number, masks: Uint16Array, memvalid: number): number {
  switch (MEM_ROLE[insn.code]) {
    case M_STORE:
      return memvalid | (1 << insn.k);
    case M_LOAD:
      if ((memvalid & (1 << insn.k)) === 0) {
        if (memvalid !== 0) {
          let k = insn.k;
          while ((memvalid & (1 << k)) === 0) k = (k + 1) & 15;
          insn.k = k;
        } else {
          insn.code = insn.code === 0x60 ? 0x02 : 0x03;
          return memvalid | (1 << insn.k);
        }
      }
      return memvalid;
    case M_JA:
      masks[pc + 1 + insn.k] &= memvalid;
      return 0xffff;
    case M_JCOND:
      masks[pc + 1 + insn.jt] &= memvalid;
      masks[pc + 1 + insn.jf] &= memvalid;
      return 0xffff;
    default: // M_NONE
      return memvalid;
  }
}

// repairStep's table: each code's role in check_load_and_stores (a table, not a switch on the code:
// decodeProgram of short programs 0.92-0.93x). The builders' codes are below 256 (OP_TABLE, finalRet).
const M_NONE = 0;
const M_STORE = 1;
const M_LOAD = 2;
const M_JA = 3;
const M_JCOND = 4;
const MEM_ROLE: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(M_NONE);
  t[0x02] = t[0x03] = M_STORE;
  t[0x60] = t[0x61] = M_LOAD;
  t[0x05] = M_JA;
  for (let c = 0; c < 256; c++) if (isCondJump(c)) t[c] = M_JCOND;
  return t;
})();

/** Build a valid program from body genes (one per instruction before the final RET). */
export function buildProgram(body: readonly Gene[], ret: readonly [number, number]): SockFilter[] {
  const flen = body.length + 1;
  const prog: MInsn[] = new Array(flen);
  const masks = masksFor(flen);
  let memvalid = 0;
  for (let pc = 0; pc < body.length; pc++) {
    const insn = insnFromGene(body[pc]!, pc, flen);
    memvalid = repairStep(insn, pc, masks, memvalid & masks[pc]!);
    prog[pc] = insn;
  }
  prog[flen - 1] = finalRet(ret[0], ret[1]);
  return prog;
}

/**
 * buildProgram from a genome's words (fuzz/genome.ts): `n` instructions as (k, high bits, jump)
 * word triples from `words[from]` on, then the final RET of (retSel, retK).
 */
export function buildProgramWords(words: Uint32Array, from: number, n: number, retSel: number, retK: number): SockFilter[] {
  const flen = n + 1;
  const prog: MInsn[] = new Array(flen);
  const masks = masksFor(flen);
  let memvalid = 0;
  for (let pc = 0, o = from; pc < n; pc++, o += 3) {
    const insn = insnAt(words, o, pc, flen, true);
    memvalid = repairStep(insn, pc, masks, memvalid & masks[pc]!);
    prog[pc] = insn;
  }
  prog[n] = finalRet(retSel, retK);
  return prog;
}

/**
 * buildProgram(expandRuns(runs, n), [retSel, retK]) from a genome's words (fuzz/genome.ts): `runs`
 * (a, high bits, repeat) word triples from `words[from]` on, each gene (high bits & 0x1fffff) * 2^32
 * + a repeated 1 + repeat % 600 times, cyclically, to n body instructions.
 */
export function buildProgramRuns(words: Uint32Array, from: number, runs: number, n: number, retSel: number, retK: number): SockFilter[] {
  const body = runs === 0 ? 0 : n;
  const flen = body + 1;
  const prog: MInsn[] = new Array(flen);
  const masks = masksFor(flen);
  let memvalid = 0;
  for (let pc = 0, r = 0; pc < body; r = (r + 1) % runs) {
    const o = from + 3 * r;
    const rep = 1 + (words[o + 2]! % 600);
    // a run's instruction is the same at every pc unless it jumps (its range depends on pc): the
    // others are copies of the first (each its own object: the repair may rewrite it, and `first`
    // stays the unrepaired template, never placed itself). Long programs decode 2-5x faster so
    // (0.19-0.51x by load order, both builds in one process)
    const first = insnAt(words, o, pc, flen, false);
    const jumps = MEM_ROLE[first.code]! >= M_JA; // M_JA, M_JCOND
    for (let i = 0; i < rep && pc < body; i++, pc++) {
      const insn = jumps ? insnAt(words, o, pc, flen, false) : { code: first.code, jt: first.jt, jf: first.jf, k: first.k };
      memvalid = repairStep(insn, pc, masks, memvalid & masks[pc]!);
      prog[pc] = insn;
    }
  }
  prog[flen - 1] = finalRet(retSel, retK);
  return prog;
}

/** Expand run-length genes ([gene, repeat]) cyclically to exactly n body genes. */
export function expandRuns(runs: readonly (readonly [Gene, number])[], n: number): Gene[] {
  const out: Gene[] = [];
  if (runs.length === 0) return out;
  for (let r = 0; out.length < n; r = (r + 1) % runs.length) {
    const [g, rep] = runs[r]!;
    for (let i = 0; i < rep && out.length < n; i++) out.push(g);
  }
  return out;
}

export type Flavour = 'short' | 'medium' | 'realistic' | 'long' | 'limits' | 'jit';

export interface ValidProgramOptions {
  /** Relative integer weights of the flavours (default short 800, realistic 140, medium 30, limits 5, long 3, jit 3). */
  readonly weights?: Partial<Record<Flavour, number>>;
  /** Architecture facts the 'limits' flavour sizes against (default x86-64). */
  readonly config?: KernelConfig;
}

// jit: fuzz/arb/jit-boundary.ts, programs aimed at the x86-64 JIT's jump limits (a few ms each to draw)
const DEFAULT_WEIGHTS: Readonly<Record<Flavour, number>> = { short: 800, medium: 30, realistic: 140, long: 3, limits: 5, jit: 3 };

const retGene = (): fc.Arbitrary<readonly [number, number]> => fc.tuple(fc.nat(5), fc.integer({ min: 0, max: 0xffffffff }));

/** 1..40 instructions. */
export const shortProgram = (): fc.Arbitrary<SockFilter[]> =>
  fc.tuple(fc.array(gene(), { maxLength: 39, size: 'max' }), retGene()).map(([b, r]) => buildProgram(b, r));

/** 40..400 instructions. */
export const mediumProgram = (): fc.Arbitrary<SockFilter[]> =>
  fc.tuple(fc.array(gene(), { minLength: 39, maxLength: 399, size: 'max' }), retGene()).map(([b, r]) => buildProgram(b, r));

/** Long programs up to BPF_MAXINSNS, built from runs of repeated genes (cheap to draw). */
export const longProgram = (): fc.Arbitrary<SockFilter[]> =>
  fc
    .tuple(
      fc.oneof(fc.integer({ min: 3900, max: BPF_MAXINSNS }), fc.integer({ min: 400, max: BPF_MAXINSNS })),
      fc.array(fc.tuple(gene(), fc.integer({ min: 1, max: 600 })), { minLength: 1, maxLength: 24 }),
      retGene(),
    )
    .map(([flen, runs, r]) => buildProgram(expandRuns(runs, flen - 1), r));

// --- programs near the conversion limits ------------------------------------------------------

/** LDX MSH with 32767 < k <= 0x7fffffff: the largest expansion, 21 eBPF instructions (x86-64). */
export const mshFar = (k: number): SockFilter => ({ code: 0xb1, jt: 0, jf: 0, k: 0x8000 + (k % 0x7fff7fff) });
/** A one-instruction (in eBPF too) filler: `ld #k`. */
export const ldImm = (k: number): SockFilter => ({ code: 0x00, jt: 0, jf: 0, k: k >>> 0 });

/**
 * Fill: heavy (LDX MSH far) instructions then `ld #k` until the eBPF length of the fill reaches
 * exactly `target` (or the first length >= target when heavy alone overshoots).
 */
export function fillTo(target: number, seed: number, cfg: KernelConfig = X86_64): SockFilter[] {
  const heavy = mshFar(seed);
  const per = ebpfLen(heavy, cfg);
  const n = Math.max(0, Math.floor(target / per));
  const out: SockFilter[] = new Array(n).fill(heavy);
  let have = n * per;
  while (have < target) {
    out.push(ldImm(seed + have));
    have += 1;
  }
  return out;
}

/** Longest migrated program (eBPF insns) the optmem charge accepts: 72 + 8n < optmem_max (assumed header). */
export const optmemFitMax = (cfg: KernelConfig = X86_64): number => Math.floor((cfg.optmemMax - 1 - cfg.bpfProgHeaderSize) / 8);

export type LimitKind = 'ja-offset' | 'jump-position' | 'optmem';

/**
 * A checker-valid program at a conversion boundary, `delta` eBPF instructions past it (delta < 0:
 * still converts / fits; delta >= 0: fails with the boundary's rule).
 * - 'ja-offset' (A3): `ja N` over a fill of eBPF length 32767 + 1 + delta: off = 32768 + delta.
 * - 'jump-position' (A4): a fill, then `jeq #0,0,0` whose eBPF index is 32768 + delta.
 * - 'optmem' (A5): no jumps; migrated length optmemFitMax(cfg) + 1 + delta, where optmemFitMax is
 *   the longest migrated program __sk_filter_charge accepts on a fresh socket under the ASSUMED
 *   struct bpf_prog header size (net/core/filter.c:1232: 72 + 8n < optmem_max; UNVERIFIED header).
 */
export function limitProgram(kind: LimitKind, delta: number, seed: number, cfg: KernelConfig = X86_64): SockFilter[] {
  const ret: SockFilter = { code: 0x06, jt: 0, jf: 0, k: 1 };
  switch (kind) {
    case 'ja-offset': {
      // off = addrs[1 + N] - addrs[0] - 1 = ebpfLen(ja) - 1 + fill = fill.
      const fill = fillTo(32767 + 1 + delta, seed, cfg);
      return [{ code: 0x05, jt: 0, jf: 0, k: fill.length }, ...fill, ret];
    }
    case 'jump-position': {
      // addrs[i] = prologue (7: MSH sets seen_ld_abs) + fill.
      const fill = fillTo(32768 + delta - 7, seed, cfg);
      return [...fill, { code: 0x15, jt: 0, jf: 0, k: 0 }, ret];
    }
    default: {
      // prologue 7 (MSH sets seen_ld_abs) + fill + RET K (2)
      const body = fillTo(optmemFitMax(cfg) + 1 + delta - 7 - 2, seed, cfg);
      return [...body, ret];
    }
  }
}

/**
 * Checker-valid programs just either side of the conversion limits (x86-64 sizes by default); half
 * of them exactly on an edge (delta -1: the last jump offset +32767, the last first-iteration offset
 * -32768, the longest program the charge accepts; delta 0: one past it).
 */
export const limitsProgram = (cfg: KernelConfig = X86_64): fc.Arbitrary<SockFilter[]> =>
  fc
    .tuple(
      fc.constantFrom<LimitKind>('ja-offset', 'jump-position', 'optmem'),
      fc.oneof(fc.constantFrom(-1, 0), fc.integer({ min: -8, max: 8 })),
      fc.nat(),
    )
    .map(([kind, delta, seed]) => limitProgram(kind, delta, seed, cfg));

/**
 * Every program this draws passes bpf_check_basics_ok and bpf_check_classic. Mostly short programs
 * over all 49 codes; some medium and tcpdump-shaped ones; a few near BPF_MAXINSNS and near the
 * conversion limits (those are valid for the checker but may fail migration or the optmem charge).
 */
export function validProgram(opts: ValidProgramOptions = {}): fc.Arbitrary<SockFilter[]> {
  const w = { ...DEFAULT_WEIGHTS, ...opts.weights };
  const cfg = opts.config ?? X86_64;
  const arbs: { arbitrary: fc.Arbitrary<SockFilter[]>; weight: number }[] = [];
  if (w.short > 0) arbs.push({ arbitrary: shortProgram(), weight: w.short });
  if (w.medium > 0) arbs.push({ arbitrary: mediumProgram(), weight: w.medium });
  if (w.realistic > 0) arbs.push({ arbitrary: realisticProgram().map((r) => [...r.prog]), weight: w.realistic });
  if (w.long > 0) arbs.push({ arbitrary: longProgram(), weight: w.long });
  if (w.limits > 0) arbs.push({ arbitrary: limitsProgram(cfg), weight: w.limits });
  if (w.jit > 0) arbs.push({ arbitrary: jitBoundaryProgram({ config: cfg, ...(cfg.x86Jit !== null ? { facts: cfg.x86Jit } : {}) }), weight: w.jit });
  if (arbs.length === 0) throw new RangeError('validProgram: every flavour weight is 0');
  return fc.oneof(...arbs);
}


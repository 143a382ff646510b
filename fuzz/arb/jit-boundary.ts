// Classic programs aimed at the x86-64 JIT's size boundaries (model/jit): forward jumps whose native
// displacement sits near the short/near limit (123 or 127 bytes forward, -128 back), several exits
// (every exit after the first is a jump back to the first one's epilogue), and fillers of every native
// size between them, so that jumps trade their 2-byte and 5/6-byte forms from pass to pass.
//
// A program is drawn as genes (one integer per instruction, shrinking toward `ld #0`) plus a few
// "aims". The genes make a valid program by construction (targets in range, RET last, scratch
// memory written before it is read, DIV/MOD K non-zero, shifts K < 32: bpf_check_classic,
// net/core/filter.c:1066). Each aim then retargets one jump so that, by the model's own layout of
// the current program (bpf_convert_filter, then the JIT's last pass), its native displacement is the
// drawn distance: the model only steers the generator here; the kernel judges the result.
import fc from 'fast-check';
import type { KernelConfig } from '../../model/config.js';
import { X86_64 } from '../../model/config.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { DEFAULT_JIT_FACTS, type X86JitFacts } from '../../model/jit/facts.js';
import { bpfIntJitCompile } from '../../model/jit/x86.js';
import { ClassicColumns } from '../../engine/cbpf/program.js';
import { EngineConverter } from '../../engine/migrate/convert.js';
import { EngineJit } from '../../engine/jit/x86.js';
import { isCondJump } from './ebpf-size.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { ancillaryK, SKF_AD_PROTOCOL, SKF_AD_VLAN_TPID, SKF_AD_PKTTYPE, SKF_AD_CPU, SKF_AD_MARK, SKF_AD_VLAN_TAG_PRESENT } from '../../model/uapi.js';

/** Options of jitBoundaryProgram. */
export interface JitBoundaryOptions {
  /** classic instructions (default 6..60) */
  readonly minLength?: number;
  readonly maxLength?: number;
  /** jumps retargeted at a drawn native distance (default 0..3) */
  readonly maxAims?: number;
  /** the JIT facts the aims lay the program out with (default: v6.18 on the measured machine) */
  readonly facts?: X86JitFacts;
  readonly config?: KernelConfig;
}

const S = (code: number, k: number, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });

// Immediates that give each native form: 0 (xor, test), imm8, imm32, negative (cond jumps through TMP)
const IMMS: readonly number[] = [0, 1, 2, 5, 0x7f, 0x80, 0x100, 0xffff, 0x12345678, 0x7fffffff, 0x80000000, 0xfffffffe];
const imm = (a: number): number => IMMS[a % IMMS.length]!;
const ANC: readonly number[] = [SKF_AD_PROTOCOL, SKF_AD_VLAN_TPID, SKF_AD_PKTTYPE, SKF_AD_CPU, SKF_AD_MARK, SKF_AD_VLAN_TAG_PRESENT].map(ancillaryK);

/** The instruction kinds, weighted: fillers of many sizes, jumps, exits. */
const KINDS = [
  'ld-imm', 'ld-imm', 'ldx-imm', 'alu-k', 'alu-k', 'alu-x', 'mul', 'shift', 'neg', 'tax', 'txa', 'ld-len',
  'st', 'ld-mem', 'div-x', 'divmod-k', 'ld-abs', 'ld-ind', 'msh', 'ld-anc',
  'jcond', 'jcond', 'jcond', 'jcond', 'jcond-both', 'jcond-both', 'ja',
  'ret-k', 'ret-a', 'ret-k',
] as const;

// One instruction from a gene at pc of a program of `len` instructions. Jumps get a drawn span;
// the scratch cell 0 is written by the first instruction of every program (see buildProgram).
function insnOf(g: number, pc: number, len: number): SockFilter {
  const a = g % 0x100000000;
  const hi = Math.floor(g / 0x100000000);
  const kind = KINDS[hi % KINDS.length]!;
  const sel = Math.floor(hi / KINDS.length);
  const room = len - pc - 2; // the largest jt/jf/k that stays before the final RET
  const span = (s: number): number => (room <= 0 ? 0 : Math.min(room, 255, s % (room + 1)));
  switch (kind) {
    case 'ld-imm':
      return S(0x00, imm(a));
    case 'ldx-imm':
      return S(0x01, imm(a));
    case 'alu-k': {
      const code = [0x04, 0x14, 0x54, 0x44, 0xa4][sel % 5]!; // add sub and or xor
      return S(code, imm(a));
    }
    case 'alu-x':
      return S([0x0c, 0x1c, 0x5c, 0x4c, 0xac, 0x6c, 0x7c][sel % 7]!, 0); // add sub and or xor lsh rsh X
    case 'mul':
      return sel % 2 === 0 ? S(0x24, imm(a)) : S(0x2c, 0);
    case 'shift':
      return S(sel % 2 === 0 ? 0x64 : 0x74, a % 32);
    case 'neg':
      return S(0x84, 0);
    case 'tax':
      return S(0x07, 0);
    case 'txa':
      return S(0x87, 0);
    case 'ld-len':
      return S(sel % 2 === 0 ? 0x80 : 0x81, 0);
    case 'st':
      return S(sel % 2 === 0 ? 0x02 : 0x03, 0);
    case 'ld-mem':
      return S(sel % 2 === 0 ? 0x60 : 0x61, 0);
    case 'div-x':
      return S(sel % 2 === 0 ? 0x3c : 0x9c, 0);
    case 'divmod-k':
      return S(sel % 2 === 0 ? 0x34 : 0x94, imm(a) || 3);
    case 'ld-abs':
      return S([0x20, 0x28, 0x30][sel % 3]!, a % 64);
    case 'ld-ind':
      return S([0x40, 0x48, 0x50][sel % 3]!, a % 16);
    case 'msh':
      return S(0xb1, a % 32);
    case 'ld-anc':
      return S(0x20, ANC[sel % ANC.length]!);
    case 'jcond': {
      const code = [0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d][sel % 8]!;
      // one jump: jf 0 (or jt 0 for the invertible ones)
      return (sel >> 3) % 2 === 0 ? S(code, imm(a), span(a >>> 8), 0) : S(code, imm(a), 0, span(a >>> 8));
    }
    case 'jcond-both': {
      const code = [0x15, 0x25, 0x35, 0x45, 0x1d, 0x4d][sel % 6]!;
      return S(code, imm(a), span(a >>> 8), span(a >>> 16));
    }
    case 'ja':
      return S(0x05, span(a >>> 8));
    case 'ret-k':
      return S(0x06, imm(a));
    case 'ret-a':
      return S(0x16, 0);
  }
}

/**
 * What comes before the genes: nothing, or a jump followed by a RET, so that the program's first exit
 * (whose epilogue every later exit jumps back to) comes right after jumps that can span later exits.
 * Each pass, a later exit's displacement mixes this pass's epilogue address with the previous pass's
 * own address (do_jit :2688), so it moves by whatever the jumps before the epilogue just shrank or
 * grew by. 'jcond-both' is a conditional jump with both branches taken somewhere (jmp_rest,
 * net/core/filter.c:774: a Jxx and a JA, two jumps that shrink in the same pass).
 */
export type Prelude = 'none' | 'ja' | 'jcond' | 'jcond-both';

/** Genes a program with a prelude has at least (buildProgram pads with `ld #0`). */
export const MIN_TIE_GENES = 48;

const PRELUDE_CODES: readonly number[] = [0x45, 0x15, 0x25, 0x35, 0x4d, 0x1d];

/** The valid classic program of these genes: `st M[0]` first (so every scratch load is valid), RET last. */
export function buildProgram(genes0: readonly number[], prelude: Prelude = 'none', preludeSel = 0): SockFilter[] {
  const pre = prelude === 'none' ? 0 : 2;
  // a tie needs room for ~128 bytes of fillers after the epilogue: pad with `ld #0` genes
  const genes = prelude === 'none' || genes0.length >= MIN_TIE_GENES ? genes0 : [...genes0, ...new Array<number>(MIN_TIE_GENES - genes0.length).fill(0)];
  const len = genes.length + 2 + pre;
  const prog: SockFilter[] = [S(0x02, 0)];
  // the prelude's jumps skip the RET; shapeProgram retargets them
  if (prelude === 'ja') prog.push(S(0x05, 1), S(0x16, 0));
  if (prelude === 'jcond') prog.push(S(0x15, imm(preludeSel), 1, 0), S(0x06, 0));
  if (prelude === 'jcond-both') prog.push(S(PRELUDE_CODES[preludeSel % PRELUDE_CODES.length]!, imm(preludeSel >>> 3), 1, 1), S(0x16, 0));
  genes.forEach((g, i) => prog.push(insnOf(g, i + 1 + pre, len)));
  prog.push(S(0x06, 0xffff));
  return prog;
}

/** How the prelude is tied to a later exit: which RET, and where the prelude's jumps land around it. */
export interface Tie {
  /** RET A (even) or RET #k (odd, k from the rest) */
  readonly exit: number;
  /** bytes from the first exit's epilogue to the end of the tied RET's jump back to it */
  readonly dist: number;
  /** the prelude's last jump lands this many instructions after the RET */
  readonly slack: number;
  /** the conditional branch of 'jcond-both' lands at this fraction (/256) of the way to the RET */
  readonly mid: number;
  /**
   * Let the model pick the conditional branch's target among those it predicts the JIT refuses (when
   * there are any): the kernel then confirms or refutes the prediction.
   */
  readonly seek: boolean;
  /** put a RET #k this many (mod 6) instructions after the epilogue's RET (negative: none) */
  readonly early: number;
  /** replace all but the early RET between the epilogue and the tied RET by fillers */
  readonly calm: boolean;
  /** the seek's displacement for the conditional branch */
  readonly window: number;
}

// Fillers of known native size (any facts): ld #0 (xor), tax (mov r13, rax), ldx M[0], ld #5, ldx #5
const PALETTE: readonly { readonly insn: SockFilter; readonly size: number }[] = [
  { insn: S(0x00, 0), size: 2 },
  { insn: S(0x07, 0), size: 3 },
  { insn: S(0x61, 0), size: 4 },
  { insn: S(0x00, 5), size: 5 },
  { insn: S(0x01, 5), size: 6 },
];

const isJumpOrRet = (f: SockFilter): boolean => (f.code & 0x07) === 0x05 || (f.code & 0x07) === 0x06;

/**
 * Replace fillers strictly between pcs `from` and `to` (in place) so that the native bytes between
 * them change by `-delta`, greedily, by the current layout's sizes; jumps and RETs stay. The
 * replacements made, as pc * 8 + their PALETTE index, are appended to `log` when given.
 */
function tuneSpan(prog: SockFilter[], from: number, to: number, delta: number, size: (pc: number) => number, log?: number[]): void {
  for (let pc = from + 1; pc < to && delta !== 0; pc++) {
    const f = prog[pc]!;
    if (isJumpOrRet(f)) continue;
    const cur = size(pc);
    let best = -1;
    let bestLeft = Math.abs(delta);
    for (let i = 0; i < PALETTE.length; i++) {
      const left = Math.abs(delta - (cur - PALETTE[i]!.size));
      if (left < bestLeft) {
        bestLeft = left;
        best = i;
      }
    }
    if (best < 0) continue;
    delta -= cur - PALETTE[best]!.size;
    prog[pc] = PALETTE[best]!.insn;
    log?.push(pc * 8 + best);
  }
}

/**
 * Tie the prelude (pc 1) to a later exit (in place): put a RET where its jump back to the epilogue
 * ends tie.dist bytes after the epilogue's start (replacing the instruction there, then resizing the
 * fillers between), land the prelude's last jump just after that RET, and its conditional branch
 * (for 'jcond-both') before it.
 */
export function tieProgram(prog: SockFilter[], prelude: Prelude, tie: Tie, config: KernelConfig = X86_64, facts: X86JitFacts = DEFAULT_JIT_FACTS): void {
  if (prelude === 'none' || prog.length < 12) return;
  // an exit soon after the epilogue: it shrinks in the second pass, and a jump over it in the third
  const x = 3 + (tie.early % 6);
  // calm: only fillers (and the early RET) from the epilogue on, for as many bytes as the tie needs:
  // jumps, other exits and the packet loads' inner jumps would keep moving the tied RET
  if (tie.calm) {
    let bytes = 0;
    for (let pc = 3; pc < prog.length - 1 && bytes < tie.dist + 16; pc++) {
      const q = PALETTE[(pc * 7 + tie.mid) % PALETTE.length]!;
      prog[pc] = q.insn;
      bytes += q.size;
    }
  }
  if (prelude === 'jcond-both' && tie.early >= 0) prog[x] = S(0x06, imm(tie.early >>> 3));
  let l = layout(prog, config, facts);
  if (l === null) return;
  // the epilogue is the RET at pc 2 (its exit is the program's first)
  const start = (pc: number): number => l!.addrs[l!.map[2 * pc]!]!;
  const end = (pc: number): number => l!.addrs[l!.map[2 * pc + 1]!]!;
  let r = 3;
  let bestErr = Infinity;
  for (let pc = 3; pc < prog.length - 1; pc++) {
    const err = Math.abs(start(pc) + 2 - start(2) - tie.dist);
    if (err < bestErr) {
      bestErr = err;
      r = pc;
    }
  }
  prog[r] = tie.exit % 2 === 0 ? S(0x16, 0) : S(0x06, imm(tie.exit >>> 1));
  for (let round = 0; round < 3; round++) {
    l = layout(prog, config, facts);
    if (l === null) return;
    const delta = end(r) - start(2) - tie.dist;
    if (delta === 0) break;
    tuneSpan(prog, 2, r, delta, (pc) => end(pc) - start(pc));
  }
  const target = Math.min(r + 1 + tie.slack, prog.length - 1);
  const f = prog[1]!;
  const span = Math.min(target - 2, 255); // from pc 1: target = 1 + span + 1
  if (prelude === 'ja') {
    prog[1] = { ...f, k: span };
    return;
  }
  if (prelude === 'jcond') {
    prog[1] = { ...f, jt: span };
    return;
  }
  let jt = Math.max(1, Math.min(1 + Math.floor(((r - 2) * tie.mid) / 256), 255));
  prog[1] = { ...f, jt, jf: span };
  if (!tie.seek) return;
  // Seek: for landing places t of the conditional branch (pc 3..r) and displacements w near the
  // limit, resize the fillers before t so that the branch's displacement is w bytes, and those after
  // t so that the tied RET stays where it was; stop at the first variant the model's JIT refuses.
  const places: number[] = [];
  for (let t = 3; t <= r && t - 2 <= 255; t++) places.push(t);
  const windows: number[] = [];
  for (let w = facts.shortJumpMax - 4; w <= facts.shortJumpMax + 1; w++) windows.push(w);
  const n = places.length * windows.length;
  // a drawn starting point, then up to SEEK_TRIES variants with a stride that visits each at most once
  const stride = n > 1 ? largestCoprimeBelow(n, 37) : 1;
  // the first layout of a variant depends on its landing place alone (the program with the branch
  // retargeted, before any filler moves): kept per place (indexed by t), as the bytes from the
  // branch's end to the place and the native size of each instruction before it (null: the program
  // does not convert)
  const firstLayouts: ({ readonly gap: number; readonly sizes: number[] } | null | undefined)[] = [];
  // the retargeted branch per place (one object per t: the same instruction object for the same
  // instruction, which lets layout()'s last-program check see a repeat)
  const heads: (SockFilter | undefined)[] = [];
  // the variants tried, per place: each the fillers replaced (tuneSpan's log), compared in full
  const tried: (number[][] | undefined)[] = [];
  // the variant, reshaped from prog each try (prog does not change in the loop)
  const q: SockFilter[] = prog.slice();
  const log: number[] = [];
  for (let k = 0; k < Math.min(n, SEEK_TRIES); k++) {
    const c = (tie.mid * 7 + tie.window + k * stride) % n;
    const t = places[c % places.length]!;
    const w = windows[Math.floor(c / places.length)]!;
    for (let pc = 0; pc < prog.length; pc++) q[pc] = prog[pc]!;
    q[1] = heads[t] ??= { ...f, jt: t - 2, jf: span };
    let fl = firstLayouts[t];
    if (fl === undefined) {
      const lq = layout(q, config, facts);
      if (lq === null) fl = null;
      else {
        const branchEnd = lq.addrs[lq.map[2 * 1 + 1]! - 1]!; // the Jxx of jmp_rest, before its JA
        const sizes = new Array<number>(t).fill(0); // a plain array: a small typed array costs more to make
        for (let pc = 3; pc < t; pc++) sizes[pc] = lq.addrs[lq.map[2 * pc + 1]!]! - lq.addrs[lq.map[2 * pc]!]!;
        fl = { gap: lq.addrs[lq.map[2 * t]!]! - branchEnd, sizes };
      }
      firstLayouts[t] = fl;
    }
    if (fl === null) continue;
    const sizes = fl.sizes;
    log.length = 0;
    tuneSpan(q, 2, t, fl.gap - w, (pc) => sizes[pc]!, log);
    // The variant is now a function of t and the fillers replaced (prog does not change in the loop):
    // one seen before was tried in full (its JIT check accepted it, or the loop would have stopped),
    // and this try would repeat it step for step
    if (shapingShortcuts.on) {
      let seen = tried[t];
      if (seen === undefined) tried[t] = seen = [];
      if (seen.some((v) => sameLog(v, log))) {
        shapingShortcuts.variantsSkipped++;
        continue;
      }
      seen.push(log.slice());
    }
    const lq2 = layout(q, config, facts);
    if (lq2 === null) continue;
    tuneSpan(q, t - 1, r, lq2.addrs[lq2.map[2 * r + 1]!]! - lq2.addrs[lq2.map[2 * 2]!]! - tie.dist, (pc) => lq2.addrs[lq2.map[2 * pc + 1]!]! - lq2.addrs[lq2.map[2 * pc]!]!);
    if (!jitAccepts(q, config, facts)) {
      for (let pc = 0; pc < prog.length; pc++) prog[pc] = q[pc]!;
      return;
    }
  }
}

/** Whether two tuneSpan logs are the same replacements. */
function sameLog(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Variants the seek tries at most (each costs three conversions and JIT runs of the model). */
const SEEK_TRIES = 48;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
/** The largest stride <= max that is coprime with n (so that k * stride mod n visits distinct places). */
function largestCoprimeBelow(n: number, max: number): number {
  for (let s = Math.min(max, n - 1); s > 1; s--) if (gcd(s, n) === 1) return s;
  return 1;
}

// The layouts below come from the engines, which equal the model (engine/migrate/convert.ts ==
// model/migrate/convert.ts bpfConvertFilter, engine/jit/x86.ts == model/jit/x86.ts
// bpfIntJitCompile: test/engine/attach.test.ts, test/engine/jit.test.ts, test/engine/jit-layout.test.ts):
// each program is laid out several times while it is shaped, and the model's allocations would cost
// milliseconds per program.
const layoutCols = new ClassicColumns();
const converters = new WeakMap<KernelConfig, EngineConverter>();
const layoutJit = new EngineJit();
/** the last layout's map (EngineConverter.mapInto), valid as its addrs are */
let layoutMap = new Int32Array(256);
/** loaded between two programs, so that the columns load the next one even when it is the same array reshaped in place */
const NO_PROGRAM: readonly SockFilter[] = [];

/**
 * A conversion's expansion of each PALETTE filler, by converter: one eBPF insn each, 5 fields per
 * filler (code, dst, src, off, imm), learned from the converter itself (null: some filler does not
 * expand to exactly one insn, and no buffer is patched).
 */
const paletteEbpf = new WeakMap<EngineConverter, Int32Array | null>();

// The program the converter's buffer holds (its instruction objects, as remember() keeps them),
// whether it converted, where each classic insn's expansion starts in it (EngineConverter.mapInto:
// at 2 * pc), and the converter.
const convProg: SockFilter[] = [];
let convOk = false;
let convStarts = new Int32Array(256);
let convLast: EngineConverter | null = null;

/** The PALETTE index of an instruction object (-1: not a palette filler). */
function paletteIndex(f: SockFilter): number {
  for (let i = 0; i < PALETTE.length; i++) if (PALETTE[i]!.insn === f) return i;
  return -1;
}

/** Convert the fillers once (after `st M[0]`, before a RET) and read each one's single eBPF insn. */
function learnPalette(conv: EngineConverter): Int32Array | null {
  const probe = [S(0x02, 0), ...PALETTE.map((p) => p.insn), S(0x16, 0)];
  layoutCols.load(NO_PROGRAM);
  if (conv.bpfConvertFilter(layoutCols.load(probe)) !== null) return null;
  const map = conv.map();
  const out = conv.out;
  const e = new Int32Array(5 * PALETTE.length);
  for (let i = 0; i < PALETTE.length; i++) {
    const at = map[2 * (i + 1)]!;
    if (map[2 * (i + 1) + 1]! - at !== 1) return null;
    e.set([out.code[at]!, out.dst[at]!, out.src[at]!, out.off[at]!, out.imm[at]!], 5 * i);
  }
  return e;
}

/**
 * The form of a conditional jump's expansion (convertCondJump): 1 one jump to jt (jf 0), 2 one
 * inverted jump to jf (jt 0, not JSET), 3 a jump to jt and a JA to jf.
 */
const condForm = (f: SockFilter): number => (f.jf === 0 ? 1 : f.jt === 0 && (f.code & 0xf0) !== 0x40 ? 2 : 3);

/** 1 when a conditional jump's expansion starts with a MOV of its negative k into TMP (a K jump: F:740), else 0. */
const movedK = (g: SockFilter): number => (isCondJump(g.code) && (g.code & 0x08) === 0 && (g.k | 0) < 0 ? 1 : 0);

/** eBPF insn at's offset for a classic target `t` (forward from at + 1 + before), or null when the conversion would fail. */
function offsetTo(t: number, len: number, at: number, before: number): number | null {
  if (t >= len || t < 0) return null; // jump-target-out-of-range (a JA's k above 2^31 wraps t below 0)
  const off = convStarts[2 * t]! - at - 1 - before;
  return off > 0x7fff ? null : off; // jump-offset-overflow
}

/**
 * Make the converter's buffer hold `prog` by rewriting instructions in place, when `prog` differs
 * from the program it holds only at pcs where both are PALETTE fillers, or both JAs, or both
 * conditional jumps of the same code, k and expansion form (condForm): that is the buffer a conversion would
 * make (engine/migrate/convert.ts bpfConvertFilter; net/core/filter.c bpf_convert_filter). A
 * filler's expansion is one instruction (learnPalette) made from its own code and k alone (insn(),
 * ONE_CODE, LD/LDX MEM); a jump's is the same instructions whatever its targets, with offsets
 * addrs[target] - (its index + 1), where addrs are the unchanged starts (every expansion keeps its
 * length), and it fails only where a target is out of range or an offset above s16 (then the
 * conversion is left to the converter: this returns false, having changed nothing). The prologue
 * (seen_ld_abs) and the stack depth (set by stores alone) do not change either. The converter's
 * repeats are dropped (nrep 0: the JIT then walks each insn, with the same answer). Its own
 * bookkeeping (its fixes, for the skb analysis) is not updated: only layout() and jitAccepts read
 * this converter, and they read the buffer, the stack depth and the starts.
 */
function patched(conv: EngineConverter, prog: readonly SockFilter[]): boolean {
  const len = prog.length;
  if (conv !== convLast || !convOk || len !== convProg.length) return false;
  const pal = paletteEbpf.get(conv);
  if (pal === null || pal === undefined) return false;
  // first: every change of those kinds and every new offset valid (nothing written yet); the changes
  // kept as pc, then the new offsets (jumps) or the palette index (fillers)
  if (patchScratch.length < 3 * len) patchScratch = new Int32Array(4 * len);
  const ch = patchScratch;
  let n = 0;
  for (let pc = 0; pc < len; pc++) {
    const g = prog[pc]!;
    const f = convProg[pc]!;
    if (g === f) continue;
    const at = convStarts[2 * pc]! + movedK(g); // after the MOV of a negative k into TMP
    let a: number | null;
    let b: number | null = 0;
    if (g.code === 0x05) {
      if (f.code !== 0x05) return false;
      a = offsetTo((pc + g.k + 1) | 0, len, at, 0);
    } else if (isCondJump(g.code)) {
      const form = condForm(g);
      if (f.code !== g.code || f.k !== g.k || condForm(f) !== form) return false;
      a = offsetTo(form === 2 ? pc + g.jf + 1 : pc + g.jt + 1, len, at, 0);
      if (form === 3) b = offsetTo(pc + g.jf + 1, len, at, 1);
    } else {
      const i = paletteIndex(g);
      if (i < 0 || paletteIndex(f) < 0) return false;
      a = i;
    }
    if (a === null || b === null) return false;
    ch[n] = pc;
    ch[n + 1] = a;
    ch[n + 2] = b;
    n += 3;
  }
  const out = conv.out;
  for (let j = 0; j < n; j += 3) {
    const pc = ch[j]!;
    const g = prog[pc]!;
    convProg[pc] = g;
    const at = convStarts[2 * pc]! + movedK(g);
    if (g.code === 0x05 || isCondJump(g.code)) {
      out.off[at] = ch[j + 1]!;
      if (condForm(g) === 3 && g.code !== 0x05) out.off[at + 1] = ch[j + 2]!;
      continue;
    }
    const i = 5 * ch[j + 1]!;
    out.code[at] = pal[i]!;
    out.dst[at] = pal[i + 1]!;
    out.src[at] = pal[i + 2]!;
    out.off[at] = pal[i + 3]!;
    out.imm[at] = pal[i + 4]!;
  }
  out.nrep = 0;
  return true;
}

/** patched()'s changes (pc and two values each), reused */
let patchScratch = new Int32Array(192);

/** Throw unless the patched buffer is what a fresh conversion of `prog` makes (shapingShortcuts.verify, for the tests). */
function verifyPatch(conv: EngineConverter, prog: readonly SockFilter[], config: KernelConfig): void {
  const fresh = new EngineConverter(config);
  const cols = new ClassicColumns();
  if (fresh.bpfConvertFilter(cols.load(prog)) !== null) throw new Error('jit-boundary patched(): the program does not convert');
  const a = conv.out;
  const b = fresh.out;
  if (a.len !== b.len || conv.stackDepth !== fresh.stackDepth) throw new Error('jit-boundary patched(): another length or stack depth');
  for (let e = 0; e < a.len; e++) {
    if (a.code[e] !== b.code[e] || a.dst[e] !== b.dst[e] || a.src[e] !== b.src[e] || a.off[e] !== b.off[e] || a.imm[e] !== b.imm[e]) {
      throw new Error(`jit-boundary patched(): eBPF insn ${e} differs from a conversion's`);
    }
  }
}

/** The program converted (the engine's converter, holding the result), or null when it does not convert. */
function converted(prog: readonly SockFilter[], config: KernelConfig): EngineConverter | null {
  let conv = converters.get(config);
  if (conv === undefined) {
    converters.set(config, (conv = new EngineConverter(config)));
    paletteEbpf.set(conv, learnPalette(conv));
    convLast = null;
  }
  if (shapingShortcuts.on && patched(conv, prog)) {
    shapingShortcuts.patched++;
    if (shapingShortcuts.verify) verifyPatch(conv, prog, config);
    return conv;
  }
  // the program is reshaped in place between calls, and the columns skip loading the array they hold
  layoutCols.load(NO_PROGRAM);
  convOk = conv.bpfConvertFilter(layoutCols.load(prog)) === null;
  convLast = conv;
  convProg.length = prog.length;
  for (let pc = 0; pc < prog.length; pc++) convProg[pc] = prog[pc]!;
  if (convOk) {
    if (convStarts.length < 2 * prog.length) convStarts = new Int32Array(4 * prog.length);
    conv.mapInto(convStarts);
  }
  return convOk ? conv : null;
}

/** A program's layout (see layout()) and whether the JIT compiles it. */
interface Layout {
  /** where each classic insn's expansion starts and ends (engine/migrate/convert.ts EngineConverter.map) */
  readonly map: Int32Array;
  /** addrs[] of the JIT's last completed pass */
  readonly addrs: Int32Array;
  /** the first eBPF exit's index (-1: none), and whether another follows it */
  readonly firstExit: number;
  readonly moreExits: boolean;
  readonly accepts: boolean;
}

// The last program asked about, and the answers: what the shaping asks of a program (a conversion,
// then the JIT's passes) is a function of its instructions, the config and the facts alone, and it
// often asks again about the program it just laid out (a tuning that changed nothing: the next
// round, the next aim, the seek's acceptance check). The same instruction objects in the same
// order are the same program (a SockFilter is never changed in place: shaping replaces it).
const lastProg: SockFilter[] = [];
/**
 * Whether the shaping takes its shortcuts (the last program's answers, the seek's skip of a variant
 * it tried, a conversion made by patching the fillers and jump targets of the one before: patched()), and how often
 * each was taken: only a test turns them off, to compare both ways; a test turns `verify` on (each
 * patched conversion compared with a fresh one: verifyPatch).
 */
export const shapingShortcuts = { on: true, lastAnswers: 0, variantsSkipped: 0, patched: 0, verify: false };
let lastConfig: KernelConfig | null = null;
let lastFacts: X86JitFacts | null = null;
/** undefined: only `lastAccepts` is known */
let lastLayout: Layout | null | undefined;
let lastAccepts = true;

function isLast(prog: readonly SockFilter[], config: KernelConfig, facts: X86JitFacts): boolean {
  if (!shapingShortcuts.on || config !== lastConfig || facts !== lastFacts || prog.length !== lastProg.length) return false;
  for (let pc = 0; pc < prog.length; pc++) if (prog[pc] !== lastProg[pc]) return false;
  return true;
}

function remember(prog: readonly SockFilter[], config: KernelConfig, facts: X86JitFacts, l: Layout | null | undefined, accepts: boolean): void {
  lastProg.length = prog.length;
  for (let pc = 0; pc < prog.length; pc++) lastProg[pc] = prog[pc]!;
  lastConfig = config;
  lastFacts = facts;
  lastLayout = l;
  lastAccepts = accepts;
}

/** Whether the model's JIT compiles the program (the converter's failures count as accepted here). */
function jitAccepts(prog: readonly SockFilter[], config: KernelConfig, facts: X86JitFacts): boolean {
  if (isLast(prog, config, facts)) {
    shapingShortcuts.lastAnswers++;
    return lastAccepts;
  }
  const conv = converted(prog, config);
  const accepts = conv === null || layoutJit.compile(conv.out, conv.stackDepth, true, facts).jited;
  remember(prog, config, facts, undefined, accepts);
  return accepts;
}

/** One aim: retarget the (jump % jumps)-th jump's taken (or not-taken) branch at `dist` native bytes. */
export interface Aim {
  readonly jump: number;
  readonly branch: 'jt' | 'jf';
  readonly dist: number;
}

/**
 * Native start of each classic instruction and the native end of each eBPF instruction, by the
 * model's layout (the JIT's last pass), or null when the program does not convert.
 */
function layout(prog: readonly SockFilter[], config: KernelConfig, facts: X86JitFacts): Layout | null {
  if (lastLayout !== undefined && isLast(prog, config, facts)) {
    shapingShortcuts.lastAnswers++;
    return lastLayout;
  }
  const conv = converted(prog, config);
  if (conv === null) {
    remember(prog, config, facts, null, true);
    return null;
  }
  // the last complete pass (engine/jit/x86.ts EngineJit.layout: the engine's array, valid until its
  // next layout(), which only this function asks for: a caller reads a layout before the next), and the JIT's outcome
  const addrs = layoutJit.layout(conv.out, conv.stackDepth, true, facts);
  const accepts = layoutJit.layoutResult.jited;
  if (addrs === null) {
    remember(prog, config, facts, null, accepts);
    return null;
  }
  const code = conv.out.code;
  const len = conv.out.len;
  let firstExit = 0;
  while (firstExit < len && code[firstExit] !== 0x95) firstExit++;
  let next = firstExit + 1;
  while (next < len && code[next] !== 0x95) next++;
  if (layoutMap.length < 2 * prog.length) layoutMap = new Int32Array(4 * prog.length);
  const l: Layout = { map: conv.mapInto(layoutMap), addrs, firstExit: firstExit < len ? firstExit : -1, moreExits: next < len, accepts };
  remember(prog, config, facts, l, accepts);
  return l;
}

/** Retarget one jump of `prog` (in place) so that its native displacement is closest to aim.dist. */
export function applyAim(prog: SockFilter[], aim: Aim, config: KernelConfig = X86_64, facts: X86JitFacts = DEFAULT_JIT_FACTS): void {
  const jumps: number[] = [];
  prog.forEach((f, pc) => {
    if (f.code === 0x05 || ((f.code & 0x07) === 0x05 && f.code !== 0x05)) jumps.push(pc);
  });
  if (jumps.length === 0) return;
  const pc = jumps[aim.jump % jumps.length]!;
  const l = layout(prog, config, facts);
  if (l === null) return;
  const f = prog[pc]!;
  // Which field carries the branch, and the eBPF jump that encodes it (the last of the expansion, or
  // the one before the JA of jmp_rest, net/core/filter.c:774)
  const end = l.map[2 * pc + 1]!;
  const invertible = f.code === 0x15 || f.code === 0x1d || f.code === 0x25 || f.code === 0x2d || f.code === 0x35 || f.code === 0x3d;
  let field: 'k' | 'jt' | 'jf';
  let ebpfEnd = end; // addrs[] index of the native end of that eBPF jump
  let minSpan = 0;
  if (f.code === 0x05) field = 'k';
  else if (f.jf === 0) field = 'jt';
  else if (f.jt === 0 && invertible) field = 'jf';
  else {
    field = aim.branch;
    if (field === 'jt') ebpfEnd = end - 1;
    minSpan = 1; // keep jmp_rest's shape
  }
  const from = l.addrs[ebpfEnd]!;
  const maxSpan = field === 'k' ? prog.length - pc - 2 : Math.min(255, prog.length - pc - 2);
  let best = -1;
  let bestErr = Infinity;
  for (let s = minSpan; s <= maxSpan; s++) {
    const t = pc + 1 + s;
    const err = Math.abs(l.addrs[l.map[2 * t]!]! - from - aim.dist);
    if (err < bestErr) {
      bestErr = err;
      best = s;
    }
  }
  if (best < 0) return;
  prog[pc] = { ...f, [field]: best };
}

/** One exit aim: make the (exit % n)-th later RET's jump back to the first exit's epilogue `dist` bytes long. */
export interface ExitAim {
  readonly exit: number;
  readonly dist: number;
  /** aim this RET (its pc) rather than the exit-th one */
  readonly retPc?: number;
}

// The immediates that resize a filler: ld/ldx #k by 3 bytes (k 0: xor; else mov imm32), ALU K by 2
// (imm8: 83 /n ib; else 05/81 id)
function resize(f: SockFilter, grow: boolean): SockFilter | null {
  if (f.code === 0x00 || f.code === 0x01) {
    if (grow && f.k === 0) return { ...f, k: 5 };
    if (!grow && f.k !== 0) return { ...f, k: 0 };
    return null;
  }
  if (f.code === 0x04 || f.code === 0x14 || f.code === 0x54 || f.code === 0x44 || f.code === 0xa4) {
    const small = (f.k | 0) >= -128 && (f.k | 0) <= 127;
    if (grow && small) return { ...f, k: 0x80 };
    if (!grow && !small) return { ...f, k: 1 };
  }
  return null;
}

/**
 * Resize fillers between the first exit and a later RET (in place) so that the RET's jump back to
 * the first exit's epilogue (do_jit :2688, ctx->cleanup_addr - addrs[i]) is about aim.dist bytes.
 */
export function applyExitAim(prog: SockFilter[], aim: ExitAim, config: KernelConfig = X86_64, facts: X86JitFacts = DEFAULT_JIT_FACTS): void {
  let ret: number | null = null;
  for (let round = 0; round < 4; round++) {
    const l = layout(prog, config, facts);
    if (l === null) return;
    if (!l.moreExits) return;
    const first = l.firstExit;
    // classic RETs whose exit comes after the first eBPF exit
    const rets: number[] = [];
    prog.forEach((f, pc) => {
      if ((f.code === 0x06 || f.code === 0x16) && l.map[2 * pc + 1]! - 1 > first) rets.push(pc);
    });
    if (rets.length === 0) return;
    // the RET is chosen once (resizing does not move it)
    if (ret === null) ret = aim.retPc !== undefined && rets.includes(aim.retPc) ? aim.retPc : rets[aim.exit % rets.length]!;
    const r = ret;
    const e = l.map[2 * r + 1]! - 1;
    const back = l.addrs[e + 1]! - l.addrs[first]!; // -jmp_offset
    const delta = back - aim.dist;
    if (Math.abs(delta) < 2) return;
    // the classic instructions strictly between the first exit's and this RET's
    let firstPc = 0;
    while (l.map[2 * firstPc + 1]! <= first) firstPc++;
    let changed = false;
    let left = Math.abs(delta);
    for (let pc = firstPc + 1; pc < r && left >= 2; pc++) {
      const g = resize(prog[pc]!, delta < 0);
      if (g === null) continue;
      const step = prog[pc]!.code <= 0x01 ? 3 : 2;
      if (step > left && left !== 2) continue;
      if (step > left) continue;
      prog[pc] = g;
      left -= step;
      changed = true;
    }
    if (!changed) return;
  }
}

/** Distances the aims draw: around the forward limit (123/127) and its near neighbours. */
const aimDist = (): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: 118, max: 134 }), fc.integer({ min: 100, max: 140 }));

const weighted = <T>(p: number, yes: fc.Arbitrary<T>, no: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ arbitrary: yes, weight: p }, { arbitrary: no, weight: 100 - p });

/**
 * Ties drawn mostly sharp (the tied RET's jump back ends at the short limit or one byte before it,
 * the region between calm, an early exit, the seek on), sometimes anywhere near the limits.
 */
export function tieArb(facts: X86JitFacts = DEFAULT_JIT_FACTS): fc.Arbitrary<Tie> {
  const thr = facts.shortJumpMax;
  return fc.record({
    exit: fc.nat({ max: 255 }),
    dist: weighted(60, fc.constant(thr - 1), fc.integer({ min: thr - 8, max: thr + 8 })),
    slack: weighted(70, fc.constant(0), fc.nat({ max: 2 })),
    mid: fc.nat({ max: 255 }),
    seek: weighted(80, fc.constant(true), fc.constant(false)),
    early: weighted(80, fc.nat({ max: 255 }), fc.integer({ min: -64, max: -1 })),
    calm: weighted(80, fc.constant(true), fc.constant(false)),
    window: fc.integer({ min: thr - 4, max: thr + 1 }),
  });
}

/** Classic programs aimed at the JIT's short/near jump boundaries. */
export function jitBoundaryProgram(opts: JitBoundaryOptions = {}): fc.Arbitrary<SockFilter[]> {
  const minLength = opts.minLength ?? 8;
  const maxLength = opts.maxLength ?? 64;
  const config = opts.config ?? X86_64;
  const facts = opts.facts ?? DEFAULT_JIT_FACTS;
  const g = fc.noBias(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
  const aim = fc.record({ jump: fc.nat({ max: 255 }), branch: fc.constantFrom<'jt' | 'jf'>('jt', 'jf'), dist: aimDist() });
  // backward: the short form reaches -128 (the exit jump's displacement is from its own end)
  const exitAim = fc.record({ exit: fc.nat({ max: 255 }), dist: fc.oneof(fc.integer({ min: 122, max: 134 }), fc.integer({ min: 100, max: 140 })) });
  return fc
    .tuple(
      fc.array(g, { minLength: Math.max(0, minLength - 2), maxLength: Math.max(0, maxLength - 2), size: 'max' }),
      fc.array(exitAim, { maxLength: opts.maxAims ?? 2 }),
      fc.array(aim, { maxLength: opts.maxAims ?? 3 }),
      fc.constantFrom<Prelude>('jcond-both', 'jcond-both', 'jcond-both', 'ja', 'jcond', 'none'),
      fc.nat({ max: 255 }),
      tieArb(facts),
    )
    .map(([genes, exitAims, aims, prelude, sel, tie]) => {
      const prog = buildProgram(genes, prelude, sel);
      // the free aims first: the tie (last) keeps the layout it tuned
      for (const a of exitAims) applyExitAim(prog, a, config, facts);
      for (const a of aims) applyAim(prog, a, config, facts);
      tieProgram(prog, prelude, tie, config, facts);
      return prog;
    });
}

// ---------------------------------------------------------------------------------------------
// eBPF programs for the JIT image check (oracle/kernel/jitimage.ts): the instruction forms the
// converter emits (ALU and ALU64 with K and X, moves, byte swaps, DIV/MOD, stack stores and loads, a
// helper call, conditional jumps with K and X, JA, several exits), written so that the verifier
// accepts them as socket filters: every register starts as the unknown result of
// bpf_get_prandom_u32 (so the verifier cannot decide a branch and remove code), the stack slots read
// are written first, jumps only go forward, and a call is followed by moves that re-initialise the
// argument registers it clobbers.

const BPF_FUNC_GET_PRANDOM_U32 = 7; // include/uapi/linux/bpf.h
const E = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm: imm | 0 });
/** The registers the body uses (r1 is left alone: it is the context until the first call) */
const REGS: readonly number[] = [0, 2, 3, 4, 5, 6, 7, 8, 9];

/** A marker offset: this jump skips the next instruction (not an item-relative span). */
const JA_OVER = -0x8000;

/** The prologue: r0 = bpf_get_prandom_u32(); every other register and four stack slots = r0. */
function ebpfPrologue(): BpfInsn[] {
  const out: BpfInsn[] = [E(0x85, 0, 0, 0, BPF_FUNC_GET_PRANDOM_U32)];
  for (const r of REGS) if (r !== 0) out.push(E(0xbf, r, 0, 0, 0));
  for (let s = 1; s <= 4; s++) out.push(E(0x7b, 10, 0, -8 * s, 0)); // *(u64 *)(r10 - 8s) = r0
  return out;
}

// One body instruction (or the few of a call) from a gene at index `at` of a body of `len`.
function ebpfInsnOf(g: number, at: number, len: number): BpfInsn[] {
  const a = g % 0x100000000;
  const hi = Math.floor(g / 0x100000000);
  const kind = hi % 16;
  const sel = Math.floor(hi / 16);
  const dst = REGS[sel % REGS.length]!;
  const src = REGS[(sel >>> 4) % REGS.length]!;
  const cls = (sel >>> 8) % 2 === 0 ? 0x04 : 0x07; // ALU or ALU64
  const room = len - at - 1; // a forward target inside the body or the final exit
  const span = (s: number): number => (room <= 0 ? 0 : s % (room + 1));
  switch (kind) {
    case 0:
    case 1: {
      const op = [0x00, 0x10, 0x50, 0x40, 0xa0, 0x20][sel % 6]!; // add sub and or xor mul
      return [E(cls | op, dst, 0, 0, imm(a))];
    }
    case 2: {
      const op = [0x00, 0x10, 0x50, 0x40, 0xa0, 0x20][sel % 6]!;
      return [E(cls | op | 0x08, dst, src, 0, 0)];
    }
    case 3: {
      const op = [0x60, 0x70, 0xc0][sel % 3]!; // lsh rsh arsh
      return [(sel >>> 2) % 2 === 0 ? E(cls | op, dst, 0, 0, a % (cls === 0x07 ? 64 : 32)) : E(cls | op | 0x08, dst, src, 0, 0)];
    }
    case 4:
      return [(sel >>> 2) % 2 === 0 ? E(cls | 0xb0, dst, 0, 0, imm(a)) : E(cls | 0xb8, dst, src, 0, 0)]; // mov
    case 5:
      return [E(cls | 0x80, dst, 0, 0, 0)]; // neg
    case 6:
      return [E((sel >>> 2) % 2 === 0 ? 0xdc : 0xd4, dst, 0, 0, [16, 32, 64][a % 3]!)]; // be / le
    case 7: {
      const op = (sel >>> 2) % 2 === 0 ? 0x30 : 0x90; // div mod
      return [(sel >>> 3) % 2 === 0 ? E(cls | op, dst, 0, 0, imm(a) || 7) : E(cls | op | 0x08, dst, src, 0, 0)];
    }
    case 8: {
      const size = [0x00, 0x08, 0x10, 0x18][sel % 4]!;
      const slot = -8 * (1 + (a % 4));
      return [(sel >>> 2) % 2 === 0 ? E(0x63 | size, 10, src, slot, 0) : E(0x61 | size, dst, 10, slot, 0)]; // stx / ldx
    }
    case 9:
      return [E(0x85, 0, 0, 0, BPF_FUNC_GET_PRANDOM_U32), ...[2, 3, 4, 5].map((r) => E(0xbf, r, 0, 0, 0))];
    case 10:
    case 11:
    case 12: {
      const jcls = (sel >>> 8) % 3 === 0 ? 0x06 : 0x05; // JMP32 or JMP
      const op = [0x10, 0x20, 0x30, 0x40, 0x50, 0xa0, 0xb0, 0x60, 0x70, 0xc0, 0xd0][sel % 11]!;
      return [(sel >>> 4) % 2 === 0 ? E(jcls | op, dst, 0, span(a >>> 8), imm(a)) : E(jcls | op | 0x08, dst, src, span(a >>> 8), 0)];
    }
    // the verifier refuses unreachable instructions: an exit or a JA is skipped by a jump (JA_OVER)
    // whose condition it cannot decide, so that what follows them stays reachable
    case 13:
      return [E(sel % 2 === 0 ? 0x25 : 0x26, dst, 0, JA_OVER, imm(a >>> 4)), E(0x05, 0, 0, span(a >>> 8), 0)]; // ja
    case 14:
      return [E(sel % 2 === 0 ? 0x25 : 0x26, dst, 0, JA_OVER, imm(a >>> 4)), E(0x95, 0, 0, 0, 0)]; // exit
    default:
      return [E(0x07, dst, 0, 0, imm(a))]; // add64 #k
  }
}

/**
 * The eBPF program of these genes: the prologue, then one body item per gene, then `exit`. Jump
 * offsets are drawn in body items; since a call item is several instructions, each offset is
 * re-anchored to the item it was drawn for.
 */
export function buildEbpf(genes: readonly number[]): BpfInsn[] {
  const items = genes.map((g, i) => ebpfInsnOf(g, i, genes.length));
  const pro = ebpfPrologue();
  const start: number[] = [];
  let n = pro.length;
  for (const it of items) {
    start.push(n);
    n += it.length;
  }
  start.push(n); // the final exit
  const out = [...pro];
  items.forEach((it, i) => {
    for (const insn of it) {
      const cls = insn.code & 0x07;
      const isJump = (cls === 0x05 || cls === 0x06) && insn.code !== 0x85 && insn.code !== 0x95;
      // an item-relative span s lands on the first instruction of item i + 1 + s
      if (isJump && insn.off === JA_OVER) out.push({ ...insn, off: 1 });
      else out.push(isJump ? { ...insn, off: start[Math.min(i + 1 + insn.off, items.length)]! - out.length - 1 } : insn);
    }
  });
  out.push(E(0x95, 0, 0, 0, 0));
  return out;
}

/** Retarget one forward jump (in place) so that its native displacement, by the model, is closest to `dist`. */
export function aimEbpf(prog: BpfInsn[], jump: number, dist: number, facts: X86JitFacts = DEFAULT_JIT_FACTS): void {
  const jumps: number[] = [];
  prog.forEach((insn, i) => {
    const cls = insn.code & 0x07;
    // not the jumps over a JA or an exit: they keep what follows reachable
    const guard = prog[i + 1] !== undefined && (prog[i + 1]!.code === 0x05 || prog[i + 1]!.code === 0x95);
    if ((cls === 0x05 || cls === 0x06) && insn.code !== 0x85 && insn.code !== 0x95 && !guard) jumps.push(i);
  });
  if (jumps.length === 0) return;
  const j = jumps[jump % jumps.length]!;
  const r = bpfIntJitCompile({ insns: prog, stackDepth: 32, wasClassic: false }, facts);
  const last = [...r.passes].reverse().find((p) => p.proglen > 0);
  if (last === undefined) return;
  const addrs = new Int32Array(prog.length + 1);
  addrs[0] = last.prologue;
  for (let i = 0; i < prog.length; i++) addrs[i + 1] = addrs[i]! + last.lengths[i]!;
  let best = prog[j]!.off;
  let bestErr = Infinity;
  for (let t = j + 1; t < prog.length; t++) {
    const err = Math.abs(addrs[t]! - addrs[j + 1]! - dist);
    if (err < bestErr) {
      bestErr = err;
      best = t - j - 1;
    }
  }
  prog[j] = { ...prog[j]!, off: best };
}

/** eBPF programs (verifier-friendly socket filters) aimed at the JIT's jump limits. */
export function jitBoundaryEbpf(opts: { readonly maxLength?: number; readonly facts?: X86JitFacts } = {}): fc.Arbitrary<BpfInsn[]> {
  const facts = opts.facts ?? DEFAULT_JIT_FACTS;
  const g = fc.noBias(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
  const aim = fc.record({ jump: fc.nat({ max: 255 }), dist: fc.oneof(fc.integer({ min: facts.shortJumpMax - 4, max: facts.shortJumpMax + 4 }), fc.integer({ min: 100, max: 140 })) });
  return fc.tuple(fc.array(g, { minLength: 4, maxLength: opts.maxLength ?? 80, size: 'max' }), fc.array(aim, { maxLength: 4 })).map(([genes, aims]) => {
    const prog = buildEbpf(genes);
    for (const a of aims) aimEbpf(prog, a.jump, a.dist, facts);
    return prog;
  });
}

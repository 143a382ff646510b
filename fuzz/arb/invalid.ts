// Invalid programs, each aimed at ONE rule of the attach path and built so that this rule is the
// one the kernel reports first:
// - bpf_check_basics_ok (net/core/filter.c:1040): length;
// - bpf_check_classic (net/core/filter.c:1065): one loop over pc ascending (code allowed, then the
//   per-code check), then the last-RET rule (:1134), then check_load_and_stores (:921);
// - bpf_convert_filter (net/core/filter.c:569): a jump offset that does not fit s16 (:710);
// - __sk_filter_charge (net/core/filter.c:1226): the migrated program exceeds optmem_max.
// Check-rule mutations REPLACE one instruction of a valid program at pc p (so every earlier pc
// still passes its checks, flen unchanged) or PREFIX a small gadget (relative jumps keep the rest
// valid). Migration failures are checker-valid programs sized with ebpf-size.ts.
import type { CheckRule } from '../../model/cbpf/check.js';
import fc from 'fast-check';
import type { KernelConfig } from '../../model/config.js';
import { X86_64 } from '../../model/config.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { BPF_MAXINSNS } from '../../model/uapi.js';
import { ANCILLARY_K, BOUNDARY_U32, pick } from './constants.js';
import { ebpfLen, isCondJump, jumpOverflowPc } from './ebpf-size.js';
import { ALLOWED_CODES, limitProgram, optmemFitMax, shortProgram } from './program.js';
import { realisticProgram } from './realistic.js';

/** Every checker rule except 'filter-null' (a NULL pointer is not a program to generate). */
export type CheckTarget = Exclude<CheckRule, 'filter-null'>;
export type MigrationTarget = 'jump-offset-overflow' | 'optmem-exceeded';
export type InvalidRule = CheckTarget | MigrationTarget;

export const CHECK_TARGETS: readonly CheckTarget[] = [
  'len-zero',
  'len-too-long',
  'code-not-allowed',
  'div-by-zero-k',
  'shift-k-too-large',
  'mem-index-out-of-range',
  'ja-out-of-range',
  'jump-out-of-range',
  'ancillary-k-invalid',
  'last-not-ret',
  'mem-read-before-write',
];
export const MIGRATION_TARGETS: readonly MigrationTarget[] = ['jump-offset-overflow', 'optmem-exceeded'];
export const INVALID_RULES: readonly InvalidRule[] = [...CHECK_TARGETS, ...MIGRATION_TARGETS];

/** A program aimed at one rule: the rule, the stage that reports it and the pc it should name. */
export interface InvalidCase {
  readonly prog: SockFilter[];
  readonly targets: InvalidRule;
  readonly stage: 'check' | 'convert' | 'charge';
  /** Classic pc the rule fires at (null: about the whole program: length, optmem). */
  readonly pc: number | null;
  /** Which variant of the mutation produced it (for distribution checks and reports). */
  readonly how: string;
}

const U32 = fc.integer({ min: 0, max: 0xffffffff });
const ALLOWED = new Set(ALLOWED_CODES);

/** The valid programs mutations start from. */
const baseProgram = (): fc.Arbitrary<SockFilter[]> =>
  fc.oneof({ arbitrary: shortProgram(), weight: 4 }, { arbitrary: realisticProgram().map((r) => [...r.prog]), weight: 1 });

const replaceAt = (prog: readonly SockFilter[], p: number, insn: SockFilter): SockFilter[] => {
  const out = prog.slice();
  out[p] = insn;
  return out;
};

const check = (prog: SockFilter[], targets: CheckTarget, pc: number | null, how: string): InvalidCase => ({
  prog,
  targets,
  stage: 'check',
  pc,
  how,
});

/**
 * The randomness a rule's builder reads: u32 words in order (0 once exhausted), so that the same
 * builders serve fast-check's arbitraries here and the campaign's genome (fuzz/genome.ts).
 */
export type Words = () => number;

/** A reader over an array of words (0 past its end). */
export function wordsOf(ws: ArrayLike<number>, from = 0): Words {
  let i = from;
  return () => (i < ws.length ? ws[i++]! >>> 0 : (i++, 0));
}

/** A fast-check nat(max) from a word (max + 1 values). */
const natOf = (w: number, max: number): number => (max >= 0xffffffff ? w : w % (max + 1));
const boolOf = (w: number): boolean => (w & 1) === 1;
/** fc.nat() (0..2^31 - 1) from a word */
const nat31 = (w: number): number => w >>> 1;

// --- bpf_check_basics_ok --------------------------------------------------------------------

/** flen == 0 (net/core/filter.c:1045). */
export const lenZeroOf = (): InvalidCase => check([], 'len-zero', null, 'empty');

const LD0: SockFilter = Object.freeze({ code: 0x00, jt: 0, jf: 0, k: 0 });

/** The programs lenTooLongOf returns, one per length, made on first use and frozen. */
const TOO_LONG = new Map<number, readonly SockFilter[]>();

/**
 * flen > BPF_MAXINSNS (net/core/filter.c:1045): 4097.. and the sock_fprog.len maximum 0xffff.
 * bpf_check_basics_ok reads the length alone, and __get_filter calls it before it copies a single
 * instruction from the user (net/core/filter.c:1502), so the program is `ld #0`
 * throughout: one frozen array per length, shared by every case of that length (a fresh array of
 * 65535 records costs milliseconds to allocate). `_base` is not read.
 */
export function lenTooLongOf(_base: readonly SockFilter[], r: Words): InvalidCase {
  const w = r();
  const n = (w & 1) === 0 ? BPF_MAXINSNS + 1 + ((w >>> 1) % 64) : 0xffff;
  let prog = TOO_LONG.get(n);
  if (prog === undefined) {
    const a: SockFilter[] = [];
    for (let i = 0; i < n; i++) a.push(LD0);
    prog = Object.freeze(a);
    TOO_LONG.set(n, prog);
  }
  return check(prog as SockFilter[], 'len-too-long', null, n === 0xffff ? 'fprog-max' : 'over-4096');
}

// --- per-instruction checks, in the kernel's order --------------------------------------------

/** Codes chk_code_allowed rejects: holes below 0xb2, 0xb2..0xff, and any code with a high byte. */
export const REJECTED_LOW_CODES: readonly number[] = Object.freeze(
  Array.from({ length: 0x100 }, (_, c) => c).filter((c) => !ALLOWED.has(c)),
);
const REJECTED_BELOW_B2 = REJECTED_LOW_CODES.filter((x) => x < 0xb2);

/** code-not-allowed at p (net/core/filter.c:1076): the first check at that pc. */
export function codeNotAllowedOf(base: SockFilter[], r: Words): InvalidCase {
  const p = nat31(r()) % base.length;
  const kind = natOf(r(), 3);
  const c = nat31(r());
  const k = r();
  const j = r();
  let code: number;
  let how: string;
  if (kind === 0) {
    code = pick(REJECTED_BELOW_B2, c);
    how = 'hole-below-0xb2';
  } else if (kind === 1) {
    code = 0xb2 + (c % (0x100 - 0xb2));
    how = 'at-or-above-0xb2';
  } else if (kind === 2) {
    code = ((1 + (c % 0xff)) << 8) | pick(ALLOWED_CODES, c >>> 8); // an allowed low byte + high byte
    how = 'high-byte';
  } else {
    code = pick([0xffff, 0x8000, 0x8020, 0x8030, 0x0100, 0xff06], c);
    how = 'edge';
  }
  return check(replaceAt(base, p, { code, jt: j & 0xff, jf: (j >>> 8) & 0xff, k }), 'code-not-allowed', p, how);
}

const at = (base: SockFilter[], p0: number): number => p0 % base.length;

/** DIV|K or MOD|K with k == 0 (net/core/filter.c:1084). */
export function divByZeroOf(base: SockFilter[], r: Words): InvalidCase {
  const p = at(base, nat31(r()));
  const mod = boolOf(r());
  return check(replaceAt(base, p, { code: mod ? 0x94 : 0x34, jt: 0, jf: 0, k: 0 }), 'div-by-zero-k', p, mod ? 'mod' : 'div');
}

/** LSH|K or RSH|K with k >= 32 (net/core/filter.c:1089). */
export function shiftTooLargeOf(base: SockFilter[], r: Words): InvalidCase {
  const p = at(base, nat31(r()));
  const rsh = boolOf(r());
  const k0 = r();
  const k = (k0 & 1) === 0 ? pick([32, 33, 63, 64, 0x80000000, 0xffffffff], k0 >>> 1) : Math.max(32, k0);
  return check(replaceAt(base, p, { code: rsh ? 0x74 : 0x64, jt: 0, jf: 0, k }), 'shift-k-too-large', p, rsh ? 'rsh' : 'lsh');
}

/** LD MEM / LDX MEM / ST / STX with k >= 16 (net/core/filter.c:1097). */
export function memIndexOf(base: SockFilter[], r: Words): InvalidCase {
  const p = at(base, nat31(r()));
  const which = natOf(r(), 3);
  const k0 = r();
  const code = [0x60, 0x61, 0x02, 0x03][which]!;
  const k = (k0 & 1) === 0 ? pick([16, 17, 31, 32, 0xffff, 0x80000000, 0xffffffff], k0 >>> 1) : Math.max(16, k0);
  return check(replaceAt(base, p, { code, jt: 0, jf: 0, k }), 'mem-index-out-of-range', p, ['ld', 'ldx', 'st', 'stx'][which]!);
}

/** JA with k >= flen - pc - 1 (net/core/filter.c:1105): exactly at the limit or beyond. */
export function jaOutOfRangeOf(base: SockFilter[], r: Words): InvalidCase {
  const p = at(base, nat31(r()));
  const e = r();
  const lim = base.length - p - 1;
  const k = (e & 3) === 0 ? lim : (e & 3) === 1 ? lim + 1 : (e & 3) === 2 ? 0xffffffff : Math.max(lim, e);
  return check(replaceAt(base, p, { code: 0x05, jt: 0, jf: 0, k }), 'ja-out-of-range', p, k === lim ? 'at-limit' : 'beyond');
}

const JCOND: readonly number[] = [0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d];

/** Jcond with pc + jt + 1 >= flen or pc + jf + 1 >= flen (net/core/filter.c:1117). */
export function jumpOutOfRangeOf(base: SockFilter[], r: Words): InvalidCase {
  const flen = base.length;
  const d = nat31(r()) % Math.min(flen, 256); // d = flen - p - 1 in 0..255
  const which = natOf(r(), 2);
  const rr = r();
  const k = r();
  const p = flen - 1 - d;
  const bad = d + ((rr & 0xff) % (256 - d)); // >= d: out of range
  const good = d === 0 ? 0 : ((rr >>> 8) & 0xff) % d;
  const jt = which === 1 ? good : bad;
  const jf = which === 0 ? good : bad;
  // with d == 0 even jt = jf = 0 is out of range (target == flen)
  const insn = { code: pick(JCOND, rr >>> 16), jt, jf, k };
  return check(replaceAt(base, p, insn), 'jump-out-of-range', p, ['jt', 'jf', 'both'][which]!);
}

/** ABS k in the ancillary window but not one of the 16 SKF_AD values (net/core/filter.c:1128). */
export const BAD_ANC_K: readonly number[] = Object.freeze(
  [1, 2, 3, 5, 0x3d, 0x3e, 0x3f, 0x40, 0x44, 0x80, 0x100, 0x800, 0xffc, 0xfff].map((x) => (0xfffff000 + x) >>> 0),
);

export function ancillaryInvalidOf(base: SockFilter[], r: Words): InvalidCase {
  const p = at(base, nat31(r()));
  const size = natOf(r(), 2);
  const x = natOf(r(), 0xfff);
  let k = (0xfffff000 + x) >>> 0;
  if (ANCILLARY_K.includes(k)) k = pick(BAD_ANC_K, x);
  return check(replaceAt(base, p, { code: [0x20, 0x28, 0x30][size]!, jt: 0, jf: 0, k }), 'ancillary-k-invalid', p, 'window');
}

const HARMLESS_CODES = ALLOWED_CODES.filter((x) => x !== 0x05 && x !== 0x06 && x !== 0x16 && !isCondJump(x));

/** Non-jump, non-RET instructions that pass their own checks anywhere (for the last pc). */
function harmless(c: number, k: number): SockFilter {
  const code = pick(HARMLESS_CODES, c);
  switch (code) {
    case 0x34:
    case 0x94:
      return { code, jt: 0, jf: 0, k: k || 1 };
    case 0x64:
    case 0x74:
      return { code, jt: 0, jf: 0, k: k & 31 };
    case 0x60:
    case 0x61:
    case 0x02:
    case 0x03:
      return { code, jt: 0, jf: 0, k: k & 15 };
    case 0x20:
    case 0x28:
    case 0x30:
      return { code, jt: 0, jf: 0, k: k >= 0xfffff000 ? pick(ANCILLARY_K, k) : k };
    default:
      return { code, jt: 0, jf: 0, k };
  }
}

/** The last instruction is not RET K / RET A (net/core/filter.c:1134): replaced or appended. */
export function lastNotRetOf(base: SockFilter[], r: Words): InvalidCase {
  const insn = harmless(nat31(r()), r());
  if (boolOf(r())) return check([...base, insn], 'last-not-ret', base.length, 'append');
  return check(replaceAt(base, base.length - 1, insn), 'last-not-ret', base.length - 1, 'replace');
}

// net/core/filter.c:921 check_load_and_stores: the state at each pc (after memvalid &= masks[pc]).
/** memvalid as check_load_and_stores sees it at each pc of a checker-valid program. */
function memvalidAt(prog: readonly SockFilter[]): Uint16Array {
  const masks = new Uint16Array(prog.length).fill(0xffff);
  const out = new Uint16Array(prog.length);
  let memvalid = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    memvalid &= masks[pc]!;
    out[pc] = memvalid;
    const insn = prog[pc]!;
    if (insn.code === 0x02 || insn.code === 0x03) memvalid |= 1 << insn.k;
    else if (insn.code === 0x05) {
      masks[pc + 1 + insn.k] &= memvalid;
      memvalid = 0xffff;
    } else if (isCondJump(insn.code)) {
      masks[pc + 1 + insn.jt] &= memvalid;
      masks[pc + 1 + insn.jf] &= memvalid;
      memvalid = 0xffff;
    }
  }
  return out;
}

/** A load of a cell not written on some path (net/core/filter.c:944). */
export function readBeforeWriteOf(base: SockFilter[], r: Words): InvalidCase {
  const p0 = nat31(r());
  const kind = natOf(r(), 2);
  const k0 = natOf(r(), 15);
  const c = r();
  const ldx = boolOf(r());
  const code = ldx ? 0x61 : 0x60;
  if (kind === 0 && base.length >= 2) {
    // replace at a pc where some cell is invalid; pc 0 always qualifies (memvalid starts 0)
    const mv = memvalidAt(base);
    const cands: number[] = [];
    for (let pc = 0; pc < base.length - 1; pc++) if (mv[pc] !== 0xffff) cands.push(pc);
    const p = pick(cands, p0);
    let k = k0;
    while ((mv[p]! & (1 << k)) !== 0) k = (k + 1) & 15;
    return check(replaceAt(base, p, { code, jt: 0, jf: 0, k }), 'mem-read-before-write', p, 'replace');
  }
  if (kind === 1) {
    // diamond: the store is on the true branch only: jeq #c,0,1; st M[k]; ld M[k]
    const gadget: SockFilter[] = [
      { code: 0x15, jt: 0, jf: 1, k: c },
      { code: (c & 1) === 0 ? 0x02 : 0x03, jt: 0, jf: 0, k: k0 },
      { code, jt: 0, jf: 0, k: k0 },
    ];
    return check([...gadget, ...base], 'mem-read-before-write', 2, 'diamond');
  }
  // RET does not reset memvalid: jeq #c,1,0; st M[k]; ret; ld M[k]   (kernel-spec Appendix B.8)
  const gadget: SockFilter[] = [
    { code: 0x15, jt: 1, jf: 0, k: c },
    { code: 0x02, jt: 0, jf: 0, k: k0 },
    { code: 0x06, jt: 0, jf: 0, k: 0 },
    { code, jt: 0, jf: 0, k: k0 },
  ];
  return check([...gadget, ...base], 'mem-read-before-write', 3, 'after-ret');
}

// --- migration failures -------------------------------------------------------------------------

/** Fillers that set seen_ld_abs and expand a lot (x86-64: 21, 16, 19, 12, 14 eBPF insns). */
const HEAVY = (seed: number): SockFilter => {
  switch (seed % 5) {
    case 0:
      return { code: 0xb1, jt: 0, jf: 0, k: 0x8000 + (seed % 0x7fff0000) }; // ldxb 4*([k]&0xf), k > 32767
    case 1:
      return { code: 0x28, jt: 0, jf: 0, k: 0x8000 + (seed % 0x7fff0000) }; // ldh [k], k > 32767
    case 2:
      return { code: 0xb1, jt: 0, jf: 0, k: 1 + (seed % 0x7fff) }; // ldxb, 0 < k <= 32767
    case 3:
      return { code: 0x30, jt: 0, jf: 0, k: 0 }; // ldb [0]
    default:
      return { code: 0xb1, jt: 0, jf: 0, k: (0xfff00000 + (seed % 64)) >>> 0 }; // ldxb [net+k]: slow path only
  }
};

/** The largest eBPF index a jump may sit at: the first iteration's -(addrs[i] + 1 + slot) >= -32768, slot <= 2. */
const JUMP_INDEX_MAX = 32765;

/** Heavy fillers (cycling through `seeds`) until the eBPF length reaches at least `target`. */
function heavyFill(target: number, seeds: readonly number[], cfg: KernelConfig): SockFilter[] {
  const out: SockFilter[] = [];
  let have = 0;
  for (let i = 0; have < target; i++) {
    const insn = HEAVY(seeds[i % seeds.length]!);
    out.push(insn);
    have += ebpfLen(insn, cfg);
  }
  return out;
}

/** 1..4 filler seeds (fc.nat each) from the words. */
function seedsOf(r: Words): number[] {
  const n = 1 + natOf(r(), 3);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(nat31(r()));
  return out;
}

/**
 * bpf_convert_filter -EINVAL (net/core/filter.c:710): a JA whose eBPF displacement exceeds 32767
 * (divergence A3), or any jump sitting at eBPF index >= 32768 (A4: the first fixed-point
 * iteration reads addrs[target] == 0). Exact boundaries come from limitProgram.
 */
export function jumpOffsetOverflowOf(r: Words, cfg: KernelConfig = X86_64): InvalidCase {
  const kind = natOf(r(), 3);
  const margin = natOf(r(), 300);
  const seed = nat31(r());
  const jc = natOf(r(), JCOND.length - 1);
  const shape = natOf(r(), 2);
  const seeds = seedsOf(r);
  let prog: SockFilter[];
  let how: string;
  if (kind === 0) {
    prog = limitProgram('ja-offset', margin % 40, seed, cfg);
    how = 'ja-offset-boundary';
  } else if (kind === 1) {
    prog = limitProgram('jump-position', margin % 40, seed, cfg);
    how = 'jump-position-boundary';
  } else if (kind === 2) {
    // A3 with mixed fillers: ja over >= 32768 + margin eBPF insns
    const fill = heavyFill(32768 + margin, seeds, cfg);
    prog = [{ code: 0x05, jt: 0, jf: 0, k: fill.length }, ...fill, { code: 0x16, jt: 0, jf: 0, k: 0 }];
    how = 'ja-over-fill';
  } else {
    // A4 with a conditional jump after a fill reaching eBPF index >= 32768 + margin
    const fill = heavyFill(32768 + margin, seeds, cfg);
    const jt = shape === 0 ? 1 : 0;
    const jf = shape === 1 ? 0 : 1;
    prog = [...fill, { code: JCOND[jc]!, jt, jf, k: pick(BOUNDARY_U32, seed) }, { code: 0x06, jt: 0, jf: 0, k: 1 }, { code: 0x06, jt: 0, jf: 0, k: 0 }];
    how = 'jcond-after-fill';
  }
  return { prog, targets: 'jump-offset-overflow', stage: 'convert', pc: jumpOverflowPc(prog, cfg), how };
}

/**
 * __sk_filter_charge -ENOMEM (net/core/filter.c:1232): a checker-valid program that converts (no
 * jump at eBPF index >= 32768, no far JA) but whose migrated length exceeds what optmem_max allows
 * a fresh socket: heavy fillers, then a valid short program (`tail`). How far past the limit it goes
 * is bounded so that the tail's jumps stay below eBPF index 32765 (past it, the first iteration of
 * bpf_convert_filter's jump pass fails first: jump-offset-overflow, divergence A4); under an
 * optmem_max so large that even the smallest overshoot would put them there (e.g. 262144 with a
 * 96-byte header), the tail comes first and the fill, ended by `ret #1`, after it (unreachable,
 * which bpf_check_classic allows). Under the v6.6 default of 20480 the draws are as before.
 */
export function optmemOverflowOf(tail: SockFilter[], r: Words, cfg: KernelConfig = X86_64): InvalidCase {
  const w = r();
  const seeds = seedsOf(r);
  const fitMax = optmemFitMax(cfg);
  // the fill overshoots its target by less than its heaviest filler; the last jump of the tail then
  // sits below 7 + fitMax + 1 + extra + heaviest, which must stay <= JUMP_INDEX_MAX
  const heaviest = Math.max(...seeds.map((s) => ebpfLen(HEAVY(s), cfg)));
  const room = JUMP_INDEX_MAX - (fitMax + 1 + 7 + heaviest);
  const far = Math.min(26000, Math.max(0, room));
  const extra = (w & 1) === 0 ? (w >>> 1) % (Math.min(64, far) + 1) : (w >>> 1) % (far + 1);
  const how = extra <= 64 ? 'near-limit' : 'far';
  if (room < 0) {
    const tailLen = tail.reduce((n, i) => n + ebpfLen(i, cfg), 0);
    const fill = heavyFill(fitMax + 1 - 7 - tailLen - 2 + extra, seeds, cfg);
    return { prog: [...tail, ...fill, { code: 0x06, jt: 0, jf: 0, k: 1 }], targets: 'optmem-exceeded', stage: 'charge', pc: null, how: `tail-first-${how}` };
  }
  const tailLen = tail.reduce((n, i) => n + ebpfLen(i, cfg), 0);
  const fill = heavyFill(fitMax + 1 - 7 - tailLen + extra, seeds, cfg);
  return { prog: [...fill, ...tail], targets: 'optmem-exceeded', stage: 'charge', pc: null, how };
}

/** The builder of one rule: the base program (a checker-valid one, ignored by some rules) and the words. */
export function invalidOf(rule: InvalidRule, base: SockFilter[], r: Words, cfg: KernelConfig = X86_64): InvalidCase {
  switch (rule) {
    case 'len-zero':
      return lenZeroOf();
    case 'len-too-long':
      return lenTooLongOf(base, r);
    case 'code-not-allowed':
      return codeNotAllowedOf(base, r);
    case 'div-by-zero-k':
      return divByZeroOf(base, r);
    case 'shift-k-too-large':
      return shiftTooLargeOf(base, r);
    case 'mem-index-out-of-range':
      return memIndexOf(base, r);
    case 'ja-out-of-range':
      return jaOutOfRangeOf(base, r);
    case 'jump-out-of-range':
      return jumpOutOfRangeOf(base, r);
    case 'ancillary-k-invalid':
      return ancillaryInvalidOf(base, r);
    case 'last-not-ret':
      return lastNotRetOf(base, r);
    case 'mem-read-before-write':
      return readBeforeWriteOf(base, r);
    case 'jump-offset-overflow':
      return jumpOffsetOverflowOf(r, cfg);
    case 'optmem-exceeded':
      return optmemOverflowOf(base, r, cfg);
  }
}

/** The words a rule's builder reads at most. */
export const INVALID_WORDS = 12;

/** The arbitrary aimed at one rule. */
export function invalidFor(rule: InvalidRule, cfg: KernelConfig = X86_64): fc.Arbitrary<InvalidCase> {
  const base = rule === 'optmem-exceeded' ? shortProgram() : baseProgram();
  return fc.tuple(base, fc.array(U32, { minLength: INVALID_WORDS, maxLength: INVALID_WORDS })).map(([b, ws]) => invalidOf(rule, b, wordsOf(ws), cfg));
}

/** The weight of a rule among the invalid cases (the big programs 1/8 as often as the others). */
export const invalidWeight = (r: InvalidRule): number => (r === 'jump-offset-overflow' || r === 'optmem-exceeded' || r === 'len-too-long' ? 1 : 8);

export interface InvalidProgramOptions {
  /**
   * Which rules to aim at (default all 13). The big ones (len-too-long and the two migration rules,
   * 1500..65535 instructions) are drawn 1/8 as often as the others, which cost microseconds.
   */
  readonly rules?: readonly InvalidRule[];
  readonly config?: KernelConfig;
}

/** `{ prog, targets, stage, pc, how }`: a program whose first failing rule is `targets`. */
export function invalidProgram(opts: InvalidProgramOptions = {}): fc.Arbitrary<InvalidCase> {
  const rules = opts.rules ?? INVALID_RULES;
  if (rules.length === 0) throw new RangeError('invalidProgram: no rules');
  const cfg = opts.config ?? X86_64;
  return fc.oneof(...rules.map((r) => ({ arbitrary: invalidFor(r, cfg), weight: invalidWeight(r) })));
}


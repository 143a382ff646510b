// The campaign's cases from genomes (#11 section 3). A case is one compact fast-check value: the
// program's genome (a Uint32Array: a head of HEAD_WORDS words, then the body) and the packets'
// genome (PKT_WORDS words per packet, one Uint32Array for all of them), decoded deterministically by
// the pure builders of fuzz/arb/ (program.ts, realistic.ts, invalid.ts, packet.ts, skb.ts) into the
// same cases the combinator arbitraries draw: valid-by-construction programs of every flavour, or
// programs aimed at one rule, and realistic packets on skbs. fast-check still runs the property,
// replays by seed and path, and shrinks; drawing a case costs one draw from fast-check's random
// source and a few hundred words of a local generator instead of hundreds of combinator values.
//
// The program genome's head:
//   [0] the class: a valid program of one flavour (fuzz/arb/program.ts validProgram) or an invalid
//       one aimed at one rule, with the weights of campaignArbitrary (9 valid to 1 invalid; rules
//       by invalidWeight);
//       kept while shrinking, as fc.oneof keeps its branch;
//   [1] the template (valid realistic), the base program (invalid: short, or realistic 1 in 5);
//   [2] [3] the final RET (selector, k) of generated programs;
//   [4..23] parameters: the rule builder's words (invalid), the template's a..d (realistic), the
//       length (long), kind / delta / seed (limits), the prelude, tie and aims (jit).
// (flavours as validProgram's default weights: short 800, medium 30, realistic 140, long 3,
// limits 5, jit 3)
// The body: three words per instruction (the gene's k word, its 21 high bits and a jump word,
// fuzz/arb/program.ts insnFromWords) for short and medium programs and invalid cases' short bases;
// three per run (k, high bits, repeat) for long programs; the template's a..d for an invalid case's
// realistic base. Words shrink toward 0, and instructions are removed (the jumps over them moved so
// that they keep their targets), so a shrunk program is short and made of `ld #0` where its
// instructions do not matter.
//
// A packet's genome: kind, trim, counts (fields, headroom words, payload words), resize and frag
// choices, the skb's six metadata words, 12 field words, 4 headroom words and 24 payload words
// (fuzz/arb/packet.ts PacketDraw and fuzz/arb/skb.ts SkbDraw); the field, headroom and payload words
// past their counts are never read (shrinking only lowers a count) and are 0.
//
// Cost: the words come from a counter-based generator (SplitMix32: words a genome leaves 0 are
// skipped, not computed), the genome's arrays are views on shared slabs (fuzz/arb/slab.ts), and the
// decoders read the words in place (fuzz/arb/program.ts insnAt, buildProgramRuns; packet.ts packetOf;
// skb.ts skbCaseAt) rather than through per-case tuples and arrays: bench/gen.ts measures it.
import { Arbitrary, Stream, Value, type Random } from 'fast-check';
import type { SockFilter } from '../model/cbpf/insn.js';
import { isCondJump } from './arb/ebpf-size.js';
import type { KernelConfig } from '../model/kernel.js';
import { INVALID_RULES, INVALID_WORDS, invalidOf, invalidWeight, wordsOf, type InvalidRule } from './arb/invalid.js';
import { BUILT, lengthsScratch, PACKET_KINDS, packetBytesIn, packetFromDraw, packetOf, packetOptionsFor, SCRATCH_LENGTHS, wordBytesAt, wordBytesIntoWords, type Packet, type PacketDraw, type PacketOptions } from './arb/packet.js';
import { buildProgramRuns, buildProgramWords, insnFromWords, limitProgram, type Flavour, type LimitKind } from './arb/program.js';
import { TEMPLATES } from './arb/realistic.js';
import { slabWords } from './arb/slab.js';
import { applyAim, applyExitAim, buildProgram as jitBuildProgram, tieProgram, type Prelude, type Tie } from './arb/jit-boundary.js';
import { DEFAULT_JIT_FACTS } from '../model/jit/facts.js';
import { envAt, skbAt, type SkbCase, type SkbDraw } from './arb/skb.js';
import type { Env, SkBuff } from '../model/skb.js';
import type { CampaignCase } from './campaign.js';

/** A case's genome: the program's words (head, then body) and the packets' words. */
export interface Genome {
  readonly prog: Uint32Array;
  /** PKT_WORDS words per packet (none for an invalid case) */
  readonly pkts: Uint32Array;
}

export const HEAD_WORDS = 24;
const H_CLASS = 0;
const H_BASE = 1;
const H_RET_SEL = 2;
const H_RET_K = 3;
const H_PARAM = 4;

// A packet's words.
const P_KIND = 0;
const P_TRIM = 1;
const P_NXS = 2;
const P_NEXTRA = 3;
const P_NPAY = 4;
const P_RS = 5;
const P_FS = 6;
const P_SKB = 7; // six words
const P_XS = 13;
const MAX_XS = 12;
const P_EXTRA = P_XS + MAX_XS;
const MAX_EXTRA = 4;
const P_PAY = P_EXTRA + MAX_EXTRA;
/** payload words (96 bytes, packetDraw's default) */
const MAX_PAY = 24;
export const PKT_WORDS = P_PAY + MAX_PAY;

/** What a genome's head word 0 selects. */
export type GenomeClass = { readonly valid: Flavour } | { readonly invalid: InvalidRule };

const FLAVOUR_WEIGHTS: readonly (readonly [Flavour, number])[] = [
  ['short', 800],
  ['medium', 30],
  ['realistic', 140],
  ['long', 3],
  ['limits', 5],
  ['jit', 3],
];
const FLAVOUR_TOTAL = FLAVOUR_WEIGHTS.reduce((n, [, w]) => n + w, 0);
const RULE_TOTAL = INVALID_RULES.reduce((n, r) => n + invalidWeight(r), 0);

/** The classes in order (class 0: a valid short program, what a shrunk head word 0 means) and their cumulative weights. */
const CLASSES: readonly GenomeClass[] = [...FLAVOUR_WEIGHTS.map(([f]) => ({ valid: f })), ...INVALID_RULES.map((r) => ({ invalid: r }))];
const CUMULATIVE: readonly number[] = (() => {
  // 9 valid to 1 invalid, as campaignArbitrary's fc.oneof: valid weight 9 * w / FLAVOUR_TOTAL,
  // invalid 1 * w / RULE_TOTAL, over the common denominator
  const ws = [...FLAVOUR_WEIGHTS.map(([, w]) => 9 * w * RULE_TOTAL), ...INVALID_RULES.map((r) => invalidWeight(r) * FLAVOUR_TOTAL)];
  let n = 0;
  return ws.map((w) => (n += w));
})();
const CLASS_TOTAL = CUMULATIVE[CUMULATIVE.length - 1]!;

/** The class head word 0 selects. */
export function genomeClass(h0: number): GenomeClass {
  const x = (h0 >>> 0) % CLASS_TOTAL;
  let i = 0;
  while (x >= CUMULATIVE[i]!) i++;
  return CLASSES[i]!;
}

/** Whether an invalid case of this rule and head word 1 builds on a realistic base. */
const realisticBase = (rule: InvalidRule, h1: number): boolean => rule !== 'optmem-exceeded' && h1 % 5 === 4;
/** Rules whose builder reads no base program. */
const NO_BASE: ReadonlySet<InvalidRule> = new Set<InvalidRule>(['len-zero', 'len-too-long', 'jump-offset-overflow']);

/** The words of the body's units (instructions, runs), or 0 when the body has no removable units. */
function unitWords(c: GenomeClass, h1: number): number {
  if ('valid' in c) return c.valid === 'short' || c.valid === 'medium' || c.valid === 'long' || c.valid === 'jit' ? 3 : 0;
  return NO_BASE.has(c.invalid) || realisticBase(c.invalid, h1) ? 0 : 3;
}

// --- generation ---------------------------------------------------------------------------------

/** The u32 words a genome is drawn from, in order. */
export interface WordStream {
  next(): number;
  /** a[from .. to) = the next to - from words */
  fill(a: Uint32Array, from: number, to: number): void;
  /** pass over the next n words (drawn, not kept: a genome's words its decoder never reads) */
  skip(n: number): void;
}

const GOLDEN = 0x9e3779b9;

/**
 * splitmix32: the words of one genome from one 32-bit seed. Word i is a function of seed + i * GOLDEN
 * alone, so skipping words costs one multiplication.
 */
export class SplitMix32 implements WordStream {
  /** the state: word i of the stream is a function of it alone (read and written by packetWords) */
  s: number;
  constructor(seed: number) {
    this.s = seed | 0;
  }
  next(): number {
    const s = (this.s = (this.s + GOLDEN) | 0);
    let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
  fill(a: Uint32Array, from: number, to: number): void {
    let s = this.s;
    for (let i = from; i < to; i++) {
      s = (s + GOLDEN) | 0;
      let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      a[i] = z ^ (z >>> 16);
    }
    this.s = s;
  }
  skip(n: number): void {
    this.s = (this.s + Math.imul(n, GOLDEN)) | 0;
  }
}

/** splitmix32 as a function (SplitMix32's words). */
export function wordSource(seed: number): () => number {
  const w = new SplitMix32(seed);
  return () => w.next();
}

/** A WordStream over a function of words. */
class FnWords implements WordStream {
  constructor(private readonly f: () => number) {}
  next(): number {
    return this.f() >>> 0;
  }
  fill(a: Uint32Array, from: number, to: number): void {
    for (let i = from; i < to; i++) a[i] = this.f();
  }
  skip(n: number): void {
    for (let i = 0; i < n; i++) this.f();
  }
}

/**
 * A genome from a word source: the class first, then the lengths its decoder reads (`small`: the
 * biased draws of fast-check, short bodies and few packet fields). The words of the head its class
 * does not read are drawn and left 0 (nothing to shrink there).
 */
export function makeGenome(source: (() => number) | WordStream, packets: number, small = false): Genome {
  const src = typeof source === 'function' ? new FnWords(source) : source;
  const h0 = src.next();
  const c = genomeClass(h0);
  const valid = 'valid' in c;
  const f = valid ? c.valid : null;
  let h1 = 0;
  if (f === null || f === 'realistic') h1 = src.next();
  else src.skip(1);
  let body = 0;
  if (f !== null) {
    if (f === 'short') body = 3 * (src.next() % (small ? 5 : 40));
    else if (f === 'medium') body = 3 * (39 + (src.next() % 361));
    else if (f === 'long') body = 3 * (1 + (src.next() % 24));
    else if (f === 'jit') body = 3 * (6 + (src.next() % 57));
  } else if (!NO_BASE.has((c as { invalid: InvalidRule }).invalid)) body = realisticBase((c as { invalid: InvalidRule }).invalid, h1) ? 4 : 3 * (src.next() % (small ? 5 : 40));
  const prog = slabWords(HEAD_WORDS + body);
  prog[H_CLASS] = h0;
  prog[H_BASE] = h1;
  // the return words (not read by realistic, limits and jit programs), then the parameters read
  if (f === 'realistic' || f === 'limits' || f === 'jit') src.skip(2);
  else {
    prog[H_RET_SEL] = src.next() % 6;
    prog[H_RET_K] = src.next();
  }
  const params = f === null ? INVALID_WORDS : f === 'short' || f === 'medium' ? 0 : f === 'long' ? 2 : f === 'jit' ? JIT_PARAMS : 4;
  src.fill(prog, H_PARAM, H_PARAM + params);
  src.skip(HEAD_WORDS - H_PARAM - params);
  src.fill(prog, HEAD_WORDS, prog.length);
  if (f === 'long') for (let i = HEAD_WORDS + 2; i < prog.length; i += 3) prog[i] = prog[i]! % 600;
  const pkts = slabWords(valid ? packets * PKT_WORDS : 0);
  if (src instanceof SplitMix32) {
    src.s = packetWords(src.s, pkts, small);
    return { prog, pkts };
  }
  for (let o = 0; o < pkts.length; o += PKT_WORDS) {
    pkts[o + P_KIND] = src.next() & 0xffff;
    pkts[o + P_TRIM] = src.next() & 3;
    const nxs = (pkts[o + P_NXS] = src.next() % (small ? 3 : MAX_XS + 1));
    const nextra = (pkts[o + P_NEXTRA] = src.next() % (MAX_EXTRA + 1));
    const npay = (pkts[o + P_NPAY] = src.next() % (small ? 4 : MAX_PAY + 1));
    pkts[o + P_RS] = src.next() & 0xffff;
    pkts[o + P_FS] = src.next() & 0xffff;
    src.fill(pkts, o + P_SKB, o + P_XS);
    // the fields, headroom and payload words past their counts are never read (shrinking only
    // lowers the counts): drawn and left 0
    src.fill(pkts, o + P_XS, o + P_XS + nxs);
    src.skip(MAX_XS - nxs);
    src.fill(pkts, o + P_EXTRA, o + P_EXTRA + nextra);
    src.skip(MAX_EXTRA - nextra);
    src.fill(pkts, o + P_PAY, o + P_PAY + npay);
    src.skip(MAX_PAY - npay);
  }
  return { prog, pkts };
}

/** SplitMix32's word of state s (s already advanced by GOLDEN) */
const mix32 = (s: number): number => {
  let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
};

/**
 * makeGenome's packet words from a SplitMix32 of state s, on that state in a local (the same words
 * as makeGenome's loop over the WordStream): returns the state after them.
 */
function packetWords(s: number, pkts: Uint32Array, small: boolean): number {
  for (let o = 0; o < pkts.length; o += PKT_WORDS) {
    pkts[o + P_KIND] = mix32((s = (s + GOLDEN) | 0)) & 0xffff;
    pkts[o + P_TRIM] = mix32((s = (s + GOLDEN) | 0)) & 3;
    const nxs = (pkts[o + P_NXS] = mix32((s = (s + GOLDEN) | 0)) % (small ? 3 : MAX_XS + 1));
    const nextra = (pkts[o + P_NEXTRA] = mix32((s = (s + GOLDEN) | 0)) % (MAX_EXTRA + 1));
    const npay = (pkts[o + P_NPAY] = mix32((s = (s + GOLDEN) | 0)) % (small ? 4 : MAX_PAY + 1));
    pkts[o + P_RS] = mix32((s = (s + GOLDEN) | 0)) & 0xffff;
    pkts[o + P_FS] = mix32((s = (s + GOLDEN) | 0)) & 0xffff;
    for (let i = o + P_SKB; i < o + P_XS; i++) pkts[i] = mix32((s = (s + GOLDEN) | 0));
    // the fields, headroom and payload words past their counts are never read (shrinking only
    // lowers the counts): drawn (passed over) and left 0
    for (let i = o + P_XS; i < o + P_XS + nxs; i++) pkts[i] = mix32((s = (s + GOLDEN) | 0));
    s = (s + Math.imul(MAX_XS - nxs, GOLDEN)) | 0;
    for (let i = o + P_EXTRA; i < o + P_EXTRA + nextra; i++) pkts[i] = mix32((s = (s + GOLDEN) | 0));
    s = (s + Math.imul(MAX_EXTRA - nextra, GOLDEN)) | 0;
    for (let i = o + P_PAY; i < o + P_PAY + npay; i++) pkts[i] = mix32((s = (s + GOLDEN) | 0));
    s = (s + Math.imul(MAX_PAY - npay, GOLDEN)) | 0;
  }
  return s;
}

// --- decoding -----------------------------------------------------------------------------------

const LIMIT_KINDS: readonly LimitKind[] = ['ja-offset', 'jump-position', 'optmem'];

/** The template's parameters a..d from four words. */
const templateOf = (i: number, w: ArrayLike<number>, at: number): SockFilter[] =>
  TEMPLATES[i % TEMPLATES.length]!.build({ a: w[at]! >>> 0, b: w[at + 1]! >>> 0, c: w[at + 2]! >>> 0, d: w[at + 3]! >>> 0 });

/** The short program of a body of (k, high bits, jump) word triples. */
const shortOf = (p: Uint32Array): SockFilter[] => buildProgramWords(p, HEAD_WORDS, Math.floor((p.length - HEAD_WORDS) / 3), p[H_RET_SEL]!, p[H_RET_K]!);

/** The program a genome's program words decode to (valid classes). */
export function decodeProgram(p: Uint32Array, flavour: Flavour, cfg: KernelConfig): SockFilter[] {
  switch (flavour) {
    case 'short':
    case 'medium':
      return shortOf(p);
    case 'realistic':
      return templateOf(p[H_BASE]!, p, H_PARAM);
    case 'long': {
      const flen = (p[H_PARAM]! & 1) === 0 ? 3900 + (p[H_PARAM + 1]! % 197) : 400 + (p[H_PARAM + 1]! % 3697);
      // the runs' genes (high bits & 0x1fffff) * 2^32 + k repeated 1 + repeat % 600 times (expandRuns), decoded in place
      return buildProgramRuns(p, HEAD_WORDS, Math.floor((p.length - HEAD_WORDS) / 3), flen - 1, p[H_RET_SEL]!, p[H_RET_K]!);
    }
    case 'jit':
      return jitOf(p, cfg);
    case 'limits': {
      const d = p[H_PARAM + 2]!;
      const delta = (p[H_PARAM + 1]! & 1) === 0 ? ((d & 1) === 0 ? -1 : 0) : -8 + (d % 17);
      return limitProgram(LIMIT_KINDS[p[H_PARAM]! % 3]!, delta, p[H_PARAM + 3]! >>> 1, cfg);
    }
  }
}

const PRELUDES: readonly Prelude[] = ['jcond-both', 'jcond-both', 'jcond-both', 'ja', 'jcond', 'none'];
/** the head parameters a jit program reads: prelude, its selector, the tie (8), the aim counts, 3 aims, 2 exit aims */
const JIT_PARAMS = 17;

/**
 * A program aimed at the x86-64 JIT's jump limits (fuzz/arb/jit-boundary.ts jitBoundaryProgram,
 * from words): the body's genes, then the exit aims, the aims and the tie, each from one head word.
 */
function jitOf(p: Uint32Array, cfg: KernelConfig): SockFilter[] {
  const facts = cfg.x86Jit ?? DEFAULT_JIT_FACTS;
  const thr = facts.shortJumpMax;
  const w = (i: number): number => p[H_PARAM + i]!;
  const pct = (x: number): number => x % 100;
  const genes: number[] = [];
  for (let i = HEAD_WORDS; i + 2 < p.length; i += 3) genes.push((p[i + 1]! & 0x1fffff) * 0x100000000 + p[i]!);
  const prog = jitBuildProgram(genes, PRELUDES[w(0) % PRELUDES.length]!, w(1) % 256);
  const tie: Tie = {
    exit: w(2) % 256,
    dist: pct(w(3)) < 60 ? thr - 1 : thr - 8 + ((w(3) >>> 8) % 17),
    slack: pct(w(4)) < 70 ? 0 : (w(4) >>> 8) % 3,
    mid: w(5) % 256,
    seek: pct(w(6)) < 80,
    early: pct(w(7)) < 80 ? (w(7) >>> 8) % 256 : -1 - ((w(7) >>> 8) % 64),
    calm: pct(w(8)) < 80,
    window: thr - 4 + (w(9) % 6),
  };
  const aims = w(10) % 4;
  const exitAims = w(11) % 3;
  for (let i = 0; i < exitAims; i++) {
    const x = w(15 + i);
    applyExitAim(prog, { exit: x & 255, dist: ((x >>> 8) & 1) === 0 ? 122 + ((x >>> 9) % 13) : 100 + ((x >>> 9) % 41) }, cfg, facts);
  }
  for (let i = 0; i < aims; i++) {
    const x = w(12 + i);
    applyAim(prog, { jump: x & 255, branch: ((x >>> 8) & 1) === 0 ? 'jt' : 'jf', dist: ((x >>> 9) & 1) === 0 ? 118 + ((x >>> 10) % 17) : 100 + ((x >>> 10) % 41) }, cfg, facts);
  }
  tieProgram(prog, PRELUDES[w(0) % PRELUDES.length]!, tie, cfg, facts);
  return prog;
}

/** Packet `i` of a genome's packet words as the draws of fuzz/arb/packet.ts and skb.ts. */
export function packetDraws(w: Uint32Array, i: number): { packet: PacketDraw; skb: SkbDraw } {
  const o = i * PKT_WORDS;
  const nxs = Math.min(MAX_XS, w[o + P_NXS]!);
  const nextra = Math.min(MAX_EXTRA, w[o + P_NEXTRA]!);
  const npay = Math.min(MAX_PAY, w[o + P_NPAY]!);
  const xs: number[] = new Array(nxs);
  for (let j = 0; j < nxs; j++) xs[j] = w[o + P_XS + j]!;
  const payload = wordBytesAt(w, o + P_PAY, npay, w[o + P_TRIM]! & 3);
  const s = o + P_SKB;
  return {
    packet: [w[o + P_KIND]!, xs, payload, w[o + P_RS]! & 0xffff, w[o + P_FS]! & 0xffff],
    skb: [w[s]!, w[s + 1]!, w[s + 2]!, w[s + 3]!, w[s + 4]!, w[s + 5]!, wordBytesAt(w, o + P_EXTRA, nextra)],
  };
}

/**
 * decodeInputs' payload and headroom filler bytes, reused from packet to packet: written a word at a
 * time (wordBytesIntoWords), read as bytes; the payload handed to the builders as the view of its
 * length (PAY_VIEWS[plen], made once), which Bytes.u8s copies with one set()
 */
const PAYLOAD_WORDS = new Uint32Array(MAX_PAY);
const PAYLOAD = new Uint8Array(PAYLOAD_WORDS.buffer);
const PAY_VIEWS: readonly Uint8Array[] = Array.from({ length: 4 * MAX_PAY + 1 }, (_, n) => PAYLOAD.subarray(0, n));
const EXTRA_WORDS = new Uint32Array(MAX_EXTRA);
const EXTRA = new Uint8Array(EXTRA_WORDS.buffer);

/**
 * A valid case's input decoded from a genome: its skb and env, built at once; its packet (the record
 * of fuzz/arb/packet.ts, with its layers) built again from the same words when it is first read
 * (the campaign reads the skb and the env alone), with the program's lengths computed again then.
 */
class GenomeInput implements SkbCase {
  private built: Packet | null = null;
  constructor(
    readonly skb: SkBuff,
    readonly env: Env,
    private readonly words: Uint32Array,
    private readonly at: number,
    private readonly prog: readonly SockFilter[],
    private readonly opts: Omit<PacketOptions, 'lengths'>,
  ) {}
  get packet(): Packet {
    if (this.built !== null) return this.built;
    const w = this.words;
    const o = this.at;
    const rs = w[o + P_RS]! & 0xffff;
    const fs = w[o + P_FS]! & 0xffff;
    const popts = needsLengths(rs, fs, this.opts) ? packetOptionsFor(this.prog, this.opts) : this.opts;
    const plen = wordBytesIntoWords(PAYLOAD_WORDS, w, o + P_PAY, Math.min(MAX_PAY, w[o + P_NPAY]!), w[o + P_TRIM]! & 3);
    return (this.built = packetOf(w[o + P_KIND]!, w, o + P_XS, Math.min(MAX_XS, w[o + P_NXS]!), PAY_VIEWS[plen]!, plen, rs, fs, popts));
  }
}

/** Whether a packet of these resize and frag choices reads the lengths near the program's loads (PacketDraw's choices; packetOf reads them nowhere else). */
const needsLengths = (rs: number, fs: number, opts: Omit<PacketOptions, 'lengths'>): boolean => (rs & 1) === 1 || (fs & 15) < (opts.fragWeight ?? 5);

/** decodeInputs' default options */
const NO_OPTS: Omit<PacketOptions, 'lengths'> = {};

/** The inputs of a valid case: each packet built for the program's loads, on its skb. */
export function decodeInputs(w: Uint32Array, prog: readonly SockFilter[], opts: Omit<PacketOptions, 'lengths'> = NO_OPTS): SkbCase[] {
  const n = Math.floor(w.length / PKT_WORDS);
  const kinds = opts.kinds ?? PACKET_KINDS;
  const fragWeight = opts.fragWeight ?? 5;
  // the lengths near the program's loads, computed when a packet is resized or split (in
  // lengthsScratch's typed array: read by packetBytesIn before the next case, never kept); 0 until then
  let nlengths = 0;
  let lengths: Int32Array = SCRATCH_LENGTHS.lengths;
  const out: SkbCase[] = new Array(n);
  for (let i = 0; i < n; i++) {
    // packetDraws(w, i), read in place: the payload and headroom bytes in scratch arrays (copied
    // into the packet and the skb), the fields from the words; the packet's bytes alone (BUILT
    // says the rest), its record left to GenomeInput
    const o = i * PKT_WORDS;
    const rs = w[o + P_RS]! & 0xffff;
    const fs = w[o + P_FS]! & 0xffff;
    // needsLengths(rs, fs, opts)
    if (nlengths === 0 && ((rs & 1) === 1 || (fs & 15) < fragWeight)) {
      nlengths = lengthsScratch(prog);
      lengths = SCRATCH_LENGTHS.lengths;
    }
    const plen = wordBytesIntoWords(PAYLOAD_WORDS, w, o + P_PAY, Math.min(MAX_PAY, w[o + P_NPAY]!), w[o + P_TRIM]! & 3);
    const bytes = packetBytesIn(w[o + P_KIND]!, w, o + P_XS, Math.min(MAX_XS, w[o + P_NXS]!), PAY_VIEWS[plen]!, plen, rs, fs, kinds, lengths, nlengths, fragWeight, null);
    // the headroom filler, read by skbAt only when the draw moves the headers (h's top bit)
    const nextra = (w[o + P_SKB + 5]! & 0x80000000) !== 0 ? wordBytesIntoWords(EXTRA_WORDS, w, o + P_EXTRA, Math.min(MAX_EXTRA, w[o + P_NEXTRA]!), 0) : 0;
    const skb = skbAt(bytes, BUILT.headlen, BUILT.preset === 'ethernet', BUILT.networkOffset, w, o + P_SKB, EXTRA, nextra);
    out[i] = new GenomeInput(skb, envAt(w, o + P_SKB), w, o, prog, opts);
  }
  return out;
}

/** The campaign case a genome decodes to. */
export function decodeCase(g: Genome, cfg: KernelConfig): CampaignCase {
  const p = g.prog;
  const c = genomeClass(p[H_CLASS]!);
  if ('valid' in c) {
    const prog = decodeProgram(p, c.valid, cfg);
    return { valid: { prog, inputs: decodeInputs(g.pkts, prog) } };
  }
  const rule = c.invalid;
  const base = NO_BASE.has(rule) ? [] : realisticBase(rule, p[H_BASE]!) ? templateOf((p[H_BASE]! / 5) >>> 0, p, HEAD_WORDS) : shortOf(p);
  return { invalid: invalidOf(rule, base, wordsOf(p.subarray(H_PARAM, H_PARAM + INVALID_WORDS)), cfg) };
}

// --- shrinking ----------------------------------------------------------------------------------

/**
 * Where a shrink stream resumes: phase 0 removes body units (from unit `at`), phase 1 zeroes whole
 * blocks (the head's parameters, each packet; from block `at`), phase 2 shrinks words one by one
 * (from word `at`, whose values up to `floor` were tried and passed).
 */
interface ShrinkContext {
  readonly phase: 0 | 1 | 2;
  readonly at: number;
  readonly floor: number;
  /** a shrink was taken since the last removal phase (units may have become removable) */
  readonly dirty: boolean;
}

const START: ShrinkContext = { phase: 0, at: 0, floor: 0, dirty: false };

/** The shrinkable words in order: the program's from word 1 (2 for an invalid case), then the packets'. */
function shrinkable(g: Genome): { count: number; at(i: number): [Uint32Array, number] } {
  const first = 'valid' in genomeClass(g.prog[H_CLASS]!) ? H_BASE : H_RET_SEL;
  const np = g.prog.length - first;
  return {
    count: np + g.pkts.length,
    at: (i) => (i < np ? [g.prog, first + i] : [g.pkts, i - np]),
  };
}

/**
 * `p` without body units [from, to) of `u` words. Instruction units (`insns`): every earlier jump
 * over them is re-encoded (wide form, offset in its jump word) to keep its target; a jump into them
 * now lands on what follows them.
 */
export function without(p: Uint32Array, u: number, from: number, to: number, insns: boolean): Uint32Array {
  const out = new Uint32Array(p.length - (to - from) * u);
  out.set(p.subarray(0, HEAD_WORDS + from * u));
  out.set(p.subarray(HEAD_WORDS + to * u), HEAD_WORDS + from * u);
  if (!insns) return out;
  const flen = Math.floor((p.length - HEAD_WORDS) / 3) + 1;
  const flen2 = flen - (to - from);
  for (let j = 0; j < from; j++) {
    const o = HEAD_WORDS + 3 * j;
    const x = insnFromWords(p[o]!, p[o + 1]!, j, flen, p[o + 2]!);
    if (x.code !== 0x05 && !isCondJump(x.code)) continue;
    const moved = (off: number): number => {
      const t = j + 1 + off;
      return t >= to ? off - (to - from) : t >= from ? from - j - 1 : off;
    };
    // what the words now decode to (the range after j shrank), and the offsets wanted
    const y = insnFromWords(out[o]!, out[o + 1]!, j, flen2, out[o + 2]!);
    if (x.code === 0x05) {
      const k = moved(x.k);
      if (y.k !== k) {
        out[o + 1] = (out[o + 1]! | 0xf000) >>> 0; // r1 = 15: the wide form
        out[o + 2] = k;
      }
    } else {
      const jt = moved(x.jt);
      const jf = moved(x.jf);
      if (y.jt !== jt || y.jf !== jf) {
        out[o + 1] = (out[o + 1]! | 0xff000) >>> 0; // r1 = r2 = 15
        out[o + 2] = ((out[o + 2]! & 0xffff0000) | jt | (jf << 8)) >>> 0;
      }
    }
  }
  return out;
}

/** `a` with words [from, to) zero, or null when they are already. */
function zeroed(a: Uint32Array, from: number, to: number): Uint32Array | null {
  let any = false;
  for (let i = from; i < to && !any; i++) any = a[i] !== 0;
  if (!any) return null;
  const out = a.slice();
  out.fill(0, from, to);
  return out;
}

/**
 * The packets' words for a program that lost instructions: a packet resized to one of the lengths
 * near the old program's loads, or split at one, keeps that length and that split when the new
 * program's lengths have them (resize and frag choices are indices into those lengths).
 */
export function keepPackets(g: Genome, prog2: Uint32Array): Uint32Array {
  const w = g.pkts;
  if (w.length === 0) return w;
  let out: Uint32Array | null = null;
  let la: readonly number[] | null = null;
  let lb: readonly number[] | null = null;
  for (let o = 0; o < w.length; o += PKT_WORDS) {
    const rs = w[o + P_RS]! & 0xffff;
    const fs = w[o + P_FS]! & 0xffff;
    const resized = (rs & 1) === 1;
    const split = (fs & 15) < 5;
    if (!resized && !split) continue;
    la ??= packetOptionsFor(shortOf(g.prog)).lengths!;
    lb ??= packetOptionsFor(shortOf(prog2)).lengths!;
    const d = packetDraws(w, o / PKT_WORDS);
    const before = packetFromDraw(d.packet, { lengths: la });
    let rs2 = rs;
    if (resized) {
      const j = lb.indexOf(before.bytes.length);
      if (j >= 0) rs2 = (j << 1) | 1;
    }
    let fs2 = fs;
    if (split && before.bytes.length > 0) {
      const len = before.bytes.length;
      const cuts = [0, 1, 14, 20, 34, 40, 54, len >>> 1, len - 1, ...lb.map((l) => l - 1)];
      const j = cuts.indexOf(before.headlen);
      if (j >= 0 && j < 0x1000) fs2 = (fs & 15) | (j << 4);
    }
    if (rs2 !== rs || fs2 !== fs) {
      out ??= w.slice();
      out[o + P_RS] = rs2;
      out[o + P_FS] = fs2;
    }
  }
  return out ?? w;
}

function* shrinkGenome(g: Genome, ctx: ShrinkContext): Generator<Value<Genome>> {
  const p = g.prog;
  const u = unitWords(genomeClass(p[H_CLASS]!), p[H_BASE]!);
  const n = u > 0 ? Math.floor((p.length - HEAD_WORDS) / u) : 0;
  const c = genomeClass(p[H_CLASS]!);
  const insns = !('valid' in c && (c.valid === 'long' || c.valid === 'jit'));
  // a shorter program keeps its packets (valid short and medium programs: the lengths near its loads)
  const keep = 'valid' in c && (c.valid === 'short' || c.valid === 'medium');
  const smaller = (prog: Uint32Array, ctx2: ShrinkContext): Value<Genome> => new Value({ prog, pkts: keep ? keepPackets(g, prog) : g.pkts }, ctx2);
  if (ctx.phase === 0) {
    if (ctx.at === 0 && n > 1) {
      // the whole body, then its second half, then its first half
      yield smaller(without(p, u, 0, n, insns), START);
      const h = n >>> 1;
      yield smaller(without(p, u, h, n, insns), START);
      yield smaller(without(p, u, 0, h, insns), START);
    }
    // the body cut at one of its RETs, which becomes the final one (what follows it may be dead)
    if (ctx.at === 0 && insns && n > 0) {
      const flen = n + 1;
      for (let i = 0; i < n; i++) {
        const o = HEAD_WORDS + 3 * i;
        const x = insnFromWords(p[o]!, p[o + 1]!, i, flen, p[o + 2]!);
        if (x.code !== 0x06 && x.code !== 0x16) continue;
        const cut = without(p, u, i, n, insns);
        cut[H_RET_SEL] = x.code === 0x16 ? 2 : 1;
        cut[H_RET_K] = x.code === 0x16 ? 0 : x.k;
        yield smaller(cut, START);
      }
    }
    // one unit at a time, from the last one removed
    for (let i = ctx.at; i < n; i++) yield smaller(without(p, u, i, i + 1, insns), { phase: 0, at: i, floor: 0, dirty: false });
  }
  if (ctx.phase <= 1) {
    // whole blocks: the head's parameters (after the class and base words), then each packet
    const blocks = 1 + g.pkts.length / PKT_WORDS;
    for (let b = ctx.phase === 1 ? ctx.at : 0; b < blocks; b++) {
      const next = { phase: 1, at: b + 1, floor: 0, dirty: true } as const;
      if (b === 0) {
        const z = zeroed(p, H_RET_SEL, HEAD_WORDS);
        if (z !== null) yield new Value({ prog: z, pkts: g.pkts }, next);
      } else {
        const z = zeroed(g.pkts, (b - 1) * PKT_WORDS, b * PKT_WORDS);
        if (z !== null) yield new Value({ prog: p, pkts: z }, next);
      }
    }
  }
  const words = shrinkable(g);
  const from = ctx.phase === 2 ? ctx.at : 0;
  for (let i = from; i < words.count; i++) {
    const [arr, at] = words.at(i);
    const v = arr[at]!;
    let lo = ctx.phase === 2 && i === from ? ctx.floor : 0;
    // toward lo: lo itself, then halving the distance (fast-check's integer shrinking)
    for (let d = v - lo; d > 0; d = Math.floor(d / 2)) {
      const x = v - d;
      const next = arr.slice();
      next[at] = x;
      yield new Value(arr === p ? { prog: next, pkts: g.pkts } : { prog: p, pkts: next }, { phase: 2, at: i, floor: lo, dirty: true });
      lo = x + 1;
    }
  }
  // Words that shrank may have made units removable (an instruction now `ld #0`): once more, each
  // unit alone (a removal taken starts the whole stream again).
  if (ctx.dirty) for (let i = 0; i < n; i++) yield smaller(without(p, u, i, i + 1, insns), START);
}

/** fast-check arbitrary of genomes with `packets` packets per valid case. */
export class GenomeArbitrary extends Arbitrary<Genome> {
  constructor(readonly packets: number) {
    super();
    if (!Number.isInteger(packets) || packets < 1) throw new RangeError(`genome: packets per program ${packets} is not a positive integer`);
  }

  generate(mrng: Random, biasFactor: number | undefined): Value<Genome> {
    const seed = mrng.nextInt(-0x80000000, 0x7fffffff);
    const small = biasFactor !== undefined && mrng.nextInt(1, biasFactor) === 1;
    return new Value(makeGenome(new SplitMix32(seed), this.packets, small), START);
  }

  canShrinkWithoutContext(value: unknown): value is Genome {
    return false;
  }

  shrink(value: Genome, context: unknown): Stream<Value<Genome>> {
    return new Stream(shrinkGenome(value, (context as ShrinkContext | undefined) ?? START));
  }
}

/** The campaign's case arbitrary on genomes. */
export const genomeCases = (packets: number, cfg: KernelConfig): Arbitrary<CampaignCase> => new GenomeArbitrary(packets).map((g) => decodeCase(g, cfg));

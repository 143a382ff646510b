// The program decoders of fuzz/arb/program.ts (insnFromWords, buildProgram, buildProgramWords,
// buildProgramRuns) against a plain reference written below: the gene -> instruction mapping as
// program.ts documents it (one branch per choice, the frozen pools of constants.ts, no tables) and
// the memory repair as two passes (decode everything, then walk check_load_and_stores' bookkeeping,
// net/core/filter.c:921). The decoders are tuned for speed (kind tables, int32 draws, the repair in
// the decoding pass); the campaign's cases must not change with them: same words, same program.
import test from 'ava';
import fc from 'fast-check';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';
import {
  ALLOWED_CODES,
  ANCILLARY_K,
  BOUNDARY_U32,
  HEADER_OFFSETS,
  NEG_BOUNDARY,
  NEG_REL,
  RET_K,
  biasedI32,
  biasedU32,
  buildProgram,
  buildProgramRuns,
  buildProgramWords,
  expandRuns,
  insnFromWords,
} from '../../fuzz/arb/index.js';

// --- the reference -----------------------------------------------------------------------------

/** program.ts OP_TABLE, transcribed: every allowed code, then the extra weights. */
const OPS: readonly number[] = [
  ...ALLOWED_CODES,
  ...[0x20, 0x28, 0x30, 0x20, 0x28, 0x30, 0x30, 0x28],
  ...[0x40, 0x48, 0x50, 0xb1, 0xb1],
  ...[0x02, 0x03, 0x60, 0x61, 0x02, 0x60],
  ...[0x15, 0x25, 0x35, 0x45, 0x1d, 0x15, 0x45, 0x05],
  ...[0x3c, 0x9c, 0x6c, 0x7c, 0x07, 0x87],
];
const at = (pool: readonly number[], n: number): number => pool[n % pool.length]!;
const isJcond = (c: number): boolean => [0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d].includes(c);

function refBiased(sel: number, raw: number): number {
  const s = sel % 8;
  if (s === 0 || s === 1) return at(BOUNDARY_U32, raw);
  if (s === 2) return at(HEADER_OFFSETS, raw);
  if (s === 3) return raw % 64;
  if (s === 4) return at(ANCILLARY_K, raw);
  if (s === 5) return ((raw % 2 === 0 ? SKF_NET_OFF : SKF_LL_OFF) + at(NEG_REL, Math.floor(raw / 2))) >>> 0;
  if (s === 6) return at(NEG_BOUNDARY, raw);
  return raw;
}

function refAbs(sel: number, a: number): number {
  const s = sel % 10;
  let k: number;
  if (s <= 2) k = at(HEADER_OFFSETS, a);
  else if (s <= 4) k = at(ANCILLARY_K, a);
  else if (s === 5) k = a % 80;
  else if (s === 6) k = ((a % 2 === 1 ? SKF_NET_OFF : SKF_LL_OFF) + at(NEG_REL, Math.floor(a / 2))) >>> 0;
  else if (s === 7) k = at(NEG_BOUNDARY, a);
  else if (s === 8) k = at(BOUNDARY_U32, a);
  else k = a;
  // net/core/filter.c:1128: a non-ancillary k >= SKF_AD_OFF is folded onto an ancillary one
  if (k >= 0xfffff000 && !ANCILLARY_K.includes(k)) k = ANCILLARY_K[k % 16]!;
  return k;
}

const refJump = (r4: number, wide: number, range: number, cap: number): number => {
  const lim = Math.min(range, cap);
  return r4 < 12 ? r4 % Math.min(lim, 4) : wide % lim;
};

/** The instruction of words (a, hi, jw) at pc of flen, before the memory repair. */
function refInsn(a: number, hi0: number, pc: number, flen: number, jw: number | undefined): SockFilter {
  const hi = hi0 % 0x200000;
  const code = at(OPS, hi % 128);
  const sel = Math.floor(hi / 128) % 32;
  const r1 = Math.floor(hi / 4096) % 16;
  const r2 = Math.floor(hi / 65536) % 16;
  const garbage = hi >= 0x100000 && a % 2 === 1;
  let jt = garbage ? Math.floor(a / 256) % 256 : 0;
  let jf = garbage ? Math.floor(a / 65536) % 256 : 0;
  let k = garbage ? a : 0;
  if ([0x04, 0x14, 0x24, 0x44, 0x54, 0xa4, 0x00, 0x01].includes(code)) k = refBiased(sel, a);
  else if (code === 0x34 || code === 0x94) k = refBiased(sel, a) || 1;
  else if (code === 0x64 || code === 0x74) k = refBiased(sel, a) % 32;
  else if (code === 0x20 || code === 0x28 || code === 0x30) k = refAbs(sel, a);
  else if ([0x40, 0x48, 0x50, 0xb1].includes(code)) k = sel % 4 < 2 ? at(HEADER_OFFSETS, a) : refBiased(Math.floor(sel / 4), a);
  else if ([0x02, 0x03, 0x60, 0x61].includes(code)) k = Math.floor(a / 256) % 2 === 1 ? a % 16 : a % 4;
  else if (code === 0x05) k = refJump(r1, jw ?? a, flen - pc - 1, 0x7fffffff);
  else if (code === 0x06) k = sel % 2 === 1 ? at(RET_K, a) : refBiased(Math.floor(sel / 2), a);
  else if (isJcond(code)) {
    if ((code & 0x08) === 0) k = refBiased(sel, a);
    const w = jw ?? Math.floor(a / 256);
    jt = refJump(r1, w % 256, flen - pc - 1, 256);
    jf = refJump(r2, Math.floor(w / 256) % 256, flen - pc - 1, 256);
  }
  return { code, jt, jf, k };
}

const refRet = (sel: number, k: number): SockFilter =>
  sel % 3 === 2 ? { code: 0x16, jt: 0, jf: 0, k: 0 } : { code: 0x06, jt: 0, jf: 0, k: sel % 3 === 0 ? at(RET_K, k) : k };

/** check_load_and_stores (net/core/filter.c:921) as a second pass that repairs the loads it would reject. */
function refRepair(prog: SockFilter[]): SockFilter[] {
  const out = prog.map((i) => ({ ...i }));
  const masks = new Array<number>(out.length).fill(0xffff);
  let memvalid = 0;
  for (let pc = 0; pc < out.length; pc++) {
    memvalid &= masks[pc]!;
    const insn = out[pc]!;
    if (insn.code === 0x02 || insn.code === 0x03) memvalid |= 1 << insn.k;
    else if (insn.code === 0x60 || insn.code === 0x61) {
      if ((memvalid & (1 << insn.k)) === 0) {
        if (memvalid !== 0) {
          while ((memvalid & (1 << insn.k)) === 0) insn.k = (insn.k + 1) % 16;
        } else {
          insn.code = insn.code === 0x60 ? 0x02 : 0x03;
          memvalid |= 1 << insn.k;
        }
      }
    } else if (insn.code === 0x05) {
      masks[pc + 1 + insn.k] &= memvalid;
      memvalid = 0xffff;
    } else if (isJcond(insn.code)) {
      masks[pc + 1 + insn.jt] &= memvalid;
      masks[pc + 1 + insn.jf] &= memvalid;
      memvalid = 0xffff;
    }
  }
  return out;
}

// --- the tests -----------------------------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** words that reach every kind and family: random, or with the high bits' fields set on purpose */
const hiWord = fc.oneof(u32, fc.integer({ min: 0, max: 0x1fffff }), fc.constantFrom(0, 0x100000, 0x1fffff, 0xfff000, 0xffffffff));
const triple = fc.tuple(u32, hiWord, u32);

test('biasedI32 is biasedU32 as an int32, and both are the reference draw', (t) => {
  fc.assert(
    fc.property(fc.nat(63), u32, (sel, raw) => {
      const i = biasedI32(sel, raw);
      return i === (i | 0) && i >>> 0 === biasedU32(sel, raw) && biasedU32(sel, raw) === refBiased(sel, raw);
    }),
    { numRuns: 20000 },
  );
  t.pass();
});

test('insnFromWords is the reference instruction (k, high bits, jump word; and without the jump word)', (t) => {
  fc.assert(
    fc.property(triple, fc.nat(4095), fc.nat(4095), fc.boolean(), ([a, hi, jw], x, y, withJw) => {
      const flen = 2 + Math.max(x, y);
      const pc = Math.min(x, y) % (flen - 1);
      const got = insnFromWords(a, hi, pc, flen, withJw ? jw : undefined);
      const want = refInsn(a, hi, pc, flen, withJw ? jw : undefined);
      return got.code === want.code && got.jt === want.jt && got.jf === want.jf && got.k === want.k;
    }),
    { numRuns: 30000 },
  );
  t.pass();
});

test('buildProgramWords decodes a genome body into the reference program (instructions, then the repair pass)', (t) => {
  fc.assert(
    fc.property(fc.array(triple, { maxLength: 60 }), fc.nat(5), u32, fc.nat(7), (body, retSel, retK, pad) => {
      // the body where a genome has it: after `pad` words
      const words = new Uint32Array(pad + 3 * body.length);
      body.forEach(([a, hi, jw], i) => words.set([a, hi, jw], pad + 3 * i));
      const flen = body.length + 1;
      const want = refRepair([...body.map(([a, hi, jw], pc) => refInsn(a, hi, pc, flen, jw)), refRet(retSel, retK)]);
      const got = buildProgramWords(words, pad, body.length, retSel, retK);
      return JSON.stringify(got) === JSON.stringify(want);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('buildProgramRuns and buildProgram decode into the reference program (runs expanded, then the repair pass)', (t) => {
  fc.assert(
    fc.property(fc.array(triple, { minLength: 1, maxLength: 6 }), fc.nat(300), fc.nat(5), u32, (runs, n, retSel, retK) => {
      const words = new Uint32Array(3 * runs.length);
      runs.forEach(([a, hi, rep], i) => words.set([a, hi, rep % 600], 3 * i));
      // expandRuns' genes: (high bits & 0x1fffff) * 2^32 + a, each 1 + repeat % 600 times
      const genes = expandRuns(
        runs.map(([a, hi, rep]) => [(hi % 0x200000) * 0x100000000 + a, 1 + (rep % 600)] as const),
        n,
      );
      const flen = n + 1;
      const want = refRepair([...genes.map((g, pc) => refInsn(g % 0x100000000, Math.floor(g / 0x100000000), pc, flen, undefined)), refRet(retSel, retK)]);
      const runsGot = buildProgramRuns(words, 0, runs.length, n, retSel, retK);
      const genesGot = buildProgram(genes, [retSel, retK]);
      return JSON.stringify(runsGot) === JSON.stringify(want) && JSON.stringify(genesGot) === JSON.stringify(want);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

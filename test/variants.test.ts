// Historical variants (model/variants.ts): each hook, worked out by hand from the kernel text; the
// historical corpus replays against the fixed and the buggy model; and a fixed-seed bounded campaign
// rediscovers every variant through the property its registry entry names.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { discoverVariant } from '../bench/variants.js';
import { bpfCheckClassic } from '../model/cbpf/check.js';
import { ClassicVm, compileClassic, EXIT_NLATTR_GUARD, EXIT_OOB, EXIT_RET } from '../model/cbpf/eval.js';
import type { SockFilter } from '../model/cbpf/insn.js';
import { X86_64, type KernelConfig } from '../model/config.js';
import { bpfSkbLoadHelper } from '../model/ebpf/helpers.js';
import { newRndState } from '../model/prandom.js';
import { convertBpfLdAbs } from '../model/migrate/ldabs.js';
import { bpfConvertFilter } from '../model/migrate/convert.js';
import { bpfSkbGetNlattrNest } from '../model/netlink.js';
import { bpfSkbGetNlattrNestU16, NLA_OOB, NLATTR_OOB, nlaFindUnchecked as nlaFindBounded, reciprocalDivide, reciprocalValue } from '../model/variants.js';
import { fixedConfig, isVariantName, NOT_MODELLED, VARIANT_NAMES, VARIANTS, variantConfig, variantInfo, type VariantName } from '../model/variants.js';
import { replaySeedPath } from '../fuzz/campaign.js';
import { makeEntry, readEntry, replayEntry, type CorpusEntry } from '../fuzz/corpus.js';
import { buildSkb } from '../fuzz/skbjson.js';
import { hex, projectRoot } from './_shared.js';

const I = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });
const AD_NLATTR_NEST = (0xfffff000 + 16) >>> 0; // SKF_AD_OFF + SKF_AD_NLATTR_NEST
const cfg = (v: VariantName): KernelConfig => variantConfig(X86_64, v);
const skbOf = (bytes: Uint8Array, spec: Record<string, unknown> = {}) => buildSkb(bytes, { preset: 'af_unix', ...spec });
const runClassic = (prog: SockFilter[], bytes: Uint8Array, config: KernelConfig): { ret: number; vm: ClassicVm } => {
  const vm = new ClassicVm(config);
  const { skb, env } = skbOf(bytes);
  return { ret: vm.run(compileClassic(prog), skb, env), vm };
};

// ---- registry ---------------------------------------------------------------------------------

test('registry: unique kebab-case names, every field filled, lookups', (t) => {
  t.is(new Set(VARIANT_NAMES).size, VARIANTS.length);
  for (const v of VARIANTS) {
    t.regex(v.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    for (const f of [v.id, v.title, v.year, v.affected, v.decisionPoint, v.modelHook, v.explanation]) t.true(f.length > 0, v.name);
    t.true(isVariantName(v.name));
    t.is(variantInfo(v.name), v);
  }
  t.false(isVariantName('no-such-bug'));
  t.throws(() => variantInfo('no-such-bug'), { instanceOf: RangeError });
  // H15 needs the backport helpers to be observable; the others keep the base configuration
  // a variant is a preset that flips decision fields of the kernel record; fixedConfig undoes it
  t.deepEqual(variantConfig(X86_64, 'neg-offset-linear-only'), { ...X86_64, loadHelpers: 'v6.6.0', variant: 'neg-offset-linear-only' });
  t.deepEqual(fixedConfig(variantConfig(X86_64, 'neg-offset-linear-only')), { ...X86_64, loadHelpers: 'backport' });
  t.deepEqual(variantConfig(X86_64, 'reciprocal-divide'), { ...X86_64, classicDivK: 'reciprocal', variant: 'reciprocal-divide' });
  t.deepEqual(fixedConfig(variantConfig(X86_64, 'reciprocal-divide')), X86_64);
  t.is(fixedConfig(X86_64), X86_64);
  for (const v of VARIANTS) {
    t.true(Object.keys(v.flips).length > 0, `${v.name} flips a decision field`);
    for (const [k, x] of Object.entries(v.flips)) t.not(x, (fixedConfig(variantConfig(X86_64, v.name)) as unknown as Record<string, unknown>)[k], `${v.name}.${k}`);
  }
  // every digest bug H1..H18 is either a variant or listed as not modelled
  const ids = new Set([...VARIANTS.map((v) => v.id), ...NOT_MODELLED.map((n) => n.id)]);
  for (const id of ['H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'H7', 'H8', 'H9', 'H10', 'H11', 'H12', 'H13', 'H14', 'H15', 'H16', 'H17', 'H18']) t.true(ids.has(id), id);
});

// ---- hooks ------------------------------------------------------------------------------------

test('H1/H17 checker hooks: F:1137 check_load_and_stores and F:1089 shift k >= 32 skipped only by their variant', (t) => {
  const readM3 = [I(0x60, 3), I(0x16)]; // ld M[3]; ret a
  const lsh32 = [I(0x00, 1), I(0x64, 32), I(0x16)]; // ld #1; lsh #32; ret a
  t.is(bpfCheckClassic(readM3)?.rule, 'mem-read-before-write');
  t.is(bpfCheckClassic(readM3, X86_64)?.rule, 'mem-read-before-write');
  t.is(bpfCheckClassic(readM3, cfg('no-check-load-and-stores')), null);
  t.is(bpfCheckClassic(readM3, cfg('shift-k-unchecked'))?.rule, 'mem-read-before-write');
  t.is(bpfCheckClassic(lsh32, X86_64)?.rule, 'shift-k-too-large');
  t.is(bpfCheckClassic(lsh32, cfg('shift-k-unchecked')), null);
  t.is(bpfCheckClassic(lsh32, cfg('no-check-load-and-stores'))?.rule, 'shift-k-too-large');
});

test('H2 reciprocal_value / reciprocal_divide (lib/reciprocal_div.c of 2.6.20..3.13)', (t) => {
  t.is(reciprocalValue(1), 0); // (u32)(2^32 / 1)
  t.is(reciprocalValue(2), 0x80000000); // (2^32 + 1) / 2
  t.is(reciprocalValue(3), 0x55555556); // (2^32 + 2) / 3 = 1431655766
  t.is(reciprocalValue(0x80000001), 2); // (2^32 + 2^31) / (2^31 + 1) = 2.99...
  t.is(reciprocalDivide(7, 0), 0); // A / 1 gave 0
  t.is(reciprocalDivide(0xffffffff, 0x55555556), 0x55555555); // (R * 2^32 - R) >> 32 = R - 1: exact
  t.is(reciprocalDivide(0x80000000, 2), 1); // 2^31 / (2^31 + 1) is 0: off by one
  t.is(reciprocalDivide(0xffffffff, 0xffffffff), 0xfffffffe);
  const prog = [I(0x00, 7), I(0x34, 1), I(0x16)]; // ld #7; div #1; ret a
  t.is(runClassic(prog, new Uint8Array(4), X86_64).ret, 7);
  t.is(runClassic(prog, new Uint8Array(4), cfg('reciprocal-divide')).ret, 0);
});

test('impl-gvisor-tax-txa-swapped: TAX copies X into A and TXA A into X (gVisor pkg/bpf)', (t) => {
  const prog = [I(0x00, 5), I(0x07), I(0x87), I(0x16)]; // ld #5; tax; txa; ret a
  t.is(runClassic(prog, new Uint8Array(4), X86_64).ret, 5);
  t.is(runClassic(prog, new Uint8Array(4), cfg('impl-gvisor-tax-txa-swapped')).ret, 0);
});

test('nlaFindBounded: the nla_find walk, NLA_OOB when it reads outside the bytes', (t) => {
  const b = hex('08000500 06000700 0000'); // {len 8, type 5}, {len 6, type 7} + 2 pad bytes
  t.is(nlaFindBounded(b, 0, 10, 5, true), 0);
  t.is(nlaFindBounded(b, 0, 10, 7, true), -1); // second attr: nla_len 6 > rem 2 after the first
  t.is(nlaFindBounded(b, 0, 3, 5, true), -1); // rem < 4: nothing read
  t.is(nlaFindBounded(b, 0, 100, 9, true), -1); // the walk reaches 8, where nla_len 0 stops it
  t.is(nlaFindBounded(hex('08000500 0600'), 0, 100, 9, true), NLA_OOB); // the next header at 8 is past 6
  t.is(nlaFindBounded(b, 9, 100, 9, true), NLA_OOB); // nla_len half outside
  t.is(nlaFindBounded(hex('0400'), 0, 100, 9, true), NLA_OOB); // nla_len fits, nla_type does not
  t.is(nlaFindBounded(hex('00000000'), 0, 100, 0, true), -1); // nla_len 0 < 4
  t.is(nlaFindBounded(b, -4, 100, 0, true), NLA_OOB);
  t.is(nlaFindBounded(hex('0005 0800'), 0, 8, 0x800, false), 0); // big-endian header: len 5, type 0x800
});

test('H3 classic NLATTR/NLATTR_NEST before the CVE-2014-3144/3145 fix', (t) => {
  const nest = [I(0x20, AD_NLATTR_NEST), I(0x04, 1), I(0x16)]; // ld [nlattr_nest]; add #1; ret a
  const nla = [I(0x20, (0xfffff000 + 12) >>> 0), I(0x04, 1), I(0x16)]; // ld [nlattr]; add #1; ret a
  const v = cfg('nlattr-no-len-guard');
  // nla_len 16 > len - A = 8: the fixed guard returns 0; the swapped `16 > A - len = 0xfffffff8` does
  // not fire, so the walk reads {8, 5} at 4 and then the header at 12, past the 8 bytes.
  const p8 = hex('1000000008000500');
  let r = runClassic(nest, p8, X86_64);
  t.deepEqual([r.ret, r.vm.exit], [0, EXIT_NLATTR_GUARD]);
  r = runClassic(nest, p8, v);
  t.deepEqual([r.ret, r.vm.exit, r.vm.exitPc], [0, EXIT_OOB, 0]);
  // len 2 < 4: no guard; nla_len 8 read at 0, then the walk reads at 4
  r = runClassic(nest, hex('0800'), v);
  t.deepEqual([r.ret, r.vm.exit], [0, EXIT_OOB]);
  // len 1: reading nla_len itself is out of bounds
  t.is(runClassic(nest, hex('08'), v).vm.exit, EXIT_OOB);
  // nla_len 2: nla_len - 4 = -2 as an int, nothing walked, A = 0
  r = runClassic(nest, hex('0200000000000000'), v);
  t.deepEqual([r.ret, r.vm.exit], [1, EXIT_RET]);
  // A > len - 4 still returns 0 when len >= 4 (A = 5 on 8 bytes)
  t.is(runClassic([I(0x00, 5), ...nest], p8, v).vm.exit, EXIT_NLATTR_GUARD);
  // NLATTR on a 2-byte packet with A = 0x80000003: len - A = 0x7fffffff as an int, the walk reads data[A]
  r = runClassic([I(0x00, 0x80000003), ...nla], hex('0800'), v);
  t.deepEqual([r.ret, r.vm.exit], [0, EXIT_OOB]);
  // NLATTR, X = 5, A = 0 on 8 bytes: the first header {16, 0} has nla_len 16 > rem 8, the walk stops: A = 0
  r = runClassic([I(0x01, 5), ...nla], p8, v);
  t.deepEqual([r.ret, r.vm.exit], [1, EXIT_RET]);
  // X = 5 on {4, 0}, {4, 5}: found at offset 4, A = 4, add #1 -> 5
  r = runClassic([I(0x01, 5), ...nla], hex('0400000004000500'), v);
  t.deepEqual([r.ret, r.vm.exit], [5, EXIT_RET]);
  const { skb, env } = skbOf(p8, { headlen: 4 });
  const vm = new ClassicVm(v);
  vm.run(compileClassic(nest), skb, env);
  t.is(vm.exit, EXIT_NLATTR_GUARD); // skb_is_nonlinear
});

test('H14 bpf_skb_get_nlattr_nest with the 6.8-rc u16 nla_len()', (t) => {
  const p = hex('0200000008000100'); // nla_len 2 at 0; then {8, 1} at 4; the walk goes on to 12
  const { skb } = skbOf(p);
  t.is(bpfSkbGetNlattrNest(skb, 0, 0, true), 0); // v6.6: nla_len() = -2, nothing found
  t.is(bpfSkbGetNlattrNestU16(skb, 0, 0, true), NLATTR_OOB);
  t.is(bpfSkbGetNlattrNestU16(skb, 0, 1, true), 4); // type 1 found before the end
  const { skb: s2 } = skbOf(hex('0000000003000000'));
  t.is(bpfSkbGetNlattrNestU16(s2, 0, 0, true), 0); // the walk stops at nla_len 3
});

test('H8 conversion: DIV/MOD X without the JNE X,0 / A ^= A / EXIT guard', (t) => {
  const prog = [I(0x01, 0), I(0x00, 5), I(0x3c), I(0x16)];
  const fixed = bpfConvertFilter(prog, X86_64);
  const buggy = bpfConvertFilter(prog, cfg('div-x-no-zero-guard'));
  if (!('insns' in fixed) || !('insns' in buggy)) return t.fail('conversion failed');
  t.is(fixed.insns.length - buggy.insns.length, 3);
  t.false(buggy.insns.some((i) => i.code === 0x55)); // no JNE K
  t.true(fixed.insns.some((i) => i.code === 0x55 && i.imm === 0 && i.off === 2));
});

test('H10 ld_abs fast path: offset > S16_MAX goes through TMP, the variant truncates LDX off to s16', (t) => {
  const fp = I(0x30, 32768); // ldb [32768]
  const fixed = convertBpfLdAbs(fp, X86_64)!;
  const buggy = convertBpfLdAbs(fp, cfg('ld-abs-s16-offset'))!;
  const ldx = (xs: typeof fixed) => xs.filter((i) => (i.code & 0x07) === 0x01);
  t.deepEqual(ldx(fixed).map((i) => i.off), [0]); // LDX A, [TMP + 0] with TMP = D + 32768
  t.deepEqual(ldx(buggy).map((i) => i.off), [-32768]);
  t.is(fixed.length - buggy.length, 2);
  t.deepEqual(convertBpfLdAbs(I(0x30, 100), cfg('ld-abs-s16-offset')), convertBpfLdAbs(I(0x30, 100), X86_64));
});

test('H15 load helper: a backport kernel with the pre-d4bac0288a2b body fails negative loads into frags', (t) => {
  // ldb [SKF_NET_OFF + 9] on an IPv4 header split at 8: byte 9 (0x11) is in the frags
  const { skb } = skbOf(hex('4500001400000000ff1100000000000000000000'), { headlen: 8 });
  const env = (config: KernelConfig) => ({ skb, config, cpu: 0, rnd: newRndState(1) });
  const off = (0xfff00000 + 9) | 0;
  t.is(bpfSkbLoadHelper(env({ ...X86_64, loadHelpers: 'backport' }), 8, off, 1), 0x11);
  t.is(bpfSkbLoadHelper(env(cfg('neg-offset-linear-only')), 8, off, 1), -14); // -EFAULT
  t.is(bpfSkbLoadHelper(env(cfg('neg-offset-linear-only')), 8, 1, 1), 0x00); // positive offsets unchanged
});

// ---- the historical corpus ------------------------------------------------------------------------

const histDir = join(projectRoot, 'corpus', 'historical');
const entries = (): CorpusEntry[] =>
  readdirSync(histDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const r = readEntry(join(histDir, f));
      if (!r.ok) throw new Error(r.error);
      return r.entry;
    });

test('corpus/historical: one valid entry per variant, replaying on the fixed and the buggy model', (t) => {
  const es = entries();
  t.deepEqual(es.map((e) => e.variant?.name).sort(), [...VARIANT_NAMES].sort());
  for (const e of es) {
    t.is(e.kind, 'historical');
    t.deepEqual(replayEntry(e), [], e.variant!.name);
  }
});

test('corpus/historical: the right and wrong results, worked out from the kernel text', (t) => {
  const byName = new Map(entries().map((e) => [e.variant!.name, e]));
  const res = (n: VariantName, which: 'fixed' | 'variant') => {
    const e = byName.get(n)!;
    const x = which === 'fixed' ? e.expect : e.variant!.expect;
    return { attach: x.attach.rule, results: x.results.map((r) => [r.classic, r.kernel, r.fault ?? null]) };
  };
  // H1 ld M[3]; ret a: rejected at F:944; accepted, the stack slot FP-16 holds STACK_POISON 0xcc bytes
  t.deepEqual(res('no-check-load-and-stores', 'fixed'), { attach: 'mem-read-before-write', results: [[null, null, null]] });
  t.deepEqual(res('no-check-load-and-stores', 'variant'), { attach: null, results: [[null, 0xcccccccc, null]] });
  // H2 ld #7; div #1: 7, and 0 with reciprocal_value(1) = 0
  t.deepEqual(res('reciprocal-divide', 'fixed').results, [[7, 7, null]]);
  t.deepEqual(res('reciprocal-divide', 'variant').results, [[0, 7, null]]);
  // H3: classic returns 0 (guard), the kernel's helper A = 0, add #1 -> 1; the variant reads past the skb
  t.deepEqual(res('nlattr-no-len-guard', 'fixed').results, [[0, 1, null], [0, 1, null]]);
  t.deepEqual(res('nlattr-no-len-guard', 'variant').results.map((r) => [r[0], r[1], String(r[2]).startsWith('classic read past the end')]), [[0, 1, true], [0, 1, true]]);
  // H8 ldx #0; ld #5; div x: 0 both; without the guard the interpreter divides by zero
  t.deepEqual(res('div-x-no-zero-guard', 'fixed').results, [[0, 0, null]]);
  t.regex(String(res('div-x-no-zero-guard', 'variant').results[0]![2]), /^div-by-zero at eBPF pc \d+$/);
  // H10 ldb [32768] on 32769 bytes whose last is 0x5a: 90; the variant reads at D - 32768
  t.deepEqual(res('ld-abs-s16-offset', 'fixed').results, [[0x5a, 0x5a, null]]);
  t.deepEqual(res('ld-abs-s16-offset', 'variant').results.map((r) => r.slice(0, 2)), [[0x5a, 0]]);
  t.regex(String(res('ld-abs-s16-offset', 'variant').results[0]![2]), /^out-of-bounds at eBPF pc \d+$/);
  // H14 nla_len 2 at A = 0: 0 + 1 = 1; the u16 nla_len() walks past the 8 bytes
  t.deepEqual(res('nlattr-nest-unsigned-len', 'fixed').results, [[1, 1, null]]);
  t.regex(String(res('nlattr-nest-unsigned-len', 'variant').results[0]![2]), /^helper at eBPF pc \d+$/);
  // H15 ldb [SKF_NET_OFF + 9], IPv4 split at 8: classic (3.14) 0, backport 0x11 = 17, the variant 0
  t.deepEqual(res('neg-offset-linear-only', 'fixed').results, [[0, 17, null]]);
  t.deepEqual(res('neg-offset-linear-only', 'variant').results, [[0, 0, null]]);
  // H17 ld #1; lsh #32: rejected at F:1089; accepted, x86 masks the count: 1 << 0 = 1
  t.deepEqual(res('shift-k-unchecked', 'fixed'), { attach: 'shift-k-too-large', results: [[null, null, null]] });
  t.deepEqual(res('shift-k-unchecked', 'variant'), { attach: null, results: [[null, 1, null]] });
  // gVisor's TAX/TXA: ld #5; tax (A = X = 0); txa (X = A = 0): 5, and 0
  t.deepEqual(res('impl-gvisor-tax-txa-swapped', 'fixed').results, [[5, 5, null]]);
  t.deepEqual(res('impl-gvisor-tax-txa-swapped', 'variant').results, [[0, 5, null]]);
  // libpcap shift: ld #0x80000001; ldx #32; lsh x: Linux shifts by 32 & 31 = 0, libpcap gives 0
  t.deepEqual(res('impl-libpcap-shift-x-ge-32', 'fixed').results, [[0x80000001, 0x80000001, null]]);
  t.deepEqual(res('impl-libpcap-shift-x-ge-32', 'variant').results, [[0, 0x80000001, null]]);
  // BSD LD IND: ldx #0xffffffff; ld [x + 1] on 01 23 45 67 89 ab: Linux wraps to offset 0, BSD fails the load
  t.deepEqual(res('impl-bsd-ind-no-wrap', 'fixed').results, [[0x01234567, 0x01234567, null]]);
  t.deepEqual(res('impl-bsd-ind-no-wrap', 'variant').results, [[0, 0x01234567, null]]);
});

test('replayEntry reports a changed variant result; makeEntry records config.variant as the variant', (t) => {
  const e = entries().find((x) => x.variant?.name === 'reciprocal-divide')!;
  const tampered: CorpusEntry = { ...e, variant: { name: 'reciprocal-divide', expect: e.expect } };
  t.deepEqual(replayEntry(tampered), ['variant reciprocal-divide: input 0: classic recorded 7, now 0']);
  t.throws(() => replayEntry({ ...e, variant: { name: 'bogus' as VariantName, expect: e.expect } }), { message: /unknown variant 'bogus'/ });
  const prog = [I(0x00, 7), I(0x34, 1), I(0x16)];
  const made = makeEntry({ kind: 'finding', title: 't', prog, inputs: [skbOf(new Uint8Array(1))], config: cfg('reciprocal-divide'), origin: { bpfspec: 'test' } });
  t.is(made.variant?.name, 'reciprocal-divide');
  t.is(made.expect.results[0]!.classic, 7);
  t.is(made.variant?.expect.results[0]!.classic, 0);
  t.deepEqual(replayEntry(made), []);
});

// ---- rediscovery ------------------------------------------------------------------------------

// Seed 1, at most 50,000 cases each (256 per chunk, 4 skbs per program): every variant must be found
// through its catching property, and the same (seed, path) must pass on the fixed model.
// The length of each variant's shrunk program (seed 1) when cases were drawn by fast-check's
// combinators (fuzz/campaign.ts combinatorArbitrary), before the genomes (fuzz/genome.ts): the
// genome's shrinking must reach programs as small.
const SHRUNK_BY_COMBINATORS: Readonly<Record<VariantName, number>> = {
  'no-check-load-and-stores': 5,
  'reciprocal-divide': 3,
  'nlattr-no-len-guard': 6,
  'div-x-no-zero-guard': 2,
  'ld-abs-s16-offset': 3,
  'nlattr-nest-unsigned-len': 6,
  'neg-offset-linear-only': 2,
  'shift-k-unchecked': 1,
  'impl-gvisor-tax-txa-swapped': 4,
  'impl-libpcap-shift-x-ge-32': 6,
  'impl-bsd-ind-no-wrap': 3,
};

for (const v of VARIANTS) {
  test(`rediscovery: ${v.name} (${v.id}) is found by ${v.catchesBy}`, (t) => {
    const d = discoverVariant(v.name, { seed: 1, maxCases: 50_000 });
    t.not(d.finding, null, `${v.name} not found in ${d.cases} cases`);
    const f = d.finding!;
    t.is(f.finding.property, v.catchesBy);
    const len = f.finding.prog.length;
    t.true(len <= SHRUNK_BY_COMBINATORS[v.name], `${v.name}: shrunk to ${len} instructions (combinators: ${SHRUNK_BY_COMBINATORS[v.name]})`);
    t.log(`${v.name}: ${d.cases} cases, ${d.seconds.toFixed(2)} s, shrunk to ${len} instructions: ${f.finding.message}`);
    const fixed = fixedConfig(variantConfig(X86_64, v.name));
    t.is(replaySeedPath(fixed, 4, f.seed, f.path), null);
    t.not(replaySeedPath(variantConfig(X86_64, v.name), 4, f.seed, f.path), null);
  });
}

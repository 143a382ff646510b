// The campaign's genomes (fuzz/genome.ts): deterministic decoding into the same kinds of cases as the
// combinators, class weights, and shrink steps that keep programs valid and jumps on their targets.
import test from 'ava';
import fc from 'fast-check';
import { bpfCheckClassic } from '../../model/cbpf/check.js';
import { X86_64 } from '../../model/config.js';
import { isCondJump } from '../../fuzz/arb/ebpf-size.js';
import { INVALID_RULES } from '../../fuzz/arb/invalid.js';
import { decodeCase, genomeClass, GenomeArbitrary, HEAD_WORDS, keepPackets, makeGenome, packetDraws, PKT_WORDS, SplitMix32, without, wordSource, type Genome } from '../../fuzz/genome.js';
import { packetFromDraw, packetOptionsFor } from '../../fuzz/arb/packet.js';
import { skbCaseOf } from '../../fuzz/arb/skb.js';
import { slabBytes, slabWords } from '../../fuzz/arb/slab.js';
import { campaignChecker, checkCase } from '../../fuzz/campaign.js';

const sample = (n: number, seed: number, packets = 2): Genome[] => fc.sample(new GenomeArbitrary(packets), { seed, numRuns: n });

test('the same seed gives the same genomes and the same cases', (t) => {
  const a = sample(200, 7);
  const b = sample(200, 7);
  t.deepEqual(a, b);
  t.deepEqual(
    a.map((g) => decodeCase(g, X86_64)),
    b.map((g) => decodeCase(g, X86_64)),
  );
  t.notDeepEqual(a, sample(200, 8));
});

test('classes: 9 valid to 1 invalid, every flavour and every rule drawn', (t) => {
  const gs = sample(20000, 3, 1);
  const seen = new Map<string, number>();
  for (const g of gs) {
    const c = genomeClass(g.prog[0]!);
    const k = 'valid' in c ? `valid ${c.valid}` : `invalid ${c.invalid}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
    t.is(g.pkts.length, 'valid' in c ? PKT_WORDS : 0);
  }
  const valid = [...seen].filter(([k]) => k.startsWith('valid')).reduce((n, [, v]) => n + v, 0);
  t.true(Math.abs(valid / gs.length - 0.9) < 0.01, `valid share ${valid / gs.length}`);
  for (const f of ['short', 'medium', 'realistic', 'long', 'limits']) t.true((seen.get(`valid ${f}`) ?? 0) > 0, f);
  for (const r of INVALID_RULES) t.true((seen.get(`invalid ${r}`) ?? 0) > 0, r);
  t.true(Math.abs(seen.get('valid short')! / gs.length - (0.9 * 800) / 978) < 0.015);
});

test('class 0 is a valid short program: an all-zero genome decodes to `ld #0 ... ret #0`', (t) => {
  const g: Genome = { prog: new Uint32Array(HEAD_WORDS + 3 * 4), pkts: new Uint32Array(PKT_WORDS) };
  const c = decodeCase(g, X86_64);
  if (!('valid' in c)) return t.fail('expected a valid case');
  t.deepEqual(c.valid.prog, [...Array(4).fill({ code: 0, jt: 0, jf: 0, k: 0 }), { code: 0x06, jt: 0, jf: 0, k: 0 }]);
  t.is(c.valid.inputs.length, 1);
  t.is(c.valid.inputs[0]!.skb.data.length, 0);
});

test('every decoded case holds the campaign properties (valid programs accepted, invalid ones rejected by their rule)', (t) => {
  const checker = campaignChecker({ config: X86_64, engine: false });
  for (const g of sample(1500, 11)) {
    const f = checkCase(checker, decodeCase(g, X86_64));
    t.is(f, null, f?.message);
  }
});

test('removing instructions keeps the program valid and every earlier jump on its target', (t) => {
  let checked = 0;
  for (let seed = 0; checked < 300; seed++) {
    const next = ((s) => () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0))(seed * 7919 + 1);
    const g = makeGenome(next, 1);
    const c = genomeClass(g.prog[0]!);
    if (!('valid' in c) || c.valid !== 'short') continue;
    const n = (g.prog.length - HEAD_WORDS) / 3;
    if (n < 3) continue;
    const before = decodeCase(g, X86_64);
    if (!('valid' in before)) return t.fail();
    const p = before.valid.prog;
    const from = n >>> 2;
    const to = from + 1 + (n >>> 3);
    const after = decodeCase({ prog: without(g.prog, 3, from, to, true), pkts: g.pkts }, X86_64);
    if (!('valid' in after)) return t.fail();
    const q = after.valid.prog;
    t.is(q.length, p.length - (to - from));
    t.is(bpfCheckClassic(q), null);
    const moved = (j: number, off: number): number => {
      const tg = j + 1 + off;
      return tg >= to ? tg - (to - from) : tg >= from ? from : tg;
    };
    for (let j = 0; j < from; j++) {
      const a = p[j]!;
      const b = q[j]!;
      if (a.code === 0x05) t.is(j + 1 + b.k, moved(j, a.k));
      else if (isCondJump(a.code)) {
        t.is(b.code, a.code);
        t.is(b.k, a.k, 'a moved jump keeps its k');
        t.is(j + 1 + b.jt, moved(j, a.jt));
        t.is(j + 1 + b.jf, moved(j, a.jf));
      }
    }
    checked++;
  }
  t.pass();
});

test('every candidate of a shrink stream decodes to a case, the first ones without the body', (t) => {
  const arb = new GenomeArbitrary(1);
  const g = sample(50, 5).find((x) => {
    const c = genomeClass(x.prog[0]!);
    return 'valid' in c && c.valid === 'short' && x.prog.length > HEAD_WORDS + 6;
  })!;
  let n = 0;
  for (const s of arb.shrink(g, undefined)) {
    if (n === 0) t.is(s.value.prog.length, HEAD_WORDS, 'the whole body first');
    decodeCase(s.value, X86_64);
    if (++n >= 300) break;
  }
  t.is(n, 300);
});

test('inputs decoded in place equal the composed builders: packetFromDraw of packetDraws, then skbCaseOf (skb, env and the lazily built packet)', (t) => {
  let n = 0;
  for (const g of sample(1500, 17, 3)) {
    const c = decodeCase(g, X86_64);
    if (!('valid' in c)) continue;
    const opts = packetOptionsFor(c.valid.prog);
    c.valid.inputs.forEach((input, i) => {
      const d = packetDraws(g.pkts, i);
      const p = packetFromDraw(d.packet, opts);
      const want = skbCaseOf(p, d.skb);
      t.deepEqual(input.skb, want.skb);
      t.deepEqual(input.env, want.env);
      t.deepEqual(input.packet, want.packet);
      t.is(input.packet, input.packet, 'built once');
      n++;
    });
  }
  t.true(n > 3000);
});

test('a program that loses instructions keeps its packets: the same bytes and split where its loads still ask for that length', (t) => {
  let same = 0;
  let all = 0;
  for (const g of sample(3000, 13, 3)) {
    const c = genomeClass(g.prog[0]!);
    if (!('valid' in c) || c.valid !== 'short') continue;
    const n = (g.prog.length - HEAD_WORDS) / 3;
    if (n < 2) continue;
    const prog2 = without(g.prog, 3, 0, 1, true);
    const before = decodeCase(g, X86_64);
    const after = decodeCase({ prog: prog2, pkts: keepPackets(g, prog2) }, X86_64);
    if (!('valid' in before) || !('valid' in after)) return t.fail();
    for (let i = 0; i < before.valid.inputs.length; i++) {
      const a = before.valid.inputs[i]!.skb;
      const b = after.valid.inputs[i]!.skb;
      all++;
      // a length or split the new program's loads no longer suggest is not kept
      if (a.data.length === b.data.length) t.deepEqual(b.data, a.data);
      if (a.data.length === b.data.length && a.headlen === b.headlen) same++;
    }
  }
  t.true(same > 0.9 * all, `${same} of ${all} packets kept`);
});

test('SplitMix32: skip(n) passes over n words, fill writes the words next() gives, a function source makes the same genome', (t) => {
  const a = new SplitMix32(12345);
  const b = new SplitMix32(12345);
  const words: number[] = [];
  for (let i = 0; i < 40; i++) words.push(a.next());
  b.skip(7);
  const filled = new Uint32Array(40);
  b.fill(filled, 7, 40);
  t.deepEqual([...filled.subarray(7)], words.slice(7));
  t.true(words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff));
  for (const seed of [1, 2, 3, 99, -5]) {
    const f = wordSource(seed);
    t.deepEqual(makeGenome(f, 3), makeGenome(new SplitMix32(seed), 3));
  }
});

test('the packet words past their counts are 0 (never read, nothing to shrink there)', (t) => {
  for (const g of sample(400, 17, 3)) {
    for (let o = 0; o < g.pkts.length; o += PKT_WORDS) {
      const w = g.pkts.subarray(o, o + PKT_WORDS);
      const [nxs, nextra, npay] = [w[2]!, w[3]!, w[4]!];
      t.true([...w.subarray(13 + nxs, 25)].every((x) => x === 0), 'fields');
      t.true([...w.subarray(25 + nextra, 29)].every((x) => x === 0), 'headroom');
      t.true([...w.subarray(29 + npay, PKT_WORDS)].every((x) => x === 0), 'payload');
    }
  }
});

test('slab arrays: zero-filled, disjoint, each its own length and offset', (t) => {
  const xs = [slabBytes(5), slabWords(3), slabBytes(100), slabWords(0), slabBytes(4096 * 2)];
  for (const x of xs) t.true([...x].every((v) => v === 0));
  xs[0]!.fill(0xff);
  xs[1]!.fill(0xffffffff);
  xs[2]!.fill(0xff);
  t.true([...xs[4]!].every((v) => v === 0));
  t.deepEqual([xs[0]!.length, xs[1]!.length, xs[2]!.length, xs[3]!.length, xs[4]!.length], [5, 3, 100, 0, 8192]);
  // many small arrays across slab boundaries stay disjoint
  const many = Array.from({ length: 3000 }, (_, i) => slabBytes(1 + (i % 50)));
  many.forEach((m, i) => m.fill(i & 0xff));
  t.true(many.every((m, i) => m.every((v) => v === (i & 0xff))));
});

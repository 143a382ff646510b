// The fast paths of the packet and skb generators against what they must equal: the pkt_type skbAt
// takes from model/skb.ts ethTypeTransPktType against eth_type_trans's rules written out here,
// remainder against %, interestingLengths (its bit set of short lengths, set three at a time) against
// its definition written out here, wordBytesIntoWords against wordBytes, inetChecksum against RFC 1071's sum written
// out here, and packets built in place in a slab
// (fuzz/arb/packet.ts Bytes.resetInSlab) leaving the slab's other arrays zero-filled.
import test from 'ava';
import fc from 'fast-check';
import { ETHERNET_DEV_ADDR, ethTypeTransPktType, PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, PACKET_OTHERHOST } from '../../model/skb.js';
import { inetChecksum, interestingLengths, lengthsFor, lengthsScratch, packetFromDraw, packetDraw, PACKET_LENGTHS, remainder, SCRATCH_LENGTHS, wordBytes, wordBytesIntoWords } from '../../fuzz/arb/index.js';
import { isAncillaryK } from '../../fuzz/arb/constants.js';
import { SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';
import { slabBytes, slabWords } from '../../fuzz/arb/slab.js';

/** eth_type_trans's pkt_type, the other way round: a multicast destination first (the device's address is unicast), then the device's address */
const pktTypeOf = (data: Uint8Array): number => {
  if (data.length < 14) return PACKET_HOST;
  const dst = Array.from(data.subarray(0, 6));
  if ((dst[0]! & 1) !== 0) return dst.every((b) => b === 0xff) ? PACKET_BROADCAST : PACKET_MULTICAST;
  return dst.every((b, i) => b === ETHERNET_DEV_ADDR[i]) ? PACKET_HOST : PACKET_OTHERHOST;
};

test('ethTypeTransPktType (what skbAt takes) follows eth_type_trans: short frames, broadcast, multicast, the device address, other hosts', (t) => {
  const dsts = [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], [0x01, 0, 0x5e, 0, 0, 0xfb], [...ETHERNET_DEV_ADDR], [0x02, 0, 0, 0, 0, 0x02], [0, 0, 0, 0, 0, 0]];
  const frames: Uint8Array[] = [];
  for (const d of dsts) for (const len of [0, 5, 6, 13, 14, 60]) frames.push(Uint8Array.from({ length: len }, (_, i) => (i < 6 ? d[i]! : i)));
  for (const f of frames) t.is(pktTypeOf(f), ethTypeTransPktType(f), `${Array.from(f.subarray(0, 6))} (${f.length} bytes)`);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 20 }), fc.nat(5), (b, k) => {
      // one byte off a special address, or random bytes
      const f = Uint8Array.from(b);
      if (f.length >= 6 && k < 2) f.set(k === 0 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : ETHERNET_DEV_ADDR, 0), (f[b.length % 6] = b[0]!);
      return pktTypeOf(f) === ethTypeTransPktType(f);
    }),
    { numRuns: 3000, seed: 5 },
  );
});

test('packets built in place in the slab: truncated, padded and long ones leave the arrays carved next zero-filled and disjoint', (t) => {
  const lengths = [...PACKET_LENGTHS, 3000, 5000, 70000];
  const draws = fc.sample(packetDraw(), { numRuns: 3000, seed: 9 });
  const seen: Uint8Array[] = [];
  draws.forEach((d, i) => {
    const p = packetFromDraw([d[0], d[1], d[2], i % 2 === 0 ? d[3] | 1 : d[3], d[4]], { lengths });
    seen.push(p.bytes);
    const b = slabBytes(1 + (i % 40));
    const w = slabWords(1 + (i % 7));
    t.true(b.every((x) => x === 0) && w.every((x) => x === 0), `after packet ${i}`);
    b.fill(0xee);
    w.fill(0xeeeeeeee);
  });
  // the packets' bytes still as built (nothing carved over them): rebuilt, they are the same
  draws.forEach((d, i) => {
    const p = packetFromDraw([d[0], d[1], d[2], i % 2 === 0 ? d[3] | 1 : d[3], d[4]], { lengths });
    if (!p.bytes.every((x, j) => x === seen[i]![j]) || p.bytes.length !== seen[i]!.length) t.fail(`packet ${i} changed`);
  });
  t.pass();
});

test('remainder (the draws of the packet builders) equals x % n for every u32 x and 1 <= n <= 2^31', (t) => {
  const edges = [0, 1, 2, 3, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x1fff, 0x2000, 12345678];
  const ns = [1, 2, 3, 4, 5, 6, 7, 8, 16, 254, 256, 0x1fff, 0x2000, 0x7fffffff, 0x80000000];
  for (const x of edges) for (const n of ns) t.is(remainder(x, n), x % n, `${x} % ${n}`);
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.integer({ min: 1, max: 0x80000000 }), (x, n) => remainder(x, n) === x % n && remainder(x, n & 0xff || 1) === x % (n & 0xff || 1)),
    { numRuns: 20000, seed: 3 },
  );
});

test('wordBytesIntoWords writes the bytes wordBytes makes (big-endian words, less the trimmed bytes) and counts them', (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat(0xffffffff), { maxLength: 24 }), fc.nat(3), fc.nat(4), (words, trim, from) => {
      const ws = [...Array<number>(from).fill(0x5a5a5a5a), ...words];
      const out = new Uint32Array(24);
      const n = wordBytesIntoWords(out, ws, from, words.length, trim);
      const want = wordBytes(words, trim);
      const got = new Uint8Array(out.buffer, 0, n);
      return n === want.length && got.every((b, i) => b === want[i]);
    }),
    { numRuns: 3000, seed: 5 },
  );
  const out = new Uint32Array(2);
  t.is(wordBytesIntoWords(out, [0x01020304, 0xa0b0c0d0], 0, 2, 3), 5);
  t.deepEqual([...new Uint8Array(out.buffer, 0, 5)], [1, 2, 3, 4, 0xa0]);
});

test('inetChecksum equals the RFC 1071 sum of 16-bit big-endian words (an odd last byte padded with zero)', (t) => {
  const rfc1071 = (a: readonly number[], from: number, to: number): number => {
    const words: number[] = [];
    for (let i = from; i < to; i += 2) words.push((a[i]! << 8) | (i + 1 < to ? a[i + 1]! : 0));
    let sum = words.reduce((s, w) => s + w, 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
    return ~sum & 0xffff;
  };
  t.is(inetChecksum([0x45, 0x00, 0x00, 0x1c], 0, 4), ~(0x4500 + 0x001c) & 0xffff);
  t.is(inetChecksum([0xff, 0xff, 0x01], 0, 3), ~(((0xffff + 0x0100) & 0xffff) + 1) & 0xffff);
  fc.assert(
    fc.property(fc.array(fc.nat(255), { maxLength: 200 }), fc.nat(200), fc.nat(200), (a, x, y) => {
      const from = Math.min(x, y, a.length);
      const to = Math.min(Math.max(x, y), a.length);
      return inetChecksum(a, from, to) === rfc1071(a, from, to) && inetChecksum(Uint8Array.from(a), from, to) === rfc1071(a, from, to);
    }),
    { numRuns: 5000, seed: 6 },
  );
});

test('interestingLengths (bit set, three bits at a time, across words) equals its definition; lengthsScratch equals lengthsFor', (t) => {
  const size = (c: number): number => ((c & 0x18) === 0x10 ? 1 : (c & 0x18) === 0x08 ? 2 : 4);
  const reference = (prog: readonly { code: number; k: number }[]): number[] => {
    const out = new Set<number>();
    const three = (o: number, n: number) => {
      for (const l of [o + n - 1, o + n, o + n + 1]) if (l >= 0 && l <= 70000) out.add(l);
    };
    for (const { code, k } of prog) {
      const sk = k | 0;
      if (code === 0x20 || code === 0x28 || code === 0x30 || code === 0xb1) {
        if (code !== 0xb1 && isAncillaryK(sk)) continue;
        const n = code === 0xb1 ? 1 : size(code);
        if (sk >= 0) three(sk, n);
        else if (sk >= SKF_NET_OFF) (three(sk - SKF_NET_OFF, n), three(sk - SKF_NET_OFF + 14, n));
        else if (sk >= SKF_LL_OFF) three(sk - SKF_LL_OFF, n);
      } else if ((code === 0x40 || code === 0x48 || code === 0x50) && sk >= 0) for (const x of [0, 14, 20, 24, 34, 40]) three(sk + x, size(code));
    }
    return [...out].sort((a, b) => a - b);
  };
  const codes = [0x20, 0x28, 0x30, 0xb1, 0x40, 0x48, 0x50, 0x06, 0x15, 0x120, 0x61];
  // k near the bit set's word edges (30, 31, 32, 62, 63...) and its end (253..256), large, negative, ancillary
  const ks = fc.oneof(fc.nat(300), fc.nat(70010), fc.integer({ min: SKF_NET_OFF - 2, max: SKF_NET_OFF + 300 }), fc.integer({ min: SKF_LL_OFF, max: SKF_LL_OFF + 300 }), fc.integer({ min: -0x1000, max: -0xf00 }), fc.nat(0xffffffff));
  const insn = fc.record({ code: fc.constantFrom(...codes), jt: fc.constant(0), jf: fc.constant(0), k: ks.map((k) => k >>> 0) });
  fc.assert(
    fc.property(fc.array(insn, { maxLength: 40 }), (prog) => {
      const want = reference(prog);
      const n = lengthsScratch(prog);
      const got = Array.from(SCRATCH_LENGTHS.lengths.subarray(0, n));
      return JSON.stringify(interestingLengths(prog)) === JSON.stringify(want) && JSON.stringify(got) === JSON.stringify([...want, ...PACKET_LENGTHS]) && JSON.stringify(lengthsFor(prog)) === JSON.stringify(got);
    }),
    { numRuns: 4000, seed: 8 },
  );
  for (let k = 0; k <= 260; k++) t.deepEqual(interestingLengths([{ code: 0x30, jt: 0, jf: 0, k }]), [k, k + 1, k + 2], `LD B ABS ${k}`);
});

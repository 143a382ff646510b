// Tests of the packet, skb and case generators (fuzz/arb/packet.ts, skb.ts, index.ts). Header
// fields are checked by a small parser written here from the RFCs / uapi headers, not by the
// builders under test.
import test from 'ava';
import fc from 'fast-check';
import { bpfCheckBasicsOk, bpfCheckClassic } from '../../model/cbpf/check.js';
import { assertSkb } from '../../model/skb.js';
import { SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';
import {
  PACKET_KINDS,
  fuzzCase,
  inetChecksum,
  interestingLengths,
  netlinkMessage,
  packet,
  packetFor,
  packetDraw,
  packetFromDraw,
  skbCase,
  skbCaseOf,
  skbCaseOfParts,
  skbDraw,
  skbFields,
} from '../../fuzz/arb/index.js';

const be16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const le16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const le32 = (b: Uint8Array, o: number): number => (le16(b, o) | (le16(b, o + 2) << 16)) >>> 0;

const packets = fc.sample(packet(), { numRuns: 6000, seed: 31 });
const whole = packets.filter((p) => !p.layers.includes('trunc') && !p.layers.includes('pad'));

test('every kind is drawn, frags and resizing happen, headlen stays within the data', (t) => {
  t.deepEqual([...new Set(packets.map((p) => p.kind))].sort(), [...PACKET_KINDS].sort());
  for (const p of packets) t.true(p.headlen >= 0 && p.headlen <= p.bytes.length);
  t.true(packets.some((p) => p.headlen < p.bytes.length));
  t.true(packets.some((p) => p.layers.includes('trunc')) && packets.some((p) => p.layers.includes('pad')));
  for (const l of ['vlan', 'qinq', 'ipopts', 'bad-ihl', 'frag-first', 'frag-later', 'tcp', 'udp', 'icmp', 'icmpv6', 'arp', 'ip6-hbh', 'ip6-routing', 'ip6-dstopts', 'nlattr-nested', 'nla-short', 'nla-long'])
    t.true(packets.some((p) => p.layers.includes(l)), l);
  t.true(packets.some((p) => p.layers.includes('ip6-frag-first') || p.layers.includes('ip6-frag-later')));
});

/** Where L3 starts after the Ethernet header and any 802.1Q/802.1ad tags; the EtherType there. */
function ethL3(b: Uint8Array): [number, number] {
  let o = 12;
  while (be16(b, o) === 0x8100 || be16(b, o) === 0x88a8) o += 4;
  return [o + 2, be16(b, o)];
}

test('Ethernet stacks parse as the layers they claim (RFC 791 / 8200 / 826 fields)', (t) => {
  let checked = 0;
  for (const p of whole) {
    if (!p.kind.startsWith('eth-')) continue;
    const b = p.bytes;
    const [l3, type] = ethL3(b);
    if (p.layers.includes('vlan')) t.true(be16(b, 12) === 0x8100 || be16(b, 12) === 0x88a8);
    if (p.layers.includes('ipv4')) {
      t.is(type, 0x0800);
      t.is(b[l3]! >> 4, 4);
      const ihl = b[l3]! & 15;
      if (!p.layers.includes('bad-totlen')) t.is(be16(b, l3 + 2), b.length - l3); // total length
      if (!p.layers.includes('bad-ihl')) {
        t.is(inetChecksum([...b], l3, l3 + ihl * 4), 0); // header checksum verifies
        if (p.layers.includes('tcp')) t.is(b[l3 + 9], 6);
        if (p.layers.includes('udp')) {
          t.is(b[l3 + 9], 17);
          t.is(be16(b, l3 + ihl * 4 + 4), b.length - l3 - ihl * 4); // UDP length
        }
        if (p.layers.includes('icmp')) t.is(inetChecksum([...b], l3 + ihl * 4, b.length), 0);
      }
      const frag = be16(b, l3 + 6);
      if (p.layers.includes('frag-first')) t.is(frag, 0x2000);
      if (p.layers.includes('frag-later')) t.true((frag & 0x1fff) !== 0);
      checked++;
    } else if (p.layers.includes('ipv6')) {
      t.is(type, 0x86dd);
      t.is(b[l3]! >> 4, 6);
      t.is(be16(b, l3 + 4), b.length - l3 - 40); // payload length
      if (p.layers.includes('ip6-hbh')) t.is(b[l3 + 6], 0); // hop-by-hop comes first
      checked++;
    } else if (p.layers.includes('arp')) {
      t.is(type, 0x0806);
      t.deepEqual([be16(b, l3), be16(b, l3 + 2), b[l3 + 4], b[l3 + 5]], [1, 0x0800, 6, 4]);
      t.is(b.length, l3 + 28);
      checked++;
    }
  }
  t.true(checked > 500, `checked ${checked}`);
});

test('netlink messages: nlmsg_len and the attribute chain follow nla_ok (include/net/netlink.h)', (t) => {
  let walked = 0;
  for (const p of whole) {
    if (p.kind !== 'netlink') continue;
    const b = p.bytes;
    t.is(le32(b, 0), b.length);
    if (p.layers.includes('nla-short') || p.layers.includes('nla-long')) continue;
    // walk from the end of the family header: every attribute is nla_ok and NLA_ALIGNed
    const ok = [0, 4, 16].some((f) => {
      let pos = 16 + f;
      while (pos + 4 <= b.length) {
        const len = le16(b, pos);
        if (len < 4 || len > b.length - pos) return false;
        pos += (len + 3) & ~3;
      }
      return pos === b.length;
    });
    t.true(ok);
    walked++;
  }
  t.true(walked > 50);
});

test('netlinkMessage builds nested attributes with host little-endian headers', (t) => {
  // attr 1: type 3, open nested (bits 9-10 = 1); attr 2: type 5, 4 payload bytes; then close
  const { bytes, layers } = netlinkMessage([3 | (1 << 9), 5 | (4 << 4), 2 << 9], Uint8Array.of(9, 9, 9, 9), 0, 16);
  const b = Uint8Array.from(bytes);
  t.is(le32(b, 0), 28); // 16 + 4 (nest) + 8 (child)
  t.is(le16(b, 4), 16); // nlmsg_type
  t.deepEqual([le16(b, 16), le16(b, 18)], [12, 3 | 0x8000]); // NLA_F_NESTED
  t.deepEqual([le16(b, 20), le16(b, 22)], [8, 5]);
  t.true(layers.includes('nlattr-nested'));
});

test('interestingLengths: k+size-1, k+size, k+size+1 for each packet load', (t) => {
  const I = (code: number, k: number) => ({ code, jt: 0, jf: 0, k: k >>> 0 });
  t.deepEqual(interestingLengths([I(0x28, 12), I(0x06, 0)]), [13, 14, 15]);
  t.deepEqual(interestingLengths([I(0x30, SKF_NET_OFF + 9), I(0x06, 0)]), [9, 10, 11, 23, 24, 25]);
  t.deepEqual(interestingLengths([I(0x20, SKF_LL_OFF), I(0x06, 0)]), [3, 4, 5]);
  t.deepEqual(interestingLengths([I(0xb1, 14), I(0x20, 0xfffff000), I(0x06, 0)]), [14, 15, 16]); // MSH size 1; ancillary ignored
  t.deepEqual(interestingLengths([I(0x50, 0)]), [0, 1, 2, 14, 15, 16, 20, 21, 22, 24, 25, 26, 34, 35, 36, 40, 41, 42]);
  const prog = [I(0x28, 200), I(0x06, 0)];
  const lens = fc.sample(packetFor(prog), { numRuns: 400, seed: 3 }).map((p) => p.bytes.length);
  t.true(lens.includes(201) && lens.includes(202) && lens.includes(203));
});

test('skbCase: every skb passes assertSkb and the odd corners are drawn', (t) => {
  const cases = fc.sample(skbCase(), { numRuns: 6000, seed: 17 });
  for (const c of cases) assertSkb(c.skb);
  const skbs = cases.map((c) => c.skb);
  t.true(skbs.some((s) => s.dev === null) && skbs.some((s) => s.dev !== null && s.dev.ifindex < 0));
  t.true(skbs.some((s) => s.dev !== null && s.dev.ifindex === 0) && skbs.some((s) => s.dev?.type === 0xffff));
  t.deepEqual([...new Set(skbs.map((s) => s.pktType))].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  t.true(skbs.some((s) => s.vlanPresent && (s.vlanTci & 0x1000) !== 0)); // R5
  t.true(skbs.some((s) => s.vlanPresent && s.vlanTci === 0 && s.vlanProto === 0)); // odd R6
  t.true(skbs.some((s) => !s.vlanPresent && s.vlanTci !== 0)); // odd R6
  t.true(skbs.some((s) => s.macHeader === null) && skbs.some((s) => s.macHeader !== null && s.macHeader < 0)); // R8, headroom
  t.true(skbs.some((s) => s.networkHeader < 0) && skbs.some((s) => s.headroom.length > 0));
  t.true(skbs.some((s) => s.headlen < s.data.length)); // R7 needs frags
  t.true(skbs.some((s) => s.mark === 0xffffffff) && skbs.some((s) => s.queueMapping === 0xffff) && skbs.some((s) => s.hash !== 0));
  t.true(cases.some((c) => c.env.cpu !== 0));
  for (const f of fc.sample(skbFields(), { numRuns: 200, seed: 2 })) t.true(f.mark !== undefined && f.vlanPresent !== undefined);
});

test('skbCaseOf builds the skb the preset, skbFieldsOf and headersOf compose (skbCaseOfParts)', (t) => {
  for (const [pd, sd] of fc.sample(fc.tuple(packetDraw(), skbDraw()), { numRuns: 3000, seed: 23 })) {
    const p = packetFromDraw(pd);
    const a = skbCaseOf(p, sd);
    const b = skbCaseOfParts(p, sd);
    t.deepEqual(a.skb, b.skb);
    t.deepEqual(a.env, b.env);
  }
});

test('fuzzCase: valid program, packetsPerProgram inputs, deterministic for a seed', (t) => {
  const cases = fc.sample(fuzzCase({ packetsPerProgram: 3 }), { numRuns: 500, seed: 8 });
  for (const c of cases) {
    t.is(c.inputs.length, 3);
    t.is(bpfCheckBasicsOk(c.prog) ?? bpfCheckClassic(c.prog), null);
    for (const i of c.inputs) assertSkb(i.skb);
  }
  t.deepEqual(fc.sample(fuzzCase(), { numRuns: 30, seed: 4 }), fc.sample(fuzzCase(), { numRuns: 30, seed: 4 }));
  t.is(fc.sample(fuzzCase(), { numRuns: 10, seed: 4 })[0]!.inputs.length, 1);
  const ipOnly = fc.sample(fuzzCase({ kinds: ['ipv4'], weights: { long: 0, limits: 0 } }), { numRuns: 50, seed: 4 });
  t.true(ipOnly.every((c) => c.inputs.every((i) => i.packet.kind === 'ipv4')));
  t.throws(() => fuzzCase({ packetsPerProgram: 0 }), { instanceOf: RangeError });
  t.throws(() => fc.sample(packet({ kinds: [] }), 1), { instanceOf: RangeError });
});

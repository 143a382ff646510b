// Tests for model/flow.ts (skb_get_poff). Every expected offset is worked out by hand from
// net/core/flow_dissector.c (CodeLinaro-mirror/qsdk_oss_kernel_linux-ipq-6.6 @ 6f1f33de1761, the lines
// cited in model/flow.ts), or comes from lib/test_bpf.c (LD_PAYLOAD_OFF) via ../shared.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import {
  FLOW_DIS_ENCAPSULATION,
  FLOW_DIS_FIRST_FRAG,
  FLOW_DIS_IS_FRAGMENT,
  FLOW_DISSECTOR_F_PARSE_1ST_FRAG,
  FLOW_DISSECTOR_F_STOP_AT_ENCAP,
  FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL,
  FLOW_DISSECTOR_F_STOP_BEFORE_ENCAP,
  skbFlowDissectFlowKeysBasic,
  skbGetPoff,
} from '../model/flow.js';
import { afUnixSkb, assertSkb, ethernetSkb, type SkBuff } from '../model/skb.js';
import { STRICT_ALIGN_64, X86_64 } from '../model/config.js';
import { readSharedJson, hex } from './_shared.js';
import { requires, sharedMissing } from './_skip.js';

// ---- packet builders (plain bytes; no checksums, the dissector reads none) ----

const cat = (...parts: (Uint8Array | number[])[]): Uint8Array => {
  const out: number[] = [];
  for (const p of parts) out.push(...p);
  return Uint8Array.from(out);
};
const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** 14-byte Ethernet header to 02:00:00:00:00:01 (the preset's own address). */
const eth = (type: number): number[] => [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, ...be16(type)];

/** IPv4 header of ihl*4 bytes (options zero-filled). */
function ipv4(proto: number, opts: { ihl?: number; fragOff?: number } = {}): number[] {
  const ihl = opts.ihl ?? 5;
  const h = zeros(Math.max(ihl, 5) * 4);
  h[0] = 0x40 | ihl;
  h[2] = 0;
  h[3] = 100;
  [h[6], h[7]] = be16(opts.fragOff ?? 0x4000); // DF by default: not a fragment
  h[8] = 64;
  h[9] = proto;
  return h;
}

/** IPv6 header (40 bytes). */
function ipv6(nexthdr: number, flowLabel = 0): number[] {
  const h = zeros(40);
  h[0] = 0x60 | ((flowLabel >> 16) & 0x0f);
  [h[2], h[3]] = be16(flowLabel & 0xffff);
  h[6] = nexthdr;
  h[7] = 64;
  return h;
}

/** IPv6 extension header with hdr ext len `n`: (n + 1) * 8 bytes. */
const ext6 = (nexthdr: number, n: number): number[] => {
  const h = zeros((n + 1) * 8);
  h[0] = nexthdr;
  h[1] = n;
  return h;
};

/** IPv6 fragment header (8 bytes); fragOff is the 16-bit field (offset << 3 | M). */
const frag6 = (nexthdr: number, fragOff: number): number[] => [nexthdr, 0, ...be16(fragOff), 0, 0, 0, 1];

/** TCP header: 20 bytes plus options up to doff*4 (doff below 5 still gives 20 bytes). */
function tcp(doff: number): number[] {
  const h = zeros(Math.max(doff, 5) * 4);
  h[12] = doff << 4;
  return h;
}
const udp = (): number[] => zeros(8);
const vlan = (tci: number, inner: number): number[] => [...be16(tci), ...be16(inner)];
const payload = (n: number): number[] => new Array<number>(n).fill(0xaa);

const IP = 0x0800;
const IP6 = 0x86dd;

const linear = (data: Uint8Array, fields: Parameters<typeof ethernetSkb>[1] = {}): SkBuff => {
  const skb = ethernetSkb(data, fields);
  assertSkb(skb);
  return skb;
};

// ---- IPv4 ----

test('Ethernet/IPv4/TCP with options: 14 + 20 + doff*4 (:1175, :1893)', (t) => {
  // nhoff 14 -> 34 (ihl 5); TCP doff 8 -> max(20, 32) = 32; 34 + 32 = 66
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(6), tcp(8), payload(10)))), 66);
});

test('TCP doff below 5 still adds sizeof(struct tcphdr) = 20 (:1893 max_t)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(6), tcp(2), payload(4)))), 34 + 20);
});

test('TCP whose doff byte lies beyond skb->len: just thoff (:1890)', (t) => {
  // thoff 34; doff at 46 but the packet has 34 + 10 = 44 bytes
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(6), zeros(10)))), 34);
});

test('IPv4 with IP options (ihl 7) then UDP: 14 + 28 + 8', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(17, { ihl: 7 }), udp(), payload(3)))), 50);
});

test('IPv4 ihl < 5 fails: 0 (:1170)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(17, { ihl: 4 }), zeros(4), udp()))), 0);
});

test('IPv4 header truncated (19 bytes): 0 (:1170)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(17).slice(0, 19)))), 0);
});

test('IPv4 ihl pointing past the end: thoff clamps to skb->len, UDP still adds 8 (:1657, :1896)', (t) => {
  // ihl 15: nhoff 14 + 60 = 74, skb->len 34 -> thoff 34, poff 42 (> skb->len, as in the kernel)
  const data = cat(eth(IP), ipv4(17).map((b, i) => (i === 0 ? 0x4f : b)));
  t.is(data.length, 34);
  t.is(skbGetPoff(linear(data)), 42);
});

test('IPv4 other L4 protocols: ICMP 8, IGMP 8, DCCP 16, SCTP 12, UDPLITE 8, unknown 0', (t) => {
  const poff = (proto: number): number => skbGetPoff(linear(cat(eth(IP), ipv4(proto), zeros(40))));
  t.is(poff(1), 42);
  t.is(poff(2), 42);
  t.is(poff(33), 50);
  t.is(poff(132), 46);
  t.is(poff(136), 42);
  t.is(poff(58), 42); // ICMPv6 number under IPv4: __skb_get_poff only looks at ip_proto
  t.is(poff(50), 34); // ESP: no L4 length
});

test('IPv4 first fragment (MF, offset 0): L4 header counted (:1195-1206, :1878)', (t) => {
  const skb = linear(cat(eth(IP), ipv4(6, { fragOff: 0x2000 }), tcp(5), payload(8)));
  const keys = skbFlowDissectFlowKeysBasic(skb);
  t.is(keys.flags, FLOW_DIS_IS_FRAGMENT | FLOW_DIS_FIRST_FRAG);
  t.is(keys.thoff, 34);
  t.is(skbGetPoff(skb), 54);
});

test('IPv4 non-first fragment: stops at the IP header (:1198, :1878)', (t) => {
  // offset 0x00b9 (in 8-byte units), MF clear; the bytes after the header are not TCP
  const skb = linear(cat(eth(IP), ipv4(6, { fragOff: 0x00b9 }), payload(30)));
  t.is(skbFlowDissectFlowKeysBasic(skb).flags, FLOW_DIS_IS_FRAGMENT);
  t.is(skbGetPoff(skb), 34);
});

test('IPv4 first fragment with FLOW_DISSECTOR_F_PARSE_1ST_FRAG continues to ip_proto (:1203)', (t) => {
  const skb = linear(cat(eth(IP), ipv4(47, { fragOff: 0x2000 }), [0, 0, ...be16(IP)], ipv4(17), udp()));
  // without the flag: stops at 34 with GRE as ip_proto
  t.is(skbFlowDissectFlowKeysBasic(skb).thoff, 34);
  // with it: GRE is followed, inner IPv4 at 38, thoff 58
  const keys = skbFlowDissectFlowKeysBasic(skb, FLOW_DISSECTOR_F_PARSE_1ST_FRAG);
  t.is(keys.thoff, 58);
  t.is(keys.flags, FLOW_DIS_IS_FRAGMENT | FLOW_DIS_FIRST_FRAG | FLOW_DIS_ENCAPSULATION);
});

test('IPv4 protocol 0 / 43 / 60 / 44 are IPv6 extension numbers: ignored under IPv4 (:1518)', (t) => {
  for (const p of [0, 43, 60, 44]) t.is(skbGetPoff(linear(cat(eth(IP), ipv4(p), zeros(16)))), 34, `proto ${p}`);
});

test('the IPv4 version nibble is not checked', (t) => {
  const h = ipv4(17);
  h[0] = 0x65; // "version 6", ihl 5
  t.is(skbGetPoff(linear(cat(eth(IP), h, udp()))), 42);
});

// ---- IPv6 ----

test('IPv6 + hop-by-hop + routing + destination options + UDP (:1513-1531)', (t) => {
  // 14 + 40 = 54; HOP (0+1)*8 -> 62; ROUTING (2+1)*8 -> 86; DEST (1+1)*8 -> 102; UDP + 8
  const data = cat(eth(IP6), ipv6(0), ext6(43, 0), ext6(60, 2), ext6(17, 1), udp(), payload(5));
  t.is(skbGetPoff(linear(data)), 110);
});

test('IPv6 + TCP: 54 + doff*4', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP6), ipv6(6), tcp(6)))), 54 + 24);
});

test('IPv6 + ICMPv6: 54 + 8', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP6), ipv6(58), zeros(8)))), 62);
});

test('IPv6 header truncated (39 bytes): 0 (:1218)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP6), ipv6(17).slice(0, 39)))), 0);
});

test('IPv6 extension header with its first 2 bytes missing: 0 (:1523)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP6), ipv6(0), [17]))), 0);
});

test('IPv6 first fragment (offset 0, M set): L4 counted (:1534-1561)', (t) => {
  const skb = linear(cat(eth(IP6), ipv6(44), frag6(17, 0x0001), udp(), payload(4)));
  const keys = skbFlowDissectFlowKeysBasic(skb);
  t.is(keys.flags, FLOW_DIS_IS_FRAGMENT | FLOW_DIS_FIRST_FRAG);
  t.is(keys.ipProto, 17);
  t.is(skbGetPoff(skb), 54 + 8 + 8);
});

test('IPv6 non-first fragment: stops after the fragment header', (t) => {
  const skb = linear(cat(eth(IP6), ipv6(44), frag6(17, 0x0100), payload(16)));
  t.is(skbGetPoff(skb), 62);
});

test('IPv6 fragment header truncated: 0 (:1543)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP6), ipv6(44), [17, 0, 0, 0]))), 0);
});

test('IPv6 first fragment with PARSE_1ST_FRAG goes on to ip_proto (:1555)', (t) => {
  const skb = linear(cat(eth(IP6), ipv6(44), frag6(0, 0x0001), ext6(17, 0), udp()));
  t.is(skbFlowDissectFlowKeysBasic(skb).thoff, 62); // stops at the fragment header's next header
  t.is(skbFlowDissectFlowKeysBasic(skb, FLOW_DISSECTOR_F_PARSE_1ST_FRAG).thoff, 70); // hop-by-hop skipped
});

test('IPv6 STOP_AT_FLOW_LABEL stops only when the label is non-zero (:1240)', (t) => {
  const withLabel = linear(cat(eth(IP6), ipv6(0, 0x12345), ext6(17, 0), udp()));
  t.is(skbFlowDissectFlowKeysBasic(withLabel, FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL).thoff, 54);
  t.is(skbFlowDissectFlowKeysBasic(withLabel).thoff, 62);
  const noLabel = linear(cat(eth(IP6), ipv6(0, 0), ext6(17, 0), udp()));
  t.is(skbFlowDissectFlowKeysBasic(noLabel, FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL).thoff, 62);
});

// ---- VLAN ----

test('in-band 802.1Q tag then IPv4/UDP: 14 + 4 + 20 + 8 (:1263-1283)', (t) => {
  const skb = linear(cat(eth(0x8100), vlan(5, IP), ipv4(17), udp()));
  t.is(skb.protocol, 0x8100);
  t.is(skbGetPoff(skb), 46);
});

test('802.1AD outer + 802.1Q inner (QinQ): 14 + 4 + 4 + 20 + 8', (t) => {
  t.is(skbGetPoff(linear(cat(eth(0x88a8), vlan(1, 0x8100), vlan(2, IP), ipv4(17), udp()))), 50);
});

test('accelerated tag (vlan_all != 0): proto starts at vlan_proto, then skb->protocol (:1045, :1269)', (t) => {
  const data = cat(eth(IP), ipv4(17), udp());
  t.is(skbGetPoff(linear(data, { vlanProto: 0x8100, vlanTci: 5 })), 42);
  // vlan_proto 0 but a TCI: still "present"; proto 0 is unknown -> 0
  t.is(skbGetPoff(linear(data, { vlanProto: 0, vlanTci: 5 })), 0);
  // accelerated outer tag, in-band inner tag: the second VLAN round reads the packet
  const inner = cat(eth(0x8100), vlan(7, IP), ipv4(17), udp());
  t.is(skbGetPoff(linear(inner, { vlanProto: 0x88a8, vlanTci: 1 })), 46);
});

test('VLAN header truncated: 0 (:1275)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(0x8100), [0, 5, 8]))), 0);
});

test('MAX_FLOW_DISSECT_HDRS: 15 stacked tags are followed, the 16th stops the walk (:890, :1488)', (t) => {
  const stack = (n: number): Uint8Array => {
    const tags: number[] = [];
    for (let i = 0; i < n; i++) tags.push(...vlan(i, i === n - 1 ? IP : 0x8100));
    return cat(eth(0x8100), tags, ipv4(17), udp());
  };
  // 15 tags: 14 + 60 = 74 -> IPv4 -> 94 -> UDP 102
  t.is(skbGetPoff(linear(stack(15))), 102);
  // 16 tags: the 16th PROTO_AGAIN is refused, out_good with nhoff 14 + 64 = 78 and ip_proto 0
  t.is(skbGetPoff(linear(stack(16))), 78);
});

// ---- other EtherTypes ----

test('ARP / RARP / CFM: OUT_GOOD at the network header without reading it (:565, :613)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(0x0806), zeros(28)))), 14);
  t.is(skbGetPoff(linear(cat(eth(0x8035), zeros(28)))), 14);
  t.is(skbGetPoff(linear(cat(eth(0x8902), zeros(4)))), 14);
  // even with no ARP header at all
  t.is(skbGetPoff(linear(Uint8Array.from(eth(0x0806)))), 14);
});

test('unknown EtherType or protocol 0: 0 (:1477)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(0x88cc), zeros(40)))), 0);
  t.is(skbGetPoff(afUnixSkb(Uint8Array.from(ipv4(17)))), 0);
});

test('MPLS: label skipped without reading, ip_proto 0 (:1408-1415)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(0x8847), [0, 0, 0x11, 64], ipv4(17), udp()))), 18);
  t.is(skbGetPoff(linear(cat(eth(0x8848), zeros(4)))), 18);
  // no label at all: thoff = min(18, skb->len 14)
  t.is(skbGetPoff(linear(Uint8Array.from(eth(0x8847)))), 14);
});

test('PPPoE session: IPv4, compressed protocol, MPLS, other valid, invalid (:1325-1372)', (t) => {
  const ses = (proto: number[]): number[] => [0x11, 0x00, 0x12, 0x34, 0x00, 0x40, ...proto];
  t.is(skbGetPoff(linear(cat(eth(0x8864), ses(be16(0x0021)), ipv4(17), udp()))), 22 + 20 + 8);
  t.is(skbGetPoff(linear(cat(eth(0x8864), ses(be16(0x0057)), ipv6(17), udp()))), 22 + 40 + 8);
  // compressed: one protocol byte 0x21, the IPv4 header starts at 14 + 7 = 21
  const compressed = cat(eth(0x8864), [0x11, 0x00, 0x12, 0x34, 0x00, 0x40, 0x21], ipv4(17), udp());
  t.is(skbGetPoff(linear(compressed)), 21 + 20 + 8);
  t.is(skbGetPoff(linear(cat(eth(0x8864), ses(be16(0x0281)), zeros(8)))), 26);
  t.is(skbGetPoff(linear(cat(eth(0x8864), ses(be16(0x0283)), zeros(8)))), 26);
  t.is(skbGetPoff(linear(cat(eth(0x8864), ses(be16(0xc021)), zeros(8)))), 22); // LCP: valid, OUT_GOOD
  t.is(skbGetPoff(linear(cat(eth(0x8864), ses(be16(0x0022)), zeros(8)))), 0); // even: invalid
  const badVer = cat(eth(0x8864), [0x21, 0x00, 0, 0, 0, 0x40, 0x00, 0x21], ipv4(17), udp());
  t.is(skbGetPoff(linear(badVer)), 0);
  const badCode = cat(eth(0x8864), [0x11, 0x09, 0, 0, 0, 0x40, 0x00, 0x21], ipv4(17), udp());
  t.is(skbGetPoff(linear(badCode)), 0);
  t.is(skbGetPoff(linear(cat(eth(0x8864), [0x11, 0, 0, 0, 0, 0, 0]))), 0); // 7 bytes: truncated
});

test('TIPC: 16-byte header required, nhoff unchanged (:1386)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(0x88ca), zeros(16)))), 14);
  t.is(skbGetPoff(linear(cat(eth(0x88ca), zeros(15)))), 0);
});

test('FCoE: 38 bytes measured against skb_headlen, not skb->len (:1417)', (t) => {
  const data = cat(eth(0x8906), zeros(38), payload(10));
  t.is(skbGetPoff(linear(data)), 52);
  t.is(skbGetPoff(linear(data, { headlen: 14 })), 0); // same bytes, FCoE header in a frag
  t.is(skbGetPoff(linear(cat(eth(0x8906), zeros(37)))), 0);
});

test('PTP (1588): 34-byte header skipped (:1439)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(0x88f7), zeros(34), payload(2)))), 48);
  t.is(skbGetPoff(linear(cat(eth(0x88f7), zeros(33)))), 0);
});

test('HSR / PRP: 6-byte tag, then encap_proto (:1454)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(0x892f), [0, 0, 0, 1, ...be16(IP)], ipv4(17), udp()))), 48);
  t.is(skbGetPoff(linear(cat(eth(0x88fb), [0, 0, 0, 1, ...be16(0x0806)]))), 20);
  t.is(skbGetPoff(linear(cat(eth(0x892f), [0, 0, 0, 1, 8]))), 0);
});

test('batman-adv unicast: 10 + 14 bytes, then the inner EtherType (:770)', (t) => {
  const batadv = (type: number, version: number): number[] => [type, version, 1, 0, ...zeros(6), ...eth(IP)];
  t.is(skbGetPoff(linear(cat(eth(0x4305), batadv(0x40, 15), ipv4(17), udp()))), 38 + 20 + 8);
  t.is(skbGetPoff(linear(cat(eth(0x4305), batadv(0x40, 14), ipv4(17), udp()))), 0);
  t.is(skbGetPoff(linear(cat(eth(0x4305), batadv(0x41, 15), ipv4(17), udp()))), 0);
  t.is(skbGetPoff(linear(cat(eth(0x4305), zeros(23)))), 0);
  const stop = skbFlowDissectFlowKeysBasic(
    linear(cat(eth(0x4305), batadv(0x40, 15), ipv4(17), udp())),
    FLOW_DISSECTOR_F_STOP_AT_ENCAP,
  );
  t.deepEqual([stop.ok, stop.thoff, stop.flags], [true, 38, FLOW_DIS_ENCAPSULATION]);
});

// ---- tunnels over IP ----

const gre = (flags: number, proto: number, extra: number[] = []): number[] => [...be16(flags), ...be16(proto), ...extra];

test('GRE v0 with key, inner IPv4/TCP (:629): 34 + 8 -> 42, + 20 -> 62, + 20', (t) => {
  const data = cat(eth(IP), ipv4(47), gre(0x2000, IP, [0, 0, 0, 9]), ipv4(6), tcp(5));
  t.is(skbGetPoff(linear(data)), 82);
});

test('GRE v0 with checksum and sequence: 4 + 4 + 4 header bytes', (t) => {
  const data = cat(eth(IP), ipv4(47), gre(0x9000, IP, zeros(8)), ipv4(17), udp());
  t.is(skbGetPoff(linear(data)), 34 + 12 + 20 + 8);
});

test('GRE with routing, or version > 1: OUT_GOOD at the GRE header (:647, :651)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), gre(0x4000, IP), ipv4(17), udp()))), 34);
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), gre(0x0002, IP), ipv4(17), udp()))), 34);
});

test('GRE carrying an unknown protocol: the inner proto fails, 0', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), gre(0, 0x1234), zeros(20)))), 0);
});

test('GRE truncated: base header or key missing: 0', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), [0, 0, 8]))), 0);
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), gre(0x2000, IP, [0, 0])))), 0);
});

test('GRE TEB: inner Ethernet header, then its EtherType (:694-712)', (t) => {
  const data = cat(eth(IP), ipv4(47), gre(0, 0x6558), eth(IP), ipv4(17), udp());
  t.is(skbGetPoff(linear(data)), 34 + 4 + 14 + 20 + 8);
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), gre(0, 0x6558), zeros(13)))), 0);
});

test('GRE TEB + FCoE: NET_IP_ALIGN caps hlen at the inner Ethernet header (:711, :1417)', (t) => {
  // nhoff after GRE+Ethernet = 52; the packet is 52 + 38 = 90 bytes
  const skb = linear(cat(eth(IP), ipv4(47), gre(0, 0x6558), eth(0x8906), zeros(38)));
  t.is(skb.data.length, 90);
  t.is(skbGetPoff(skb, X86_64), 90); // hlen 90: 90 - 52 >= 38, nhoff 90, ip_proto GRE adds nothing
  t.is(skbGetPoff(skb, STRICT_ALIGN_64), 0); // hlen 52: 52 - 52 < 38
  t.is(skbGetPoff(skb), 90); // default config is x86-64
});

test('GRE v1 (PPTP): key, seq, ack, PPP header (:714-739)', (t) => {
  const ppp = (proto: number): number[] => [0xff, 0x03, ...be16(proto)];
  const pptp = (proto: number): Uint8Array =>
    cat(eth(IP), ipv4(47), gre(0x3081, 0x880b, zeros(12)), ppp(proto), proto === 0x57 ? ipv6(17) : ipv4(17), udp());
  t.is(skbGetPoff(linear(pptp(0x21))), 34 + 20 + 20 + 8);
  t.is(skbGetPoff(linear(pptp(0x57))), 34 + 20 + 40 + 8);
  t.is(skbGetPoff(linear(pptp(0xc021))), 0); // proto stays GRE_PROTO_PPP: unknown EtherType
  // without the key bit, version 1 is not PPTP: OUT_GOOD at 34
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), gre(0x0001, 0x880b), zeros(20)))), 34);
  // version 1 with key but another protocol: OUT_GOOD
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), gre(0x2001, IP), zeros(20)))), 34);
  // PPP header missing
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(47), gre(0x2001, 0x880b, zeros(4)), [0xff]))), 0);
});

test('GRE with STOP_BEFORE_ENCAP / STOP_AT_ENCAP flags (:1503, :744)', (t) => {
  const skb = linear(cat(eth(IP), ipv4(47), gre(0, IP), ipv4(17), udp()));
  t.is(skbFlowDissectFlowKeysBasic(skb, FLOW_DISSECTOR_F_STOP_BEFORE_ENCAP).thoff, 34);
  const atEncap = skbFlowDissectFlowKeysBasic(skb, FLOW_DISSECTOR_F_STOP_AT_ENCAP);
  t.deepEqual([atEncap.thoff, atEncap.flags, atEncap.nProto], [38, FLOW_DIS_ENCAPSULATION, IP]);
});

test('IPIP, IPv6-in-IPv4 and MPLS-in-IP (:1564, :1581, :1599)', (t) => {
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(4), ipv4(17), udp()))), 62);
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(41), ipv6(17), udp()))), 82);
  t.is(skbGetPoff(linear(cat(eth(IP6), ipv6(4), ipv4(6), tcp(5)))), 54 + 20 + 20);
  // MPLS in IP: nhoff 34 + 4, ip_proto stays 137 (no L4 length)
  t.is(skbGetPoff(linear(cat(eth(IP), ipv4(137), zeros(8)))), 38);
  const ipip = linear(cat(eth(IP), ipv4(4), ipv4(17), udp()));
  t.is(skbFlowDissectFlowKeysBasic(ipip, FLOW_DISSECTOR_F_STOP_BEFORE_ENCAP).thoff, 34);
  const at = skbFlowDissectFlowKeysBasic(ipip, FLOW_DISSECTOR_F_STOP_AT_ENCAP);
  t.deepEqual([at.ok, at.thoff, at.flags], [true, 34, FLOW_DIS_ENCAPSULATION]);
});

// ---- skb shapes ----

test('nonlinear skb with the headers in frags: same offset (skb_copy_bits path)', (t) => {
  const data = cat(eth(IP), ipv4(6), tcp(8), payload(10));
  t.is(skbGetPoff(linear(data, { headlen: 14 })), 66);
  t.is(skbGetPoff(linear(data, { headlen: 0 })), 66);
  t.is(skbGetPoff(linear(data, { headlen: 40 })), 66);
});

test('network header inside the headroom (negative skb_network_offset)', (t) => {
  // AF_UNIX-shaped skb whose IPv4 header sits in the 20 bytes before skb->data: nhoff -20 -> 0
  const skb = afUnixSkb(Uint8Array.from(udp()), {
    headroom: Uint8Array.from(ipv4(17)),
    networkHeader: -20,
    protocol: IP,
  });
  assertSkb(skb);
  t.is(skbGetPoff(skb), 8);
});

test('thoff is min_t(u16, nhoff, skb->len): both truncated to 16 bits (:1657)', (t) => {
  // ARP at nhoff 14 in a 65546-byte skb: (u16)65546 = 10, so thoff = 10
  const data = new Uint8Array(65546);
  data.set(eth(0x0806));
  t.is(skbGetPoff(linear(data)), 10);
});

// ---- outside vector: lib/test_bpf.c LD_PAYLOAD_OFF ----

interface TestBpfCase {
  readonly name: string;
  readonly data_hex: string;
  readonly results: readonly { readonly len: number; readonly ret: number }[];
}

requires(sharedMissing, 'lib/test_bpf.c LD_PAYLOAD_OFF vectors', (t) => {
  const suite = readSharedJson<{ tests: readonly TestBpfCase[] }>('conformance/test_bpf_classic.json');
  const tc = suite.tests.find((x) => x.name === 'LD_PAYLOAD_OFF');
  if (!tc) {
    t.fail('LD_PAYLOAD_OFF not found');
    return;
  }
  const bytes = hex(tc.data_hex);
  t.true(tc.results.length >= 2);
  for (const { len, ret } of tc.results) {
    const data = new Uint8Array(len);
    data.set(bytes.subarray(0, len));
    // populate_skb: mac header 0, network header min(len, ETH_HLEN), protocol and vlan_proto
    // htons(ETH_P_IP), vlan_tci 0xffff (so vlan_all != 0 and the dissector starts from vlan_proto)
    const skb = afUnixSkb(data, {
      macHeader: 0,
      networkHeader: Math.min(len, 14),
      protocol: IP,
      vlanProto: IP,
      vlanTci: 0xffff,
      vlanPresent: true,
    });
    t.is(skbGetPoff(skb), ret, `len ${len}`);
  }
});

// ---- properties ----

const protoArb = fc.oneof(
  fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x88a8, 0x8864, 0x88ca, 0x8847, 0x8848, 0x0806, 0x8035),
  fc.constantFrom(0x4305, 0x88f7, 0x88fb, 0x892f, 0x8902, 0x8906, 0x6558, 0x880b),
  fc.integer({ min: 0, max: 0xffff }),
);

const skbArb = fc
  .record({
    data: fc.uint8Array({ maxLength: 200 }),
    headroom: fc.uint8Array({ maxLength: 16 }),
    protocol: protoArb,
    vlanProto: fc.oneof(fc.constant(0), protoArb),
    vlanTci: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
    headlenFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    nh: fc.integer({ min: -16, max: 60 }),
  })
  .map(({ data, headroom, protocol, vlanProto, vlanTci, headlenFrac, nh }) =>
    afUnixSkb(data, {
      headroom,
      headlen: Math.floor(headlenFrac * data.length),
      networkHeader: Math.max(nh, -headroom.length),
      protocol,
      vlanProto,
      vlanTci,
    }),
  );

testProp('skbGetPoff never throws and returns a u32 on arbitrary skbs', [skbArb], (t, skb) => {
  assertSkb(skb);
  const poff = skbGetPoff(skb);
  t.true(Number.isInteger(poff) && poff >= 0 && poff <= 0xffffffff);
  // thoff never exceeds skb->len (for skb->len < 65536) and an L4 header adds at most 60
  t.true(poff <= skb.data.length + 60);
});

const mentionsFcoe = (skb: SkBuff): boolean => {
  if (skb.protocol === 0x8906 || skb.vlanProto === 0x8906) return true;
  const all = [...skb.headroom, ...skb.data];
  for (let i = 0; i + 1 < all.length; i++) if (all[i] === 0x89 && all[i + 1] === 0x06) return true;
  return false;
};

testProp(
  'only FCoE looks at skb_headlen: otherwise linear and paged layouts give the same offset',
  [skbArb],
  (t, skb) => {
    fc.pre(!mentionsFcoe(skb));
    t.is(skbGetPoff(skb), skbGetPoff({ ...skb, headlen: skb.data.length }));
  },
);

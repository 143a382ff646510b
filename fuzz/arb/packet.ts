// Packets: realistic protocol stacks (Ethernet, 802.1Q, ARP, IPv4 with options and fragments,
// IPv6 with extension headers, TCP with options, UDP, ICMP, ICMPv6), netlink messages with nested
// attributes (host little-endian headers, for SKF_AD_NLATTR / NLATTR_NEST), and raw bytes.
// Lengths are cut or padded to values near the offsets a program loads (packetFor), and the bytes
// are split between the linear part and frags (headlen < len) some of the time.
//
// A packet is drawn as a few integers plus a payload byte array and built by pure functions, so
// shrinking goes toward short payloads, zero fields and the first kind (raw bytes).
import fc from 'fast-check';
import type { Program } from '../../model/cbpf/insn.js';
import type { PresetName } from '../../model/skb.js';
import { SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';
import { isAncillaryK, PACKET_LENGTHS } from './constants.js';
import { slabBytes, slabClose, slabOpen, slabRoom, slabStore } from './slab.js';

export type PacketKind = 'raw' | 'eth-ipv4' | 'eth-ipv6' | 'eth-arp' | 'eth-vlan' | 'ipv4' | 'ipv6' | 'netlink';
export const PACKET_KINDS: readonly PacketKind[] = ['raw', 'eth-ipv4', 'eth-ipv6', 'eth-arp', 'eth-vlan', 'ipv4', 'ipv6', 'netlink'];

export interface Packet {
  /** The skb->len bytes from skb->data on. */
  readonly bytes: Uint8Array;
  /** skb_headlen(): bytes.length when linear, less when the tail sits in frags. */
  readonly headlen: number;
  /** The skb preset this packet belongs on: Ethernet frames on 'ethernet', the rest on 'af_unix'. */
  readonly preset: PresetName;
  readonly kind: PacketKind;
  /** Protocol layers in order, e.g. ['eth', 'vlan', 'ipv4', 'tcp']; 'trunc'/'pad' when resized. */
  readonly layers: readonly string[];
  /** Where the network header starts in `bytes` (before any truncation). */
  readonly networkOffset: number;
  /** Length the stack was built with before truncation/padding. */
  readonly builtLength: number;
}

// --- byte writers ---------------------------------------------------------------------------

/** Room a writer keeps past its payload for the headers around it (bytes) */
const HEADER_ROOM = 1024;
/**
 * From this many bytes on, Bytes.u8s copies a whole array with set() rather than a loop (node 20,
 * per copy: 16 bytes 19 ns either way, 32 bytes 52 vs 27 ns, 96 bytes 116 vs 18 ns)
 */
const U8S_SET = 24;

class Bytes {
  /** the bytes written so far are a[base .. base + length) */
  a: Uint8Array;
  /** the writer's own array (grown as needed): `a` unless inSlab */
  private own: Uint8Array;
  /** where they start in `a`: 0, or their offset in a slab when written in place (inSlab) */
  private base = 0;
  /** where the next byte goes in `a` */
  private n = 0;
  /** writing straight into the current slab (from slabOpen), not into a scratch array of its own */
  private inSlab = false;
  /**
   * The headers a builder writes never reach HEADER_ROOM bytes (netlink's, the longest: 16 + 16 +
   * 11 attributes of at most 38 bytes), so the writers of fields do not check for room; the
   * payload's copy (u8s) and bytes() do, and out() refuses a writer that ran past its array.
   */
  constructor(capacity = HEADER_ROOM) {
    this.a = this.own = new Uint8Array(Math.max(capacity, HEADER_ROOM));
  }
  /** Start over in this writer's own array (the array is kept). */
  reset(): this {
    this.leaveSlab();
    this.n = 0;
    return this;
  }
  /**
   * Start over straight in the current slab (slab.ts slabOpen): out() and outSized() then carve the
   * bytes where they were written instead of copying them. The same bytes as reset(), one copy less.
   */
  resetInSlab(): this {
    this.leaveSlab();
    const at = slabOpen(2 * HEADER_ROOM);
    this.a = slabStore();
    this.base = at;
    this.n = at;
    this.inSlab = true;
    return this;
  }
  /** Back to an array of its own, zeroing what was written in the slab and not carved (it must stay zero-filled). */
  private leaveSlab(): void {
    if (!this.inSlab) return;
    this.a.fill(0, this.base, this.n);
    this.a = this.own;
    this.base = 0;
    this.n = 0;
    this.inSlab = false;
  }
  /** Room for k more bytes past the headers' (before a loop of unbounded count). */
  reserve(k: number): this {
    this.room(k + HEADER_ROOM);
    return this;
  }
  private room(k: number): void {
    if (this.n + k <= this.a.length) return;
    // grown into an array of its own (the slab's store has no more room: its bytes written moved out)
    const len = this.n - this.base;
    const b = new Uint8Array(Math.max(2 * HEADER_ROOM, 2 * len, len + k + HEADER_ROOM));
    b.set(this.a.subarray(this.base, this.n));
    if (this.inSlab) this.a.fill(0, this.base, this.n);
    this.a = this.own = b;
    this.base = 0;
    this.n = len;
    this.inSlab = false;
  }
  u8(v: number): this {
    this.a[this.n++] = v;
    return this;
  }
  be16(v: number): this {
    const a = this.a;
    const n = this.n;
    a[n] = v >>> 8;
    a[n + 1] = v;
    this.n = n + 2;
    return this;
  }
  be32(v: number): this {
    const a = this.a;
    const n = this.n;
    a[n] = v >>> 24;
    a[n + 1] = v >>> 16;
    a[n + 2] = v >>> 8;
    a[n + 3] = v;
    this.n = n + 4;
    return this;
  }
  le16(v: number): this {
    const a = this.a;
    const n = this.n;
    a[n] = v;
    a[n + 1] = v >>> 8;
    this.n = n + 2;
    return this;
  }
  le32(v: number): this {
    const a = this.a;
    const n = this.n;
    a[n] = v;
    a[n + 1] = v >>> 8;
    a[n + 2] = v >>> 16;
    a[n + 3] = v >>> 24;
    this.n = n + 4;
    return this;
  }
  bytes(b: ArrayLike<number>, count = b.length): this {
    this.room(count + HEADER_ROOM);
    const a = this.a;
    let n = this.n;
    for (let i = 0; i < count; i++) a[n++] = b[i]!;
    this.n = n;
    return this;
  }
  /**
   * count bytes of the Uint8Array b: all of b copied at once from U8S_SET bytes on (no view made), else
   * a loop when short (cheaper than a view and a copy), a copy of a view of b's first count bytes when long
   */
  u8s(b: Uint8Array, count: number): this {
    this.room(count + HEADER_ROOM);
    const a = this.a;
    const n = this.n;
    if (count === b.length && count >= U8S_SET) a.set(b, n);
    else if (count <= 128) for (let i = 0; i < count; i++) a[n + i] = b[i]!;
    else a.set(b.subarray(0, count), n); // count < b.length here (all of b went by the first branch)
    this.n = n + count;
    return this;
  }
  /** count bytes pay[(start + i) % plen] (plen > 0), its index stepped rather than divided per byte: a loop of u8 in one call */
  cycle(pay: Uint8Array, plen: number, start: number, count: number): this {
    const a = this.a;
    let n = this.n;
    for (let i = 0, j = start % plen; i < count; i++, j = j + 1 === plen ? 0 : j + 1) a[n++] = pay[j]!;
    this.n = n;
    return this;
  }
  /** count bytes: 0 each (fill 0) or 0, 1, 2, ... (fill -1) */
  run(count: number, fill: number): this {
    const a = this.a;
    const n = this.n;
    for (let i = 0; i < count; i++) a[n + i] = fill < 0 ? i : fill;
    this.n = n + count;
    return this;
  }
  /** zero bytes up to a length that is a multiple of 4 (while (length % 4 !== 0) u8(0)) */
  align4(): this {
    // the count of zeros computed once, not a remainder and a field store per byte (that loop was
    // a quarter of netlinkSized's own time)
    const a = this.a;
    const n = this.n;
    const pad = (this.base - n) & 3;
    for (let i = 0; i < pad; i++) a[n + i] = 0;
    this.n = n + pad;
    return this;
  }
  /** the 6-byte MAC address MACS[i % MACS.length] (from the flat table, no generic copy) */
  mac(i: number): this {
    const m = 6 * (i % MAC_COUNT);
    const a = this.a;
    const n = this.n;
    for (let j = 0; j < 6; j++) a[n + j] = MAC_BYTES[m + j]!;
    this.n = n + 6;
    return this;
  }
  get length(): number {
    return this.n - this.base;
  }
  setBe16(at: number, v: number): void {
    this.a[this.base + at] = (v >>> 8) & 0xff;
    this.a[this.base + at + 1] = v & 0xff;
  }
  setLe16(at: number, v: number): void {
    this.a[this.base + at] = v & 0xff;
    this.a[this.base + at + 1] = (v >>> 8) & 0xff;
  }
  /** RFC 1071 Internet checksum of the bytes [from, to) (from the first written): inetChecksum of them. */
  checksum(from: number, to: number): number {
    return inetChecksum(this.a, this.base + from, this.base + to);
  }
  /** A copy of the bytes written (in place in the slab: those bytes carved). */
  out(): Uint8Array {
    return this.outSized(-1, 0);
  }
  /** resize(this.out(), len, fill) in one copy, or none in the slab (len < 0: out()). */
  outSized(len: number, fill: number): Uint8Array {
    if (this.n > this.a.length) throw new RangeError(`packet: a header writer ran past its ${this.a.length} bytes`);
    const written = this.n - this.base;
    if (len < 0) len = written;
    if (this.inSlab) {
      const base = this.base;
      this.inSlab = false;
      this.a = this.own;
      this.base = this.n = 0;
      if (len <= slabRoom(base)) {
        // carved where it was written: the bytes past len passed over, the padding written in place
        const out = slabClose(base, len, written);
        if (len > written) padFrom(out, written, fill);
        return out;
      }
      // too long for the slab: the bytes written passed over, then copied out as below
      const store = slabStore();
      slabClose(base, 0, written);
      return copyOut(store, base, written, len, fill);
    }
    return copyOut(this.a, 0, written, len, fill);
  }
}

/** a[from .. from + written) resized to len (truncated, or padded with the filler) in a fresh array. */
function copyOut(a: Uint8Array, from: number, written: number, len: number, fill: number): Uint8Array {
  const out = slabBytes(len);
  const n = Math.min(len, written);
  if (n <= 128) for (let i = 0; i < n; i++) out[i] = a[from + i]!;
  else out.set(a.subarray(from, from + n));
  if (len > written) padFrom(out, written, fill);
  return out;
}

/**
 * out[i] = (fill + i) & 0xff for i from `from` to the end: the repeating filler of a padded packet.
 * Its period is 256 bytes, so past the first 256 the bytes are copies (packets padded to a length
 * near a load at k = 0xffff are 64 KiB).
 */
function padFrom(out: Uint8Array, from: number, fill: number): void {
  const len = out.length;
  const first = Math.min(len, from + 256);
  for (let i = from; i < first; i++) out[i] = (fill + i) & 0xff;
  for (let have = first - from; from + have < len; ) {
    const n = Math.min(have, len - from - have);
    out.copyWithin(from + have, from, from + n);
    have += n;
  }
}

// The small pools the builders pick from (made once, not per packet).
const TCP_FLAGS: readonly number[] = [0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x29, 0xff];
const ICMP6_TYPES: readonly number[] = [128, 129, 133, 134, 135, 136, 1];
const ICMP4_TYPES: readonly number[] = [8, 0, 3, 11, 5];
const BAD_IHLS: readonly number[] = [0, 1, 4, 15];
const IP4_TTLS: readonly number[] = [64, 1, 255, 0];
const IP6_NEXT_HEADERS: readonly number[] = [6, 17, 58, 6, 17, 59];
const IP6_HOP_LIMITS: readonly number[] = [64, 255, 1];
const VLAN_TCIS: readonly number[] = [0x0064, 0x1064, 0xe001, 0x0fff, 0x0000, 0xffff];
const NL_FAMILY_LENGTHS: readonly number[] = [0, 4, 16];
const NL_MSG_TYPES: readonly number[] = [16, 0x10, 0x12, 0x1e, 2];

// Scratch writers reused from packet to packet (the builders are not re-entrant).
const PACKET = new Bytes();
const OPTIONS = new Bytes();

/** RFC 1071 Internet checksum of a[from..to). */
export function inetChecksum(a: ArrayLike<number>, from: number, to: number): number {
  let sum = 0;
  // whole 16-bit words, then an odd last byte as the high byte of a word (not a test per word)
  let i = from;
  for (; i + 1 < to; i += 2) sum += (a[i]! << 8) | a[i + 1]!;
  if (i < to) sum += a[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * x % n for a u32 x and 1 <= n <= 2^31, with no float remainder (where the optimiser does not know x
 * to be a u32, `%` calls out to fmod): a power of two's low bits, else x - floor(x / n) * n, exact
 * since the quotient's rounding never reaches the next integer for x < 2^32. The result (below 2^31)
 * is made an int32 by `| 0` (no change of value): as a float it made the `%` of its users (Bytes.mac)
 * call fmod and its array indexing (Draw.pick) convert it (ethHeader's own time: 4.3% -> 1.9% of
 * decoding short cases at 16 packets).
 */
export const remainder = (x: number, n: number): number => ((n & (n - 1)) === 0 ? x & (n - 1) : (x - Math.floor(x / n) * n) | 0);

/** A small deterministic stream over the drawn integers (each call consumes the next one). */
class Draw {
  private i = 0;
  private xs: ArrayLike<number> = [];
  private from = 0;
  private n = 0;
  /** Start over xs[from .. from + n). */
  reset(xs: ArrayLike<number>, from: number, n: number): this {
    this.xs = xs;
    this.from = from;
    this.n = n;
    this.i = 0;
    return this;
  }
  next(): number {
    const n = this.n;
    const i = this.i++;
    if (i < n) return this.xs[this.from + i]! >>> 0;
    if (n === 0) return 0;
    const v = this.xs[this.from + (i % n)]!;
    // past the end: mix in the position so a short draw array still yields different fields
    return (Math.imul(v ^ Math.imul(i, 0x9e3779b9), 0x85ebca6b) ^ (v >>> 13)) >>> 0;
  }
  /** next() % n (1 <= n <= 2^31; remainder: no float remainder call), a small int */
  below(n: number): number {
    return remainder(this.next(), n);
  }
  /** t[next() % t.length] */
  pick<T>(t: readonly T[]): T {
    return t[this.below(t.length)]!;
  }
  /** next() as an int32 (the same 32 bits), for the writers of its bytes: a small int, never boxed as a u32 above 2^31 may be */
  bits(): number {
    return this.next() | 0;
  }
}

const MACS: readonly (readonly number[])[] = [
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // broadcast
  [0x02, 0, 0, 0, 0, 0x01], // the ethernet preset's own address: PACKET_HOST
  [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb], // IPv4 multicast
  [0x33, 0x33, 0x00, 0x00, 0x00, 0x01], // IPv6 multicast
  [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], // some other host
];
/** MACS, flat (Bytes.mac) */
const MAC_COUNT = MACS.length;
const MAC_BYTES = Uint8Array.from(MACS.flat());
const IPV4: readonly number[] = [0x0a000001, 0xc0a80101, 0x7f000001, 0xffffffff, 0xe00000fb, 0];
const PORTS: readonly number[] = [80, 443, 53, 22, 0, 0xffff, 12345];

// --- L4 -------------------------------------------------------------------------------------

function tcp(b: Bytes, d: Draw, pay: Uint8Array, plen: number): void {
  // source and destination ports (be16, be16) as one be32: fewer calls in the builder
  const sport = d.pick(PORTS);
  b.be32((sport << 16) | d.pick(PORTS)).be32(d.bits()).be32(d.bits());
  const opts = OPTIONS.reset();
  const n = d.below(5);
  for (let i = 0; i < n; i++) {
    switch (d.below(5)) {
      case 0:
        opts.u8(2).u8(4).be16(1460); // MSS
        break;
      case 1:
        opts.u8(4).u8(2); // SACK permitted
        break;
      case 2:
        opts.u8(8).u8(10).be32(d.bits()).be32(d.bits()); // timestamps
        break;
      case 3:
        opts.u8(3).u8(3).u8(7); // window scale
        break;
      default:
        opts.u8(1); // NOP
    }
  }
  opts.align4(); // EOL padding
  const doff = d.below(8) === 0 ? d.below(16) : 5 + opts.length / 4; // sometimes a lying doff
  // u8(doff << 4), u8(flags), be16(window), then be16(0) be16(0) (checksum, urgent pointer), in two be32
  const flags = d.pick(TCP_FLAGS);
  b.be32(((doff << 4) & 0xff) << 24 | (flags << 16) | (d.bits() & 0xffff)).be32(0).u8s(opts.a, opts.length).u8s(pay, plen);
}

function udp(b: Bytes, d: Draw, pay: Uint8Array, plen: number): void {
  // be16 ports, be16 length, be16 checksum 0, as two be32
  const sport = d.pick(PORTS);
  b.be32((sport << 16) | d.pick(PORTS)).be32(((8 + plen) & 0xffff) << 16).u8s(pay, plen);
}

function icmp(b: Bytes, d: Draw, pay: Uint8Array, plen: number, v6: boolean): void {
  const start = b.length;
  const type = v6 ? d.pick(ICMP6_TYPES) : d.pick(ICMP4_TYPES);
  // u8(type) u8(code) be16(0: checksum), be16(id) be16(seq): two be32, the draws in the same order
  b.be32((type << 24) | (d.below(4) << 16));
  const id = d.bits() & 0xffff;
  b.be32((id << 16) | (d.bits() & 0xffff)).u8s(pay, plen);
  if (!v6) b.setBe16(start + 2, b.checksum(start, b.length));
}

/** Append an L4 header for protocol `proto` (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, else raw payload). */
function l4(b: Bytes, proto: number, d: Draw, pay: Uint8Array, plen: number, layers: Layers): void {
  if (proto === 6) (layers?.push('tcp'), tcp(b, d, pay, plen));
  else if (proto === 17) (layers?.push('udp'), udp(b, d, pay, plen));
  else if (proto === 1) (layers?.push('icmp'), icmp(b, d, pay, plen, false));
  else if (proto === 58) (layers?.push('icmpv6'), icmp(b, d, pay, plen, true));
  else b.u8s(pay, plen);
}

// --- L3 -------------------------------------------------------------------------------------

const L4_PROTOS: readonly number[] = [6, 17, 1, 6, 17, 47, 132];
/** IPv6 extension headers, hop-by-hop first as RFC 8200 orders them */
const IP6_EXT_ORDER: readonly number[] = [0, 60, 43, 44, 60];

function ipv4(b: Bytes, d: Draw, pay: Uint8Array, plen: number, layers: Layers): void {
  layers?.push('ipv4');
  const start = b.length;
  const optWords = d.below(4) === 0 ? 1 + d.below(10) : 0;
  const badIhl = d.below(16) === 0;
  const ihl = badIhl ? d.pick(BAD_IHLS) : 5 + optWords;
  const proto = d.pick(L4_PROTOS);
  // fragments: 0 none, 1 DF, 2 first fragment (MF, offset 0), 3 non-first (offset > 0)
  const fragKind = d.below(6);
  const frag = fragKind === 2 ? 0x2000 : fragKind === 3 ? (d.below(2) << 13) | (1 + d.below(0x1fff)) : fragKind === 1 ? 0x4000 : 0;
  // u8(0x40 | ihl) u8(tos) be16(0: tot_len, set below); be16(id) be16(frag); u8(ttl) u8(proto)
  // be16(0: checksum, set below): three be32, the draws in the same order
  const tos = d.below(256);
  b.be32(((0x40 | ihl) << 24) | (tos << 16));
  const id = d.bits() & 0xffff;
  b.be32((id << 16) | frag).be32((d.pick(IP4_TTLS) << 24) | (proto << 16));
  b.be32(d.pick(IPV4)).be32(d.pick(IPV4));
  if (optWords > 0) {
    layers?.push('ipopts');
    const o = OPTIONS.reset();
    if (d.below(2) === 0) {
      o.u8(7).u8(Math.min(39, optWords * 4 - 1)).u8(4); // record route
      while (o.length < optWords * 4 - 1) o.u8(0);
    }
    while (o.length < optWords * 4) o.u8(o.length === optWords * 4 - 1 ? 0 : 1); // NOPs then EOL
    b.u8s(o.a, optWords * 4);
  }
  if (badIhl) layers?.push('bad-ihl');
  if (fragKind === 2 || fragKind === 3) layers?.push(fragKind === 2 ? 'frag-first' : 'frag-later');
  if (fragKind === 3) b.u8s(pay, plen);
  else l4(b, proto, d, pay, plen, layers);
  const lie = d.below(16) === 0;
  if (lie) layers?.push('bad-totlen');
  b.setBe16(start + 2, lie ? d.bits() & 0xffff : b.length - start);
  b.setBe16(start + 10, b.checksum(start, start + 20 + optWords * 4));
}

/** An IPv6 address: fe80::x or 2001:db8:: with 12 drawn bytes. */
function v6addr(b: Bytes, d: Draw): void {
  // four be32s rather than 16 u8s (a field load and store each: half of v6addr's own time), the
  // bytes and draws in the same order
  if (d.below(2) === 0) {
    // fe80:: then 13 zero bytes, then 1..254
    b.be32(0xfe800000).be32(0).be32(0).be32(1 + d.below(254));
  } else {
    // 2001:0db8: then 12 drawn bytes
    b.be32(0x20010db8);
    for (let i = 0; i < 3; i++) {
      const b0 = d.below(256);
      const b1 = d.below(256);
      const b2 = d.below(256);
      b.be32((b0 << 24) | (b1 << 16) | (b2 << 8) | d.below(256));
    }
  }
}

/** ipv6's extension headers (at most 3), reused */
const EXTS = new Int32Array(3);

function ipv6(b: Bytes, d: Draw, pay: Uint8Array, plen: number, layers: Layers): void {
  layers?.push('ipv6');
  const start = b.length;
  const exts = EXTS;
  const nExt = d.below(3) === 0 ? 1 + d.below(3) : 0;
  for (let i = 0; i < nExt; i++) exts[i] = IP6_EXT_ORDER[Math.min(IP6_EXT_ORDER.length - 1, i + d.below(2))]!;
  const proto = d.pick(IP6_NEXT_HEADERS);
  const first = nExt > 0 ? exts[0]! : proto;
  // be16(0: payload length, set below) u8(next header) u8(hop limit) as one be32
  b.be32(0x60000000 | (d.bits() & 0x0fffffff)).be32((first << 8) | d.pick(IP6_HOP_LIMITS));
  v6addr(b, d);
  v6addr(b, d);
  let fragLater = false;
  for (let i = 0; i < nExt; i++) {
    const nh = i + 1 < nExt ? exts[i + 1]! : proto;
    const t = exts[i]!;
    if (t === 44) {
      const off = d.below(2) === 0 ? 0 : 1 + d.below(0x1fff);
      fragLater ||= off !== 0;
      b.u8(nh).u8(0).be16((off << 3) | d.below(2)).be32(d.bits());
      layers?.push(off === 0 ? 'ip6-frag-first' : 'ip6-frag-later');
    } else if (t === 43) {
      b.u8(nh).u8(2).u8(d.below(2) === 0 ? 0 : 4).u8(d.below(3)).be32(0); // routing, one address
      v6addr(b, d);
      layers?.push('ip6-routing');
    } else {
      const len8 = d.below(2);
      b.u8(nh).u8(len8).u8(1).u8(4 + 8 * len8).be32(0); // PadN filling the header
      for (let j = 0; j < 8 * len8; j++) b.u8(0);
      layers?.push(t === 0 ? 'ip6-hbh' : 'ip6-dstopts');
    }
  }
  if (fragLater) b.u8s(pay, plen);
  else l4(b, proto, d, pay, plen, layers);
  b.setBe16(start + 4, b.length - start - 40);
}

function arp(b: Bytes, d: Draw, layers: Layers): void {
  layers?.push('arp');
  // be16(1: Ethernet) be16(0x0800) u8(6) u8(4) be16(op) as two be32
  b.be32(0x00010800).be32(0x06040000 | (1 + d.below(2)));
  b.mac(d.below(MAC_COUNT)).be32(d.pick(IPV4)).mac(d.below(MAC_COUNT)).be32(d.pick(IPV4));
}

// --- netlink --------------------------------------------------------------------------------

/**
 * A netlink message (include/uapi/linux/netlink.h struct nlmsghdr, little-endian host order) with a
 * family header and attributes (struct nlattr: u16 nla_len, u16 nla_type, payload, NLA_ALIGN 4).
 * Each drawn u32 describes one attribute: type (bits 0-3), payload length (bits 4-8), structure
 * (bits 9-10: 1 opens a nested attribute whose children follow, 2 closes one), malformation (bits
 * 11-13: 6 nla_len < 4, 7 nla_len past the end), NLA_F_NESTED / NLA_F_NET_BYTEORDER (bits 14-15).
 */
export function netlinkMessage(attrs: ArrayLike<number>, payload: Uint8Array, famLen: number, type: number): { bytes: Uint8Array; layers: string[] } {
  const layers: string[] = [];
  const bytes = netlinkSized(attrs, 0, attrs.length, payload, payload.length, famLen, type, -1, 0, layers);
  return { bytes, layers };
}

/** netlinkSized's open nested attributes (at most 3), reused */
const OPEN = new Int32Array(3);

/** netlinkMessage of attrs[from .. from + count) and pay[0 .. plen), its bytes resized as buildSized's. */
function netlinkSized(
  attrs: ArrayLike<number>,
  from: number,
  count: number,
  pay: Uint8Array,
  plen: number,
  famLen: number,
  type: number,
  len: number,
  fill: number,
  layers: Layers,
): Uint8Array {
  const b = PACKET.resetInSlab();
  b.le32(0).le16(type).le16(0x0001).le32(1).le32(0); // nlmsg_len fixed below, NLM_F_REQUEST
  if (plen === 0) b.run(famLen, 0);
  else b.cycle(pay, plen, 0, famLen);
  const open = OPEN;
  let nopen = 0;
  layers?.push('nlmsghdr');
  let nested = false;
  for (let ai = from; ai < from + count; ai++) {
    const x = attrs[ai]!;
    b.reserve(64);
    const t = x & 15;
    const alen = (x >>> 4) & 31;
    const shape = (x >>> 9) & 3;
    const bad = (x >>> 11) & 7;
    const flags = ((x >>> 14) & 3) << 14;
    if (shape === 2 && nopen > 0) {
      const s = open[--nopen]!;
      b.setLe16(s, b.length - s);
      continue;
    }
    const s = b.length;
    b.le16(4 + alen).le16(t | flags);
    if (shape === 1 && nopen < 3) {
      b.setLe16(s + 2, t | 0x8000 | (flags & 0x4000));
      open[nopen++] = s;
      nested = true;
      continue;
    }
    // the attribute's bytes 0, 1, 2, ... or pay[(s + i) % plen], then NLA_ALIGN
    if (plen === 0) b.run(alen, -1);
    else b.cycle(pay, plen, s, alen);
    b.align4();
    if (bad === 6) (b.setLe16(s, x >>> 16 & 3), layers?.push('nla-short'));
    else if (bad === 7) (b.setLe16(s, 0xfff0 | (x >>> 16 & 15)), layers?.push('nla-long'));
  }
  while (nopen > 0) {
    const s = open[--nopen]!;
    b.setLe16(s, b.length - s);
  }
  layers?.push(nested ? 'nlattr-nested' : 'nlattr');
  // nlmsg_len: the built length, in the builder's bytes before they are copied out (and resized)
  const built = b.length;
  b.setLe16(0, built & 0xffff);
  b.setLe16(2, built >>> 16);
  BUILT.builtLength = built;
  return b.outSized(len, fill);
}

// --- stacks ---------------------------------------------------------------------------------

/** Build the packet of `kind` from drawn integers and payload bytes (pure). */
export function buildPacket(kind: PacketKind, xs: ArrayLike<number>, payload: Uint8Array): { bytes: Uint8Array; layers: string[]; preset: PresetName; networkOffset: number } {
  const layers: string[] = [];
  const bytes = buildSized(kind, xs, 0, xs.length, payload, payload.length, -1, 0, layers);
  return { bytes, layers, preset: BUILT.preset, networkOffset: BUILT.networkOffset };
}

/** A packet's layer names as the builders push them, or null where nobody reads them. */
type Layers = string[] | null;

/**
 * What the builders know of the packet they last built besides its bytes (buildSized, packetBytes):
 * one record, rewritten by each build (the builders are not re-entrant).
 */
export const BUILT: { preset: PresetName; networkOffset: number; builtLength: number; headlen: number; kind: PacketKind } = {
  preset: 'af_unix',
  networkOffset: 0,
  builtLength: 0,
  headlen: 0,
  kind: 'raw',
};

/** The builders' draw over the fields, reused from packet to packet. */
const DRAW = new Draw();

/** An Ethernet header (and its VLAN tags) of EtherType `type`. */
function ethHeader(b: Bytes, d: Draw, layers: Layers, type: number, vlan: boolean): void {
  layers?.push('eth');
  b.mac(d.below(MAC_COUNT)).mac(d.below(MAC_COUNT));
  if (vlan) {
    const tags = 1 + (d.below(4) === 0 ? 1 : 0);
    for (let i = 0; i < tags; i++) {
      layers?.push(i === 0 && tags === 2 ? 'qinq' : 'vlan');
      const tci = d.pick(VLAN_TCIS);
      b.be16(i === 0 && tags === 2 ? 0x88a8 : 0x8100).be16(tci);
    }
  }
  b.be16(type);
}

/**
 * buildPacket, its bytes then resized to `len` (resize(bytes, len, fill); len < 0: as built). The
 * preset, the network offset and the built length go to BUILT, the layers to `layers` (when given).
 */
function buildSized(kind: PacketKind, xs: ArrayLike<number>, xsFrom: number, nxs: number, pay: Uint8Array, plen: number, len: number, fill: number, layers: Layers): Uint8Array {
  const d = DRAW.reset(xs, xsFrom, nxs);
  const b = PACKET.resetInSlab();
  // (a u32: its remainders by remainder(), see packetBytes)
  const x0 = nxs > 0 ? xs[xsFrom]! : 0;
  let preset: PresetName = 'ethernet';
  let networkOffset = 14;
  switch (kind) {
    case 'raw':
      layers?.push('raw');
      b.u8s(pay, plen);
      preset = remainder(x0, 2) === 0 ? 'af_unix' : 'ethernet';
      networkOffset = 0;
      break;
    case 'eth-ipv4':
      ethHeader(b, d, layers, 0x0800, false);
      ipv4(b, d, pay, plen, layers);
      break;
    case 'eth-ipv6':
      ethHeader(b, d, layers, 0x86dd, false);
      ipv6(b, d, pay, plen, layers);
      break;
    case 'eth-arp':
      ethHeader(b, d, layers, 0x0806, false);
      arp(b, d, layers);
      break;
    case 'eth-vlan': {
      const inner = d.below(3);
      ethHeader(b, d, layers, inner === 0 ? 0x0800 : inner === 1 ? 0x86dd : 0x0806, true);
      if (inner === 0) ipv4(b, d, pay, plen, layers);
      else if (inner === 1) ipv6(b, d, pay, plen, layers);
      else arp(b, d, layers);
      break;
    }
    case 'ipv4':
      ipv4(b, d, pay, plen, layers);
      preset = 'af_unix';
      networkOffset = 0;
      break;
    case 'ipv6':
      ipv6(b, d, pay, plen, layers);
      preset = 'af_unix';
      networkOffset = 0;
      break;
    case 'netlink': {
      const bytes = netlinkSized(xs, xsFrom + 1, Math.max(0, nxs - 1), pay, plen, NL_FAMILY_LENGTHS[remainder(x0, NL_FAMILY_LENGTHS.length)]!, d.pick(NL_MSG_TYPES), len, fill, layers);
      BUILT.preset = 'af_unix';
      BUILT.networkOffset = 0;
      return bytes;
    }
  }
  BUILT.preset = preset;
  BUILT.networkOffset = networkOffset;
  BUILT.builtLength = b.length;
  return b.outSized(len, fill);
}

// --- lengths and frags ----------------------------------------------------------------------

/** Resize to `len`: truncate, or pad with a repeating filler byte. */
export function resize(bytes: Uint8Array, len: number, fill: number): Uint8Array {
  if (len === bytes.length) return bytes;
  const out = slabBytes(len);
  out.set(len < bytes.length ? bytes.subarray(0, len) : bytes);
  if (len > bytes.length) padFrom(out, bytes.length, fill);
  return out;
}

export interface PacketOptions {
  /** Restrict the kinds (default all). */
  readonly kinds?: readonly PacketKind[];
  /** Lengths worth hitting (from packetFor); the packet is resized to one of them half the time. */
  readonly lengths?: readonly number[];
  /** Largest payload drawn (default 96 bytes). */
  readonly maxPayload?: number;
  /** Probability-ish weight (0..16) of splitting into frags (default 5/16). */
  readonly fragWeight?: number;
}

/** The raw randomness of one packet: kind index, field integers, payload, resize and frag choices. */
export type PacketDraw = readonly [kind: number, xs: ArrayLike<number>, payload: Uint8Array, resize: number, frag: number];

const U32 = fc.integer({ min: 0, max: 0xffffffff });

/** The bytes of `words` (each u32 big-endian), less the last `trim` (0..3) bytes. */
export function wordBytes(words: ArrayLike<number>, trim = 0): Uint8Array {
  return wordBytesAt(words, 0, words.length, trim);
}

/** Whether this host stores a u32's low byte first (x86 and arm do; wordBytesIntoWords swaps then). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The bytes of wordBytesAt(words, from, count, trim) written into the bytes of `out` (its whole
 * buffer, from byte 0), returning their number: one store per word (its bytes swapped on a
 * little-endian host) rather than four byte stores. The trimmed bytes of the last word are written
 * too: the caller reads only the bytes counted.
 */
export function wordBytesIntoWords(out: Uint32Array, words: ArrayLike<number>, from: number, count: number, trim = 0): number {
  if (LITTLE_ENDIAN)
    for (let j = 0; j < count; j++) {
      const x = words[from + j]!;
      out[j] = (x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
    }
  else for (let j = 0; j < count; j++) out[j] = words[from + j]!;
  return Math.max(0, 4 * count - trim);
}

/** wordBytes of words[from .. from + count) (no view of the words made). */
export function wordBytesAt(words: ArrayLike<number>, from: number, count: number, trim = 0): Uint8Array {
  const out = slabBytes(Math.max(0, 4 * count - trim));
  for (let i = 0; i < out.length; i++) out[i] = (words[from + (i >>> 2)]! >>> (24 - 8 * (i & 3))) & 0xff;
  return out;
}

/**
 * fast-check arbitrary of a PacketDraw (shrinks toward the first kind, no fields, empty payload).
 * The payload is drawn as u32 words (then trimmed by 0..3 bytes), not byte by byte: fast-check
 * makes one value per array element, and a packet's draw cost about 3x more with a byte array.
 * Words still shrink toward 0, so a shrunk payload is zeros where its bytes do not matter.
 */
export const packetDraw = (maxPayload = 96): fc.Arbitrary<PacketDraw> =>
  fc
    .tuple(
      fc.nat(0xffff),
      fc.array(U32, { maxLength: 12, size: 'max' }),
      fc.array(U32, { maxLength: Math.ceil(maxPayload / 4), size: 'max' }),
      fc.nat(3),
      fc.nat(0xffff),
      fc.nat(0xffff),
    )
    .map(([kind, xs, words, trim, rs, fs]): PacketDraw => [kind, xs, wordBytes(words, trim).subarray(0, maxPayload), rs, fs]);

/** The fixed frag cuts (head lengths) before the packet's half, its length less one and `lengths` less one. */
const CUTS: readonly number[] = [0, 1, 14, 20, 34, 40, 54];

/** Turn a draw into a packet (pure): build the stack, resize near `lengths`, maybe split into frags. */
export function packetFromDraw(draw: PacketDraw, opts: PacketOptions = {}): Packet {
  const [ki, xs, payload, rs, fs] = draw;
  return packetOf(ki, xs, 0, xs.length, payload, payload.length, rs, fs, opts);
}

/**
 * packetFromDraw of the draw's parts: the kind word, the fields xs[xsFrom .. xsFrom + nxs), the
 * payload pay[0 .. plen), the resize and frag choices (none of them is kept in the packet).
 */
export function packetOf(ki: number, xs: ArrayLike<number>, xsFrom: number, nxs: number, pay: Uint8Array, plen: number, rs: number, fs: number, opts: PacketOptions): Packet {
  const layers: string[] = [];
  const bytes = packetBytes(ki, xs, xsFrom, nxs, pay, plen, rs, fs, opts, layers);
  return { bytes, headlen: BUILT.headlen, preset: BUILT.preset, kind: BUILT.kind, layers, networkOffset: BUILT.networkOffset, builtLength: BUILT.builtLength };
}

/**
 * packetOf's bytes alone (no Packet record): its headlen, preset, kind, network offset and built
 * length go to BUILT, its layers to `layers` when given (null: not recorded).
 */
export function packetBytes(ki: number, xs: ArrayLike<number>, xsFrom: number, nxs: number, pay: Uint8Array, plen: number, rs: number, fs: number, opts: PacketOptions, layers: Layers): Uint8Array {
  const lengths = opts.lengths && opts.lengths.length > 0 ? opts.lengths : PACKET_LENGTHS;
  return packetBytesIn(ki, xs, xsFrom, nxs, pay, plen, rs, fs, opts.kinds ?? PACKET_KINDS, lengths, lengths.length, opts.fragWeight ?? 5, layers);
}

/**
 * packetBytes with its options read: the kinds, the lengths lengths[0 .. nlengths) (nlengths > 0;
 * read only when rs or fs says so, see packetBytes) and the frag weight.
 */
export function packetBytesIn(
  ki: number,
  xs: ArrayLike<number>,
  xsFrom: number,
  nxs: number,
  pay: Uint8Array,
  plen: number,
  rs: number,
  fs: number,
  kinds: readonly PacketKind[],
  lengths: ArrayLike<number>,
  nlengths: number,
  fragWeight: number,
  layers: Layers,
): Uint8Array {
  if (kinds.length === 0) throw new RangeError('packet: no kinds');
  // remainder, not `%`: ki comes from a Uint32Array, and `%` of a full-range u32 by a length not
  // known to the optimiser calls fmod (node 20: 20 ns against 10)
  const kind = kinds[remainder(ki, kinds.length)]!;
  // resized when rs says so, in the copy out of the builder (resize(bytes, len, fill))
  const len = (rs & 1) === 1 ? Math.max(0, lengths[(rs >>> 1) % nlengths]!) : -1;
  // the padding's filler from the kind draw's high byte (so that the resize choice can move to
  // another index of `lengths` for the same length, as the genome's shrinking does)
  const bytes = buildSized(kind, xs, xsFrom, nxs, pay, plen, len, ki >>> 8, layers);
  const builtLength = BUILT.builtLength;
  if (len >= 0 && len !== builtLength) layers?.push(len < builtLength ? 'trunc' : 'pad');
  let headlen = bytes.length;
  if ((fs & 15) < fragWeight && bytes.length > 0) {
    // pick([0, 1, 14, 20, 34, 40, 54, len >>> 1, len - 1, ...lengths.map((l) => l - 1)], fs >>> 4), unbuilt
    const at = (fs >>> 4) % (CUTS.length + 2 + nlengths);
    const cut = at < CUTS.length ? CUTS[at]! : at === CUTS.length ? bytes.length >>> 1 : at === CUTS.length + 1 ? bytes.length - 1 : lengths[at - CUTS.length - 2]! - 1;
    headlen = Math.min(bytes.length - 1, Math.max(0, cut));
    layers?.push('frags');
  }
  BUILT.headlen = headlen;
  BUILT.kind = kind;
  return bytes;
}

/** A packet: `{ bytes, headlen, preset, kind, layers, networkOffset, builtLength }`. */
export const packet = (opts: PacketOptions = {}): fc.Arbitrary<Packet> =>
  packetDraw(opts.maxPayload).map((d) => packetFromDraw(d, opts));

const SIZE = (code: number): number => ((code & 0x18) === 0x10 ? 1 : (code & 0x18) === 0x08 ? 2 : 4);

/**
 * Packet lengths at which the program's loads change outcome: for every load of `size` bytes at
 * absolute offset o, the lengths o + size - 1 (fails), o + size (just fits) and o + size + 1.
 * ABS k >= 0: o = k; NET/LL-relative k: o = rel and rel + 14 (the Ethernet network header); IND:
 * o = k + X for typical X (0, 14, 20, 24, 34, 40); MSH: size 1. Capped at 70000.
 */
export function interestingLengths(prog: Program): number[] {
  return Array.from(SCRATCH_LENGTHS.lengths.subarray(0, collectLengths(prog)));
}

/**
 * Write interestingLengths(prog), ascending and distinct, into SCRATCH_LENGTHS.lengths from index 0
 * (grown to leave room for PACKET_LENGTHS after them), returning their count. The lengths below 256 (most of them: header
 * offsets) are marked in a 256-bit set, read back in order; the others are collected into one
 * reused typed array, sorted there and deduplicated.
 */
function collectLengths(prog: Program): number {
  const low = LOW;
  // eight stores, not a call of fill() (a tenth of collectLengths' time)
  for (let w = 0; w < 8; w++) low[w] = 0;
  let high = scratch;
  let n = 0;
  const kinds = LOAD_KINDS;
  for (let i = 0; i < prog.length; i++) {
    const insn = prog[i]!;
    const c = insn.code;
    // one table lookup for the opcodes that load from the packet (most are not): a load and a test,
    // not seven comparisons, for each of the others
    const lk = c < 256 ? kinds[c]! : 0;
    if (lk === 0) continue;
    let o0 = -1;
    let o1 = -1;
    let size = 0;
    if (lk !== LOAD_IND) {
      const sk = insn.k | 0;
      if (lk === LOAD_ABS && isAncillaryK(sk)) continue;
      size = lk === LOAD_MSH ? 1 : SIZE(c);
      if (sk >= 0) o0 = sk;
      else if (sk >= SKF_NET_OFF) (o0 = sk - SKF_NET_OFF, o1 = sk - SKF_NET_OFF + 14);
      else if (sk >= SKF_LL_OFF) o0 = sk - SKF_LL_OFF;
      else continue;
    } else {
      const sk = insn.k | 0;
      if (sk < 0) continue;
      size = SIZE(c);
      if (n + 18 > high.length) high = scratch = grow(high, n + 18);
      for (let j = 0; j < IND_X.length; j++) {
        n = addRun3(low, high, n, sk + IND_X[j]! + size - 1);
      }
      continue;
    }
    if (n + 6 > high.length) high = scratch = grow(high, n + 6);
    // o0, o1 >= 0 and size >= 1: the lengths from o + size - 1 are never negative
    n = addRun3(low, high, n, o0 + size - 1);
    if (o1 >= 0) n = addRun3(low, high, n, o1 + size - 1);
  }
  // room for all of them and PACKET_LENGTHS after them (lengthsScratch)
  let out = SCRATCH_LENGTHS.lengths;
  if (256 + n + PACKET_LENGTHS.length > out.length) out = SCRATCH_LENGTHS.lengths = grow(out, 256 + n + PACKET_LENGTHS.length);
  let m = 0;
  for (let w = 0; w < 8; w++)
    for (let bits = low[w]!; bits !== 0; bits &= bits - 1) out[m++] = 32 * w + 31 - Math.clz32(bits & -bits);
  if (n > 32) high.subarray(0, n).sort();
  else
    for (let i = 1; i < n; i++) {
      const x = high[i]!;
      let j = i - 1;
      for (; j >= 0 && high[j]! > x; j--) high[j + 1] = high[j]!;
      high[j + 1] = x;
    }
  for (let i = 0; i < n; i++) if (i === 0 || high[i] !== high[i - 1]) out[m++] = high[i]!;
  return m;
}

/** collectLengths' loads by opcode: LD ABS W/H/B (0x20, 0x28, 0x30), LDX MSH (0xb1), LD IND W/H/B (0x40, 0x48, 0x50), else 0 */
const LOAD_ABS = 1;
const LOAD_MSH = 2;
const LOAD_IND = 3;
const LOAD_KINDS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const c of [0x20, 0x28, 0x30]) t[c] = LOAD_ABS;
  t[0xb1] = LOAD_MSH;
  for (const c of [0x40, 0x48, 0x50]) t[c] = LOAD_IND;
  return t;
})();

/**
 * Mark the lengths l, l + 1 and l + 2 (0 <= l <= 253) in the bit set `low` at once (the bits may
 * cross into the next word): what collectLengths' loop over the three did, a test and a store each.
 */
function setRun3(low: Int32Array, l: number): void {
  const w = l >>> 5;
  const sh = l & 31;
  low[w]! |= 7 << sh;
  if (sh > 29) low[w + 1]! |= 7 >>> (32 - sh);
}

/**
 * Add the lengths l0, l0 + 1 and l0 + 2 (l0 >= 0; those above 70000 left out) to collectLengths'
 * sets: below 256 to the bit set `low` (all three at once by setRun3 when l0 <= 253), the others to
 * high[n ..] (room for 3 made by the caller); returns the new n.
 */
function addRun3(low: Int32Array, high: Int32Array, n: number, l0: number): number {
  if (l0 <= 253) {
    setRun3(low, l0);
    return n;
  }
  for (let l = l0; l <= l0 + 2; l++)
    if (l <= 70000) {
      if (l < 256) low[l >>> 5]! |= 1 << (l & 31);
      else high[n++] = l;
    }
  return n;
}

/** The lengths below 256 collectLengths has seen, as a bit set (reused). */
const LOW = new Int32Array(8);
/** collectLengths' buffer of the other lengths, reused from call to call. */
let scratch: Int32Array = new Int32Array(256);
const grow = (a: Int32Array, n: number): Int32Array => {
  const b = new Int32Array(Math.max(n, 2 * a.length));
  b.set(a);
  return b;
};

/** the typical X values of an LD IND */
const IND_X: readonly number[] = [0, 14, 20, 24, 34, 40];

/** interestingLengths(prog), then PACKET_LENGTHS: the lengths a packet for `prog` is resized to and split at. */
export function lengthsFor(prog: Program): number[] {
  return lengthsInto(prog, []);
}

/**
 * lengthsFor(prog) written into `out` (emptied first): for a caller that reuses one array from
 * program to program and reads it before the next call.
 */
export function lengthsInto(prog: Program, out: number[]): number[] {
  const m = lengthsScratch(prog);
  const a = SCRATCH_LENGTHS.lengths;
  for (let i = 0; i < m; i++) out[i] = a[i]!;
  // written by index, then cut (a store emptied by length = 0 would be dropped and grown again)
  if (out.length !== m) out.length = m;
  return out;
}

/**
 * lengthsFor(prog) in a reused typed array, SCRATCH_LENGTHS.lengths[0 .. count) (read it after the
 * call: it may have been grown), returning the count: for packetBytesIn, with no array of numbers
 * written and cut per program (at 1 packet per program, lengthsInto and its array's `length =` were
 * 3% of decoding short cases).
 */
export function lengthsScratch(prog: Program): number {
  let m = collectLengths(prog);
  const out = SCRATCH_LENGTHS.lengths;
  for (let i = 0; i < PACKET_LENGTHS.length; i++) out[m++] = PACKET_LENGTHS[i]!;
  return m;
}

/** lengthsScratch's array (and collectLengths'), reused from program to program. */
export const SCRATCH_LENGTHS: { lengths: Int32Array } = { lengths: new Int32Array(512) };

/** Packets for this program: lengths drawn near the offsets it loads, plus the usual lengths. */
export const packetFor = (prog: Program, opts: Omit<PacketOptions, 'lengths'> = {}): fc.Arbitrary<Packet> =>
  packet(packetOptionsFor(prog, opts));

/** The packet options packetFor uses for a program (lengths near its loads plus the usual ones). */
export const packetOptionsFor = (prog: Program, opts: Omit<PacketOptions, 'lengths'> = {}): PacketOptions => ({
  ...opts,
  lengths: lengthsFor(prog),
});

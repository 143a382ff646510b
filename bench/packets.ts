// A fixed, seeded set of realistic Ethernet frames for the benchmarks (bench only; not the fuzzer's
// generator). Mix: IPv4 TCP/UDP/ICMP/GRE/ESP, IPv6 TCP/UDP/ICMPv6, ARP, LLDP and other EtherTypes;
// about 15% 802.1Q-tagged (some QinQ); some IPv4 options and fragments; 1% truncated. Addresses and
// ports come from small pools so the tcpdump filters match a share of the frames.

/** splitmix64 on two u32 halves (BigInt-free): a deterministic stream of u32 values. */
export class SplitMix {
  private hi: number;
  private lo: number;
  constructor(seed: number) {
    this.hi = (seed / 0x100000000) >>> 0;
    this.lo = seed >>> 0;
  }
  /** The next u32. */
  next(): number {
    // state += 0x9e3779b97f4a7c15
    const lo = this.lo + 0x7f4a7c15;
    this.hi = (this.hi + 0x9e3779b9 + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    this.lo = lo >>> 0;
    // a cheap 32-bit finaliser of the 64-bit state (murmur3 fmix over hi ^ lo rotated)
    let z = (this.hi ^ ((this.lo << 7) | (this.lo >>> 25))) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
}

const V4 = [
  [10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3], [10, 1, 2, 3], [192, 168, 1, 1], [192, 168, 1, 2], [192, 168, 7, 9],
  [172, 16, 5, 4], [172, 20, 1, 1], [8, 8, 8, 8], [1, 1, 1, 1], [93, 184, 216, 34], [203, 0, 113, 7],
] as const;
const V6 = [
  [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10],
  [0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88], [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55],
] as const;
const MACS = [
  [0x00, 0x11, 0x22, 0x33, 0x44, 0x55], [0x01, 0x02, 0x03, 0x04, 0x05, 0x06], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01], [0x02, 0x00, 0x00, 0x00, 0x00, 0x01], [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
] as const;
const PORTS = [80, 443, 22, 53, 8080, 8443, 3306, 5432, 21, 25, 110, 143, 993, 123, 67, 68, 547, 4789, 1500, 1999, 33000, 50000, 6379, 3389];

/** Payload length: small, uniform or full-MTU. */
function payloadLen(r: SplitMix, max: number): number {
  const s = r.below(10);
  if (s < 4) return r.below(64);
  if (s < 8) return r.below(max + 1);
  return max;
}

function push16(a: number[], v: number): void {
  a.push((v >>> 8) & 0xff, v & 0xff);
}

function l4(r: SplitMix, a: number[], proto: number, max: number): void {
  if (proto === 6) {
    push16(a, r.pick(PORTS));
    push16(a, r.pick(PORTS));
    for (let i = 0; i < 8; i++) a.push(r.below(256)); // seq, ack
    const opts = r.below(4) === 0 ? 12 : 0;
    a.push(((5 + opts / 4) << 4) & 0xf0, r.pick([0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x01]));
    for (let i = 0; i < 6; i++) a.push(r.below(256)); // window, csum, urg
    for (let i = 0; i < opts; i++) a.push(i === 0 ? 2 : 1);
    if (r.below(10) === 0) a.push(0x47, 0x45, 0x54, 0x20, 0x2f); // "GET /"
  } else if (proto === 17) {
    const dport = r.pick(PORTS);
    push16(a, r.pick(PORTS));
    push16(a, dport);
    push16(a, 8 + r.below(1400));
    push16(a, 0);
    if (dport === 4789) a.push(0x08, 0, 0, 0, 0, 0, 0x64, 0);
  } else if (proto === 1 || proto === 58) {
    a.push(r.pick(proto === 1 ? [0, 8, 3, 11] : [128, 129, 135, 136]), 0, 0, 0);
  }
  const n = payloadLen(r, max);
  for (let i = 0; i < n; i++) a.push(r.below(256));
}

/** One frame from the stream. */
export function benchFrame(r: SplitMix): Uint8Array {
  const a: number[] = [];
  a.push(...r.pick(MACS), ...r.pick(MACS));
  if (r.below(100) < 15) {
    if (r.below(10) === 0) {
      push16(a, 0x88a8);
      push16(a, r.below(4096));
    }
    push16(a, 0x8100);
    push16(a, r.pick([100, 200, 1, 4000]) | (r.below(8) << 13));
  }
  const kind = r.below(100);
  if (kind < 62) {
    push16(a, 0x0800);
    const ihl = r.below(12) === 0 ? 6 : 5;
    const proto = r.pick([6, 6, 6, 17, 17, 1, 47, 50, 6, 17]);
    const start = a.length;
    a.push((4 << 4) | ihl, r.pick([0, 0, 0xb8, 0x10]), 0, 0);
    push16(a, r.below(65536));
    push16(a, r.below(15) === 0 ? r.pick([0x2000, 0x0010, 0x20b9]) : 0x4000);
    a.push(r.pick([64, 128, 1, 4, 255]), proto, 0, 0);
    a.push(...r.pick(V4), ...r.pick(V4));
    for (let i = 20; i < ihl * 4; i++) a.push(1);
    l4(r, a, proto, 1400);
    const tot = a.length - start;
    a[start + 2] = (tot >>> 8) & 0xff;
    a[start + 3] = tot & 0xff;
  } else if (kind < 80) {
    push16(a, 0x86dd);
    const start = a.length;
    const hop = r.below(8) === 0;
    const proto = r.pick([6, 17, 58, 6]);
    a.push(0x60, 0, 0, 0, 0, 0, hop ? 0 : proto, 64);
    a.push(...r.pick(V6), ...r.pick(V6));
    if (hop) a.push(proto, 0, 5, 2, 0, 0, 1, 0);
    l4(r, a, proto, 1400);
    const pl = a.length - start - 40;
    a[start + 4] = (pl >>> 8) & 0xff;
    a[start + 5] = pl & 0xff;
  } else if (kind < 88) {
    push16(a, 0x0806);
    a.push(0, 1, 8, 0, 6, 4, 0, r.pick([1, 2]), ...r.pick(MACS), ...r.pick(V4), 0, 0, 0, 0, 0, 0, ...r.pick(V4));
  } else if (kind < 93) {
    push16(a, 0x88cc);
    for (let i = 0, n = 40 + r.below(200); i < n; i++) a.push(r.below(256));
  } else {
    push16(a, r.pick([0x8863, 0x8864, 0x0842, 0x22f0, 0x0060]));
    for (let i = 0, n = payloadLen(r, 1400); i < n; i++) a.push(r.below(256));
  }
  const bytes = Uint8Array.from(a);
  if (r.below(100) === 0) return bytes.subarray(0, r.below(bytes.length));
  return bytes;
}

/** `count` frames from `seed`. */
export function benchFrames(count: number, seed: number): Uint8Array[] {
  const r = new SplitMix(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(benchFrame(r));
  return out;
}

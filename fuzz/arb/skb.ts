// skb metadata: every field of model/skb.ts SkBuff, drawn around the values that matter to the
// ancillary loads and the negative-offset loads (kernel-spec section 8: R1/R2 dev == NULL, R5/R6
// VLAN TCI bit 12 and odd vlan_proto/tci combinations, R7/R8 mac header unset or into headroom).
// Full SkBuff objects are built through the presets (afUnixSkb / ethernetSkb) plus overrides, and
// always satisfy assertSkb.
import fc from 'fast-check';
import type { Env, NetDevice, SkBuff, SkBuffFields } from '../../model/skb.js';
import { ARPHRD_ETHER, ethTypeTransPktType, ethTypeTransProtocol, PRESETS } from '../../model/skb.js';
import { BOUNDARY_U32, pick } from './constants.js';
import type { Packet } from './packet.js';
import { packet, remainder, wordBytes } from './packet.js';
import { slabBytes } from './slab.js';

const IFINDEX: readonly number[] = [0, 1, 2, 3, -1, 0x7fffffff, -0x80000000, 0xffff, 1000];
/** ARPHRD_*: ETHER 1, LOOPBACK 772, SIT 776, IEEE80211_RADIOTAP 803, NETLINK 824, NONE 0xfffe, VOID 0xffff, 0. */
const HATYPE: readonly number[] = [1, 772, 776, 803, 824, 0xfffe, 0xffff, 0];
const PROTOCOLS: readonly number[] = [0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x0003, 0x0004, 0x0001, 0, 0xffff];
const TCI: readonly number[] = [0x0064, 0x1064, 0x1000, 0x0fff, 0xefff, 0xffff, 0x0001, 0xe064, 0];
const VLAN_PROTO: readonly number[] = [0x8100, 0x88a8, 0x9100, 0];
const VLAN_PROTO_TAGS: readonly number[] = VLAN_PROTO.slice(0, 3);
const U16_EDGES: readonly number[] = [0, 1, 2, 7, 8, 0x7fff, 0x8000, 0xffff];

const U32N = fc.noBias(fc.integer({ min: 0, max: 0xffffffff }));

/** skb->dev from one u32 and one s32: absent (AF_UNIX datagrams, divergence R1/R2) or present. */
export function netDeviceOf(x: number, i: number): NetDevice | null {
  if ((x & 3) === 0) return null;
  const s = (x >>> 2) & 15;
  const t = x >>> 16;
  return { ifindex: s < 12 ? pick(IFINDEX, s) : i | 0, type: s % 4 !== 3 ? pick(HATYPE, t) : t };
}

/** vlan_tci / vlan_proto / present from one u32: consistent mostly, odd combinations sometimes. */
export function vlanOf(x: number): Pick<SkBuff, 'vlanTci' | 'vlanProto' | 'vlanPresent'> {
  const t = (x >>> 3) & 0xffff;
  const p = x >>> 19;
  switch (x & 7) {
    case 0:
    case 1:
    case 2:
      return { vlanTci: 0, vlanProto: 0, vlanPresent: false }; // untagged
    case 3:
    case 4:
      return { vlanTci: pick(TCI, t), vlanProto: pick(VLAN_PROTO_TAGS, p), vlanPresent: true }; // hw-accel tag
    case 5:
      return { vlanTci: t, vlanProto: pick(VLAN_PROTO_TAGS, p), vlanPresent: true };
    case 6:
      return { vlanTci: 0, vlanProto: 0, vlanPresent: true }; // odd: present with proto|tci == 0
    default:
      return { vlanTci: t || 0x1000, vlanProto: (p & 1) === 0 ? 0 : pick(VLAN_PROTO, p >>> 1), vlanPresent: false }; // odd: not present, tci != 0
  }
}

/** The environment from two u32s: cpu (mostly 0..3) and the SKF_AD_RANDOM seed. */
const CPU_EDGES: readonly number[] = [255, 1023, 0x7fffffff];
export const envOf = (c: number, seed: number): Env => ({
  cpu: (c & 15) < 12 ? c & 3 : CPU_EDGES[(c >>> 4) % CPU_EDGES.length]!,
  randomSeed: seed >>> 0,
});

/**
 * Header placement for a packet of `len` bytes whose L3 starts at `l3`, from one u32 and headroom
 * bytes: mac header unset, at 0, or NEGATIVE into the headroom; network header at l3, 0, 14..34,
 * past the end, or negative. The headroom is as long as the negative offsets need, plus 0..15.
 */
export function headersOf(x: number, extra: Uint8Array, len: number, l3: number): Pick<SkBuff, 'macHeader' | 'networkHeader' | 'headroom'> {
  return headersAt(x, extra, extra.length, len, l3);
}

const NET_AT: readonly number[] = [14, 18, 22, 34];

/** headersOf with the headroom filler extra[0 .. nextra). */
function headersAt(x: number, extra: Uint8Array, nextra: number, len: number, l3: number): Pick<SkBuff, 'macHeader' | 'networkHeader' | 'headroom'> {
  const m = x & 7;
  const n = (x >>> 3) & 7;
  const off = (x >>> 6) & 63;
  const mac = m === 0 ? null : m === 1 ? -(1 + (off % 14)) : m === 2 ? -14 : m === 3 ? Math.min(off, len) : 0;
  const net =
    n <= 2 ? l3 : n === 3 ? 0 : n === 4 ? NET_AT[off % NET_AT.length]! : n === 5 ? Math.min(0xffff, len + (off % 8)) : n === 6 ? -(1 + (off % 20)) : l3;
  const need = Math.max(0, -(mac ?? 0), -net);
  const headroom = slabBytes(need + ((x >>> 12) & 15));
  for (let i = 0; i < headroom.length; i++) headroom[i] = nextra > 0 ? extra[i % nextra]! : i;
  return { macHeader: mac, networkHeader: net, headroom };
}

/**
 * Overrides for every metadata field on top of a preset (dev, vlan, pkt_type 0..7, protocol,
 * mark, queue_mapping, hash), from five u32s. With (a & 3) == 0 the preset keeps its dev /
 * pkt_type / protocol (so eth_type_trans' derivations are exercised too).
 */
export function skbFieldsOf(a: number, b: number, c: number, d: number, e: number): SkBuffFields {
  const f: { -readonly [K in keyof SkBuffFields]: SkBuffFields[K] } = vlanOf(b);
  if ((a & 3) !== 0) {
    f.dev = netDeviceOf(c, d);
    f.pktType = (a >>> 2) & 7;
    f.protocol = ((a >>> 5) & 31) < 20 ? pick(PROTOCOLS, a >>> 10) : (a >>> 10) & 0xffff;
  }
  const sel = e & 31;
  f.mark = sel % 3 === 0 ? 0 : sel % 3 === 1 ? pick(BOUNDARY_U32, d) : d >>> 0;
  f.hash = sel % 4 === 0 ? 0 : Math.imul(c, 0x9e3779b1) >>> 0;
  f.queueMapping = sel % 2 === 0 ? pick(U16_EDGES, e >>> 5) : (e >>> 8) & 0xffff;
  return f;
}

/** The raw randomness of one skb's metadata: six u32s and headroom bytes. */
export type SkbDraw = readonly [a: number, b: number, c: number, d: number, e: number, h: number, extra: Uint8Array];

export const skbDraw = (): fc.Arbitrary<SkbDraw> =>
  // the headroom filler as up to 4 words, not 16 byte values (see packetDraw)
  fc.tuple(U32N, U32N, U32N, U32N, U32N, U32N, fc.array(U32N, { maxLength: 4 })).map(([a, b, c, d, e, h, w]): SkbDraw => [a, b, c, d, e, h, wordBytes(w)]);

/** skbFields(): the metadata overrides alone, as an arbitrary. */
export const skbFields = (): fc.Arbitrary<SkBuffFields> => skbDraw().map(([a, b, c, d, e]) => skbFieldsOf(a, b, c, d, e));

/** A full skb case: the packet, the SkBuff built from it through its preset, and the env. */
export interface SkbCase {
  readonly packet: Packet;
  readonly skb: SkBuff;
  readonly env: Env;
}

/** Build the SkBuff for a packet through model/skb.ts's preset and the drawn overrides. */
export function skbOf(
  p: Packet,
  fields: SkBuffFields,
  headers: Pick<SkBuff, 'macHeader' | 'networkHeader' | 'headroom'> | null,
): SkBuff {
  const base = PRESETS[p.preset](p.bytes, { ...fields, headlen: p.headlen });
  return headers === null ? base : { ...base, ...headers };
}

/**
 * Combine a packet and an skb draw (pure), composed from the parts: the packet's preset
 * (model/skb.ts), skbFieldsOf's overrides, headersOf's placement. skbCaseOf builds the same skb.
 */
export function skbCaseOfParts(p: Packet, [a, b, c, d, e, h, extra]: SkbDraw): SkbCase {
  const headers = (h & 0x80000000) !== 0 ? headersOf(h, extra, p.bytes.length, p.networkOffset) : null;
  return { packet: p, skb: skbOf(p, skbFieldsOf(a, b, c, d, e), headers), env: envOf(e >>> 13, h ^ d) };
}

const NO_HEADROOM = new Uint8Array(0);

/**
 * Combine a packet and an skb draw (pure). Half the draws move the headers off the preset's. The
 * skb of skbCaseOfParts, built as one record (the campaigns build one per input).
 */
export function skbCaseOf(p: Packet, draw: SkbDraw): SkbCase {
  for (let i = 0; i < 6; i++) SIX[i] = draw[i] as number;
  return skbCaseAt(p, SIX, 0, draw[6], draw[6].length);
}

/** skbCaseOf's six words, when they come as a draw */
const SIX = new Uint32Array(6);

/**
 * skbCaseOf of the draw's six words w[s .. s + 6) and the headroom filler extra[0 .. nextra) (read
 * here, not passed: a u32 argument above 2^30 would be boxed).
 */
export function skbCaseAt(p: Packet, w: Uint32Array, s: number, extra: Uint8Array, nextra: number): SkbCase {
  return { packet: p, skb: skbAt(p.bytes, p.headlen, p.preset === 'ethernet', p.networkOffset, w, s, extra, nextra), env: envAt(w, s) };
}

/** skbCaseAt's env, of the draw's six words w[s .. s + 6). */
export const envAt = (w: Uint32Array, s: number): Env => envOf(w[s + 4]! >>> 13, w[s + 5]! ^ w[s + 3]!);

/**
 * skbCaseAt's skb for a packet's bytes `data` (headlen, on the ethernet preset or not, its network
 * header at `l3`), from the draw's six words w[s .. s + 6) and the headroom filler extra[0 .. nextra):
 * one record, no packet.
 */
export function skbAt(data: Uint8Array, headlen: number, eth: boolean, l3: number, w: Uint32Array, s: number, extra: Uint8Array, nextra: number): SkBuff {
  const a = w[s]!;
  const b = w[s + 1]!;
  const c = w[s + 2]!;
  const d = w[s + 3]!;
  const e = w[s + 4]!;
  const h = w[s + 5]!;
  // the preset (afUnixSkb / ethernetSkb)
  let macHeader: number | null = eth ? 0 : null;
  let networkHeader = eth ? 14 : 0;
  let headroom: Uint8Array = NO_HEADROOM;
  let dev: NetDevice | null;
  let pktType: number;
  let protocol: number;
  // skbFieldsOf: dev, pkt_type and protocol drawn, or the preset's
  if ((a & 3) !== 0) {
    // netDeviceOf(c, d), its pick()s on the small indices it takes from c
    if ((c & 3) === 0) dev = null;
    else {
      const ds = (c >>> 2) & 15;
      const dt = c >>> 16;
      dev = { ifindex: ds < 12 ? IFINDEX[ds % IFINDEX.length]! : d | 0, type: ds % 4 !== 3 ? HATYPE[dt % HATYPE.length]! : dt };
    }
    pktType = (a >>> 2) & 7;
    protocol = ((a >>> 5) & 31) < 20 ? PROTOCOLS[(a >>> 10) % PROTOCOLS.length]! : (a >>> 10) & 0xffff;
  } else {
    dev = eth ? ETH_DEV : null;
    pktType = eth ? ethTypeTransPktType(data) : 0;
    protocol = eth ? ethTypeTransProtocol(data) : 0;
  }
  // vlanOf(b), without its record
  const t = (b >>> 3) & 0xffff;
  const p = b >>> 19;
  let vlanTci = 0;
  let vlanProto = 0;
  let vlanPresent = false;
  switch (b & 7) {
    case 0:
    case 1:
    case 2:
      break;
    case 3:
    case 4:
      vlanTci = TCI[t % TCI.length]!;
      vlanProto = VLAN_PROTO_TAGS[p % VLAN_PROTO_TAGS.length]!;
      vlanPresent = true;
      break;
    case 5:
      vlanTci = t;
      vlanProto = VLAN_PROTO_TAGS[p % VLAN_PROTO_TAGS.length]!;
      vlanPresent = true;
      break;
    case 6:
      vlanPresent = true;
      break;
    default:
      vlanTci = t || 0x1000;
      vlanProto = (p & 1) === 0 ? 0 : VLAN_PROTO[(p >>> 1) % VLAN_PROTO.length]!;
  }
  const sel = e & 31;
  // remainder(d, n) = d % n for the u32 d, without the fmod call `%` makes of it (node 20: 20 ns against 10)
  const mark = sel % 3 === 0 ? 0 : sel % 3 === 1 ? BOUNDARY_U32[remainder(d, BOUNDARY_U32.length)]! : d >>> 0;
  const hash = sel % 4 === 0 ? 0 : Math.imul(c, 0x9e3779b1) >>> 0;
  const queueMapping = sel % 2 === 0 ? U16_EDGES[(e >>> 5) % U16_EDGES.length]! : (e >>> 8) & 0xffff;
  if ((h & 0x80000000) !== 0) {
    // headersAt(h, extra, nextra, data.length, l3), without its record
    const m = h & 7;
    const n = (h >>> 3) & 7;
    const off = (h >>> 6) & 63;
    const len = data.length;
    macHeader = m === 0 ? null : m === 1 ? -(1 + (off % 14)) : m === 2 ? -14 : m === 3 ? Math.min(off, len) : 0;
    networkHeader =
      n <= 2 ? l3 : n === 3 ? 0 : n === 4 ? NET_AT[off % NET_AT.length]! : n === 5 ? Math.min(0xffff, len + (off % 8)) : n === 6 ? -(1 + (off % 20)) : l3;
    const need = Math.max(0, -(macHeader ?? 0), -networkHeader);
    const hl = need + ((h >>> 12) & 15);
    headroom = slabBytes(hl);
    // headroom[i] = nextra > 0 ? extra[i % nextra] : i, the filler's index stepped rather than divided
    if (nextra > 0) for (let i = 0, j = 0; i < hl; i++, j = j + 1 === nextra ? 0 : j + 1) headroom[i] = extra[j]!;
    else for (let i = 0; i < hl; i++) headroom[i] = i;
  }
  return {
    data,
    headlen,
    headroom,
    macHeader,
    networkHeader,
    protocol,
    pktType,
    dev,
    mark,
    queueMapping,
    hash,
    vlanTci,
    vlanProto,
    vlanPresent,
  };
}

/** The ethernet preset's device (never written: every skb may share it) */
const ETH_DEV: NetDevice = { ifindex: 2, type: ARPHRD_ETHER };

/** skb case for a given packet arbitrary. */
export const skbCaseFrom = (pkt: fc.Arbitrary<Packet>): fc.Arbitrary<SkbCase> =>
  fc.tuple(pkt, skbDraw()).map(([p, d]) => skbCaseOf(p, d));

/** skb case over any packet. */
export const skbCase = (): fc.Arbitrary<SkbCase> => skbCaseFrom(packet());

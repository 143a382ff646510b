// Constant pools the generators draw from: boundaries of u32/s32/s16 arithmetic, packet header
// offsets, the ancillary window and the negative-offset regions of include/uapi/linux/filter.h.
// Plus one biased u32 arbitrary built from a single integer-driven choice (cheap to draw).
import fc from 'fast-check';
import { ANCILLARY, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF, ancillaryK } from '../../model/uapi.js';

/** Arithmetic boundaries (u32): sign bits, s16 limits (eBPF off / imm sign), shift widths. */
export const BOUNDARY_U32: readonly number[] = Object.freeze([
  0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xffff, 0x10000,
  0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
]);

/**
 * Byte offsets where real headers put fields: Ethernet (0 dst, 6 src, 12 type), 802.1Q (14 TCI,
 * 16 inner type), IPv4 at 14 (14 ver/ihl, 16 len, 20 frag, 22 ttl, 23 proto, 26 saddr, 30 daddr),
 * L4 at 34 (34 sport, 36 dport, 38 seq, 46/47 TCP doff/flags), IPv6 at 14 (20 nexthdr, 21 hlim,
 * 22 saddr, 38 daddr), L4 at 54 (54 sport, 56 dport), plus the raw-IP (DGRAM) offsets 0, 9, 12, 16.
 */
export const HEADER_OFFSETS: readonly number[] = Object.freeze([
  0, 1, 2, 6, 9, 12, 13, 14, 15, 16, 18, 20, 21, 22, 23, 24, 26, 30, 34, 36, 38, 40, 42, 46, 47, 48, 54, 56, 58, 62, 66,
]);

/** u32 k of the 16 ancillary loads (SKF_AD_OFF + SKF_AD_*), in SKF_AD_* order. */
export const ANCILLARY_K: readonly number[] = Object.freeze(ANCILLARY.map((a) => ancillaryK(a.ad)));

/** (u32)SKF_AD_OFF: the first k of the LD|ABS ancillary window (net/core/filter.c:1128). */
export const SKF_AD_OFF_U32 = SKF_AD_OFF >>> 0;

/** Small signed offsets added to SKF_NET_OFF / SKF_LL_OFF (header fields relative to nh / mac). */
export const NEG_REL: readonly number[] = Object.freeze([0, 1, 2, 6, 8, 9, 12, 14, 16, 20, 23, 40, 42]);

/**
 * Negative-region k values (as u32) that are NOT in the ABS ancillary window: the start of each
 * region, its last byte, and the gaps in between (below SKF_LL_OFF: invalid, always fails).
 */
export const NEG_BOUNDARY: readonly number[] = Object.freeze(
  [
    SKF_NET_OFF,
    SKF_NET_OFF - 1, // last byte of the LL region
    SKF_LL_OFF,
    SKF_LL_OFF - 1, // below the LL region: load fails
    SKF_LL_OFF - 0x1000,
    -0x80000000,
    SKF_AD_OFF - 1, // 0xffffefff: highest ABS k outside the window (network offset 0xfeFFF)
    SKF_AD_OFF - 4,
    -0x10000,
  ].map((v) => v >>> 0),
);

/** Packet lengths worth hitting (headers end, s16 limits, MTUs). */
export const PACKET_LENGTHS: readonly number[] = Object.freeze([
  0, 1, 2, 3, 4, 5, 13, 14, 15, 20, 33, 34, 35, 42, 54, 55, 60, 64, 74, 128, 1500, 1514,
]);

/** Typical RET K snap lengths. */
export const RET_K: readonly number[] = Object.freeze([0, 1, 4, 14, 64, 96, 0xffff, 0x40000, 0x7fffffff, 0xffffffff]);

/** Whether u32 k is one of the 16 ancillary k (a table lookup, not a search of ANCILLARY_K). */
export const isAncillaryK = (k: number): boolean => {
  const x = k >>> 0;
  return x >= SKF_AD_OFF_U32 && ANC_AT[x - SKF_AD_OFF_U32] === 1;
};
/** ANC_AT[k - SKF_AD_OFF] is 1 for the ancillary k. */
const ANC_AT: Uint8Array = (() => {
  const t = new Uint8Array(0x1000);
  for (const k of ANCILLARY_K) t[k - SKF_AD_OFF_U32] = 1;
  return t;
})();

/** Pick from a pool by an unbounded non-negative integer. */
export const pick = <T>(pool: readonly T[], n: number): T => pool[n % pool.length]!;

/**
 * A u32 drawn from one integer-driven choice: `sel` picks the family, `raw` the value inside it.
 * Families: boundary constants, header offsets, small values, ancillary k, NET/LL-relative offsets,
 * negative-region boundaries, raw u32. Pure, so callers can use it on plain draws.
 */
export const biasedU32 = (sel: number, raw: number): number => biasedI32(sel, raw) >>> 0;

/**
 * biasedU32's 32 bits as an int32: fuzz/arb/program.ts insnAt's draws are calls it does not inline
 * (each is taken by few of its instructions), and a u32 at or above 2^31 returned from a call is a
 * heap number while an int32 is not.
 */
export function biasedI32(sel: number, raw: number): number {
  // each pool indexed in place, as a typed array of a length known here (a remainder by a constant:
  // no division instruction, and no float remainder for a raw above 2^31)
  switch (sel & 7) {
    case 0:
    case 1:
      return BOUNDARY_T[raw % 26]! | 0;
    case 2:
      return HEADER_T[raw % 31]!;
    case 3:
      return raw & 63;
    case 4:
      return ANCILLARY_T[raw & 15]! | 0;
    case 5:
      return (((raw & 1) === 0 ? SKF_NET_OFF : SKF_LL_OFF) + NEG_REL_T[(raw >>> 1) % 13]!) | 0;
    case 6:
      return NEG_BOUNDARY_T[raw % 9]! | 0;
    default:
      return raw | 0;
  }
}

/**
 * The pools biasedU32 (and fuzz/arb/program.ts absK, anyLoadK) read, as typed arrays (same values;
 * their lengths are the constants the readers divide by, checked below).
 */
export const BOUNDARY_T = Uint32Array.from(BOUNDARY_U32);
export const HEADER_T = Uint8Array.from(HEADER_OFFSETS);
export const ANCILLARY_T = Uint32Array.from(ANCILLARY_K);
export const NEG_REL_T = Uint8Array.from(NEG_REL);
export const NEG_BOUNDARY_T = Uint32Array.from(NEG_BOUNDARY);
if (BOUNDARY_T.length !== 26 || HEADER_T.length !== 31 || ANCILLARY_T.length !== 16 || NEG_REL_T.length !== 13 || NEG_BOUNDARY_T.length !== 9 || HEADER_OFFSETS.some((x) => x > 255) || NEG_REL.some((x) => x > 255))
  throw new Error('fuzz/arb/constants.ts: biasedU32 divides by the pools\' lengths: update them with the pools');

/** fast-check arbitrary of a boundary-biased u32 (shrinks toward 0 and toward the first pool). */
export const u32Biased = (): fc.Arbitrary<number> =>
  fc.tuple(fc.nat(7), fc.nat({ max: 0xffffffff })).map(([s, r]) => biasedU32(s, r));

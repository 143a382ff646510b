// The netlink attribute walk behind SKF_AD_NLATTR and SKF_AD_NLATTR_NEST: nla_ok / nla_next /
// nla_find / nla_find_nested (include/net/netlink.h, lib/nlattr.c) and the two eBPF helpers the
// migrated program calls (net/core/filter.c:170 bpf_skb_get_nlattr, :190 bpf_skb_get_nlattr_nest).
//
// struct nlattr { __u16 nla_len; __u16 nla_type; } is read in the machine's byte order (host-endian),
// so every function takes `littleEndian`. C integer widths are kept explicit: nla_len is a u16, the
// walk's `rem` and nla_find's `len` and `attrtype` are int, the helpers' `a` and `x` are u32.
//
// Line numbers: filter.c from the 6.6.y mirror eclipse-oniro-mirrors/kernel_linux_6.6 @ 79226fb0ba80.
// include/net/netlink.h and lib/nlattr.c are not in that mirror; their text was checked against several
// other trees (it is the same in all of them, v4.x to v6.8), but their v6.6 line numbers are not verified,
// so those comments name the function only.

import { skbIsNonlinear, skbLen, type SkBuff } from './skb.js';

/** include/uapi/linux/netlink.h NLA_HDRLEN = NLA_ALIGN(sizeof(struct nlattr)) */
export const NLA_HDRLEN = 4;
/** include/uapi/linux/netlink.h NLA_ALIGNTO */
export const NLA_ALIGNTO = 4;
/** include/uapi/linux/netlink.h NLA_F_NESTED (1 << 15) */
export const NLA_F_NESTED = 1 << 15;
/** include/uapi/linux/netlink.h NLA_F_NET_BYTEORDER (1 << 14) */
export const NLA_F_NET_BYTEORDER = 1 << 14;
/** include/uapi/linux/netlink.h NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER), a C int (-49153) */
export const NLA_TYPE_MASK: number = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/** include/uapi/linux/netlink.h NLA_ALIGN(len): round up to a multiple of 4 (int arithmetic). */
export const nlaAlign = (n: number): number => (n + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1);

/** A host-endian u16 at bytes[pos], bytes[pos + 1]. */
function hostU16(bytes: Uint8Array, pos: number, littleEndian: boolean): number {
  if (pos < 0 || pos + 2 > bytes.length) throw new RangeError(`nlattr header at ${pos} is outside 0..${bytes.length}`);
  const b0 = bytes[pos]!;
  const b1 = bytes[pos + 1]!;
  return littleEndian ? b0 | (b1 << 8) : (b0 << 8) | b1;
}

/** nla->nla_len (u16, host-endian) of the attribute at `pos`. */
export const nlaLenField = (bytes: Uint8Array, pos: number, littleEndian: boolean): number =>
  hostU16(bytes, pos, littleEndian);

/** include/net/netlink.h nla_type: nla->nla_type & NLA_TYPE_MASK (an int in 0..0x3fff). */
export const nlaType = (bytes: Uint8Array, pos: number, littleEndian: boolean): number =>
  hostU16(bytes, pos + 2, littleEndian) & NLA_TYPE_MASK;

/**
 * include/net/netlink.h nla_ok: rem >= 4 && nla_len >= 4 && nla_len <= rem (int arithmetic as in C).
 * The header is only read when rem >= 4, as C's && short-circuits.
 */
export function nlaOk(bytes: Uint8Array, pos: number, rem: number, littleEndian: boolean): boolean {
  if ((rem | 0) < NLA_HDRLEN) return false;
  const len = nlaLenField(bytes, pos, littleEndian);
  return len >= NLA_HDRLEN && len <= (rem | 0);
}

/**
 * lib/nlattr.c nla_find over bytes[start .. start+len): offset (into `bytes`) of the first attribute of
 * `type`, or -1. The walk is nla_for_each_attr (include/net/netlink.h): while nla_ok(pos, rem), test
 * nla_type(pos) == attrtype, then nla_next: totlen = NLA_ALIGN(nla_len), rem -= totlen, pos += totlen.
 * `len` and `type` are C ints: a type above 0x3fff (or negative) never matches, a len below 4 finds
 * nothing. Throws RangeError if [start, start+len) is not inside `bytes` (misuse: the kernel's callers
 * guarantee it).
 */
export function nlaFind(bytes: Uint8Array, start: number, len: number, type: number, littleEndian: boolean): number {
  const attrtype = type | 0;
  let rem = len | 0;
  if (!Number.isInteger(start) || start < 0 || start + Math.max(rem, 0) > bytes.length)
    throw new RangeError(`nla_find over ${start}+${len} is outside 0..${bytes.length}`);
  let pos = start;
  while (nlaOk(bytes, pos, rem, littleEndian)) {
    if (nlaType(bytes, pos, littleEndian) === attrtype) return pos;
    // include/net/netlink.h nla_next
    const totlen = nlaAlign(nlaLenField(bytes, pos, littleEndian));
    rem = (rem - totlen) | 0;
    pos += totlen;
  }
  return -1;
}

/**
 * include/net/netlink.h nla_find_nested: nla_find(nla_data(nla), nla_len(nla), attrtype), where
 * nla_len(nla) = nla->nla_len - NLA_HDRLEN is a signed int in v6.6, so nla_len < 4 gives a negative
 * length and finds nothing. Returns the offset into `bytes`, or -1.
 */
export function nlaFindNested(bytes: Uint8Array, pos: number, type: number, littleEndian: boolean): number {
  const payloadLen = nlaLenField(bytes, pos, littleEndian) - NLA_HDRLEN;
  if (payloadLen < NLA_HDRLEN) return -1; // nla_find's walk would stop at once (rem < 4); nothing is read
  return nlaFind(bytes, pos + NLA_HDRLEN, payloadLen, type, littleEndian);
}

// net/core/filter.c:174-181, 200-205 bpf_skb_get_nlattr, bpf_skb_get_nlattr_nest: the guards both helpers start with (the same text as the
// 3.14 sk_run_filter NLATTR / NLATTR_NEST cases after the CVE-2014-3144/3145 fix, 3.14:353, 3.14:371)
/**
 * Whether the guards refuse `a`: the skb must be linear, at least sizeof(struct nlattr) long, `a`
 * (u32) must leave room for one header, and for NEST the attribute at `a` must satisfy
 * nla_len <= skb->len - a (no nla_ok in v6.6: nla_len < 4 passes).
 */
export function nlattrGuardFails(skb: SkBuff, a: number, nest: boolean, littleEndian: boolean): boolean {
  if (skbIsNonlinear(skb)) return true;
  const len = skbLen(skb);
  if (len < NLA_HDRLEN) return true;
  // a > skb->len - sizeof(struct nlattr): u64 arithmetic, cannot wrap after the test above
  if (a >>> 0 > len - NLA_HDRLEN) return true;
  return nest && nlaLenField(skb.data, a >>> 0, littleEndian) > len - (a >>> 0);
}

/**
 * net/core/filter.c:170 bpf_skb_get_nlattr(skb, a, x) -> u64 result (0 or offset).
 * a and x are u32 (the BPF_CALL_3 prototype truncates the u64 registers); x becomes nla_find's int
 * attrtype. A match at offset 0 also returns 0, as in the kernel.
 */
export function bpfSkbGetNlattr(skb: SkBuff, a: number, x: number, littleEndian: boolean): number {
  if (nlattrGuardFails(skb, a, false, littleEndian)) return 0;
  const start = a >>> 0;
  // nla_find(&skb->data[a], skb->len - a, x): the u32 length and the u32 x both become ints
  const nla = nlaFind(skb.data, start, (skbLen(skb) - start) | 0, x >>> 0, littleEndian);
  return nla >= 0 ? nla : 0;
}

/**
 * net/core/filter.c:190 bpf_skb_get_nlattr_nest(skb, a, x) -> u64 result (0 or offset).
 * After the guards, the attribute at a must satisfy nla_len <= skb->len - a (filter.c:204; v6.6 has no
 * nla_ok here, so nla_len < 4 passes and nla_find_nested then finds nothing), then nla_find_nested.
 */
export function bpfSkbGetNlattrNest(skb: SkBuff, a: number, x: number, littleEndian: boolean): number {
  if (nlattrGuardFails(skb, a, true, littleEndian)) return 0;
  const nla = nlaFindNested(skb.data, a >>> 0, x >>> 0, littleEndian);
  return nla >= 0 ? nla : 0;
}

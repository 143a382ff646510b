// The skb an AF_UNIX datagram becomes (net/unix/af_unix.c unix_dgram_sendmsg), as the model's
// af_unix preset describes it: no dev, no mac header, network header 0, no headroom, every metadata
// field 0; datagrams longer than SKB_MAX_ALLOC keep their tail in page frags.
import { afUnixSkb, type SkBuff } from '../../model/skb.js';

const PAGE_SIZE = 4096;
/** CONFIG_MAX_SKB_FRAGS (17 by default, and on this machine). */
export const MAX_SKB_FRAGS = 17;
/**
 * include/linux/skbuff.h SKB_MAX_ALLOC = SKB_MAX_ORDER(0, 2) = (PAGE_SIZE << 2) -
 * SKB_DATA_ALIGN(sizeof(struct skb_shared_info)); sizeof(struct skb_shared_info) is 320 on x86-64
 * with 17 frags (48 bytes of fields + 17 x 16-byte skb_frag_t), already a multiple of 64.
 * Checked live: the linear/non-linear boundary lies between 16064 and 16065 bytes (test/oracle).
 */
export const SKB_MAX_ALLOC = (PAGE_SIZE << 2) - 320;

const pageAlign = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

// net/unix/af_unix.c unix_dgram_sendmsg: `if (len > SKB_MAX_ALLOC) { data_len = min(len - SKB_MAX_ALLOC, MAX_SKB_FRAGS * PAGE_SIZE); data_len = PAGE_ALIGN(data_len); }`
/** skb_headlen() of a `len`-byte datagram: len - data_len. */
export function unixDgramHeadlen(len: number): number {
  if (len <= SKB_MAX_ALLOC) return len;
  const dataLen = pageAlign(Math.min(len - SKB_MAX_ALLOC, MAX_SKB_FRAGS * PAGE_SIZE));
  return len - dataLen;
}

/** The model's skb for a datagram of these bytes, as the kernel builds it. */
export const unixDgramSkb = (data: Uint8Array): SkBuff => afUnixSkb(data, { headlen: unixDgramHeadlen(data.length) });

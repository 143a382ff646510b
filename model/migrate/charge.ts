// What a socket filter costs the socket: struct sk_filter is charged to sk->sk_omem_alloc against
// net.core.optmem_max when it is attached, and uncharged when it is replaced or detached
// (net/core/filter.c, 6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6 @ 79226fb0ba80).
// The refcount of struct sk_filter is not modelled: a filter here belongs to one socket, and
// sk_filter_release (:1209) only frees it once the last reference is gone.
import { ENOMEM } from '../uapi.js';
import { reject, type Rejection } from '../verdict.js';
import { SIZEOF_BPF_PROG, SIZEOF_INSN } from '../ebpf/layout.js';
import type { KernelConfig } from '../kernel.js';
import type { SkFilter, Sock } from '../attach.js';

// include/linux/filter.h:797 bpf_prog_size
/**
 * bpf_prog_size(proglen) = max(sizeof(struct bpf_prog), offsetof(struct bpf_prog, insns[proglen]))
 * = max(header, header + 8 * proglen), header = 72 on v6.6 x86-64 (struct bpf_prog derived in
 * model/ebpf/layout.ts; KernelConfig.bpfProgHeaderSize for other kernels). Unsigned int arithmetic.
 */
export function bpfProgSize(proglen: number, header: number = SIZEOF_BPF_PROG): number {
  return Math.max(header, (header + SIZEOF_INSN * proglen) >>> 0) >>> 0;
}

/** The charge of one filter: bpf_prog_size(fp->prog->len), the program as bpf_prog_select_runtime left it (blinded or not). */
const filterSize = (fp: SkFilter, config: Pick<KernelConfig, 'bpfProgHeaderSize'>): number => bpfProgSize(fp.prog.migrated.len, config.bpfProgHeaderSize);

// net/core/filter.c:1215 sk_filter_uncharge
/**
 * atomic_sub(bpf_prog_size(fp->prog->len), &sk->sk_omem_alloc), then sk_filter_release(fp). The
 * socket with the charge taken off (sk_omem_alloc is an atomic_t: int arithmetic).
 */
export function skFilterUncharge(sk: Sock, fp: SkFilter, config: Pick<KernelConfig, 'bpfProgHeaderSize'>): Sock {
  return { ...sk, omemAlloc: (sk.omemAlloc - filterSize(fp, config)) | 0 };
}

// net/core/filter.c:1226 __sk_filter_charge
/**
 * `filter_size <= optmem_max && sk_omem_alloc + filter_size < optmem_max` (:1232; strict `<`, "same
 * check as in sock_kmalloc()"): the socket with the charge added, or null (false: no room). The sum
 * and the comparisons are unsigned (u32 filter_size against int optmem_max).
 *
 * Only bpf_prog_size(prog->len) is charged: __sk_attach_prog kmallocs the struct sk_filter wrapper
 * without charging it, and the saved classic copy (bpf_prog_store_orig_filter) is not charged either.
 * When a socket already has a filter, its charge is still in sk_omem_alloc while the new one is
 * charged (__sk_attach_prog uncharges the old one only afterwards), so replacing a filter needs room
 * for both.
 */
export function __skFilterCharge(sk: Sock, fp: SkFilter, config: Pick<KernelConfig, 'optmemMax' | 'bpfProgHeaderSize'>): Sock | null {
  const size = filterSize(fp, config);
  const optmemMax = config.optmemMax >>> 0; // int optmem_max compared with u32 filter_size: unsigned comparison
  if (size <= optmemMax && ((sk.omemAlloc + size) >>> 0) < optmemMax) return { ...sk, omemAlloc: (sk.omemAlloc + size) | 0 };
  return null;
}

// net/core/filter.c:1240 sk_filter_charge
/**
 * Take a reference on a filter another socket holds and charge it to `sk` (sk_clone_lock: a socket
 * accepted from a listener inherits the listener's filter). null when it does not fit (the reference
 * is released again). refcount_inc_not_zero cannot fail for a filter that is attached.
 */
export function skFilterCharge(sk: Sock, fp: SkFilter, config: Pick<KernelConfig, 'optmemMax' | 'bpfProgHeaderSize'>): Sock | null {
  return __skFilterCharge(sk, fp, config);
}

/** The rejection __sk_attach_prog returns when __sk_filter_charge says false. */
export const chargeRejection = (): Rejection => reject(-ENOMEM, 'charge', 'optmem-exceeded', null, 'net/core/filter.c:1232');

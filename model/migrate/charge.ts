// What attaching a migrated filter charges to the socket (net/core/filter.c, 6.6.y @ 79226fb0ba80).
import { ENOMEM } from '../uapi.js';
import { reject, type Rejection } from '../verdict.js';
import { SIZEOF_BPF_PROG, SIZEOF_INSN } from '../ebpf/layout.js';

// include/linux/filter.h bpf_prog_size (static inline, ~L850; exact line UNVERIFIED)
/**
 * bpf_prog_size(proglen) = max(sizeof(struct bpf_prog), offsetof(struct bpf_prog, insns[proglen]))
 * = max(header, header + 8 * proglen), header = 72 on v6.6 x86-64 (struct bpf_prog derived in
 * model/ebpf/layout.ts; KernelConfig.bpfProgHeaderSize for other kernels). Unsigned int arithmetic.
 */
export function bpfProgSize(proglen: number, header: number = SIZEOF_BPF_PROG): number {
  return Math.max(header, (header + SIZEOF_INSN * proglen) >>> 0) >>> 0;
}

// net/core/filter.c:1226 __sk_filter_charge
/**
 * Charge a migrated program of `progLen` eBPF insns to a socket whose sk_omem_alloc is `omemAlloc`:
 * `filter_size <= optmem_max && sk_omem_alloc + filter_size < optmem_max` (F:1232; strict `<`,
 * "same check as in sock_kmalloc()"), else -ENOMEM from __sk_attach_prog.
 *
 * Only bpf_prog_size(prog->len) is charged: __sk_attach_prog kmallocs the struct sk_filter
 * wrapper without charging it, and the saved classic copy (bpf_prog_store_orig_filter) is not
 * charged either. When a socket already has a filter, its charge is still in sk_omem_alloc while
 * the new one is charged (the old one is uncharged only afterwards), so replacing a filter needs
 * room for both: pass the old charge in `omemAlloc`.
 */
export function skFilterCharge(progLen: number, optmemMax: number, omemAlloc = 0, header: number = SIZEOF_BPF_PROG): Rejection | null {
  const filterSize = bpfProgSize(progLen, header);
  const max = optmemMax >>> 0; // int optmem_max compared with u32 filter_size: unsigned comparison
  if (filterSize <= max && ((omemAlloc + filterSize) >>> 0) < max) return null;
  return reject(-ENOMEM, 'charge', 'optmem-exceeded', null, 'net/core/filter.c:1232');
}

// The memory the migrated seccomp program reads: struct seccomp_data, which seccomp_run_filters
// passes as the context (kernel/seccomp.c:426 bpf_prog_run_pin_on_cpu(f->prog, sd): R1 = sd). The
// kernel's copy is __seccomp_filter's stack variable sd_local (or the arch's own); here it is one
// read-only region of model/ebpf/memory.ts. The only loads a migrated seccomp program makes are
// `LDX_MEM(W, A, CTX, k)` with k < 64 and k % 4 == 0 (seccomp_check_filter's rule); anything else
// would be an out-of-bounds fault of the model.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import { Memory, type Region } from '../ebpf/memory.js';
import { type SeccompData, seccompDataWords } from './data.js';
import { SIZEOF_SECCOMP_DATA } from './uapi.js';

/** A memory with the seccomp_data region and the context pointer (R1). */
export interface SeccompImage {
  readonly mem: Memory;
  readonly region: Region;
  readonly ctx: { readonly hi: number; readonly lo: number };
}

/** Create the region once (read-only: a filter never writes its context); refill it per call with layOutSeccompData. */
export function createSeccompImage(mem: Memory = new Memory()): SeccompImage {
  const region = mem.addRegion('seccomp_data', SIZEOF_SECCOMP_DATA, false);
  region.resize(SIZEOF_SECCOMP_DATA);
  return { mem, region, ctx: { hi: region.hi, lo: region.lo(0) } };
}

/**
 * Write `sd` into the image. The model's memory reads little-endian (x86-64), so each 32-bit word is
 * stored as the value a native-endian load of that word gives on the ABI's machine: for little-endian
 * ABIs these are exactly the struct's bytes; for big-endian ones (s390x, ppc64) each word is the value
 * a big-endian machine loads (args[i]'s high half at 16 + 8i). Only 32-bit loads reach this region.
 */
export function layOutSeccompData(img: SeccompImage, sd: SeccompData, littleEndian = true): void {
  const words = seccompDataWords(sd, littleEndian);
  const dv = img.region.dv;
  const base = img.region.bufOff;
  for (let w = 0; w < words.length; w++) dv.setUint32(base + 4 * w, words[w]!, true);
}

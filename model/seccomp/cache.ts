// The kernel's second evaluator of a seccomp filter: the action cache (kernel/seccomp.c, 6.6.y
// snapshot). When a filter is attached, seccomp_cache_prepare emulates it once per system call number
// of the native and compat architectures with only nr and arch known (seccomp_is_const_allow); a
// number for which every path that the emulation can follow ends in RET #SECCOMP_RET_ALLOW is marked
// always allowed, and seccomp_run_filters then returns ALLOW for it without running any filter.
//
// The emulator runs on orig_prog, the program as the user passed it (before seccomp_check_filter's
// rewrites), and knows only: LD|W|ABS of nr (k = 0) or arch (k = 4), RET|K, JA, JEQ/JGE/JGT/JSET with
// K, and AND|K. Anything else (a load of args or instruction_pointer, X, any other ALU operation,
// RET A, scratch memory) answers "not constant". A new filter's bitmap starts as its predecessor's
// (bitmap_copy), so a number stays cached only while every filter of the stack allows it.
//
// Safety property (checked by the fuzzer, fuzz/seccomp/properties.ts): a number the cache marks must
// get SECCOMP_RET_ALLOW from every filter of the stack for every argument and instruction pointer,
// by the classic evaluator and by the migrated program. A counterexample would be a kernel bug.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import type { Program } from '../cbpf/insn.js';
import type { SeccompHost } from './host.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_RET_ALLOW } from './uapi.js';

/** The two constant fields the emulator knows. */
export interface ConstSeccompData {
  readonly nr: number;
  readonly arch: number;
}

/** struct action_cache (kernel/seccomp.c:166): one bit (here a byte) per system call number. */
export interface ActionCache {
  readonly allowNative: Uint8Array | null;
  readonly allowCompat: Uint8Array | null;
}

// kernel/seccomp.c (v6.13+) seccomp_uprobe_exception; absent from v6.6 (host.uprobeException = [])
/** Whether the host lets this native number bypass the filters (uretprobe, uprobe). */
export function seccompUprobeException(sd: ConstSeccompData, host: SeccompHost): boolean {
  if (host.uprobeException.length === 0) return false;
  if (host.compat !== null && host.native !== null && sd.arch >>> 0 !== host.native.audit) return false;
  return host.uprobeException.includes(sd.nr | 0);
}

const LD_W_ABS = 0x20;
const RET_K = 0x06;
const JA = 0x05;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JGT_K = 0x25;
const JSET_K = 0x45;
const AND_K = 0x54;

// kernel/seccomp.c:729 seccomp_is_const_allow
/**
 * Emulate `fprog` (orig_prog) with only sd->nr and sd->arch known: true when it reaches RET K with
 * k == SECCOMP_RET_ALLOW exactly (ALLOW with data bits set is not cached). reg_value is an unsigned
 * int starting at 0 (A starts at 0 in the real run too). JA adds k to pc without a bound (the program
 * passed bpf_check_classic); a conditional jump adds jt or jf. Running off the end is a WARN and false.
 * `host` adds the post-6.6 uprobe exception (none on v6.6).
 */
export function seccompIsConstAllow(fprog: Program | null, sd: ConstSeccompData, host?: SeccompHost): boolean {
  if (fprog === null) return false; // :736 WARN_ON_ONCE(!fprog)
  if (host !== undefined && seccompUprobeException(sd, host)) return true; // v6.13+: "our single exception to filtering"
  let regValue = 0;
  for (let pc = 0; pc < fprog.length; pc++) {
    const insn = fprog[pc]!;
    const k = insn.k >>> 0;
    switch (insn.code) {
      case LD_W_ABS: // :745
        if (k === SECCOMP_DATA_NR) regValue = sd.nr >>> 0;
        else if (k === SECCOMP_DATA_ARCH) regValue = sd.arch >>> 0;
        else return false; // :755 can't optimize (non-constant value load)
        break;
      case RET_K: // :758
        return k === SECCOMP_RET_ALLOW >>> 0;
      case JA: // :761
        pc += k;
        break;
      case JEQ_K:
      case JGE_K:
      case JGT_K:
      case JSET_K: {
        // :764
        let opRes: boolean;
        if (insn.code === JEQ_K) opRes = regValue === k;
        else if (insn.code === JGE_K) opRes = regValue >= k;
        else if (insn.code === JGT_K) opRes = regValue > k;
        else opRes = (regValue & k) !== 0;
        pc += opRes ? insn.jt : insn.jf;
        break;
      }
      case AND_K: // :788
        regValue = (regValue & k) >>> 0;
        break;
      default:
        return false; // :793 can't optimize (unknown insn)
    }
  }
  return false; // :799 ran off the end of the filter?! WARN_ON(1)
}

// kernel/seccomp.c:802 seccomp_cache_prepare_bitmap
/**
 * The bitmap of one architecture for a new filter: a copy of the previous filter's (or all ones), then
 * every number still set is emulated and cleared unless constant-allow.
 */
export function seccompCachePrepareBitmap(fprog: Program | null, bitmapPrev: Uint8Array | null, bitmapSize: number, arch: number, host?: SeccompHost): Uint8Array {
  const bitmap = new Uint8Array(bitmapSize);
  if (bitmapPrev !== null) bitmap.set(bitmapPrev.subarray(0, bitmapSize)); // :812 bitmap_copy
  else bitmap.fill(1); // :815 bitmap_fill: before any filters, all syscalls are always allowed
  for (let nr = 0; nr < bitmapSize; nr++) {
    if (bitmap[nr] === 0) continue; // :820 no bitmap change: not a cacheable action
    if (seccompIsConstAllow(fprog, { nr, arch }, host)) continue; // :827
    bitmap[nr] = 0; // :834 __clear_bit
  }
  return bitmap;
}

// kernel/seccomp.c:844 seccomp_cache_prepare
/** The action cache of a filter attached on top of `prev` (null: the first filter). */
export function seccompCachePrepare(fprog: Program | null, prev: ActionCache | null, host: SeccompHost): ActionCache {
  const allowNative = host.native === null ? null : seccompCachePrepareBitmap(fprog, prev?.allowNative ?? null, host.native.nr, host.native.audit, host);
  const allowCompat = host.compat === null ? null : seccompCachePrepareBitmap(fprog, prev?.allowCompat ?? null, host.compat.nr, host.compat.audit, host);
  return { allowNative, allowCompat };
}

// kernel/seccomp.c:351 seccomp_cache_check_allow_bitmap
/** test_bit(nr) when 0 <= nr < size (array_index_nospec), else false. */
export function seccompCacheCheckAllowBitmap(bitmap: Uint8Array, bitmapSize: number, syscallNr: number): boolean {
  if (syscallNr < 0 || syscallNr >= bitmapSize) return false;
  return bitmap[syscallNr] === 1;
}

// kernel/seccomp.c:369 seccomp_cache_check_allow
/**
 * Whether the cache of the most recent filter answers ALLOW for this call: by sd->arch, the native
 * or the compat bitmap; another arch is a WARN_ON_ONCE and false (the kernel never fills sd->arch with
 * a third value, but a model user can). Native-only kernels do not look at sd->arch.
 */
export function seccompCacheCheckAllow(cache: ActionCache, sd: ConstSeccompData, host: SeccompHost): boolean {
  const nr = sd.nr | 0;
  if (host.native === null || cache.allowNative === null) return false; // no SECCOMP_ARCH_NATIVE: no cache
  if (host.compat === null) return seccompCacheCheckAllowBitmap(cache.allowNative, host.native.nr, nr);
  if (sd.arch >>> 0 === host.native.audit) return seccompCacheCheckAllowBitmap(cache.allowNative, host.native.nr, nr);
  if (sd.arch >>> 0 === host.compat.audit && cache.allowCompat !== null) return seccompCacheCheckAllowBitmap(cache.allowCompat, host.compat.nr, nr);
  return false; // :391 WARN_ON_ONCE(true)
}

/** Model helper: the numbers a bitmap marks always allowed. */
export const cachedNumbers = (bitmap: Uint8Array | null): number[] => {
  const out: number[] = [];
  if (bitmap !== null) for (let nr = 0; nr < bitmap.length; nr++) if (bitmap[nr] === 1) out.push(nr);
  return out;
};

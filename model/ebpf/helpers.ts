// The kernel functions a migrated classic program calls (BPF_EMIT_CALL in bpf_convert_filter).
// In the kernel the CALL's imm is `func - __bpf_call_base`, an address difference; the model uses
// a small symbolic id per helper instead, and this file is the table that names them (for the
// disassembler) and implements them (for the interpreter).
//
// Calling convention of the model: a helper gets the helper environment (the skb and the machine
// facts) and the low 32 bits of R2..R4 as u32 numbers; BPF_CALL_x casts every u64 register to the
// declared C type, and every argument these helpers declare is 32 bits wide (int or u32), except
// the skb and data pointers. R1 is always CTX (the skb); R2 of the load helpers is always D =
// skb->data, because nothing in a migrated program writes R8 after the prologue, so the model takes
// data from the skb. The result is the helper's u64 return value as a JS number: values >= 0 are
// the (zero-extended) u64, values < 0 are negative C return values (-EFAULT) seen as s64.
import { EFAULT, SKF_LL_OFF, SKF_NET_OFF } from '../uapi.js';
import type { KernelConfig } from '../config.js';
import type { SkBuff } from '../skb.js';
import { prandomU32State, type RndState } from '../prandom.js';
import { bpfSkbGetNlattr, bpfSkbGetNlattrNest } from '../netlink.js';
import { bpfSkbGetNlattrNestU16, NLATTR_OOB } from '../variants.js';
import { makeFault } from './memory.js';
import { skbGetPoff } from '../flow.js';
import type { HelperCall } from './interp.js';

/** Symbolic CALL imm values (BPF_EMIT_CALL(func) in the kernel). */
export const HELPER_SKB_LOAD_8 = 1;
export const HELPER_SKB_LOAD_16 = 2;
export const HELPER_SKB_LOAD_32 = 3;
export const HELPER_SKB_GET_PAY_OFFSET = 4;
export const HELPER_SKB_GET_NLATTR = 5;
export const HELPER_SKB_GET_NLATTR_NEST = 6;
export const HELPER_GET_RAW_CPU_ID = 7;
export const HELPER_USER_RND_U32 = 8;

/** One helper: its id (the CALL imm), kernel name and where the kernel defines it. */
export interface HelperInfo {
  readonly id: number;
  readonly name: string;
  readonly at: string;
}

export const HELPERS: readonly HelperInfo[] = [
  { id: HELPER_SKB_LOAD_8, name: 'bpf_skb_load_helper_8', at: 'net/core/filter.c:228' },
  { id: HELPER_SKB_LOAD_16, name: 'bpf_skb_load_helper_16', at: 'net/core/filter.c:253' },
  { id: HELPER_SKB_LOAD_32, name: 'bpf_skb_load_helper_32', at: 'net/core/filter.c:278' },
  { id: HELPER_SKB_GET_PAY_OFFSET, name: 'bpf_skb_get_pay_offset', at: 'net/core/filter.c:165' },
  { id: HELPER_SKB_GET_NLATTR, name: 'bpf_skb_get_nlattr', at: 'net/core/filter.c:170' },
  { id: HELPER_SKB_GET_NLATTR_NEST, name: 'bpf_skb_get_nlattr_nest', at: 'net/core/filter.c:190' },
  { id: HELPER_GET_RAW_CPU_ID, name: 'bpf_get_raw_cpu_id', at: 'kernel/bpf/core.c:2821' },
  { id: HELPER_USER_RND_U32, name: 'bpf_user_rnd_u32', at: 'kernel/bpf/core.c:2803' },
];

/** Helper id -> kernel name, for the disassembler. */
export const HELPER_NAMES: Readonly<Record<number, string>> = Object.fromEntries(HELPERS.map((h) => [h.id, h.name]));

/** The kernel name of a CALL imm, or `helper#<imm>` for an id the converter never emits. */
export const helperName = (imm: number): string => HELPER_NAMES[imm] ?? `helper#${imm}`;

/** What a helper can see besides its arguments. */
export interface HelperEnv {
  readonly skb: SkBuff;
  readonly config: KernelConfig;
  /** raw_smp_processor_id() */
  readonly cpu: number;
  /** this CPU's bpf_user_rnd_state (advanced by each bpf_user_rnd_u32 call) */
  readonly rnd: RndState;
}

/** A helper body: env and the low 32 bits of R2, R3, R4 (u32); returns the u64 result (see above). */
export type HelperFn = (env: HelperEnv, r2: number, r3: number, r4: number) => number;

/** What bpf_skb_load_helper_convert_offset returns for an offset it cannot convert. */
export const INT_MIN = -0x80000000;

/** Byte at a position relative to skb->data; negative positions are in the headroom. */
function byteAt(skb: SkBuff, pos: number): number {
  if (pos >= 0) return skb.data[pos]!;
  const i = skb.headroom.length + pos;
  if (i < 0) throw new RangeError(`skb read at data${pos} is before skb->head (headroom ${skb.headroom.length})`);
  return skb.headroom[i]!;
}

/** Big-endian value of `len` bytes at a data-relative position (get_unaligned_be16/32, or one byte). */
export function readBe(skb: SkBuff, pos: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + byteAt(skb, pos + i);
  return v;
}

// net/core/skbuff.c skb_copy_bits (line UNVERIFIED: the 6.6 mirror's skbuff.c was not read)
/**
 * The big-endian value of `len` bytes copied from data-relative `offset`, or null where
 * skb_copy_bits fails. Its only failure for a consistent skb is the first test,
 * `offset > (int)skb->len - len`; it then copies the head part (start = skb_headlen(skb),
 * `copy = start - offset > 0`, from skb->data + offset, so a negative offset reads the headroom)
 * and the rest from the frags, which the model keeps right after the linear bytes.
 */
export function skbCopyBits(skb: SkBuff, offset: number, len: number): number | null {
  if (offset > ((skb.data.length - len) | 0)) return null;
  return readBe(skb, offset, len);
}

// kernel/bpf/core.c:74 bpf_internal_load_pointer_neg_helper
/**
 * The data-relative position of a negative-offset load of `size` bytes, or null: network-relative
 * for k >= SKF_NET_OFF, mac-relative for k >= SKF_LL_OFF when the mac header was set; accepted only
 * if head <= ptr and ptr + size <= skb_tail_pointer (the end of the linear data): headroom and
 * linear area only, never the frags.
 */
export function bpfInternalLoadPointerNegHelper(skb: SkBuff, k: number, size: number): number | null {
  let pos: number;
  if (k >= SKF_NET_OFF) {
    pos = skb.networkHeader + (k - SKF_NET_OFF);
  } else if (k >= SKF_LL_OFF) {
    if (skb.macHeader === null) return null; // C:81 (the classic evaluator tests this first; here only under loadHelpers v6.6.0)
    pos = skb.macHeader + (k - SKF_LL_OFF);
  } else {
    return null; // ptr stays NULL, which fails ptr >= skb->head
  }
  if (pos >= -skb.headroom.length && pos + size <= skb.headlen) return pos;
  return null;
}

// net/core/filter.c:214 bpf_skb_load_helper_convert_offset (6.6.y after the d4bac0288a2b backport)
/** A negative classic offset made data-relative (network or mac based), or INT_MIN when it cannot be. */
export function bpfSkbLoadHelperConvertOffset(skb: SkBuff, offset: number): number {
  if (offset >= 0) return offset;
  if (offset >= SKF_NET_OFF) return offset - SKF_NET_OFF + skb.networkHeader;
  if (offset >= SKF_LL_OFF && skb.macHeader !== null) return offset - SKF_LL_OFF + skb.macHeader;
  return INT_MIN;
}

// net/core/filter.c:228/253/278 bpf_skb_load_helper_{8,16,32}, 6.6.y (backport) body
function loadHelperBackport(skb: SkBuff, headlen: number, offset: number, len: number): number {
  offset = bpfSkbLoadHelperConvertOffset(skb, offset);
  if (offset === INT_MIN) return -EFAULT;
  if (((headlen - offset) | 0) >= len) return readBe(skb, offset, len);
  const v = skbCopyBits(skb, offset, len);
  return v === null ? -EFAULT : v;
}

// net/core/filter.c bpf_skb_load_helper_{8,16,32}, pristine v6.6.0 body (kernel-spec.md 4.2)
function loadHelperV660(skb: SkBuff, headlen: number, offset: number, len: number): number {
  if (offset >= 0) {
    if (((headlen - offset) | 0) >= len) return readBe(skb, offset, len);
    const v = skbCopyBits(skb, offset, len);
    if (v !== null) return v;
  } else {
    const pos = bpfInternalLoadPointerNegHelper(skb, offset, len);
    if (pos !== null) return readBe(skb, pos, len);
  }
  return -EFAULT;
}

// net/core/filter.c:228 bpf_skb_load_helper_8 (and _16 at :253, _32 at :278), both versions
/**
 * bpf_skb_load_helper_{8,16,32}(skb, data, headlen, offset) for `len` = 1, 2, 4: the big-endian
 * value, or -EFAULT. `config.loadHelpers` picks the body: 'v6.6.0' (negative offsets through
 * bpf_internal_load_pointer_neg_helper, linear area only) or 'backport' (converted offsets, frags
 * reachable through skb_copy_bits).
 */
export function bpfSkbLoadHelper(env: HelperEnv, headlen: number, offset: number, len: number): number {
  const h = headlen | 0;
  const off = offset | 0;
  return env.config.loadHelpers === 'backport' ? loadHelperBackport(env.skb, h, off, len) : loadHelperV660(env.skb, h, off, len);
}

// kernel/bpf/core.c:2821 bpf_get_raw_cpu_id
export const bpfGetRawCpuId = (env: HelperEnv): number => env.cpu >>> 0;

// kernel/bpf/core.c:2803 bpf_user_rnd_u32
export const bpfUserRndU32 = (env: HelperEnv): number => prandomU32State(env.rnd);

// net/core/filter.c:165 bpf_skb_get_pay_offset -> skb_get_poff (model/flow.ts)
export const bpfSkbGetPayOffset = (env: HelperEnv): number => skbGetPoff(env.skb, env.config);

// net/core/filter.c:170 bpf_skb_get_nlattr(skb, a = A, x = X) (model/netlink.ts)
export const bpfSkbGetNlattrHelper = (env: HelperEnv, a: number, x: number): number =>
  bpfSkbGetNlattr(env.skb, a, x, env.config.littleEndian);

// net/core/filter.c:190 bpf_skb_get_nlattr_nest(skb, a = A, x = X) (model/netlink.ts)
export const bpfSkbGetNlattrNestHelper = (env: HelperEnv, a: number, x: number): number =>
  env.config.nlattrNestLen === 'u16' // KernelConfig.nlattrNestLen: 6.8-rc's u16 nla_len() (model/variants.ts)
    ? bpfSkbGetNlattrNestU16(env.skb, a, x, env.config.littleEndian)
    : bpfSkbGetNlattrNest(env.skb, a, x, env.config.littleEndian);

/** Every helper body by id: (env, R2, R3, R4 low words) -> result. */
export const HELPER_FUNCS: Readonly<Record<number, HelperFn>> = {
  [HELPER_SKB_LOAD_8]: (env, _d, h, off) => bpfSkbLoadHelper(env, h, off, 1),
  [HELPER_SKB_LOAD_16]: (env, _d, h, off) => bpfSkbLoadHelper(env, h, off, 2),
  [HELPER_SKB_LOAD_32]: (env, _d, h, off) => bpfSkbLoadHelper(env, h, off, 4),
  [HELPER_SKB_GET_PAY_OFFSET]: (env) => bpfSkbGetPayOffset(env),
  [HELPER_SKB_GET_NLATTR]: (env, a, x) => bpfSkbGetNlattrHelper(env, a, x),
  [HELPER_SKB_GET_NLATTR_NEST]: (env, a, x) => bpfSkbGetNlattrNestHelper(env, a, x),
  [HELPER_GET_RAW_CPU_ID]: (env) => bpfGetRawCpuId(env),
  [HELPER_USER_RND_U32]: (env) => bpfUserRndU32(env),
};

/**
 * The helpers as the interpreter's HelperTable (model/ebpf/interp.ts HelperCall): read the low words
 * of R2..R4, write the u64 result to R0 (a negative result sign-extended, as `return -EFAULT` from a
 * u64 function gives). R1..R5 are left alone, as the kernel interpreter leaves them.
 */
export function skbHelperTable(env: HelperEnv): Map<number, HelperCall> {
  const table = new Map<number, HelperCall>();
  for (const { id } of HELPERS) {
    const fn = HELPER_FUNCS[id]!;
    table.set(id, (regs, _mem, pc) => {
      const v = fn(env, regs[4]!, regs[6]!, regs[8]!);
      if (v === NLATTR_OOB) return makeFault('helper', pc, 'bpf_skb_get_nlattr_nest read past the end of the skb (historical variant)');
      regs[0] = v >>> 0;
      regs[1] = v < 0 ? 0xffffffff : Math.floor(v / 0x100000000) >>> 0;
      return null;
    });
  }
  return table;
}

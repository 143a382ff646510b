// 64-bit register arithmetic without BigInt on the hot path.
//
// REGISTER FILE: one Uint32Array, register r at words [2r] (low half) and [2r+1] (high half). Stores into
// a Uint32Array truncate to u32 by themselves (ToUint32), like C's u64 wrap-around per half.
// Each function writes its result into the register file at word index `d` (= 2 * dst register), reading
// operands given as (lo, hi) halves, so a line reads like the C it mirrors:
//   DST = DST + SRC   ->   add64(r, d, r[s], r[s + 1])
// Division and the rare signed 32-bit cases with INT_MIN use BigInt (slow path, exact).

export type Regs = Uint32Array;

/** kernel/bpf/core.c:1736 ALU(ADD, +) 64-bit: DST = DST + B (mod 2^64) */
export function add64(r: Regs, d: number, bLo: number, bHi: number): void {
  const lo = r[d]! + (bLo >>> 0);
  r[d + 1] = r[d + 1]! + (bHi >>> 0) + (lo > 0xffffffff ? 1 : 0);
  r[d] = lo;
}

/** kernel/bpf/core.c:1736 ALU(SUB, -) 64-bit: DST = DST - B (mod 2^64) */
export function sub64(r: Regs, d: number, bLo: number, bHi: number): void {
  const lo = r[d]! - (bLo >>> 0);
  r[d + 1] = r[d + 1]! - (bHi >>> 0) - (lo < 0 ? 1 : 0);
  r[d] = lo;
}

/** kernel/bpf/core.c:1762 ALU64_NEG: DST = -DST (mod 2^64) */
export function neg64(r: Regs, d: number): void {
  const lo = r[d]!;
  const hi = r[d + 1]!;
  r[d] = -lo;
  r[d + 1] = -hi - (lo !== 0 ? 1 : 0);
}

/** Helper of mul64 (kernel/bpf/core.c:1736 ALU(MUL, *)): the high word of the 64-bit product of two u32. */
export function mulHiU32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** kernel/bpf/core.c:1736 ALU(MUL, *) 64-bit: DST = DST * B (mod 2^64) */
export function mul64(r: Regs, d: number, bLo: number, bHi: number): void {
  const aLo = r[d]!;
  const aHi = r[d + 1]!;
  r[d + 1] = mulHiU32(aLo, bLo >>> 0) + Math.imul(aLo, bHi) + Math.imul(aHi, bLo);
  r[d] = Math.imul(aLo, bLo);
}

/** kernel/bpf/core.c:1722 SHT(LSH, <<) 64-bit: DST = DST << n, 0 <= n <= 63 */
export function lsh64(r: Regs, d: number, n: number): void {
  if (n === 0) return;
  const lo = r[d]!;
  if (n < 32) {
    r[d + 1] = (r[d + 1]! << n) | (lo >>> (32 - n));
    r[d] = lo << n;
  } else {
    r[d + 1] = lo << (n - 32);
    r[d] = 0;
  }
}

/** kernel/bpf/core.c:1722 SHT(RSH, >>) 64-bit: DST = DST >> n (logical), 0 <= n <= 63 */
export function rsh64(r: Regs, d: number, n: number): void {
  if (n === 0) return;
  const hi = r[d + 1]!;
  if (n < 32) {
    r[d] = (r[d]! >>> n) | (hi << (32 - n));
    r[d + 1] = hi >>> n;
  } else {
    r[d] = hi >>> (n - 32);
    r[d + 1] = 0;
  }
}

/** kernel/bpf/core.c:1810 ALU64_ARSH_X: (*(s64 *) &DST) >>= n (arithmetic), 0 <= n <= 63 */
export function arsh64(r: Regs, d: number, n: number): void {
  if (n === 0) return;
  const hi = r[d + 1]! | 0;
  if (n < 32) {
    r[d] = (r[d]! >>> n) | (hi << (32 - n));
    r[d + 1] = hi >> n;
  } else {
    r[d] = hi >> (n - 32);
    r[d + 1] = hi >> 31;
  }
}

/** kernel/bpf/core.c:2020 COND_JMP(u, ...) 64-bit: unsigned compare of (aHi:aLo) and (bHi:bLo): -1, 0, 1. */
export function cmp64u(aLo: number, aHi: number, bLo: number, bHi: number): number {
  const ah = aHi >>> 0;
  const bh = bHi >>> 0;
  if (ah !== bh) return ah < bh ? -1 : 1;
  const al = aLo >>> 0;
  const bl = bLo >>> 0;
  return al === bl ? 0 : al < bl ? -1 : 1;
}

/** kernel/bpf/core.c:2020 COND_JMP(s, ...) 64-bit: signed compare of (aHi:aLo) and (bHi:bLo): -1, 0, 1. */
export function cmp64s(aLo: number, aHi: number, bLo: number, bHi: number): number {
  const ah = aHi | 0;
  const bh = bHi | 0;
  if (ah !== bh) return ah < bh ? -1 : 1;
  const al = aLo >>> 0;
  const bl = bLo >>> 0;
  return al === bl ? 0 : al < bl ? -1 : 1;
}

/** include/uapi/linux/swab.h __swab16 */
export const swab16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
/** include/uapi/linux/swab.h __swab32 */
export const swab32 = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff)) >>> 0;
/** include/uapi/linux/swab.h __swab64 (kernel/bpf/core.c:1952 ALU64_END_TO_LE): DST = __swab64(DST) */
export function swab64(r: Regs, d: number): void {
  const lo = r[d]!;
  r[d] = swab32(r[d + 1]!);
  r[d + 1] = swab32(lo);
}

/** Model helper (no kernel counterpart): the register as a u64 bigint (slow path, traces and tests). */
export const getU64 = (r: Regs, d: number): bigint => (BigInt(r[d + 1]!) << 32n) | BigInt(r[d]!);
/** Model helper (no kernel counterpart): set the register from a bigint (taken mod 2^64). */
export function setU64(r: Regs, d: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  r[d] = Number(u & 0xffffffffn);
  r[d + 1] = Number(u >> 32n);
}

// --- Division. Status: 0 ok, DIV_BY_ZERO, DIV_OVERFLOW (x86 #DE traps: the interpreter has no check).
export const DIV_OK = 0;
export const DIV_BY_ZERO = 1;
export const DIV_OVERFLOW = 2;

const S64_MIN = -(1n << 63n);

/** lib/math/div64.c div64_u64 on 64-bit: dividend / divisor (u64); divisor 0 traps. */
function div64U64(a: bigint, b: bigint): bigint {
  return a / b;
}

/** include/linux/math64.h div64_s64 on 64-bit: dividend / divisor (s64, C truncation); S64_MIN / -1 traps. */
function div64S64(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a) / BigInt.asIntN(64, b);
}

const isS64DivOverflow = (a: bigint, b: bigint): boolean => BigInt.asIntN(64, a) === S64_MIN && BigInt.asIntN(64, b) === -1n;

/**
 * kernel/bpf/core.c:1872 ALU64_DIV_X / core.c:1899 ALU64_DIV_K (s = word index of SRC, or of a scratch slot holding
 * (u64)(s64)IMM): off 0 DST = div64_u64(DST, SRC); off 1 DST = div64_s64(DST, SRC); other off: no-op.
 */
export function alu64Div(r: Regs, d: number, s: number, off: number): number {
  if (off !== 0 && off !== 1) return DIV_OK;
  if (r[s] === 0 && r[s + 1] === 0) return DIV_BY_ZERO;
  if (off === 0) {
    if (r[d + 1] === 0 && r[s + 1] === 0) {
      r[d] = Math.floor(r[d]! / r[s]!);
      return DIV_OK;
    }
    setU64(r, d, div64U64(getU64(r, d), getU64(r, s)));
    return DIV_OK;
  }
  const a = getU64(r, d);
  const b = getU64(r, s);
  if (isS64DivOverflow(a, b)) return DIV_OVERFLOW;
  setU64(r, d, div64S64(a, b));
  return DIV_OK;
}

/**
 * kernel/bpf/core.c:1816 ALU64_MOD_X / core.c:1844 ALU64_MOD_K: off 0 div64_u64_rem(DST, SRC, &AX); DST = AX;
 * off 1 AX = div64_s64(DST, SRC); DST = DST - AX * SRC (remainder with the dividend's sign).
 * `ax` is the word index of the hidden AX register, written as the C writes it.
 */
export function alu64Mod(r: Regs, d: number, s: number, off: number, ax: number): number {
  if (off !== 0 && off !== 1) return DIV_OK;
  if (r[s] === 0 && r[s + 1] === 0) return DIV_BY_ZERO;
  if (off === 0) {
    const a = getU64(r, d);
    const b = getU64(r, s);
    setU64(r, ax, a % b);
    r[d] = r[ax]!;
    r[d + 1] = r[ax + 1]!;
    return DIV_OK;
  }
  const a = getU64(r, d);
  const b = getU64(r, s);
  if (isS64DivOverflow(a, b)) return DIV_OVERFLOW;
  setU64(r, ax, div64S64(a, b));
  // DST = DST - AX * SRC, DST and SRC read again after AX was written (as the C does)
  setU64(r, d, getU64(r, d) - getU64(r, ax) * getU64(r, s));
  return DIV_OK;
}

/**
 * abs((s32) x) assigned to the u64 AX: include/linux/math.h abs() of an int gives an int, and -INT_MIN
 * wraps to INT_MIN under the kernel's -fno-strict-overflow; the int is then sign-extended to u64. So
 * abs(INT_MIN) lands in AX as 0xffffffff80000000 — kernel behaviour, kept.
 */
export function absS32ToU64(x: number): bigint {
  const v = x | 0;
  if (v === -0x80000000) return 0xffffffff80000000n;
  return BigInt(Math.abs(v));
}

/** abs((s32) x) as the u32 divisor of do_div (uint32_t __base = base): abs(INT_MIN) = 0x80000000. */
export const absS32ToU32 = (x: number): number => Math.abs(x | 0) >>> 0;

/**
 * kernel/bpf/core.c:1882 ALU_DIV_X / core.c:1909 ALU_DIV_K.
 * off 0: AX = (u32) DST; do_div(AX, (u32) SRC); DST = (u32) AX;
 * off 1: AX = abs((s32) DST); do_div(AX, abs((s32) SRC));
 *        DST = ((s32) DST < 0) == ((s32) SRC < 0) ? (u32) AX : (u32) -AX;  (DST, SRC re-read after AX is set)
 */
export function alu32Div(r: Regs, d: number, s: number, off: number, ax: number): number {
  if (off === 0) {
    r[ax] = r[d]!;
    r[ax + 1] = 0;
    const base = r[s]!;
    if (base === 0) return DIV_BY_ZERO;
    r[ax] = Math.floor(r[ax]! / base);
    r[d] = r[ax]!;
    r[d + 1] = 0;
    return DIV_OK;
  }
  if (off !== 1) return DIV_OK;
  setU64(r, ax, absS32ToU64(r[d]!));
  const base = absS32ToU32(r[s]!);
  if (base === 0) return DIV_BY_ZERO;
  doDiv(r, ax, base);
  const same = (r[d]! | 0) < 0 === (r[s]! | 0) < 0;
  r[d] = same ? r[ax]! : -r[ax]!;
  r[d + 1] = 0;
  return DIV_OK;
}

/**
 * kernel/bpf/core.c:1828 ALU_MOD_X / core.c:1856 ALU_MOD_K.
 * off 0: AX = (u32) DST; DST = do_div(AX, (u32) SRC);   (AX ends as the quotient, DST the remainder)
 * off 1: AX = abs((s32) DST); AX = do_div(AX, abs((s32) SRC)); DST = (s32) DST < 0 ? (u32) -AX : (u32) AX;
 */
export function alu32Mod(r: Regs, d: number, s: number, off: number, ax: number): number {
  if (off === 0) {
    r[ax] = r[d]!;
    r[ax + 1] = 0;
    const base = r[s]!;
    if (base === 0) return DIV_BY_ZERO;
    const n = r[ax]!;
    const rem = n % base;
    r[ax] = Math.floor(n / base);
    r[d] = rem;
    r[d + 1] = 0;
    return DIV_OK;
  }
  if (off !== 1) return DIV_OK;
  setU64(r, ax, absS32ToU64(r[d]!));
  const base = absS32ToU32(r[s]!);
  if (base === 0) return DIV_BY_ZERO;
  const rem = doDiv(r, ax, base);
  r[ax] = rem; // AX = do_div(...) : the u32 remainder, zero-extended
  r[ax + 1] = 0;
  r[d] = (r[d]! | 0) < 0 ? -r[ax]! : r[ax]!;
  r[d + 1] = 0;
  return DIV_OK;
}

/** include/asm-generic/div64.h do_div(n, base) on 64-bit: n = n / base (u64 / u32), returns the u32 remainder. */
function doDiv(r: Regs, n: number, base: number): number {
  if (r[n + 1] === 0) {
    const v = r[n]!;
    r[n] = Math.floor(v / base);
    return v % base;
  }
  const v = getU64(r, n);
  const b = BigInt(base);
  setU64(r, n, v / b);
  return Number(v % b);
}

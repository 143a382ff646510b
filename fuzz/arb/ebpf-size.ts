// How many eBPF instructions bpf_convert_filter emits per classic instruction, and where its jump
// offsets overflow s16: the generators' own construction tool for programs near the conversion
// limits (kernel-spec Appendix A). It mirrors only the COUNTS of net/core/filter.c:569
// bpf_convert_filter, never the emitted code; model/migrate/convert.ts is the real thing and the
// tests cross-check the two when it exists.
import type { KernelConfig } from '../../model/config.js';
import { X86_64 } from '../../model/config.js';
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import { isAncillaryK } from './constants.js';

const S16_MIN = -32768;
const S16_MAX = 32767;

const isAncK = isAncillaryK;

// net/core/filter.c:480 convert_bpf_ld_abs (count only)
/** Instructions convert_bpf_ld_abs emits for LD ABS/IND of `size` bytes at k. */
export function ldAbsLen(size: 1 | 2 | 4, k: number, indirect: boolean, cfg: KernelConfig = X86_64): number {
  const offset = k | 0;
  const endian = size !== 1;
  const ipAlign = cfg.netIpAlign;
  // Kernel quirk kept (net/core/filter.c:495): `offset + ip_align % size == 0` binds as
  // offset + (ip_align % size) == 0.
  const fast =
    !indirect &&
    ((cfg.efficientUnalignedAccess && offset >= 0) ||
      (!cfg.efficientUnalignedAccess && offset >= 0 && offset + ipAlign >= 0 && offset + (ipAlign % size) === 0));
  let n = 0;
  if (fast) n += 2 + (offset !== 0 ? 1 : 0) + (offset <= S16_MAX ? 1 : 3) + (endian ? 1 : 0) + 1;
  n += 3 + (indirect ? 1 + ((k >>> 0) !== 0 ? 1 : 0) : 1) + 1 + 3;
  return n;
}

// net/core/filter.c:350 convert_bpf_extensions (count only, little-endian pkt_type bitfield)
const EXT_LEN: Readonly<Record<number, number>> = {
  0: 2, // PROTOCOL: ldx h + endian
  4: 2, // PKTTYPE: ldx b + and (little-endian; big-endian adds a shift)
  8: 4, // IFINDEX: ldx dw dev; jne; exit; ldx w
  12: 4, // NLATTR: 3 movs + call
  16: 4, // NLATTR_NEST
  20: 1, // MARK
  24: 1, // QUEUE
  28: 4, // HATYPE
  32: 1, // RXHASH
  36: 4, // CPU
  40: 1, // ALU_XOR_X
  44: 1, // VLAN_TAG
  48: 3, // VLAN_TAG_PRESENT: ldx w; jeq; mov
  52: 4, // PAY_OFFSET
  56: 4, // RANDOM
  60: 2, // VLAN_TPID
};

/** EXT_LEN by (k - SKF_AD_OFF) / 4, for the 16 ancillary k */
const EXT_LEN_AT: readonly number[] = Array.from({ length: 16 }, (_, i) => EXT_LEN[4 * i]!);

const sizeOf = (code: number): 1 | 2 | 4 => ((code & 0x18) === 0x10 ? 1 : (code & 0x18) === 0x08 ? 2 : 4);

/** Whether insn makes bpf_convert_filter set seen_ld_abs (net/core/filter.c:675, :793). */
export function setsSeenLdAbs(insn: SockFilter): boolean {
  const c = insn.code;
  if (c === 0x20 || c === 0x28 || c === 0x30) return !isAncK(insn.k);
  return c === 0x40 || c === 0x48 || c === 0x50 || c === 0xb1;
}

/** Is this one of the eight conditional jump codes? */
export const isCondJump = (code: number): boolean =>
  code === 0x15 || code === 0x1d || code === 0x25 || code === 0x2d || code === 0x35 || code === 0x3d || code === 0x45 || code === 0x4d;

// net/core/filter.c:632-880 the per-opcode cases of bpf_convert_filter (count only)
/** eBPF instructions one checked classic instruction becomes (x86-64 unless cfg says otherwise). */
export function ebpfLen(insn: SockFilter, cfg: KernelConfig = X86_64): number {
  const c = insn.code;
  const k = insn.k >>> 0;
  switch (c) {
    case 0x20:
    case 0x28:
    case 0x30:
      return isAncK(k) ? EXT_LEN_AT[(k - 0xfffff000) >>> 2]! + (cfg.littleEndian || k !== 0xfffff004 ? 0 : 1) : ldAbsLen(sizeOf(c), k, false, cfg);
    case 0x40:
    case 0x48:
    case 0x50:
      return ldAbsLen(sizeOf(c), k, true, cfg);
    case 0x3c:
    case 0x9c:
      return 5; // mov32 x,x; jne; xor; exit; div/mod
    case 0xb1:
      return 1 + ldAbsLen(1, k, false, cfg) + 5;
    case 0x06:
      return 2;
    case 0x05:
      return 1;
    default:
      if (isCondJump(c)) {
        const tmp = (c & 0x08) === 0 && (k | 0) < 0 ? 1 : 0;
        const op = c & 0xf0;
        const one = insn.jf === 0 || (insn.jt === 0 && op !== 0x40);
        return tmp + (one ? 1 : 2);
      }
      return 1;
  }
}

/** Codes whose ebpfLen reads nothing but the code (the loads and conditional jumps read k, jt, jf). */
const readsOperands = (c: number): boolean => c === 0x20 || c === 0x28 || c === 0x30 || c === 0x40 || c === 0x48 || c === 0x50 || c === 0xb1 || isCondJump(c);
/**
 * ebpfLen by code for codes below 256 that read nothing else (0: it reads k, jt or jf; no code has
 * length 0), made by ebpfLen itself. None of them sets seen_ld_abs.
 */
const LEN_OF_CODE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (!readsOperands(c)) t[c] = ebpfLen({ code: c, jt: 0, jf: 0, k: 0 });
  return t;
})();

/** Prologue length: 3, plus 4 when any instruction sets seen_ld_abs (net/core/filter.c:603-626). */
export const prologueLen = (prog: Program): number => {
  for (let i = 0; i < prog.length; i++) if (setsSeenLdAbs(prog[i]!)) return 7;
  return 3;
};

/** Total length of the migrated program (bpf_convert_filter's *new_len). */
export function convertedLen(prog: Program, cfg: KernelConfig = X86_64): number {
  let n = 0;
  let seen = false;
  for (let i = 0; i < prog.length; i++) {
    const insn = prog[i]!;
    const c = insn.code;
    // most codes: the table (their length alone, no seen_ld_abs); the loads and jumps: ebpfLen
    const fixed = c < 256 ? LEN_OF_CODE[c]! : 0;
    if (fixed !== 0) {
      n += fixed;
      continue;
    }
    seen ||= setsSeenLdAbs(insn);
    n += ebpfLen(insn, cfg);
  }
  return n + (seen ? 7 : 3);
}

/**
 * The first classic pc whose jump BPF_EMIT_JMP rejects (net/core/filter.c:701-711), or null when
 * conversion succeeds. Two iterations of the second call matter: in the first, forward targets
 * still have addrs[t] == 0 (kcalloc), so off = -(addrs[i] + 1 + slot) (divergence A4: any jump at
 * eBPF index >= 32768 fails); in the second, off = addrs[t] - addrs[i] - 1 - slot (A3). The first
 * iteration runs over the whole program before the second starts, so an A4 failure anywhere wins.
 */
export function jumpOverflowPc(prog: Program, cfg: KernelConfig = X86_64): number | null {
  if (addrsScratch.length < prog.length + 1) addrsScratch = new Int32Array(Math.max(prog.length + 1, 2 * addrsScratch.length));
  const addrs = addrsScratch;
  let at = prologueLen(prog);
  for (let i = 0; i < prog.length; i++) {
    addrs[i] = at;
    at += ebpfLen(prog[i]!, cfg);
  }
  addrs[prog.length] = 0;
  // off = addrs[t] - addrs[i] - 1 - slot, with addrs[t] = 0 for a forward target in the first pass
  const n = prog.length;
  const bad = (pass: number, i: number, t: number, slot: number): boolean => {
    // (past addrs[n]: no address, and no overflow, as a read past a fresh Int32Array would give)
    const off = (pass === 1 && t > i ? 0 : t <= n ? addrs[t]! : NaN) - addrs[i]! - 1 - slot;
    return off < S16_MIN || off > S16_MAX;
  };
  for (let pass = 1; pass <= 2; pass++) {
    for (let i = 0; i < prog.length; i++) {
      const insn = prog[i]!;
      const c = insn.code;
      if (c === 0x05) {
        if (bad(pass, i, i + (insn.k >>> 0) + 1, 0)) return i;
      } else if (isCondJump(c)) {
        const slot = (c & 0x08) === 0 && (insn.k | 0) < 0 ? 1 : 0;
        const op = c & 0xf0;
        if (insn.jf === 0) {
          if (bad(pass, i, i + insn.jt + 1, slot)) return i;
        } else if (insn.jt === 0 && op !== 0x40) {
          if (bad(pass, i, i + insn.jf + 1, slot)) return i;
        } else if (bad(pass, i, i + insn.jt + 1, slot) || bad(pass, i, i + insn.jf + 1, slot + 1)) return i;
      }
    }
  }
  return null;
}

/** jumpOverflowPc's addrs, reused from call to call. */
let addrsScratch = new Int32Array(1024);

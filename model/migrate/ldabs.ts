// convert_bpf_ld_abs: a classic LD|ABS or LD|IND packet load (and the load inside LDX|MSH) as eBPF.
// net/core/filter.c:480-548 (6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6 @ 79226fb0ba80).
import { BPF_ADD, BPF_B, BPF_H, BPF_IND, BPF_SUB, BPF_W, BPF_XOR, bpfMode, bpfSize } from '../uapi.js';
import type { SockFilter } from '../cbpf/insn.js';
import type { KernelConfig } from '../config.js';
import {
  BPF_JSGE,
  BPF_JSLT,
  BPF_REG_A,
  BPF_REG_ARG1,
  BPF_REG_ARG2,
  BPF_REG_ARG3,
  BPF_REG_ARG4,
  BPF_REG_CTX,
  BPF_REG_D,
  BPF_REG_H,
  BPF_REG_TMP,
  BPF_REG_X,
  BPF_TO_BE,
  type BpfInsn,
  bpfAlu32Reg,
  bpfAlu64Imm,
  bpfEmitCall,
  bpfEndian,
  bpfExitInsn,
  bpfJmpA,
  bpfJmpImm,
  bpfLdxMem,
  bpfMov64Imm,
  bpfMov64Reg,
} from '../ebpf/insn.js';
import { HELPER_SKB_LOAD_8, HELPER_SKB_LOAD_16, HELPER_SKB_LOAD_32 } from '../ebpf/helpers.js';

/** include/linux/filter.h bpf_size_to_bytes: 1/2/4 for B/H/W (8 for DW), -EINVAL otherwise. */
export function bpfSizeToBytes(size: number): number {
  switch (size) {
    case BPF_B:
      return 1;
    case BPF_H:
      return 2;
    case BPF_W:
      return 4;
    case 0x18:
      return 8;
    default:
      return -22;
  }
}

/** include/linux/limits.h S16_MAX */
const S16_MAX = 0x7fff;

/**
 * Whether convert_bpf_ld_abs emits the inline fast path (net/core/filter.c:491-495), exactly as
 * written, including the operator-precedence slip `offset + ip_align % size == 0` (F:495), which
 * C parses as `offset + (ip_align % size) == 0`. The intended `(offset + ip_align) % size` was
 * fixed upstream only in 2026 (e5f635edd393); v6.6 has the slip, so the model does too.
 */
export function ldAbsFastPath(fp: SockFilter, config: KernelConfig): boolean {
  const unalignedOk = config.efficientUnalignedAccess;
  const size = bpfSizeToBytes(bpfSize(fp.code));
  const indirect = bpfMode(fp.code) === BPF_IND;
  const ipAlign = config.netIpAlign;
  const offset = fp.k | 0;
  return (
    !indirect &&
    ((unalignedOk && offset >= 0) ||
      (!unalignedOk && offset >= 0 && ((offset + ipAlign) | 0) >= 0 && ((offset + (ipAlign % size)) | 0) === 0))
  );
}

// net/core/filter.c:480 convert_bpf_ld_abs
/**
 * The eBPF sequence for one classic LD|ABS / LD|IND (sizes B, H, W), or null where the kernel
 * returns false (a size other than B/H/W, F:538-539; unreachable from the converter's cases).
 * The kernel leaves its cursor on the last insn written; the model returns all of them.
 */
export function convertBpfLdAbs(fp: SockFilter, config: KernelConfig): BpfInsn[] | null {
  const sizeField = bpfSize(fp.code);
  const size = bpfSizeToBytes(sizeField);
  const endian = sizeField === BPF_H || sizeField === BPF_W;
  const indirect = bpfMode(fp.code) === BPF_IND;
  const offset = fp.k | 0;
  const out: BpfInsn[] = [];

  if (ldAbsFastPath(fp, config)) {
    // F:496 ldx's off is an s16; larger offsets go through TMP = D + offset.
    // H10 variant: no ldx_off_ok; the LDX off keeps only the low 16 bits of offset (an s16)
    const ldxOffOk = offset <= S16_MAX || !config.ldxOffOk; // KernelConfig.ldxOffOk false: every offset taken as an s16
    out.push(bpfMov64Reg(BPF_REG_TMP, BPF_REG_H));
    if (offset) out.push(bpfAlu64Imm(BPF_SUB, BPF_REG_TMP, offset));
    // F:501 if ((s64)(headlen - offset) < size) skip to the helper call
    out.push(bpfJmpImm(BPF_JSLT, BPF_REG_TMP, size, 2 + (endian ? 1 : 0) + (ldxOffOk ? 0 : 2)));
    if (ldxOffOk) {
      out.push(bpfLdxMem(sizeField, BPF_REG_A, BPF_REG_D, (offset << 16) >> 16));
    } else {
      out.push(bpfMov64Reg(BPF_REG_TMP, BPF_REG_D));
      out.push(bpfAlu64Imm(BPF_ADD, BPF_REG_TMP, offset));
      out.push(bpfLdxMem(sizeField, BPF_REG_A, BPF_REG_TMP, 0));
    }
    if (endian) out.push(bpfEndian(BPF_TO_BE, BPF_REG_A, size * 8));
    out.push(bpfJmpA(8));
  }

  // F:517 the slow path: A = bpf_skb_load_helper_N(skb, data, headlen, offset)
  out.push(bpfMov64Reg(BPF_REG_ARG1, BPF_REG_CTX));
  out.push(bpfMov64Reg(BPF_REG_ARG2, BPF_REG_D));
  out.push(bpfMov64Reg(BPF_REG_ARG3, BPF_REG_H));
  if (!indirect) {
    out.push(bpfMov64Imm(BPF_REG_ARG4, offset));
  } else {
    out.push(bpfMov64Reg(BPF_REG_ARG4, BPF_REG_X));
    if (fp.k) out.push(bpfAlu64Imm(BPF_ADD, BPF_REG_ARG4, offset));
  }

  switch (sizeField) {
    case BPF_B:
      out.push(bpfEmitCall(HELPER_SKB_LOAD_8));
      break;
    case BPF_H:
      out.push(bpfEmitCall(HELPER_SKB_LOAD_16));
      break;
    case BPF_W:
      out.push(bpfEmitCall(HELPER_SKB_LOAD_32));
      break;
    default:
      return null;
  }

  // F:542 a negative helper result (-EFAULT) ends the program with A = 0
  out.push(bpfJmpImm(BPF_JSGE, BPF_REG_A, 0, 2));
  out.push(bpfAlu32Reg(BPF_XOR, BPF_REG_A, BPF_REG_A));
  out.push(bpfExitInsn());
  return out;
}


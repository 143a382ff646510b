// The classic ancillary loads (ld [SKF_AD_OFF + x]) as eBPF: convert_skb_access and
// convert_bpf_extensions, net/core/filter.c:303-478 (6.6.y tree @ 79226fb0ba80).
import {
  BPF_AND,
  BPF_B,
  BPF_H,
  BPF_JEQ,
  BPF_RSH,
  BPF_W,
  BPF_XOR,
  SKF_AD_ALU_XOR_X,
  SKF_AD_CPU,
  SKF_AD_HATYPE,
  SKF_AD_IFINDEX,
  SKF_AD_MARK,
  SKF_AD_NLATTR,
  SKF_AD_NLATTR_NEST,
  SKF_AD_OFF,
  SKF_AD_PAY_OFFSET,
  SKF_AD_PKTTYPE,
  SKF_AD_PROTOCOL,
  SKF_AD_QUEUE,
  SKF_AD_RANDOM,
  SKF_AD_RXHASH,
  SKF_AD_VLAN_TAG,
  SKF_AD_VLAN_TAG_PRESENT,
  SKF_AD_VLAN_TPID,
} from '../uapi.js';
import type { SockFilter } from '../cbpf/insn.js';
import type { KernelConfig } from '../config.js';
import {
  BPF_DW,
  BPF_JNE,
  BPF_MOV,
  BPF_REG_A,
  BPF_REG_ARG1,
  BPF_REG_ARG2,
  BPF_REG_ARG3,
  BPF_REG_CTX,
  BPF_REG_TMP,
  BPF_REG_X,
  BPF_TO_BE,
  type BpfInsn,
  bpfAlu32Imm,
  bpfAlu32Reg,
  bpfEmitCall,
  bpfEndian,
  bpfExitInsn,
  bpfJmpImm,
  bpfLdxMem,
  bpfMov64Reg,
} from '../ebpf/insn.js';
import { NET_DEVICE, PKT_TYPE_OFFSET, SK_BUFF, pktTypeMax } from '../ebpf/layout.js';
import {
  HELPER_GET_RAW_CPU_ID,
  HELPER_SKB_GET_NLATTR,
  HELPER_SKB_GET_NLATTR_NEST,
  HELPER_SKB_GET_PAY_OFFSET,
  HELPER_USER_RND_U32,
} from '../ebpf/helpers.js';

/** The u32 k of `ld [SKF_AD_OFF + ad]`, as the kernel's `case SKF_AD_OFF + SKF_AD_x:` labels compare it. */
const AD = (ad: number): number => (SKF_AD_OFF + ad) >>> 0;

// net/core/filter.c:303 convert_skb_access
/**
 * The loads of one skb field for MARK, PKTTYPE, QUEUE, VLAN_TAG, VLAN_TAG_PRESENT (an empty list
 * for any other field, as the kernel's switch has no default). `config.littleEndian` stands for
 * __LITTLE_ENDIAN_BITFIELD: big-endian bit-fields add the `>> 5` of F:320.
 */
export function convertSkbAccess(skbField: number, dstReg: number, srcReg: number, config: KernelConfig): BpfInsn[] {
  switch (skbField) {
    case SKF_AD_MARK:
      return [bpfLdxMem(BPF_W, dstReg, srcReg, SK_BUFF.mark.offset)];
    case SKF_AD_PKTTYPE: {
      const out = [bpfLdxMem(BPF_B, dstReg, srcReg, PKT_TYPE_OFFSET), bpfAlu32Imm(BPF_AND, dstReg, pktTypeMax(config.littleEndian))];
      if (!config.littleEndian) out.push(bpfAlu32Imm(BPF_RSH, dstReg, 5));
      return out;
    }
    case SKF_AD_QUEUE:
      return [bpfLdxMem(BPF_H, dstReg, srcReg, SK_BUFF.queueMapping.offset)];
    case SKF_AD_VLAN_TAG:
      return [bpfLdxMem(BPF_H, dstReg, srcReg, SK_BUFF.vlanTci.offset)];
    case SKF_AD_VLAN_TAG_PRESENT:
      // F:340 dst = vlan_all; if (dst == 0) skip; dst = 1
      return [
        bpfLdxMem(BPF_W, dstReg, srcReg, SK_BUFF.vlanAll.offset),
        bpfJmpImm(BPF_JEQ, dstReg, 0, 1),
        bpfAlu32Imm(BPF_MOV, dstReg, 1),
      ];
    default:
      return [];
  }
}

// The helper each helper-calling ancillary load calls (the inner `switch (fp->k)` after F:436).
const HELPER_OF_AD: ReadonlyMap<number, number> = new Map([
  [AD(SKF_AD_PAY_OFFSET), HELPER_SKB_GET_PAY_OFFSET],
  [AD(SKF_AD_NLATTR), HELPER_SKB_GET_NLATTR],
  [AD(SKF_AD_NLATTR_NEST), HELPER_SKB_GET_NLATTR_NEST],
  [AD(SKF_AD_CPU), HELPER_GET_RAW_CPU_ID],
  [AD(SKF_AD_RANDOM), HELPER_USER_RND_U32],
]);

// net/core/filter.c:350 convert_bpf_extensions
/**
 * The eBPF sequence for an LD|ABS whose k is an ancillary offset the kernel converts, or null
 * where the kernel returns false (any other k: the load then goes to convert_bpf_ld_abs). The load
 * size of the classic insn is ignored.
 */
export function convertBpfExtensions(fp: SockFilter, config: KernelConfig): BpfInsn[] | null {
  switch (fp.k >>> 0) {
    case AD(SKF_AD_PROTOCOL):
      // F:361 A = ntohs(*(u16 *)(CTX + offsetof(protocol)))
      return [bpfLdxMem(BPF_H, BPF_REG_A, BPF_REG_CTX, SK_BUFF.protocol.offset), bpfEndian(BPF_TO_BE, BPF_REG_A, 16)];

    case AD(SKF_AD_PKTTYPE):
      return convertSkbAccess(SKF_AD_PKTTYPE, BPF_REG_A, BPF_REG_CTX, config);

    case AD(SKF_AD_IFINDEX):
    case AD(SKF_AD_HATYPE):
      // F:377 tmp = skb->dev; if (tmp != 0) skip the exit. A NULL dev EXITs with the current A:
      // the kernel returns A here, not 0 (classic returned 0) — kept as the kernel does it.
      return [
        bpfLdxMem(BPF_DW, BPF_REG_TMP, BPF_REG_CTX, SK_BUFF.dev.offset),
        bpfJmpImm(BPF_JNE, BPF_REG_TMP, 0, 1),
        bpfExitInsn(),
        fp.k >>> 0 === AD(SKF_AD_IFINDEX)
          ? bpfLdxMem(BPF_W, BPF_REG_A, BPF_REG_TMP, NET_DEVICE.ifindex.offset)
          : bpfLdxMem(BPF_H, BPF_REG_A, BPF_REG_TMP, NET_DEVICE.type.offset),
      ];

    case AD(SKF_AD_MARK):
      return convertSkbAccess(SKF_AD_MARK, BPF_REG_A, BPF_REG_CTX, config);

    case AD(SKF_AD_RXHASH):
      // F:399 the raw skb->hash field (no skb_get_hash recomputation)
      return [bpfLdxMem(BPF_W, BPF_REG_A, BPF_REG_CTX, SK_BUFF.hash.offset)];

    case AD(SKF_AD_QUEUE):
      return convertSkbAccess(SKF_AD_QUEUE, BPF_REG_A, BPF_REG_CTX, config);

    case AD(SKF_AD_VLAN_TAG):
      return convertSkbAccess(SKF_AD_VLAN_TAG, BPF_REG_A, BPF_REG_CTX, config);

    case AD(SKF_AD_VLAN_TAG_PRESENT):
      return convertSkbAccess(SKF_AD_VLAN_TAG_PRESENT, BPF_REG_A, BPF_REG_CTX, config);

    case AD(SKF_AD_VLAN_TPID):
      // F:424 A = ntohs(*(u16 *)(CTX + offsetof(vlan_proto)))
      return [bpfLdxMem(BPF_H, BPF_REG_A, BPF_REG_CTX, SK_BUFF.vlanProto.offset), bpfEndian(BPF_TO_BE, BPF_REG_A, 16)];

    case AD(SKF_AD_PAY_OFFSET):
    case AD(SKF_AD_NLATTR):
    case AD(SKF_AD_NLATTR_NEST):
    case AD(SKF_AD_CPU):
    case AD(SKF_AD_RANDOM): {
      // F:436 A = helper(CTX, A, X); for RANDOM the kernel also runs bpf_user_rnd_init_once() here.
      return [
        bpfMov64Reg(BPF_REG_ARG1, BPF_REG_CTX),
        bpfMov64Reg(BPF_REG_ARG2, BPF_REG_A),
        bpfMov64Reg(BPF_REG_ARG3, BPF_REG_X),
        bpfEmitCall(HELPER_OF_AD.get(fp.k >>> 0)!),
      ];
    }

    case AD(SKF_AD_ALU_XOR_X):
      // F:464 A ^= X
      return [bpfAlu32Reg(BPF_XOR, BPF_REG_A, BPF_REG_X)];

    default:
      return null;
  }
}

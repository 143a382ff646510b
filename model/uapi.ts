// Numbers from the Linux v6.6 user-space API that the classic socket-filter path uses.
// include/uapi/linux/bpf_common.h, include/uapi/linux/filter.h, include/uapi/linux/bpf.h,
// include/uapi/asm-generic/errno-base.h, include/linux/errno.h.

// include/uapi/linux/bpf_common.h:6 instruction classes
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;

// include/uapi/linux/bpf_common.h:16 ld/ldx fields
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

// include/uapi/linux/bpf_common.h:30 alu/jmp fields
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

export const BPF_K = 0x00;
export const BPF_X = 0x08;

// include/uapi/linux/filter.h:36 ret - BPF_K and BPF_X also apply
export const BPF_A = 0x10;
// include/uapi/linux/filter.h:40 misc
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** include/uapi/linux/bpf_common.h:6 BPF_CLASS(code) */
export const bpfClass = (code: number): number => code & 0x07;
/** include/uapi/linux/bpf_common.h:17 BPF_SIZE(code) */
export const bpfSize = (code: number): number => code & 0x18;
/** include/uapi/linux/bpf_common.h:22 BPF_MODE(code) */
export const bpfMode = (code: number): number => code & 0xe0;
/** include/uapi/linux/bpf_common.h:31 BPF_OP(code) */
export const bpfOp = (code: number): number => code & 0xf0;
/** include/uapi/linux/bpf_common.h:49 BPF_SRC(code) */
export const bpfSrc = (code: number): number => code & 0x08;
/** include/uapi/linux/filter.h:37 BPF_RVAL(code) */
export const bpfRval = (code: number): number => code & 0x18;
/** include/uapi/linux/filter.h:41 BPF_MISCOP(code) */
export const bpfMiscop = (code: number): number => code & 0xf8;

// include/uapi/linux/bpf_common.h:53 instruction count limit
export const BPF_MAXINSNS = 4096;
// include/uapi/linux/filter.h:58 scratch memory words
export const BPF_MEMWORDS = 16;
export const BPF_MAJOR_VERSION = 1;
export const BPF_MINOR_VERSION = 1;

// include/uapi/linux/filter.h:65 ancillary data: k = SKF_AD_OFF + SKF_AD_*
export const SKF_AD_OFF = -0x1000;
export const SKF_AD_PROTOCOL = 0;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_IFINDEX = 8;
export const SKF_AD_NLATTR = 12;
export const SKF_AD_NLATTR_NEST = 16;
export const SKF_AD_MARK = 20;
export const SKF_AD_QUEUE = 24;
export const SKF_AD_HATYPE = 28;
export const SKF_AD_RXHASH = 32;
export const SKF_AD_CPU = 36;
export const SKF_AD_ALU_XOR_X = 40;
export const SKF_AD_VLAN_TAG = 44;
export const SKF_AD_VLAN_TAG_PRESENT = 48;
export const SKF_AD_PAY_OFFSET = 52;
export const SKF_AD_RANDOM = 56;
export const SKF_AD_VLAN_TPID = 60;
export const SKF_AD_MAX = 64;

// include/uapi/linux/filter.h:84 negative offsets into the network and link-layer headers
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;
export const BPF_NET_OFF = SKF_NET_OFF;
export const BPF_LL_OFF = SKF_LL_OFF;

/** Every ancillary offset with its uapi macro name, in SKF_AD_* order. */
export const ANCILLARY: readonly { readonly ad: number; readonly macro: string }[] = [
  { ad: SKF_AD_PROTOCOL, macro: 'SKF_AD_PROTOCOL' },
  { ad: SKF_AD_PKTTYPE, macro: 'SKF_AD_PKTTYPE' },
  { ad: SKF_AD_IFINDEX, macro: 'SKF_AD_IFINDEX' },
  { ad: SKF_AD_NLATTR, macro: 'SKF_AD_NLATTR' },
  { ad: SKF_AD_NLATTR_NEST, macro: 'SKF_AD_NLATTR_NEST' },
  { ad: SKF_AD_MARK, macro: 'SKF_AD_MARK' },
  { ad: SKF_AD_QUEUE, macro: 'SKF_AD_QUEUE' },
  { ad: SKF_AD_HATYPE, macro: 'SKF_AD_HATYPE' },
  { ad: SKF_AD_RXHASH, macro: 'SKF_AD_RXHASH' },
  { ad: SKF_AD_CPU, macro: 'SKF_AD_CPU' },
  { ad: SKF_AD_ALU_XOR_X, macro: 'SKF_AD_ALU_XOR_X' },
  { ad: SKF_AD_VLAN_TAG, macro: 'SKF_AD_VLAN_TAG' },
  { ad: SKF_AD_VLAN_TAG_PRESENT, macro: 'SKF_AD_VLAN_TAG_PRESENT' },
  { ad: SKF_AD_PAY_OFFSET, macro: 'SKF_AD_PAY_OFFSET' },
  { ad: SKF_AD_RANDOM, macro: 'SKF_AD_RANDOM' },
  { ad: SKF_AD_VLAN_TPID, macro: 'SKF_AD_VLAN_TPID' },
];

/** The u32 k of `ld [SKF_AD_OFF + ad]`. */
export const ancillaryK = (ad: number): number => (SKF_AD_OFF + ad) >>> 0;

// include/uapi/asm-generic/errno-base.h, include/linux/errno.h:31 (ENOTSUPP is kernel-internal, 524)
export const EPERM = 1;
export const ENOENT = 2;
export const EFAULT = 14;
export const EINVAL = 22;
export const ENOMEM = 12;
export const E2BIG = 7;
export const ERANGE = 34;
export const ENOTSUPP = 524;

export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [EFAULT]: 'EFAULT',
  [EINVAL]: 'EINVAL',
  [ENOMEM]: 'ENOMEM',
  [E2BIG]: 'E2BIG',
  [ERANGE]: 'ERANGE',
  [ENOTSUPP]: 'ENOTSUPP',
};

/** The name of a (positive or negative) errno, e.g. errnoName(-22) === 'EINVAL'. */
export const errnoName = (errno: number): string => ERRNO_NAMES[Math.abs(errno)] ?? `E${Math.abs(errno)}`;

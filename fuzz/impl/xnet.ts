// golang.org/x/net/bpf's VM against Linux (Debian 12's golang-golang-x-net-dev 1:0.7.0, bpf/; "X:"
// lines below). Two differences are its defined Go semantics; LDX LEN is a bug of its Disassemble.
import { linuxAttachLimit, type ImplCatalogue } from './catalogue.js';
import { EV_IND_WRAP, EV_LDX_LEN_A, EV_NEG_OFFSET, EV_SHIFT_X } from './model.js';
import { XNET_NEWVM_AT, xnetNewVm } from './validators.js';

const SRC = 'golang.org/x/net v0.7.0 bpf';

export const XNET_CATALOGUE: ImplCatalogue = {
  name: 'xnet',
  source: SRC,
  semantics: { shiftX: 'zero', loads: 'exact', indIndex: 'x', ldxLen: 'a' },
  entries: [
    {
      kind: 'runtime',
      id: 'xnet-shift-x-ge-32',
      title: 'LSH/RSH by X >= 32: Go gives 0, Linux shifts by X & 31',
      events: EV_SHIFT_X,
      implementation: '`regA << value` / `regA >> value` on uint32: in Go a shift count >= the width gives 0',
      at: [`${SRC}/vm_instructions.go:44-47`],
      linux: 'ALU32 LSH_X / RSH_X: (u32) DST << ((u32) SRC & 31)',
      linuxAt: ['kernel/bpf/core.c:1722-1756'],
      example: 'external/xnet/xnet-shift-x-ge-32.json',
    },
    {
      kind: 'runtime',
      id: 'xnet-ind-no-wrap',
      title: 'LD IND with X + k past 2^32: x/net/bpf fails the load (returns 0), Linux wraps the sum',
      events: EV_IND_WRAP,
      implementation: '`offset := int(ins.Off) + int(regX)` is a 64-bit int: the sum never wraps, and inBounds fails it',
      at: [`${SRC}/vm_instructions.go:122-127`, `${SRC}/vm_instructions.go:141-147`],
      linux: 'the u32 sum X + k wraps (64-bit add, then the helper takes an int)',
      linuxAt: ['net/core/filter.c:523-525', 'net/core/filter.c:228'],
      example: 'external/xnet/xnet-ind-no-wrap.json',
    },
    {
      kind: 'runtime',
      id: 'xnet-no-negative-offsets',
      title: 'a load at SKF_NET_OFF / SKF_LL_OFF + n: x/net/bpf fails it (returns 0), Linux reads the network or link-layer header',
      events: EV_NEG_OFFSET,
      implementation: 'LoadAbsolute.Off is a uint32 taken as a positive int: past the end of the input, so the load fails and Run returns 0',
      at: [`${SRC}/vm_instructions.go:95-100`, `${SRC}/vm_instructions.go:129-147`],
      linux: 'negative offsets are relative to the network or mac header (bpf_internal_load_pointer_neg_helper)',
      linuxAt: ['kernel/bpf/core.c:74-89'],
      example: 'external/xnet/xnet-no-negative-offsets.json',
    },
    {
      kind: 'runtime',
      id: 'xnet-ldx-len-loads-a',
      title: 'BPF_LDX|BPF_W|BPF_LEN (ldx len) loads the length into A, not X',
      events: EV_LDX_LEN_A,
      implementation:
        'Disassemble turns every BPF_LEN load, of either class, into LoadExtension{Num: ExtLen} (the destination register is dropped), which the VM runs as regA = len(in)',
      at: [`${SRC}/instructions.go:35-36`, `${SRC}/instructions.go:66-70`, `${SRC}/vm.go:126-127`, `${SRC}/vm_instructions.go:113-116`],
      linux: 'BPF_LDX | BPF_W | BPF_LEN is X = skb->len (converted to LDX_MEM from skb->len into X)',
      linuxAt: ['net/core/filter.c:865-870'],
      bug: { report: 'reports/xnet-ldx-len-loads-a.md' },
      example: 'external/xnet/xnet-ldx-len-loads-a.json',
    },
    linuxAttachLimit('xnet', 'external/xnet/xnet-runs-past-linux-limits.json'),
    {
      kind: 'linux-rejects',
      id: 'xnet-newvm-checks-less',
      title: "NewVM accepts programs Linux's bpf_check_classic rejects (shifts by k >= 32, scratch reads before writes, unknown opcodes it cannot disassemble, which Run then refuses)",
      accepts: xnetNewVm,
      implementation:
        'NewVM checks only jump bounds, constant division by zero, unknown extensions and the final return; what Disassemble cannot decode stays a RawInstruction that NewVM accepts and Run answers with "unknown Instruction"',
      at: XNET_NEWVM_AT,
      linux: 'bpf_check_classic accepts only the 49 codes of chk_code_allowed, shifts by k < 32, and no scratch read before a write',
      linuxAt: ['net/core/filter.c:974-1031', 'net/core/filter.c:1065-1140', 'net/core/filter.c:921'],
      example: 'external/xnet/xnet-newvm-checks-less.json',
    },
  ],
};

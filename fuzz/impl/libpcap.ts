// libpcap's bpf_filter against Linux: the documented semantic differences (libpcap-1.10.3
// bpf_filter.c, Debian 12's libpcap-dev; "L:" lines below). None is a libpcap bug: libpcap defines
// behaviour C leaves undefined, or never had Linux's extensions. The first two are the former
// historical variants impl-libpcap-shift-x-ge-32 and impl-bsd-ind-no-wrap (model/variants.ts), now
// judged by the real libpcap.
import { linuxAttachLimit, type ImplCatalogue } from './catalogue.js';
import { EV_IND_WRAP, EV_NEG_OFFSET, EV_SHIFT_X } from './model.js';
import { LIBPCAP_VALIDATE_AT, pcapBackwardJaPc, pcapUnimplementedPc, pcapValidateFilter } from './validators.js';

const SRC = 'libpcap-1.10.3 bpf_filter.c';

export const LIBPCAP_CATALOGUE: ImplCatalogue = {
  name: 'libpcap',
  source: SRC,
  semantics: { shiftX: 'zero', loads: 'exact', indIndex: 'x', ldxLen: 'x' },
  entries: [
    {
      kind: 'runtime',
      id: 'libpcap-shift-x-ge-32',
      title: 'LSH/RSH by X >= 32: libpcap gives 0, Linux shifts by X & 31',
      events: EV_SHIFT_X,
      implementation: '`if (X < 32) A <<= X; else A = 0;` (and the same for >>=): libpcap defines the shift C leaves undefined',
      at: [`${SRC}:313-318`, `${SRC}:320-325`],
      linux: 'ALU32 LSH_X / RSH_X: (u32) DST << ((u32) SRC & 31), the count masked as the x86 instruction does',
      linuxAt: ['kernel/bpf/core.c:1722-1756'],
      example: 'historical/impl-libpcap-shift-x-ge-32.json',
    },
    {
      kind: 'runtime',
      id: 'libpcap-ind-no-wrap',
      title: 'LD IND with X + k past 2^32: libpcap fails the load (returns 0), Linux wraps the sum',
      events: EV_IND_WRAP,
      implementation:
        'the BSD checks `pc->k > buflen || X > buflen - pc->k || size > buflen - k` test k and X separately so their sum cannot wrap; a sum of 2^32 or more fails and the filter returns 0',
      at: [`${SRC}:179-186`, `${SRC}:188-195`, `${SRC}:197-203`],
      linux: 'ARG4 = X, ARG4 += k in 64 bits, then bpf_skb_load_helper_* takes the offset as an int: the u32 sum wraps (X = 0xffffffff, `ld [x + 1]` loads byte 0)',
      linuxAt: ['net/core/filter.c:523-525', 'net/core/filter.c:228'],
      example: 'historical/impl-bsd-ind-no-wrap.json',
    },
    {
      kind: 'runtime',
      id: 'libpcap-no-negative-offsets',
      title: 'a load at SKF_NET_OFF / SKF_LL_OFF + n: libpcap fails it (returns 0), Linux reads the network or link-layer header',
      events: EV_NEG_OFFSET,
      implementation: 'offsets are unsigned: k (or X + k) >= 0x80000000 is past buflen, so the load fails and bpf_filter returns 0',
      at: [`${SRC}:121-135`, `${SRC}:160-166`, `${SRC}:179-211`],
      linux: 'a negative offset is relative to the network header (>= SKF_NET_OFF) or the mac header (>= SKF_LL_OFF), resolved by bpf_internal_load_pointer_neg_helper',
      linuxAt: ['kernel/bpf/core.c:74-89', 'net/core/filter.c:228'],
      example: 'external/libpcap/libpcap-no-negative-offsets.json',
    },
    linuxAttachLimit('libpcap', 'external/libpcap/libpcap-runs-past-linux-limits.json'),
    {
      kind: 'linux-rejects',
      id: 'libpcap-validates-less',
      title: "bpf_validate accepts programs Linux's bpf_check_classic rejects (any opcode of a known class and mode, backward JA, shifts by k >= 32, scratch reads before writes, k in the SKF_AD window)",
      accepts: pcapValidateFilter,
      implementation:
        'pcap_validate_filter checks the class, the mode or operation, scratch indices, constant divisors and jump targets (JA in u_int arithmetic, so backward jumps pass: userland libpcap runs them for "protochain"), and that the last instruction is a RET',
      at: LIBPCAP_VALIDATE_AT,
      linux: 'bpf_check_classic accepts only the 49 codes of chk_code_allowed, shifts by k < 32, forward jumps in range, known SKF_AD offsets, and (check_load_and_stores) no scratch read before a write on any path',
      linuxAt: ['net/core/filter.c:974-1031', 'net/core/filter.c:1065-1140', 'net/core/filter.c:921'],
      example: 'external/libpcap/libpcap-validates-less.json',
    },
    {
      kind: 'crash',
      id: 'libpcap-validate-accepts-unimplemented-opcodes',
      title: 'bpf_validate accepts an opcode bpf_filter has no case for (e.g. 0x0d ja|x, 0x0e ret|x, 0x08 ld|h|imm): bpf_filter calls abort()',
      signals: [6],
      applies: (prog) => pcapUnimplementedPc(prog) >= 0,
      implementation:
        "pcap_validate_filter looks only at BPF_CLASS and BPF_MODE / BPF_OP (and ignores the 16-bit code's high byte), while bpf_filter switches on the whole code and its `default:` is abort(): a validated program kills the process (pcap_offline_filter, tcpdump -r)",
      at: [`${SRC}:113-114`, `${SRC}:417-528`],
      linux: "chk_code_allowed rejects every code but the 49 bpf_check_classic knows (-EINVAL)",
      linuxAt: ['net/core/filter.c:974-1031', 'net/core/filter.c:1077-1078'],
      bug: { report: 'reports/libpcap-validate-accepts-aborting-opcodes.md' },
      example: 'external/libpcap/libpcap-validate-accepts-unimplemented-opcodes.json',
    },
    {
      kind: 'crash',
      id: 'libpcap-backward-ja-loops',
      title: 'a backward JA (k >= 2^31) that bpf_validate lets through can loop forever (the adapter stops it after 100 ms of CPU time, SIGVTALRM)',
      signals: [26],
      applies: (prog) => pcapBackwardJaPc(prog) >= 0,
      implementation:
        'bpf_filter adds k to pc as a bpf_int32 (backward jumps are intended: "ip6 protochain" is compiled with them) and bpf_validate computes the target in u_int arithmetic, so ja -1 jumps to itself forever',
      at: [`${SRC}:237-243`, `${SRC}:494-509`],
      linux: 'JA needs k < flen - pc - 1 (only forward jumps), so every classic program ends',
      linuxAt: ['net/core/filter.c:1105'],
      example: 'external/libpcap/libpcap-backward-ja-loops.json',
    },
  ],
};

// Live probes of kernel facts the model takes as parameters.
import { skAttachFilter } from '../../model/attach.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { SIZEOF_BPF_PROG } from '../../model/ebpf/layout.js';
import type { KernelOracle } from './judge.js';

const ldb0 = { code: 0x30, jt: 0, jf: 0, k: 0 };
const ld0 = { code: 0x00, jt: 0, jf: 0, k: 0 };
const ret1 = { code: 0x06, jt: 0, jf: 0, k: 1 };

/**
 * n1 x `ldb [0]` (12 eBPF insns each on x86-64) then n2 x `ld #0` (1 each) then `ret #1`. `ld #0`
 * becomes `mov32 A, 0`, which constant blinding rewrites to one `xor` (kernel/bpf/core.c
 * bpf_jit_blind_insn), so each step of n2 is one eBPF insn under bpf_jit_harden too and the bisection
 * pins the header to 8 bytes either way (an `ld #k` with k != 0 blinds into 3 insns, a 24-byte step).
 */
export const chargeProbeProgram = (n1: number, n2: number): Program => [
  ...Array.from({ length: n1 }, () => ldb0),
  ...Array.from({ length: n2 }, () => ld0),
  ret1,
];

/**
 * The size of struct bpf_prog's header on the running kernel, from the optmem charge
 * (net/core/filter.c:1226 __sk_filter_charge: bpf_prog_size(len) = header + 8 * len must be
 * < optmem_max on a fresh socket). Finds the longest migrated program that still attaches by
 * bisection (the eBPF lengths come from the model's converter, whose instruction counts the
 * kernel shares), and returns the header as the multiple of 8 the bounds leave. null when the
 * bounds do not pin it down (e.g. optmem_max too large to reach with 4096 instructions).
 */
export async function probeBpfProgHeader(oracle: KernelOracle, config: KernelConfig, optmemMax: number): Promise<number | null> {
  const big: KernelConfig = { ...config, optmemMax: 2 ** 31 - 1 };
  const ebpfLen = (p: Program): number => {
    const r = skAttachFilter(p, big);
    if (!('ok' in r)) throw new Error(`probe program rejected by the model: ${r.rule}`);
    return r.migrated.len; // fp->len: the blinded clone's under bpf_jit_harden
  };
  // enough ldb [0] to get within 4096 - n1 single insns of the limit: 12 eBPF insns each on x86-64,
  // more once blinded (bpf_jit_harden), so the step is measured on the model
  const target = Math.floor(optmemMax / 8);
  const base = ebpfLen(chargeProbeProgram(1, 0));
  const per = ebpfLen(chargeProbeProgram(2, 0)) - base;
  const n1 = Math.max(0, 1 + Math.ceil((target - 2000 - base) / per));
  if (n1 + 1 > 4095) return null;
  let lo = 0;
  let hi = 4095 - n1;
  if ((await oracle.verdicts([chargeProbeProgram(n1, lo)]))[0] !== 0) return null;
  if ((await oracle.verdicts([chargeProbeProgram(n1, hi)]))[0] === 0) return null;
  while (hi - lo > 1) {
    const m = (lo + hi) >> 1;
    if ((await oracle.verdicts([chargeProbeProgram(n1, m)]))[0] === 0) lo = m;
    else hi = m;
  }
  const okLen = ebpfLen(chargeProbeProgram(n1, lo));
  const badLen = ebpfLen(chargeProbeProgram(n1, hi));
  // header + 8 * okLen < optmem_max <= header + 8 * badLen
  const min = optmemMax - 8 * badLen;
  const max = optmemMax - 8 * okLen - 1;
  const h = Math.ceil(min / 8) * 8;
  return h <= max && h + 8 > max ? h : null;
}

/** The v6.6 header the model's bpf_prog_size assumes (model/ebpf/layout.ts). */
export const MODEL_BPF_PROG_HEADER = SIZEOF_BPF_PROG;

// DPDK's librte_bpf as two judges (oracle/dpdk/adapter.c): 'dpdk' reports rte_bpf_exec (its eBPF
// interpreter) and 'dpdk-jit' the code rte_bpf_get_jit returns (its x86-64 JIT), both after
// rte_bpf_convert (its port of the kernel's bpf_convert_filter) and rte_bpf_load (its validator).
// Built against the installed DPDK (Debian libdpdk-dev 22.11) and libpcap (libpcap-dev, for struct
// bpf_program).
//
// What DPDK supports (DPDK v22.11.11 lib/bpf/bpf_convert.c): bpf_convert_filter has a case for every
// one of the 49 classic codes Linux accepts (bpf_convert.c:294-484) and rejects only LD ABS of the 16
// SKF_AD_* ancillary offsets (convert_bpf_load, :211-239: "socket offset %d not supported", then
// rte_errno = 1). Programs with ancillary loads are counted as unsupported. Everything else is
// supported by its own claim; what its validator (bpf_validate.c) refuses on top is a catalogued
// difference (fuzz/impl/dpdk.ts), not a support restriction.
import type { Program } from '../../model/cbpf/insn.js';
import { ensureCBinary, type BuildResult } from '../build.js';
import type { OutsideSpec } from '../outside/judge.js';
import { firstAncillary } from '../outside/support.js';

export const DPDK_SOURCE = 'DPDK v22.11.11 lib/bpf';

/** Build oracle/dpdk/adapter.c against libdpdk (pkg-config) and -lpcap. */
export function ensureDpdkAdapter(env: NodeJS.ProcessEnv = process.env): BuildResult {
  return ensureCBinary(
    {
      name: 'bpfspec-dpdk',
      sources: ['oracle/outside/frame.c', 'oracle/dpdk/adapter.c'],
      headers: ['oracle/outside/frame.h'],
      libs: ['-lpcap'],
      requires: [{ header: 'pcap/bpf.h', debian: 'libpcap-dev' }],
      pkgConfig: [{ name: 'libdpdk', debian: 'libdpdk-dev' }],
    },
    env,
  );
}

/** Whether rte_bpf_convert converts what the program uses (null), or why not. */
export function dpdkSupports(prog: Program): string | null {
  const anc = firstAncillary(prog);
  if (anc !== null) return `SKF_AD_* ancillary loads (e.g. ld [${anc.macro}]): rte_bpf_convert rejects them (${DPDK_SOURCE}/bpf_convert.c:211-239)`;
  return null;
}

// rte_errno values are errno numbers; the stages that set one (convert, load) give a Linux-style errno.
const dpdkErrno = (code: number, stage: string): number => (code > 0 && (stage === 'rte_bpf_convert' || stage === 'rte_bpf_load') ? -code : 0);

export const DPDK: OutsideSpec = {
  name: 'dpdk',
  describe: 'DPDK librte_bpf: rte_bpf_convert, rte_bpf_load (validator), rte_bpf_exec (eBPF interpreter) on an rte_mbuf',
  build: () => ensureDpdkAdapter(),
  supports: dpdkSupports,
  engine: 'interpreter',
  errno: dpdkErrno,
};

export const DPDK_JIT: OutsideSpec = {
  name: 'dpdk-jit',
  describe: 'DPDK librte_bpf: rte_bpf_convert, rte_bpf_load, then the x86-64 JIT code of rte_bpf_get_jit on an rte_mbuf',
  build: () => ensureDpdkAdapter(),
  supports: dpdkSupports,
  engine: 'jit',
  errno: dpdkErrno,
};

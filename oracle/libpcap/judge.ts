// libpcap's bpf_validate + bpf_filter as a judge (oracle/libpcap/adapter.c), built against the
// installed libpcap (Debian libpcap-dev).
//
// What libpcap supports (libpcap-1.10.3 bpf_filter.c, the version Debian 12 ships): every one of
// the 49 classic codes Linux accepts has a case in pcap_filter_with_aux_data's switch (bpf_filter.c
// :111-386, MOD and XOR included); BPF_LEN loads wirelen (:171-177). It has none of Linux's SKF_AD_*
// ancillary loads: an `ld [SKF_AD_OFF + n]` is a packet load at offset 0xfffff000 + n, which fails
// (:121-135), and the only two it knows, SKF_AD_VLAN_TAG and _PRESENT as `ldb`, need aux data that
// bpf_filter does not pass (:147-158, :394), so they return 0 too. Programs with ancillary loads are
// counted as unsupported. Negative offsets (SKF_NET_OFF, SKF_LL_OFF) are just large offsets to
// libpcap: supported programs whose loads fail there (a catalogued difference, fuzz/impl/libpcap.ts).
import type { Program } from '../../model/cbpf/insn.js';
import { ensureCBinary, type BuildResult } from '../build.js';
import type { OutsideSpec } from '../outside/judge.js';
import { firstAncillary } from '../outside/support.js';

export const LIBPCAP_SOURCE = 'libpcap-1.10.3 bpf_filter.c';

/** Build oracle/libpcap/adapter.c against -lpcap (Debian libpcap-dev). */
export function ensureLibpcapAdapter(env: NodeJS.ProcessEnv = process.env): BuildResult {
  return ensureCBinary(
    {
      name: 'bpfspec-libpcap',
      sources: ['oracle/outside/frame.c', 'oracle/libpcap/adapter.c'],
      headers: ['oracle/outside/frame.h'],
      libs: ['-lpcap'],
      requires: [{ header: 'pcap/pcap.h', debian: 'libpcap-dev' }],
    },
    env,
  );
}

/** Whether libpcap implements what the program uses (null), or why not. */
export function libpcapSupports(prog: Program): string | null {
  const anc = firstAncillary(prog);
  if (anc !== null)
    return `SKF_AD_* ancillary loads (e.g. ld [${anc.macro}]): libpcap has none (${LIBPCAP_SOURCE}:121-169 loads packet offset 0xfffff000+n and fails)`;
  return null;
}

export const LIBPCAP: OutsideSpec = {
  name: 'libpcap',
  describe: 'libpcap bpf_validate + bpf_filter (user-space classic BPF of pcap_offline_filter, tcpdump -r)',
  build: () => ensureLibpcapAdapter(),
  supports: libpcapSupports,
  engine: 'interpreter',
};

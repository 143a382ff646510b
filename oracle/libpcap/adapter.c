/*
 * bpfspec outside judge: libpcap's user-space classic BPF, as pcap_offline_filter, tcpdump -r and
 * every capture tool that filters in user space run it. Per batch: bpf_validate() decides (the check
 * pcap_setfilter() applies through install_bpf_program), then bpf_filter(insns, p, wirelen, buflen)
 * runs on each packet with wirelen = buflen = skb->len (BPF_LEN loads wirelen). Protocol:
 * oracle/outside/README.md. Built on first use by oracle/libpcap/judge.ts (libpcap-dev).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <pcap/bpf.h>

#include "frame.h"

struct run {
	const struct bpf_insn *prog;
	const struct frame_packet *pkt;
};

static uint64_t run_filter(void *arg)
{
	const struct run *r = arg;
	return bpf_filter(r->prog, r->pkt->data, r->pkt->len, r->pkt->len);
}

int main(void)
{
	static const char *const engines[] = { "interpreter" };
	struct frame_batch b;

	guard_install();
	frame_hello("libpcap", pcap_lib_version(), engines, 1);
	while (frame_read_batch(&b)) {
		if (b.ninsns > 0x7fffffff || !bpf_validate(b.insns, (int)b.ninsns)) {
			answer_begin(b.id, 1, "bpf_validate", "bpf_validate returned 0 (not a valid filter program)");
			answer_results(0);
			answer_sections(0);
			answer_end();
			continue;
		}
		answer_begin(b.id, 0, "bpf_validate", "");
		answer_results(b.npackets);
		for (uint32_t i = 0; i < b.npackets; i++) {
			struct run r = { b.insns, &b.packets[i] };
			uint64_t v = 0;
			int sig = guard_call(run_filter, &r, &v);
			if (sig == 0)
				answer_result(STATUS_VALUE, (uint32_t)v, NULL);
			else
				answer_result(STATUS_SIGNAL, (uint32_t)sig, strsignal(sig));
		}
		answer_sections(0);
		answer_end();
	}
	return 0;
}

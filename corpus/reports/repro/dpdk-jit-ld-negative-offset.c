/*
 * DPDK librte_bpf x86-64 JIT: an LD_IND whose index + imm is negative takes the JIT's fast path and
 * loads from before the packet (rte_bpf_exec fails the same load and returns 0). Shown with the
 * classic program `ld [0]; tax; ldh [x + k]; ret a` as rte_bpf_convert converts it. Build with DPDK
 * (and the libpcap headers rte_bpf_convert needs):
 *   cc -O2 -o dpdk-jit-ld-negative-offset dpdk-jit-ld-negative-offset.c $(pkg-config --cflags --libs libdpdk) -lpcap
 *   ./dpdk-jit-ld-negative-offset
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
	static const char msg[] = "  JIT:         SIGSEGV\n";
	write(1, msg, sizeof(msg) - 1);
	_exit(0);
}

static void try(struct rte_mbuf *m, uint32_t k, int last)
{
	struct bpf_insn insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),  /* A = first word of the packet: 1 */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),         /* X = A */
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, k),   /* A = half-word at X + k */
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct bpf_program prog = { 4, insns };
	struct rte_bpf_prm *prm = rte_bpf_convert(&prog);
	struct rte_bpf *bpf = prm ? rte_bpf_load(prm) : NULL;
	if (bpf == NULL) {
		printf("load: %s\n", rte_strerror(rte_errno));
		return;
	}
	struct rte_bpf_jit jit;
	rte_bpf_get_jit(bpf, &jit);
	rte_pktmbuf_reset(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 64);
	memset(p, 0x5a, 64);
	p[0] = p[1] = p[2] = 0;
	p[3] = 1;
	printf("ld [0]; tax; ldh [x + 0x%08x]; ret a   (X = 1, X + k = %d):\n", k, (int32_t)(1 + k));
	printf("  interpreter: %llu\n", (unsigned long long)rte_bpf_exec(bpf, m));
	fflush(stdout);
	if (last) {
		signal(SIGSEGV, on_segv);
		signal(SIGBUS, on_segv);
	}
	printf("  JIT:         0x%llx (bytes %d and %d relative to the packet)\n", (unsigned long long)jit.func(m), (int32_t)(1 + k), (int32_t)(2 + k));
}

int main(void)
{
	char *eal[] = { "repro", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error", "--no-telemetry" };
	if (rte_eal_init(8, eal) < 0)
		return 1;
	struct rte_mempool *pool = rte_pktmbuf_pool_create("repro", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	/* two mbufs: the packet goes in the one at the higher address, the other's data is a marker */
	struct rte_mbuf *a = rte_pktmbuf_alloc(pool), *b = rte_pktmbuf_alloc(pool);
	struct rte_mbuf *m = rte_pktmbuf_mtod(a, char *) > rte_pktmbuf_mtod(b, char *) ? a : b;
	struct rte_mbuf *other = m == a ? b : a;
	memset(rte_pktmbuf_mtod(other, void *), 0x77, 64);
	int32_t back = (int32_t)(rte_pktmbuf_mtod(other, char *) - rte_pktmbuf_mtod(m, char *));
	try(m, (uint32_t)(back - 1), 0); /* the other mbuf's data: another packet, read by this filter */
	try(m, 0xc0000000, 1);           /* 1 GiB before the packet: unmapped */
	return 0;
}

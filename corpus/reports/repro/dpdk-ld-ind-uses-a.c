/*
 * DPDK librte_bpf: rte_bpf_convert() converts the classic `ld [x + k]` and `ldb [x + k]` into an
 * eBPF LD_IND indexed by A (R0) instead of X, so pcap filters that load relative to X read the
 * wrong bytes. Build with DPDK (and the libpcap headers rte_bpf_convert needs):
 *   cc -O2 -o dpdk-ld-ind-uses-a dpdk-ld-ind-uses-a.c $(pkg-config --cflags --libs libdpdk) -lpcap
 *   ./dpdk-ld-ind-uses-a
 */
#define ALLOW_EXPERIMENTAL_API
#include <stdio.h>
#include <string.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

/* An Ethernet/IPv4/TCP SYN (DF set, IHL 5) to port 80: tcpdump -r would print it for the filter. */
static const uint8_t syn[54] = {
	0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,             /* Ethernet, IPv4 */
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, /* IPv4: DF, TCP */
	10, 0, 0, 1, 10, 0, 0, 2,
	0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, /* TCP: flags SYN */
	0x00, 0x00, 0x00, 0x00,
};

static uint64_t run_dpdk(struct rte_mempool *pool, const struct bpf_program *fcode, const uint8_t *pkt, uint16_t len)
{
	struct rte_bpf_prm *prm = rte_bpf_convert(fcode);
	if (prm == NULL) {
		printf("rte_bpf_convert: %s\n", rte_strerror(rte_errno));
		return ~0ull;
	}
	for (uint32_t i = 0; i < prm->nb_ins; i++)
		if ((prm->ins[i].code & 0xe7) == 0x40) /* BPF_LD | BPF_IND */
			printf("  converted insn %u: code 0x%02x src_reg r%u imm %d (X is r7)\n", i, prm->ins[i].code, prm->ins[i].src_reg, prm->ins[i].imm);
	struct rte_bpf *bpf = rte_bpf_load(prm);
	if (bpf == NULL) {
		printf("rte_bpf_load: %s\n", rte_strerror(rte_errno));
		return ~0ull;
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	memcpy(rte_pktmbuf_append(m, len), pkt, len);
	uint64_t rc = rte_bpf_exec(bpf, m);
	rte_pktmbuf_free(m);
	rte_bpf_destroy(bpf);
	return rc;
}

int main(void)
{
	char *eal[] = { "repro", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error", "--no-telemetry" };
	if (rte_eal_init(8, eal) < 0)
		return 1;
	struct rte_mempool *pool = rte_pktmbuf_pool_create("repro", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	pcap_t *pcap = pcap_open_dead(DLT_EN10MB, 65535);
	struct bpf_program fcode;
	struct pcap_pkthdr h = { .caplen = sizeof(syn), .len = sizeof(syn) };

	/* 1. a tcpdump filter: (007) ldb [x + 27] reads the TCP flags at 14 + 4*IHL + 13 */
	if (pcap_compile(pcap, &fcode, "tcp[tcpflags] & tcp-syn != 0", 1, PCAP_NETMASK_UNKNOWN) != 0)
		return 1;
	printf("filter \"tcp[tcpflags] & tcp-syn != 0\" on a TCP SYN:\n");
	printf("  libpcap pcap_offline_filter: %d\n", pcap_offline_filter(&fcode, &h, syn));
	printf("  DPDK rte_bpf_exec:           %llu\n", (unsigned long long)run_dpdk(pool, &fcode, syn, sizeof(syn)));
	pcap_freecode(&fcode);

	/* 2. the minimal program: ldx #14; ld #2; ldb [x + 0]; ret a */
	struct bpf_insn insns[] = {
		BPF_STMT(BPF_LDX | BPF_IMM, 14),
		BPF_STMT(BPF_LD | BPF_IMM, 2),
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct bpf_program minimal = { 4, insns };
	uint8_t pkt[64];
	for (int i = 0; i < 64; i++)
		pkt[i] = (uint8_t)(0xa0 + i);
	h.caplen = h.len = 64;
	printf("ldx #14; ld #2; ldb [x + 0]; ret a on bytes a0 a1 a2 ...:\n");
	printf("  libpcap pcap_offline_filter: 0x%x (byte 14)\n", pcap_offline_filter(&minimal, &h, pkt));
	printf("  DPDK rte_bpf_exec:           0x%llx\n", (unsigned long long)run_dpdk(pool, &minimal, pkt, 64));
	return 0;
}

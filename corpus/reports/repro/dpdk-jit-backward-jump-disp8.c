/*
 * DPDK librte_bpf x86-64 JIT: a backward jump 127 or 128 bytes long (measured from the jump's start)
 * is emitted in its 2-byte form with displacement -129 or -130, which does not fit an int8 and is
 * truncated to +127 or +126: the jump lands in the middle of later code (here: a crash).
 * emit_abs_jcc()/emit_abs_jmp() (lib/bpf/bpf_jit_x86.c) test imm_size() of the offset from the
 * jump's start, then subtract the 2-byte length.
 * Build with DPDK:
 *   cc -O2 -o dpdk-jit-backward-jump-disp8 dpdk-jit-backward-jump-disp8.c $(pkg-config --cflags --libs libdpdk)
 *   ./dpdk-jit-backward-jump-disp8
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_bpf.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

static void on_signal(int sig)
{
	static const char segv[] = "  JIT: SIGSEGV\n", other[] = "  JIT: killed by a signal\n";
	if (sig == SIGSEGV)
		write(1, segv, sizeof(segv) - 1);
	else
		write(1, other, sizeof(other) - 1);
	_exit(0);
}

int main(int argc, char **argv)
{
	/* number of `r0 += 1` between the first exit and the last packet load; 13 puts the load's
	 * failure branch 127/128 bytes after the exit epilogue (DPDK 22.11 x86-64 JIT) */
	int n = argc > 1 ? atoi(argv[1]) : 13;
	char *eal[] = { "repro", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error", "--no-telemetry" };
	if (rte_eal_init(8, eal) < 0)
		return 1;
	struct rte_mempool *pool = rte_pktmbuf_pool_create("repro", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL || n < 0 || n > 64)
		return 1;
	/*
	 *   r6 = r1                  ; the mbuf, for the packet loads
	 *   r0 = *(u8 *)skb[0]       ; BPF_LD | BPF_ABS | BPF_B
	 *   if r0 != 0 goto +1
	 *   exit                     ; the first EXIT: the JIT emits its epilogue here
	 *   r0 += 1                  ; n times
	 *   r0 = ntohl(*(u32 *)skb[21]) ; fails on a 24-byte packet: the JIT jumps back to the epilogue
	 *   exit
	 */
	struct ebpf_insn ins[72];
	int k = 0;
	ins[k++] = (struct ebpf_insn){ .code = EBPF_ALU64 | EBPF_MOV | BPF_X, .dst_reg = EBPF_REG_6, .src_reg = EBPF_REG_1 };
	ins[k++] = (struct ebpf_insn){ .code = BPF_LD | BPF_ABS | BPF_B, .imm = 0 };
	ins[k++] = (struct ebpf_insn){ .code = BPF_JMP | EBPF_JNE | BPF_K, .dst_reg = EBPF_REG_0, .off = 1, .imm = 0 };
	ins[k++] = (struct ebpf_insn){ .code = BPF_JMP | EBPF_EXIT };
	for (int i = 0; i < n; i++)
		ins[k++] = (struct ebpf_insn){ .code = BPF_ALU | BPF_ADD | BPF_K, .dst_reg = EBPF_REG_0, .imm = 1 };
	ins[k++] = (struct ebpf_insn){ .code = BPF_LD | BPF_ABS | BPF_W, .imm = 21 };
	ins[k++] = (struct ebpf_insn){ .code = BPF_JMP | EBPF_EXIT };
	struct rte_bpf_prm prm = {
		.ins = ins, .nb_ins = k,
		.prog_arg = { .type = RTE_BPF_ARG_PTR_MBUF, .size = sizeof(struct rte_mbuf), .buf_size = RTE_MBUF_DEFAULT_BUF_SIZE },
	};
	struct rte_bpf *bpf = rte_bpf_load(&prm);
	if (bpf == NULL) {
		printf("rte_bpf_load: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	struct rte_bpf_jit jit;
	rte_bpf_get_jit(bpf, &jit);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	memset(rte_pktmbuf_append(m, 24), 1, 24); /* 24 bytes of 0x01 */
	printf("%d additions, 24-byte packet of 0x01 (the load of [21..24] fails: the filter returns 0):\n", n);
	printf("  interpreter (rte_bpf_exec): %llu\n", (unsigned long long)rte_bpf_exec(bpf, m));
	const uint8_t *code = (const uint8_t *)(uintptr_t)jit.func;
	printf("  JIT code: %zu bytes; 2-byte jumps backward by -129/-130 written as:", jit.sz);
	for (size_t i = 0; i + 1 < jit.sz; i++) {
		/* a short jcc (70..7f) or jmp (eb) whose int8 is 0x7e/0x7f and whose intended target
		 * (i + 2 - 129 or -130 + 2) is the epilogue is what the bug produces; print candidates */
		if ((code[i] >= 0x70 && code[i] <= 0x7f) || code[i] == 0xeb)
			if (code[i + 1] == 0x7e || code[i + 1] == 0x7f)
				printf(" [%zu: %02x %02x -> %zu]", i, code[i], code[i + 1], i + 2 + code[i + 1]);
	}
	printf("\n");
	if (getenv("JIT_DUMP")) {
		FILE *f = fopen(getenv("JIT_DUMP"), "wb");
		fwrite(code, 1, jit.sz, f);
		fclose(f);
	}
	fflush(stdout);
	signal(SIGSEGV, on_signal);
	signal(SIGILL, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGTRAP, on_signal);
	signal(SIGFPE, on_signal);
	printf("  JIT: %llu\n", (unsigned long long)jit.func(m));
	return 0;
}

/*
 * DPDK librte_bpf x86-64 JIT: BPF_JMP | BPF_JSET | BPF_K with an immediate that fits an int8 is
 * emitted as `test r64, imm32` (REX.W F7 /0) with a 1-byte immediate; the CPU takes the next three
 * code bytes as the rest of the immediate and runs garbage (here: a crash). The same imm_size()
 * misuse makes a shift by an immediate >= 128 (`shl r, imm8`, C1 /4 ib) carry 4 bytes of
 * immediate. Build with DPDK (run with `shift` as argument for the second case):
 *   cc -O2 -o dpdk-jit-jset-imm8 dpdk-jit-jset-imm8.c $(pkg-config --cflags --libs libdpdk)
 *   ./dpdk-jit-jset-imm8
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <rte_bpf.h>
#include <rte_eal.h>
#include <rte_errno.h>

static void on_segv(int sig)
{
	(void)sig;
	static const char msg[] = "  JIT: SIGSEGV\n";
	write(1, msg, sizeof(msg) - 1);
	_exit(0);
}

int main(int argc, char **argv)
{
	int shift = argc > 1 && strcmp(argv[1], "shift") == 0;
	char *eal[] = { "repro", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error", "--no-telemetry" };
	if (rte_eal_init(8, eal) < 0)
		return 1;
	/* r0 = 3; if (r0 & 1) goto +1; exit 0; r0 = 1; exit  (what rte_bpf_convert makes of
	 * `ld #3; jset #1, 1, 0; ret #0; ret #1`, without the classic prologue) */
	const struct ebpf_insn ins[] = {
		{ .code = BPF_ALU | EBPF_MOV | BPF_K, .dst_reg = EBPF_REG_0, .imm = 3 },
		{ .code = BPF_JMP | BPF_JSET | BPF_K, .dst_reg = EBPF_REG_0, .off = 2, .imm = 1 },
		{ .code = BPF_ALU | EBPF_MOV | BPF_K, .dst_reg = EBPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | EBPF_EXIT },
		{ .code = BPF_ALU | EBPF_MOV | BPF_K, .dst_reg = EBPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | EBPF_EXIT },
	};
	/* r0 = 1; r0 <<= 200 (32-bit: the CPU masks the count to 200 & 31 = 8): 256; exit */
	const struct ebpf_insn sh[] = {
		{ .code = BPF_ALU | EBPF_MOV | BPF_K, .dst_reg = EBPF_REG_0, .imm = 1 },
		{ .code = BPF_ALU | BPF_LSH | BPF_K, .dst_reg = EBPF_REG_0, .imm = 200 },
		{ .code = BPF_JMP | EBPF_EXIT },
	};
	struct rte_bpf_prm prm = { .ins = shift ? sh : ins, .nb_ins = shift ? RTE_DIM(sh) : RTE_DIM(ins), .prog_arg = { .type = RTE_BPF_ARG_RAW, .size = sizeof(uint64_t) } };
	struct rte_bpf *bpf = rte_bpf_load(&prm);
	if (bpf == NULL) {
		printf("rte_bpf_load: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	struct rte_bpf_jit jit;
	rte_bpf_get_jit(bpf, &jit);
	printf(shift ? "r0 = 1; r0 <<= 200 (32-bit):\n" : "r0 = 3; if (r0 & 1) r0 = 1 else r0 = 0:\n");
	printf("  interpreter (rte_bpf_exec): %llu\n", (unsigned long long)rte_bpf_exec(bpf, NULL));
	printf("  JIT code (%zu bytes):", jit.sz);
	for (size_t i = 0; i < jit.sz && i < 48; i++)
		printf(" %02x", ((const uint8_t *)jit.func)[i]);
	printf("\n");
	fflush(stdout);
	signal(SIGSEGV, on_segv);
	signal(SIGILL, on_segv);
	printf("  JIT: %llu\n", (unsigned long long)jit.func(NULL));
	return 0;
}

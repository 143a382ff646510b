/*
 * libpcap: bpf_validate() (which pcap_setfilter() applies through install_bpf_program) accepts
 * instructions that bpf_filter() has no case for, and bpf_filter() then calls abort(): a validated
 * filter kills the process on the first packet. Build with libpcap alone:
 *   cc -O2 -o libpcap-validate-accepts-aborting-opcodes libpcap-validate-accepts-aborting-opcodes.c -lpcap
 *   ./libpcap-validate-accepts-aborting-opcodes
 */
#include <stdio.h>
#include <pcap/pcap.h>

int main(void)
{
	/* 0x0d: BPF_JMP | BPF_JA | BPF_X, a jump with the X bit set (Linux's chk_code_allowed refuses it) */
	struct bpf_insn insns[] = {
		{ BPF_JMP | BPF_JA | BPF_X, 0, 0, 0 },
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
	};
	struct bpf_program prog = { 2, insns };
	unsigned char pkt[64] = { 0 };
	struct pcap_pkthdr h = { .caplen = sizeof(pkt), .len = sizeof(pkt) };
	printf("%s\nbpf_validate: %d\n", pcap_lib_version(), bpf_validate(insns, 2));
	fflush(stdout);
	printf("pcap_offline_filter: %d\n", pcap_offline_filter(&prog, &h, pkt));
	return 0;
}

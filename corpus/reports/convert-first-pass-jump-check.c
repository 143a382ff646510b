/*
 * bpf_convert_filter: a classic jump located past eBPF instruction 32767 is refused with EINVAL
 * although its real offset is 0. See corpus/reports/convert-first-pass-jump-check.md.
 *
 *   cc -O2 -Wall -o convert-first-pass-jump-check convert-first-pass-jump-check.c
 *   ./convert-first-pass-jump-check
 *
 * The filters: 1561 x `ldxb 4*([40000]&0xf)` (21 eBPF instructions each) and a `jeq #0, 0, 0` (a jump
 * to the next instruction), then `ret #1`; once with the jeq after the loads (eBPF index 32788) and
 * once with it before them (eBPF index 7). Both are 1563 classic instructions and 32791 eBPF
 * instructions, and bpf_check_classic accepts both.
 *
 *  1. SO_ATTACH_FILTER (no privilege): the jeq-last filter fails with EINVAL in the conversion; the
 *     jeq-first one gets through it and fails the socket charge instead (ENOMEM: 8 x 32791 bytes are
 *     more than net.core.optmem_max on most systems).
 *  2. PACKET_FANOUT_DATA on a PACKET_FANOUT_CBPF group (CAP_NET_RAW; skipped without it): the same
 *     conversion without a socket charge: the jeq-first filter is accepted, the jeq-last one still
 *     fails with EINVAL.
 *
 * Exit status: 0 when every result is as described, 1 otherwise, 2 on a setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOADS 1561
#define LEN (LOADS + 2)

static struct sock_filter jeq_last[LEN], jeq_first[LEN];

static void build(void) {
	const struct sock_filter msh = BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 40000); /* ldxb 4*([40000]&0xf) */
	const struct sock_filter jeq = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0); /* jeq #0, +0, +0 */
	const struct sock_filter ret = BPF_STMT(BPF_RET | BPF_K, 1);
	for (int i = 0; i < LOADS; i++) {
		jeq_last[i] = msh;
		jeq_first[i + 1] = msh;
	}
	jeq_last[LOADS] = jeq;
	jeq_first[0] = jeq;
	jeq_last[LOADS + 1] = jeq_first[LOADS + 1] = ret;
}

static int attach(struct sock_filter *f) {
	struct sock_fprog p = { .len = LEN, .filter = f };
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s < 0) {
		perror("socket(AF_UNIX)");
		exit(2);
	}
	int err = setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p) < 0 ? errno : 0;
	close(s);
	return err;
}

/* 0 or the errno of PACKET_FANOUT_DATA; -1 when there is no CAP_NET_RAW (or no AF_PACKET). */
static int fanout_data(struct sock_filter *f, int id) {
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (s < 0) return -1;
	int arg = id | (PACKET_FANOUT_CBPF << 16);
	if (setsockopt(s, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0) {
		perror("PACKET_FANOUT");
		close(s);
		exit(2);
	}
	struct sock_fprog p = { .len = LEN, .filter = f };
	int err = setsockopt(s, SOL_PACKET, PACKET_FANOUT_DATA, &p, sizeof p) < 0 ? errno : 0;
	close(s);
	return err;
}

static const char *name(int err) { return err == 0 ? "accepted" : strerrorname_np(err) ? strerrorname_np(err) : strerror(err); }

int main(void) {
	build();
	int ok = 1;
	int a = attach(jeq_last), b = attach(jeq_first);
	printf("SO_ATTACH_FILTER     jeq at eBPF insn 32788: %-8s (expected EINVAL: the conversion)\n", name(a));
	printf("SO_ATTACH_FILTER     jeq at eBPF insn 7:     %-8s (expected ENOMEM: the socket charge)\n", name(b));
	ok &= a == EINVAL && b == ENOMEM;
	int id = 0x4000 + (getpid() & 0x3fff);
	int c = fanout_data(jeq_last, id), d = fanout_data(jeq_first, id + 1);
	if (c < 0 || d < 0) {
		printf("PACKET_FANOUT_DATA   skipped: no AF_PACKET socket (needs CAP_NET_RAW)\n");
	} else {
		printf("PACKET_FANOUT_DATA   jeq at eBPF insn 32788: %-8s (expected EINVAL)\n", name(c));
		printf("PACKET_FANOUT_DATA   jeq at eBPF insn 7:     %-8s (expected accepted)\n", name(d));
		ok &= c == EINVAL && d == 0;
	}
	printf(ok ? "as described\n" : "not as described\n");
	return ok ? 0 : 1;
}

/*
 * x86-64 BPF JIT: a 6-instruction classic socket filter that the JIT refuses ("bpf_jit: fatal error"),
 * so that setsockopt(SO_ATTACH_FILTER) fails with ENOTSUPP (524) on kernels with
 * CONFIG_BPF_JIT_ALWAYS_ON (without it, the filter silently stays interpreted). See
 * corpus/reports/x86-jit-convergence.md.
 *
 *   cc -O2 -Wall -o x86-jit-convergence x86-jit-convergence.c && ./x86-jit-convergence
 *
 * Needs no privilege. Exit status: 0 if the kernel behaved as described (the filter refused with
 * ENOTSUPP, both one-instruction variants accepted), 1 otherwise, 2 on a setup error.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* include/linux/errno.h: kernel-internal, returned to user space as is */
#endif

/*
 * (000) jset     #0x3f            jt 4    jf 5
 * (001) ret      a
 * (002) ld       [65536]
 * (003) ldb      [1]
 * (004) ret      #0
 * (005) ret      #65535
 */
static struct sock_filter refused[] = {
	{ 0x45, 3, 4, 0x0000003f },
	{ 0x16, 0, 0, 0x00000000 },
	{ 0x20, 0, 0, 0x00010000 },
	{ 0x30, 0, 0, 0x00000001 },
	{ 0x06, 0, 0, 0x00000000 },
	{ 0x06, 0, 0, 0x0000ffff },
};

/* Attach `len` instructions to a fresh socket; 0 or the errno. */
static int attach(struct sock_filter *insns, unsigned short len) {
	struct sock_fprog fprog = { .len = len, .filter = insns };
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s < 0) {
		perror("socket");
		return -1;
	}
	int err = setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0 ? errno : 0;
	close(s);
	return err;
}

static void report(const char *what, int err) {
	if (err == 0)
		printf("%-44s attached\n", what);
	else
		printf("%-44s errno %d (%s)\n", what, err, err == ENOTSUPP ? "ENOTSUPP" : strerror(err));
}

int main(void) {
	const unsigned short n = sizeof refused / sizeof refused[0];
	int a = attach(refused, n);
	report("the 6-instruction filter", a);

	/* One instruction changed, every jump the same: both attach. */
	struct sock_filter v1[sizeof refused / sizeof refused[0]], v2[sizeof refused / sizeof refused[0]];
	memcpy(v1, refused, sizeof refused);
	memcpy(v2, refused, sizeof refused);
	v1[4].k = 1; /* ret #1: `mov eax, 1` (5 bytes) instead of `xor eax, eax` (2) */
	v2[3].k = 0; /* ldb [0]: no `r2 -= k` before the bounds check */
	int b = attach(v1, n), c = attach(v2, n);
	report("the same with (004) ret #1", b);
	report("the same with (003) ldb [0]", c);

	if (a < 0 || b < 0 || c < 0) return 2;
	if (a == ENOTSUPP && b == 0 && c == 0) {
		printf("as described: the JIT refused the filter (dmesg: \"bpf_jit: fatal error\")\n");
		return 0;
	}
	if (a == 0) printf("not reproduced: the filter attached (JIT not always on, or a kernel whose JIT lays it out differently)\n");
	return 1;
}

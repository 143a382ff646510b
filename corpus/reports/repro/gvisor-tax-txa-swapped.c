/*
 * gVisor pkg/bpf runs BPF_MISC|BPF_TAX as A = X and BPF_MISC|BPF_TXA as X = A. This seccomp filter
 * denies getpid() with EPERM on Linux (TAX: X = nr, TXA: A = nr) and allows it under gVisor (A = 0).
 *   cc -O2 -o gvisor-tax-txa-swapped gvisor-tax-txa-swapped.c && ./gvisor-tax-txa-swapped
 * Run it natively and under runsc.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("seccomp");
		return 1;
	}
	long r = syscall(SYS_getpid);
	printf("getpid() after the filter: %ld (%s)\n", r, r < 0 ? strerror(errno) : "allowed: gVisor's TAX/TXA");
	return 0;
}

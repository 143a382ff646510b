/*
 * The bpf_jit_harden lock. net.core.bpf_jit_harden is global: while it is set, programs allocated by
 * any task may be blinded (a longer program, another charge, another JIT image). The sockopt oracle
 * (oracle/kernel/sockopt.c) sets it for milliseconds at a time under an exclusive flock on this file;
 * every other helper allocates its programs under the lock held shared (the oracle's attaches,
 * jitimage's loads, the seccomp oracle's filter installs), so a window never changes them. The file is
 * $BPFSPEC_JIT_HARDEN_LOCK, else /tmp/bpfspec-jit-harden.lock (oracle/kernel/sockopt.ts says the same).
 */
#ifndef BPFSPEC_HARDEN_LOCK_H
#define BPFSPEC_HARDEN_LOCK_H
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>

/* The lock file, opened (created if need be); -1 when it cannot be (then nothing is locked). */
static inline int harden_lock_open(void) {
	const char *path = getenv("BPFSPEC_JIT_HARDEN_LOCK");
	return open(path ? path : "/tmp/bpfspec-jit-harden.lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
}

static inline void harden_lock_shared(int fd) {
	if (fd >= 0)
		while (flock(fd, LOCK_SH) < 0 && errno == EINTR) {
		}
}

static inline void harden_unlock(int fd) {
	if (fd >= 0) flock(fd, LOCK_UN);
}
#endif

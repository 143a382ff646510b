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
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

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

/*
 * A window of a helper that needs bpf_jit_harden at a value of its own for one program allocation
 * (the kernel oracle's attaches under `bpfspec kdiff --jit-harden N`, the JIT image oracle's probe
 * loads at 0): the lock held exclusively, the sysctl written when it differs, the call, the sysctl
 * written back and the lock released. The value to write back sits in harden_restore_to while the
 * window is open, so that harden_on_signal (installed by harden_window_signals) restores it on
 * SIGTERM, SIGINT, SIGHUP and SIGPIPE too; the helper's caller restores it if the helper is killed.
 */
#define HARDEN_SYSCTL "/proc/sys/net/core/bpf_jit_harden"
static volatile sig_atomic_t harden_restore_to = -1;

/* The sysctl now (-1: unreadable); plain syscalls, async-signal-safe. */
static inline int harden_read(void) {
	char b[16] = {0};
	int fd = open(HARDEN_SYSCTL, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	return n > 0 && b[0] >= '0' && b[0] <= '9' ? b[0] - '0' : -1;
}

/* Write the sysctl (0, 1 or 2): 0 or -errno; async-signal-safe. */
static inline int harden_write(int v) {
	char b[2] = {(char)('0' + v), '\n'};
	int fd = open(HARDEN_SYSCTL, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -errno;
	ssize_t n = write(fd, b, 2);
	int e = n == 2 ? 0 : -errno;
	close(fd);
	return e;
}

static inline void harden_on_signal(int sig) {
	if (harden_restore_to >= 0) harden_write(harden_restore_to);
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void harden_window_signals(void) {
	signal(SIGTERM, harden_on_signal);
	signal(SIGINT, harden_on_signal);
	signal(SIGHUP, harden_on_signal);
	signal(SIGPIPE, harden_on_signal);
}

/*
 * Open the window: the lock exclusively, then bpf_jit_harden = v. 0, or -errno (no lock file, the
 * sysctl unreadable or not writable: then nothing was changed and the lock is released).
 */
static inline int harden_window_open(int fd, int v) {
	if (fd < 0) return -EBADF;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) return -errno;
	int before = harden_read();
	if (before < 0) {
		flock(fd, LOCK_UN);
		return -EIO;
	}
	if (before != v) {
		harden_restore_to = before;
		int e = harden_write(v);
		if (e) {
			harden_restore_to = -1;
			flock(fd, LOCK_UN);
			return e;
		}
	}
	return 0;
}

/* Close the window: the sysctl written back (when it was changed), the lock released. */
static inline void harden_window_close(int fd) {
	if (harden_restore_to >= 0) {
		harden_write(harden_restore_to);
		harden_restore_to = -1;
	}
	flock(fd, LOCK_UN);
}
#endif

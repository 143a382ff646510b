/*
 * bpfspec socket-option oracle: runs sequences of setsockopt(SO_ATTACH_FILTER / SO_DETACH_FILTER /
 * SO_LOCK_FILTER) on fresh sockets and reports, after each call, its errno and the socket's
 * sk_omem_alloc (getsockopt(SO_MEMINFO)[SK_MEMINFO_OPTMEM]): what the filters are charged. Optionally
 * for a caller without capabilities (a child that drops them all with capset) and with
 * net.core.bpf_jit_harden set for the duration of the calls, restored at once. Driven by
 * oracle/kernel/sockopt.ts over stdin/stdout.
 *
 * bpf_jit_harden is global. While it is set, other tasks' programs are blinded too: root's are not
 * under 1 (bpf_capable()), but the seccomp oracle's sandboxed children (uid 65534, no capabilities)
 * are. So the window is taken under an exclusive flock on the lock file (harden_lock.h) that the
 * other helpers hold shared while they allocate programs (the seccomp oracle's filter installs), and
 * the sysctl is restored on every way out this process has (signals included); the caller restores it
 * too if this process dies.
 *
 * Protocol (little-endian u32 / s32):
 *   request: u32 payload_bytes, u32 flags (bit 0: set bpf_jit_harden to the u32 that follows),
 *            [u32 harden], u32 nscripts, nscripts x (u32 script_flags (bit 0: no capabilities),
 *            u32 nops, nops x op). op: u32 kind, then for kind 1 (SO_ATTACH_FILTER) u32 flen and
 *            flen x 8-byte struct sock_filter; kind 2 (SO_DETACH_FILTER) nothing; kind 3
 *            (SO_LOCK_FILTER) u32 val.
 *   reply:   u32 payload_bytes, s32 status (0, or the -errno that stopped the request: the lock, the
 *            sysctl), u32 harden before, u32 microseconds the sysctl was set, then per script per op: s32 errno (0: the call succeeded),
 *            u32 sk_omem_alloc after the call (0xffffffff: SO_MEMINFO failed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

#define HELPER_NAME "bpfspec-sockopt"
#include "harden_lock.h"
#include "pipe.h"

static void on_alarm(int sig) {
	(void)sig; /* interrupts flock */
}

/* Drop every capability (effective, permitted, inheritable): capable() is then false for the task. */
static int drop_caps(void) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	return (int)syscall(SYS_capset, &h, d);
}

static uint64_t now_us(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t optmem(int s) {
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof mem;
	if (getsockopt(s, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 || len < (SK_MEMINFO_OPTMEM + 1) * sizeof(uint32_t)) return 0xffffffffu;
	return mem[SK_MEMINFO_OPTMEM];
}

/* Run one script on a fresh socket, writing (errno, optmem) per op with put32. */
static void run_script(const unsigned char *p, const unsigned char *end, uint32_t nops) {
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) die("socket");
	for (uint32_t i = 0; i < nops; i++) {
		uint32_t kind = get32(&p, end);
		int r = 0;
		if (kind == 1) {
			uint32_t flen = get32(&p, end);
			if ((size_t)(end - p) < (size_t)flen * 8) get32(&end, end);
			struct sock_filter dummy = {0};
			struct sock_fprog fprog = {.len = (unsigned short)flen, .filter = flen ? (struct sock_filter *)p : &dummy};
			p += (size_t)flen * 8;
			r = flen > 0xffff ? -EINVAL : setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0 ? -errno : 0;
		} else if (kind == 2) {
			int v = 0;
			r = setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &v, sizeof v) < 0 ? -errno : 0;
		} else if (kind == 3) {
			int v = (int)get32(&p, end);
			r = setsockopt(s, SOL_SOCKET, SO_LOCK_FILTER, &v, sizeof v) < 0 ? -errno : 0;
		} else {
			fprintf(stderr, "bpfspec-sockopt: unknown op %u\n", kind);
			exit(2);
		}
		put32((uint32_t)r);
		put32(optmem(s));
	}
	close(s);
}

/* Skip one script's ops (to find where the next one starts). */
static const unsigned char *skip_script(const unsigned char *p, const unsigned char *end, uint32_t nops) {
	for (uint32_t i = 0; i < nops; i++) {
		uint32_t kind = get32(&p, end);
		if (kind == 1) {
			uint32_t flen = get32(&p, end);
			if ((size_t)(end - p) < (size_t)flen * 8) get32(&end, end);
			p += (size_t)flen * 8;
		} else if (kind == 3)
			get32(&p, end);
	}
	return p;
}

#define MAX_SCRIPTS 4096

int main(void) {
	harden_window_signals();
	struct sigaction al;
	memset(&al, 0, sizeof al);
	al.sa_handler = on_alarm; /* no SA_RESTART: the alarm interrupts flock */
	sigaction(SIGALRM, &al, NULL);
	static const unsigned char *starts[MAX_SCRIPTS];
	static uint32_t sflags[MAX_SCRIPTS], snops[MAX_SCRIPTS];
	for (;;) {
		uint32_t bytes;
		const unsigned char *p = read_request(&bytes);
		if (!p) return 0;
		const unsigned char *end = p + bytes;
		out_len = 0;
		uint32_t flags = get32(&p, end);
		int harden = (flags & 1) ? (int)get32(&p, end) : -1;
		uint32_t nscripts = get32(&p, end);
		if (nscripts > MAX_SCRIPTS) {
			fprintf(stderr, "bpfspec-sockopt: too many scripts\n");
			exit(2);
		}
		int any_unpriv = 0;
		for (uint32_t i = 0; i < nscripts; i++) {
			sflags[i] = get32(&p, end);
			snops[i] = get32(&p, end);
			starts[i] = p;
			p = skip_script(p, end, snops[i]);
			any_unpriv |= sflags[i] & 1;
		}
		/* `before` is read again under the exclusive lock: read outside it, it may be another
		 * window's transient value (a kdiff --jit-harden attach, a JIT-facts probe), which this
		 * window would then write back and leave set */
		int status = 0, before = harden_read();
		int lockfd = -1;
		int go[2] = {-1, -1}, res[2] = {-1, -1};
		pid_t child = -1;
		if (harden >= 0) {
			if (harden > 2) status = -EINVAL;
			lockfd = status ? -1 : harden_lock_open();
			if (!status && lockfd < 0) status = -errno;
			if (!status) {
				alarm(60); /* the seccomp oracle holds the lock for one case at a time */
				if (flock(lockfd, LOCK_EX) < 0) status = -errno;
				alarm(0);
				if (!status) before = harden_read();
			}
		}
		if (!status && any_unpriv) {
			/* the unprivileged caller: a child without capabilities, waiting for the sysctl */
			if (pipe(go) < 0 || pipe(res) < 0) die("pipe");
			child = fork();
			if (child < 0) die("fork");
			if (child == 0) {
				close(go[1]);
				close(res[0]);
				if (lockfd >= 0) close(lockfd);
				char c;
				int ok = drop_caps() == 0;
				if (!ok || !read_full(go[0], &c, 1)) _exit(3);
				out_len = 0;
				for (uint32_t i = 0; i < nscripts; i++)
					if (sflags[i] & 1) run_script(starts[i], end, snops[i]);
				write_full(res[1], out, out_len);
				_exit(0);
			}
			close(go[0]);
			close(res[1]);
		}
		uint64_t set_at = 0, window_us = 0;
		if (!status && harden >= 0) {
			harden_restore_to = before;
			set_at = now_us();
			int e = harden_write(harden);
			if (e) {
				harden_restore_to = -1;
				status = e;
			}
		}
		/* the window: the calls of every script, privileged ones here, unprivileged ones in the child */
		unsigned char *cbuf = NULL;
		if (!status) {
			if (child > 0) write_full(go[1], "g", 1);
			size_t mark = out_len;
			for (uint32_t i = 0; i < nscripts; i++)
				if (!(sflags[i] & 1)) run_script(starts[i], end, snops[i]);
			size_t plen = out_len - mark;
			unsigned char *pbuf = malloc(plen + 1);
			if (!pbuf) die("malloc");
			memcpy(pbuf, out + mark, plen);
			out_len = mark;
			if (child > 0) {
				size_t want = 0;
				for (uint32_t i = 0; i < nscripts; i++)
					if (sflags[i] & 1) want += (size_t)snops[i] * 8;
				cbuf = malloc(want + 1);
				if (!cbuf) die("malloc");
				if (want && !read_full(res[0], cbuf, want)) status = -ECHILD;
			}
			if (harden >= 0 && harden_restore_to >= 0) {
				harden_write(harden_restore_to);
				harden_restore_to = -1;
				window_us = now_us() - set_at;
			}
			/* merge: per script, in order */
			size_t pi = 0, ci = 0;
			if (!status)
				for (uint32_t i = 0; i < nscripts; i++) {
					size_t n = (size_t)snops[i] * 8;
					if (sflags[i] & 1) {
						put(cbuf + ci, n);
						ci += n;
					} else {
						put(pbuf + pi, n);
						pi += n;
					}
				}
			free(pbuf);
		}
		if (harden_restore_to >= 0) {
			harden_write(harden_restore_to);
			harden_restore_to = -1;
		}
		if (child > 0) {
			close(go[1]);
			close(res[0]);
			int st;
			while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
			}
		}
		free(cbuf);
		if (lockfd >= 0) close(lockfd); /* releases the flock */
		uint32_t head[4] = {(uint32_t)(12 + (status ? 0 : out_len)), (uint32_t)status, (uint32_t)before, (uint32_t)window_us};
		write_full(1, head, sizeof head);
		if (!status) write_full(1, out, out_len);
	}
}

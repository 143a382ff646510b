/*
 * bpfspec live-kernel oracle: attaches classic BPF programs with setsockopt(SO_ATTACH_FILTER) to the
 * receiving end of an AF_UNIX SOCK_DGRAM socket pair and reports, per packet, how much of each
 * datagram arrived. Driven by oracle/kernel/driver.ts over stdin/stdout.
 *
 * The filter runs in the sender's unix_dgram_sendmsg (net/unix/af_unix.c: sk_filter(other, skb)),
 * so the process pins itself to one CPU (SKF_AD_CPU is then known). The receiver's queue is
 * drained with recvmmsg(MSG_TRUNC) so a datagram's (trimmed) length is reported without copying it.
 * When the process may set SCM_CREDENTIALS with any uid (CAP_SETUID), every datagram of a batch
 * carries its index as the uid and the whole batch goes out with one sendmmsg; otherwise each
 * datagram is sent and received on its own.
 *
 * Protocol (all integers little-endian u32 / s32):
 *   request frame: u32 payload_bytes, u32 njobs, then njobs jobs:
 *     job: u32 nprogs, nprogs x (u32 flen, flen x 8-byte struct sock_filter),
 *          u32 npkts, npkts x (u32 len, len bytes)
 *   reply frame:   u32 payload_bytes, then per job, per program:
 *     s32 attach errno (0: attached); when 0, npkts x s32 observation:
 *       >= 0 bytes received (the datagram's length after the filter trimmed it),
 *       -1 dropped (nothing arrived), <= -1000: sendmsg failed with errno (-1000 - obs).
 *   hello (once, at start): u32 8, s32 cpu, u32 flags (bit 0: batched SCM_CREDENTIALS mode).
 * Arguments: CPU (-1: not pinned), "auto" or "single" (no batching), and optionally a
 * net.core.bpf_jit_harden value (0, 1, 2) every attach is made under (harden_lock.h's window: the
 * lock held exclusively and the sysctl set for the one setsockopt, then restored), or "-" (none).
 * Between programs the filter is detached (SO_DETACH_FILTER), so one program's memory charge never
 * affects the next.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/filter.h>

#define HELPER_NAME "bpfspec-oracle"
#include "harden_lock.h"
#include "pipe.h"

#define MAX_BATCH 1024

static int snd = -1, rcv = -1;
static int batched = 0;
/* blinding is decided when the program is allocated and the JIT runs inside setsockopt, so each attach
 * is made under the bpf_jit_harden lock held shared (harden_lock.h), or, with a harden value of its
 * own (`harden` >= 0), inside a window that sets the sysctl to it for that setsockopt only */
static int harden_lock = -1;
static int harden = -1;
/* Drain the receiver: record the length of each queued datagram by its sender-given index. */
static unsigned char rbuf[MAX_BATCH][16];
static struct mmsghdr rmsg[MAX_BATCH];
static struct iovec riov[MAX_BATCH];
static union {
	char buf[CMSG_SPACE(sizeof(struct ucred))];
	struct cmsghdr align;
} rctl[MAX_BATCH], sctl[MAX_BATCH];
static struct mmsghdr smsg[MAX_BATCH];
static struct iovec siov[MAX_BATCH];
/* getpid() is a system call (glibc caches nothing): asked once, not once per datagram */
static pid_t self;

static void run_batched(uint32_t npkts, unsigned char **pkt, uint32_t *len, int32_t *obs) {
	for (uint32_t base = 0; base < npkts; base += MAX_BATCH) {
		uint32_t n = npkts - base < MAX_BATCH ? npkts - base : MAX_BATCH;
		for (uint32_t i = 0; i < n; i++) {
			struct ucred uc = { .pid = self, .uid = base + i, .gid = 0 };
			obs[base + i] = -1;
			siov[i].iov_base = pkt[base + i];
			siov[i].iov_len = len[base + i];
			memset(&smsg[i], 0, sizeof smsg[i]);
			smsg[i].msg_hdr.msg_iov = &siov[i];
			smsg[i].msg_hdr.msg_iovlen = 1;
			smsg[i].msg_hdr.msg_control = sctl[i].buf;
			smsg[i].msg_hdr.msg_controllen = sizeof sctl[i].buf;
			struct cmsghdr *c = CMSG_FIRSTHDR(&smsg[i].msg_hdr);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_CREDENTIALS;
			c->cmsg_len = CMSG_LEN(sizeof uc);
			memcpy(CMSG_DATA(c), &uc, sizeof uc);
		}
		uint32_t sent = 0;
		while (sent < n) {
			int r = sendmmsg(snd, smsg + sent, n - sent, MSG_DONTWAIT);
			if (r < 0) {
				if (errno == EINTR) continue;
				obs[base + sent] = -1000 - errno; /* this one failed: record, go on with the next */
				sent++;
				continue;
			}
			sent += (uint32_t)r;
		}
		/* n datagrams at most are queued: n + 1 slots (up to MAX_BATCH) tell a drained queue in one call */
		uint32_t vlen = n < MAX_BATCH ? n + 1 : MAX_BATCH;
		for (;;) {
			for (uint32_t i = 0; i < vlen; i++) {
				riov[i].iov_base = rbuf[i];
				riov[i].iov_len = sizeof rbuf[i];
				memset(&rmsg[i], 0, sizeof rmsg[i]);
				rmsg[i].msg_hdr.msg_iov = &riov[i];
				rmsg[i].msg_hdr.msg_iovlen = 1;
				rmsg[i].msg_hdr.msg_control = rctl[i].buf;
				rmsg[i].msg_hdr.msg_controllen = sizeof rctl[i].buf;
			}
			int r = recvmmsg(rcv, rmsg, vlen, MSG_DONTWAIT | MSG_TRUNC, NULL);
			if (r < 0) {
				if (errno == EINTR) continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) break;
				die("recvmmsg");
			}
			for (int i = 0; i < r; i++) {
				struct cmsghdr *c = CMSG_FIRSTHDR(&rmsg[i].msg_hdr);
				struct ucred uc;
				if (!c || c->cmsg_type != SCM_CREDENTIALS) {
					fprintf(stderr, "bpfspec-oracle: datagram without credentials\n");
					exit(2);
				}
				memcpy(&uc, CMSG_DATA(c), sizeof uc);
				if (uc.uid >= n) {
					fprintf(stderr, "bpfspec-oracle: datagram with unknown index %u\n", uc.uid);
					exit(2);
				}
				obs[base + uc.uid] = (int32_t)rmsg[i].msg_len;
			}
			if ((uint32_t)r < vlen) break;
		}
	}
}

static void run_single(uint32_t npkts, unsigned char **pkt, uint32_t *len, int32_t *obs) {
	unsigned char b[16];
	for (uint32_t i = 0; i < npkts; i++) {
		ssize_t r = send(snd, pkt[i], len[i], MSG_DONTWAIT);
		if (r < 0) {
			obs[i] = -1000 - errno;
			continue;
		}
		r = recv(rcv, b, sizeof b, MSG_DONTWAIT | MSG_TRUNC);
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) die("recv");
			obs[i] = -1;
		} else
			obs[i] = (int32_t)r;
	}
}

static int probe_batched(void) {
	int one = 1;
	if (setsockopt(rcv, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) return 0;
	unsigned char p = 0;
	uint32_t l = 1;
	unsigned char *pp = &p;
	int32_t o;
	struct ucred uc = { .pid = self, .uid = 0, .gid = 0 };
	struct msghdr m = { 0 };
	struct iovec v = { &p, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	m.msg_iov = &v;
	m.msg_iovlen = 1;
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof ctl.buf;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof uc);
	uc.uid = 12345; /* needs CAP_SETUID unless it is our own uid */
	memcpy(CMSG_DATA(c), &uc, sizeof uc);
	if (sendmsg(snd, &m, MSG_DONTWAIT) < 0) {
		one = 0;
		setsockopt(rcv, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
		unsigned char b[4];
		while (recv(rcv, b, sizeof b, MSG_DONTWAIT) >= 0) {
		}
		return 0;
	}
	unsigned char b[4];
	while (recv(rcv, b, sizeof b, MSG_DONTWAIT) >= 0) {
	}
	run_batched(1, &pp, &l, &o);
	return o == 1;
}

int main(int argc, char **argv) {
	self = getpid();
	int cpu = argc > 1 ? atoi(argv[1]) : -1;
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0) die("sched_setaffinity");
	}
	harden_lock = harden_lock_open();
	if (argc > 3 && strcmp(argv[3], "-") != 0) {
		harden = atoi(argv[3]);
		if (harden < 0 || harden > 2 || harden_lock < 0) {
			fprintf(stderr, HELPER_NAME ": bpf_jit_harden %s: expected 0, 1 or 2 and a lock file\n", argv[3]);
			return 2;
		}
		harden_window_signals();
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) die("socketpair");
	snd = sv[0];
	rcv = sv[1];
	int big = 8 << 20;
	/* as root the FORCE variants pass net.core.wmem_max/rmem_max; otherwise the plain ones cap there */
	if (setsockopt(snd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0) setsockopt(snd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	if (setsockopt(rcv, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0) setsockopt(rcv, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	batched = probe_batched() && !(argc > 2 && strcmp(argv[2], "single") == 0);
	if (!batched) {
		int zero = 0;
		setsockopt(rcv, SOL_SOCKET, SO_PASSCRED, &zero, sizeof zero);
	}
	int32_t hello[3] = { 8, sched_getcpu(), batched };
	write_full(1, hello, sizeof hello);

	unsigned char **pkt = NULL;
	uint32_t *len = NULL;
	int32_t *obs = NULL;
	size_t pkt_cap = 0;
	for (;;) {
		uint32_t bytes;
		const unsigned char *p = read_request(&bytes);
		if (!p) return 0;
		const unsigned char *end = p + bytes;
		reply_begin();
		uint32_t njobs = get32(&p, end);
		for (uint32_t j = 0; j < njobs; j++) {
			uint32_t nprogs = get32(&p, end);
			const unsigned char *progs = p;
			for (uint32_t i = 0; i < nprogs; i++) {
				uint32_t flen = get32(&p, end);
				if ((size_t)(end - p) < (size_t)flen * 8) get32(&end, end);
				p += (size_t)flen * 8;
			}
			uint32_t npkts = get32(&p, end);
			if (npkts > pkt_cap) {
				pkt_cap = npkts;
				pkt = realloc(pkt, pkt_cap * sizeof *pkt);
				len = realloc(len, pkt_cap * sizeof *len);
				obs = realloc(obs, pkt_cap * sizeof *obs);
				if (!pkt || !len || !obs) die("realloc");
			}
			for (uint32_t i = 0; i < npkts; i++) {
				len[i] = get32(&p, end);
				if ((size_t)(end - p) < len[i]) get32(&end, end);
				pkt[i] = (unsigned char *)p;
				p += len[i];
			}
			const unsigned char *q = progs;
			for (uint32_t i = 0; i < nprogs; i++) {
				uint32_t flen = get32(&q, end);
				struct sock_fprog fprog = { .len = (unsigned short)flen, .filter = (struct sock_filter *)q };
				struct sock_filter dummy = { 0 };
				if (flen == 0) fprog.filter = &dummy; /* len 0 with a valid pointer: bpf_check_basics_ok */
				q += (size_t)flen * 8;
				if (flen > 0xffff) {
					put32((uint32_t)EINVAL); /* cannot be expressed in struct sock_fprog */
					continue;
				}
				int rc, e;
				if (harden >= 0) {
					int w = harden_window_open(harden_lock, harden);
					if (w < 0) {
						errno = -w;
						die("bpf_jit_harden window");
					}
					rc = setsockopt(rcv, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
					e = errno;
					harden_window_close(harden_lock);
				} else {
					harden_lock_shared(harden_lock);
					rc = setsockopt(rcv, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
					e = errno;
					harden_unlock(harden_lock);
				}
				if (rc < 0) {
					put32((uint32_t)e);
					continue;
				}
				put32(0);
				if (batched)
					run_batched(npkts, pkt, len, obs);
				else
					run_single(npkts, pkt, len, obs);
				for (uint32_t k = 0; k < npkts; k++) put32((uint32_t)obs[k]);
				int dummy2 = 0;
				if (setsockopt(rcv, SOL_SOCKET, SO_DETACH_FILTER, &dummy2, sizeof dummy2) < 0) die("SO_DETACH_FILTER");
			}
		}
		reply_end();
	}
}

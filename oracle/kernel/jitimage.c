/*
 * bpfspec JIT image oracle: loads eBPF programs with bpf(BPF_PROG_LOAD) as socket filters and reports,
 * per program, the load errno and, when loaded, the x86-64 JIT's image length (jited_prog_len) and
 * the program as the verifier left it (xlated_prog_insns), which is what the JIT compiled. With the
 * image bytes of one program (flag 1) it also returns the image, so that the JIT's build and CPU
 * facts (endbr64, call-depth accounting, return thunks) can be read off the code. Driven by
 * oracle/kernel/jitimage.ts over stdin/stdout. Needs CAP_BPF (or CAP_SYS_ADMIN).
 *
 * Protocol (little-endian):
 *   request:  u32 payload_bytes, u32 flags (bit 0: return images), u32 nprogs,
 *             nprogs x (u32 ninsns, ninsns x 8-byte struct bpf_insn)
 *   reply:    u32 payload_bytes, then per program: s32 errno (0: loaded); when 0,
 *             u32 jited_len, u32 xlated_count, xlated_count x 8 bytes, and with flag 1
 *             u32 image_len, image_len bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned char *out;
static size_t out_len, out_cap;

static void die(const char *what) {
	fprintf(stderr, "bpfspec-jitimage: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void put(const void *p, size_t n) {
	while (out_len + n > out_cap) {
		out_cap = out_cap ? out_cap * 2 : 65536;
		out = realloc(out, out_cap);
		if (!out) die("realloc");
	}
	memcpy(out + out_len, p, n);
	out_len += n;
}

static void put32(uint32_t v) { put(&v, 4); }

static int read_full(void *buf, size_t n) {
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(0, (char *)buf + got, n - got);
		if (r == 0) return 0;
		if (r < 0) {
			if (errno == EINTR) continue;
			die("read");
		}
		got += (size_t)r;
	}
	return 1;
}

static void write_full(const void *buf, size_t n) {
	size_t put_n = 0;
	while (put_n < n) {
		ssize_t r = write(1, (const char *)buf + put_n, n - put_n);
		if (r < 0) {
			if (errno == EINTR) continue;
			die("write");
		}
		put_n += (size_t)r;
	}
}

static long sys_bpf(int cmd, union bpf_attr *attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

#define MAX_XLATED 65536
#define MAX_IMAGE (1 << 20)
static struct bpf_insn xlated[MAX_XLATED];
static unsigned char image[MAX_IMAGE];

int main(void) {
	/* BPF_PROG_LOAD under the bpf_jit_harden lock held shared (see oracle/kernel/oracle.c): a window of
	 * the sockopt oracle never blinds a program loaded here */
	const char *lock_path = getenv("BPFSPEC_JIT_HARDEN_LOCK");
	int harden_lock = open(lock_path ? lock_path : "/tmp/bpfspec-jit-harden.lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	unsigned char *req = NULL;
	size_t req_cap = 0;
	for (;;) {
		uint32_t bytes;
		if (!read_full(&bytes, 4)) return 0;
		if (bytes < 8) {
			fprintf(stderr, "bpfspec-jitimage: short request\n");
			return 2;
		}
		if (bytes > req_cap) {
			req_cap = bytes;
			req = realloc(req, req_cap);
			if (!req) die("realloc");
		}
		if (!read_full(req, bytes)) return 0;
		const unsigned char *p = req, *end = req + bytes;
		uint32_t flags, nprogs;
		memcpy(&flags, p, 4);
		memcpy(&nprogs, p + 4, 4);
		p += 8;
		out_len = 0;
		put32(0);
		for (uint32_t i = 0; i < nprogs; i++) {
			uint32_t n;
			if (p + 4 > end) {
				fprintf(stderr, "bpfspec-jitimage: truncated request\n");
				return 2;
			}
			memcpy(&n, p, 4);
			p += 4;
			if ((size_t)(end - p) < (size_t)n * 8) {
				fprintf(stderr, "bpfspec-jitimage: truncated program\n");
				return 2;
			}
			union bpf_attr attr;
			memset(&attr, 0, sizeof attr);
			attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
			attr.insn_cnt = n;
			attr.insns = (uint64_t)(uintptr_t)p;
			attr.license = (uint64_t)(uintptr_t) "GPL";
			p += (size_t)n * 8;
			if (harden_lock >= 0)
				while (flock(harden_lock, LOCK_SH) < 0 && errno == EINTR) {
				}
			int fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
			int e = errno;
			if (harden_lock >= 0) flock(harden_lock, LOCK_UN);
			if (fd < 0) {
				put32((uint32_t)e);
				continue;
			}
			struct bpf_prog_info info;
			memset(&info, 0, sizeof info);
			info.jited_prog_len = MAX_IMAGE;
			info.jited_prog_insns = (uint64_t)(uintptr_t)image;
			info.xlated_prog_len = sizeof xlated;
			info.xlated_prog_insns = (uint64_t)(uintptr_t)xlated;
			memset(&attr, 0, sizeof attr);
			attr.info.bpf_fd = (uint32_t)fd;
			attr.info.info_len = sizeof info;
			attr.info.info = (uint64_t)(uintptr_t)&info;
			if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0) die("BPF_OBJ_GET_INFO_BY_FD");
			close(fd);
			put32(0);
			put32(info.jited_prog_len);
			uint32_t nx = info.xlated_prog_len / 8;
			put32(nx);
			put(xlated, (size_t)nx * 8);
			if (flags & 1) {
				uint32_t il = info.jited_prog_len < MAX_IMAGE ? info.jited_prog_len : MAX_IMAGE;
				put32(il);
				put(image, il);
			}
		}
		uint32_t payload = (uint32_t)(out_len - 4);
		memcpy(out, &payload, 4);
		write_full(out, out_len);
	}
}

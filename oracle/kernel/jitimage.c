/*
 * bpfspec JIT image oracle: loads eBPF programs with bpf(BPF_PROG_LOAD) as socket filters and reports,
 * per program, the load errno and, when loaded, the x86-64 JIT's image length (jited_prog_len) and
 * the program as the verifier left it (xlated_prog_insns), which is what the JIT compiled. With the
 * image bytes of one program (flag 1) it also returns the image, so that the JIT's build and CPU
 * facts (endbr64, call-depth accounting, return thunks) can be read off the code. Driven by
 * oracle/kernel/jitimage.ts over stdin/stdout. Needs CAP_BPF (or CAP_SYS_ADMIN).
 *
 * Protocol (little-endian):
 *   request:  u32 payload_bytes, u32 flags (bit 0: return images; bit 1: load under bpf_jit_harden 0,
 *             in harden_lock.h's window: the lock held exclusively, the sysctl set to 0 for the one
 *             BPF_PROG_LOAD and restored at once; the JIT-facts probe reads unblinded images so), u32 nprogs,
 *             nprogs x (u32 ninsns, ninsns x 8-byte struct bpf_insn)
 *   reply:    u32 payload_bytes, then per program: s32 errno (0: loaded); when 0,
 *             u32 jited_len, u32 xlated_count, xlated_count x 8 bytes, and with flag 1
 *             u32 image_len, image_len bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HELPER_NAME "bpfspec-jitimage"
#include "harden_lock.h"
#include "pipe.h"

static long sys_bpf(int cmd, union bpf_attr *attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

#define MAX_XLATED 65536
#define MAX_IMAGE (1 << 20)
static struct bpf_insn xlated[MAX_XLATED];
static unsigned char image[MAX_IMAGE];

int main(void) {
	/* BPF_PROG_LOAD under the bpf_jit_harden lock held shared (harden_lock.h): a window of the sockopt
	 * oracle never blinds a program loaded here */
	int harden_lock = harden_lock_open();
	harden_window_signals();
	for (;;) {
		uint32_t bytes;
		const unsigned char *p = read_request(&bytes);
		if (!p) return 0;
		const unsigned char *end = p + bytes;
		uint32_t flags = get32(&p, end), nprogs = get32(&p, end);
		reply_begin();
		for (uint32_t i = 0; i < nprogs; i++) {
			uint32_t n = get32(&p, end);
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
			int fd, e;
			if (flags & 2) {
				int w = harden_window_open(harden_lock, 0);
				if (w < 0) {
					put32((uint32_t)-w); /* the window could not be opened: reported as the load's errno */
					continue;
				}
				fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
				e = errno;
				harden_window_close(harden_lock);
			} else {
				harden_lock_shared(harden_lock);
				fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
				e = errno;
				harden_unlock(harden_lock);
			}
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
		reply_end();
	}
}

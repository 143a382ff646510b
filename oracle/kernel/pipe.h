/*
 * The stdin/stdout plumbing the kernel oracle's helpers share (oracle.c, sockopt.c, jitimage.c; their
 * side in bpfspec is oracle/kernel/framed.ts): every request and reply is a frame, a little-endian u32
 * payload length and then the payload. Replies are built in `out` with put/put32. Define HELPER_NAME
 * (the prefix of fatal messages, e.g. "bpfspec-oracle") before including this file.
 */
#ifndef BPFSPEC_PIPE_H
#define BPFSPEC_PIPE_H
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char *out;
static size_t out_len, out_cap;

static inline void die(const char *what) {
	fprintf(stderr, HELPER_NAME ": %s: %s\n", what, strerror(errno));
	exit(2);
}

static inline void put(const void *p, size_t n) {
	while (out_len + n > out_cap) {
		out_cap = out_cap ? out_cap * 2 : 65536;
		out = realloc(out, out_cap);
		if (!out) die("realloc");
	}
	memcpy(out + out_len, p, n);
	out_len += n;
}

static inline void put32(uint32_t v) { put(&v, 4); }

/* Read exactly n bytes; 0 at end of input. */
static inline int read_full(int fd, void *buf, size_t n) {
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r == 0) return 0;
		if (r < 0) {
			if (errno == EINTR) continue;
			die("read");
		}
		got += (size_t)r;
	}
	return 1;
}

static inline void write_full(int fd, const void *buf, size_t n) {
	size_t done = 0;
	while (done < n) {
		ssize_t r = write(fd, (const char *)buf + done, n - done);
		if (r < 0) {
			if (errno == EINTR) continue;
			die("write");
		}
		done += (size_t)r;
	}
}

/* The next u32 of a request; a truncated request is fatal. */
static inline uint32_t get32(const unsigned char **p, const unsigned char *end) {
	uint32_t v;
	if (*p + 4 > end) {
		fprintf(stderr, HELPER_NAME ": truncated request\n");
		exit(2);
	}
	memcpy(&v, *p, 4);
	*p += 4;
	return v;
}

/* The next request's payload from stdin (its length in *bytes), in a buffer reused across requests;
 * NULL at end of input. */
static inline unsigned char *read_request(uint32_t *bytes) {
	static unsigned char *req;
	static size_t cap;
	if (!read_full(0, bytes, 4)) return NULL;
	if (*bytes > cap) {
		cap = *bytes;
		req = realloc(req, cap);
		if (!req) die("realloc");
	}
	return read_full(0, req, *bytes) ? req : NULL;
}

/* A reply is begun with its length word left blank, and ended by filling it in and writing it out. */
static inline void reply_begin(void) {
	out_len = 0;
	put32(0);
}

static inline void reply_end(void) {
	uint32_t payload = (uint32_t)(out_len - 4);
	memcpy(out, &payload, 4);
	write_full(1, out, out_len);
}
#endif

/*
 * The outside-judge protocol for C adapters: binary frames on stdin/stdout (oracle/outside/README.md)
 * and a signal guard around each call into the implementation under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "frame.h"

static uint8_t *in;
static size_t in_cap;
static uint8_t *out;
static size_t out_len, out_cap;
static size_t section_at;
static int out_fd = 1;

static struct bpf_insn *insns;
static size_t insns_cap;
static struct frame_packet *packets;
static size_t packets_cap;

void frame_die(const char *what)
{
	fprintf(stderr, "bpfspec adapter: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(2);
}

static void *grow(void *p, size_t *cap, size_t need, size_t each)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	p = realloc(p, n * each);
	if (!p)
		frame_die("out of memory");
	*cap = n;
	return p;
}

static void write_all(const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = write(out_fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			frame_die("write");
		}
		b += w;
		n -= (size_t)w;
	}
}

static int read_all(void *p, size_t n)
{
	uint8_t *b = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(0, b + got, n - got);
		if (r == 0)
			return got == 0 ? 0 : -1;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			frame_die("read");
		}
		got += (size_t)r;
	}
	return 1;
}

void put_bytes(const void *p, uint32_t n)
{
	size_t padded = (n + 3u) & ~3u;
	out = grow(out, &out_cap, out_len + padded, 1);
	memcpy(out + out_len, p, n);
	memset(out + out_len + n, 0, padded - n);
	out_len += padded;
}

void put_u32(uint32_t v)
{
	uint8_t b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
	put_bytes(b, 4);
}

void put_str(const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	put_u32(n);
	put_bytes(s, n);
}

static void patch_u32(size_t at, uint32_t v)
{
	out[at] = v & 0xff;
	out[at + 1] = (v >> 8) & 0xff;
	out[at + 2] = (v >> 16) & 0xff;
	out[at + 3] = v >> 24;
}

static void frame_begin(uint32_t kind)
{
	out_len = 0;
	put_u32(0); /* size, patched by frame_end */
	put_u32(kind);
}

static void frame_end(void)
{
	patch_u32(0, (uint32_t)(out_len - 4));
	write_all(out, out_len);
}

int frame_out_fd(void)
{
	return out_fd;
}

void frame_protect_stdout(void)
{
	int fd = dup(1);
	if (fd < 0 || dup2(2, 1) < 0)
		frame_die("dup");
	out_fd = fd;
}

static void send_error(const char *msg)
{
	frame_begin(FRAME_ERROR);
	put_str(msg);
	frame_end();
}

void frame_hello(const char *implementation, const char *version, const char *const *engines, uint32_t nengines)
{
	frame_begin(FRAME_HELLO);
	put_str(implementation);
	put_str(version);
	put_u32(nengines);
	for (uint32_t i = 0; i < nengines; i++)
		put_str(engines[i]);
	frame_end();
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void malformed(const char *what)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "malformed batch frame: %s", what);
	send_error(msg);
	errno = 0;
	frame_die(msg);
}

int frame_read_batch(struct frame_batch *b)
{
	uint8_t hdr[4];
	int r = read_all(hdr, 4);
	if (r == 0)
		return 0;
	if (r < 0)
		malformed("truncated size");
	uint32_t size = get_u32(hdr);
	if (size < 4 || size > MAX_FRAME)
		malformed("size outside 4..MAX_FRAME");
	in = grow(in, &in_cap, size, 1);
	if (read_all(in, size) != 1)
		malformed("truncated body");
	const uint8_t *p = in, *end = in + size;
#define NEED(n, what) do { if ((size_t)(end - p) < (size_t)(n)) malformed(what); } while (0)
	NEED(4, "kind");
	if (get_u32(p) != FRAME_BATCH)
		malformed("not a batch frame");
	p += 4;
	NEED(12, "header");
	b->id = get_u32(p);
	b->flags = get_u32(p + 4);
	b->ninsns = get_u32(p + 8);
	p += 12;
	NEED((size_t)b->ninsns * 8, "instructions");
	insns = grow(insns, &insns_cap, b->ninsns ? b->ninsns : 1, sizeof(*insns));
	for (uint32_t i = 0; i < b->ninsns; i++, p += 8) {
		insns[i].code = (u_short)(p[0] | p[1] << 8);
		insns[i].jt = p[2];
		insns[i].jf = p[3];
		insns[i].k = get_u32(p + 4);
	}
	b->insns = insns;
	NEED(4, "packet count");
	b->npackets = get_u32(p);
	p += 4;
	if (b->npackets > size / 8)
		malformed("packet count");
	packets = grow(packets, &packets_cap, b->npackets ? b->npackets : 1, sizeof(*packets));
	for (uint32_t i = 0; i < b->npackets; i++) {
		NEED(8, "packet header");
		packets[i].headlen = get_u32(p);
		packets[i].len = get_u32(p + 4);
		p += 8;
		size_t padded = ((size_t)packets[i].len + 3) & ~(size_t)3;
		NEED(padded, "packet bytes");
		if (packets[i].headlen > packets[i].len)
			malformed("headlen > length");
		packets[i].data = p;
		p += padded;
	}
	b->packets = packets;
	if (p != end)
		malformed("trailing bytes");
#undef NEED
	return 1;
}

void answer_begin(uint32_t id, int32_t code, const char *stage, const char *message)
{
	frame_begin(FRAME_ANSWER);
	put_u32(id);
	put_u32((uint32_t)code);
	put_str(stage);
	put_str(message);
}

void answer_results(uint32_t n)
{
	put_u32(n);
}

void answer_result(uint32_t status, uint32_t value, const char *message)
{
	put_u32(status);
	put_u32(value);
	if (status != STATUS_VALUE)
		put_str(message ? message : "");
}

void answer_sections(uint32_t n)
{
	put_u32(n);
}

void section_begin(uint32_t tag)
{
	put_u32(tag);
	section_at = out_len;
	put_u32(0);
}

void section_end(void)
{
	patch_u32(section_at, (uint32_t)(out_len - section_at - 4));
}

void answer_end(void)
{
	frame_end();
}

/* --- the signal guard ---------------------------------------------------------------------- */

static sigjmp_buf guard_jmp;
static volatile sig_atomic_t guard_active;
static volatile sig_atomic_t guard_sig;

static void on_fatal(int sig)
{
	if (!guard_active) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	guard_sig = sig;
	siglongjmp(guard_jmp, 1);
}

void guard_install(void)
{
	static char altstack[1 << 16];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
	if (sigaltstack(&ss, NULL) != 0)
		frame_die("sigaltstack");
	const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGVTALRM };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fatal;
		sa.sa_flags = SA_ONSTACK | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (sigaction(sigs[i], &sa, NULL) != 0)
			frame_die("sigaction");
	}
}

static void set_budget(long ms)
{
	struct itimerval t = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	setitimer(ITIMER_VIRTUAL, &t, NULL);
}

static int guard(uint64_t (*fn)(void *), void *arg, uint64_t *out_value, long budget_ms)
{
	if (sigsetjmp(guard_jmp, 1) != 0) {
		guard_active = 0;
		set_budget(0);
		return guard_sig;
	}
	guard_active = 1;
	set_budget(budget_ms);
	*out_value = fn(arg);
	set_budget(0);
	guard_active = 0;
	return 0;
}

int guard_call(uint64_t (*fn)(void *), void *arg, uint64_t *out_value)
{
	/* a filter run that does not end (libpcap runs backward jumps) is stopped after GUARD_CPU_MS */
	return guard(fn, arg, out_value, GUARD_CPU_MS);
}

int guard_load(uint64_t (*fn)(void *), void *arg, uint64_t *out_value)
{
	/* loading (converting, validating, compiling) takes what it takes: the driver's watchdog covers a hang */
	return guard(fn, arg, out_value, 0);
}

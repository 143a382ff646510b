/*
 * bpfspec outside judge: DPDK's librte_bpf, the way a DPDK application runs a pcap filter. Per batch:
 * rte_bpf_convert() (its port of the kernel's bpf_convert_filter, classic to eBPF), rte_bpf_load()
 * (its validator, then its x86-64 JIT), then per packet rte_bpf_exec() (its interpreter) on an
 * rte_mbuf chain holding the packet (first segment = skb_headlen bytes, as the skb's frags), and,
 * when asked, the JIT's code from rte_bpf_get_jit() on the same mbuf. The EAL runs without hugepages
 * or devices. What the library logs while converting and loading (the validator's reasons) is
 * captured and returned with the verdict. Protocol: oracle/outside/README.md. Built on first use by
 * oracle/dpdk/judge.ts (libdpdk-dev, libpcap-dev).
 */
#define _GNU_SOURCE
/* rte_bpf_convert is experimental in 22.11 */
#define ALLOW_EXPERIMENTAL_API
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pcap/bpf.h>
#include <rte_bpf.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include "frame.h"

#define SEG_ROOM 8192
#define POOL_SIZE 1023

static struct rte_mempool *pool;

/* The captured library log of the current batch. */
static char *log_buf;
static size_t log_len;
static FILE *log_file;

static void log_start(void)
{
	free(log_buf);
	log_buf = NULL;
	log_len = 0;
	log_file = open_memstream(&log_buf, &log_len);
	if (!log_file)
		frame_die("open_memstream");
	rte_openlog_stream(log_file);
}

/* Stop capturing: the text logged since log_start (valid until the next log_start). */
static const char *log_stop(void)
{
	rte_openlog_stream(NULL);
	fclose(log_file);
	log_file = NULL;
	/* one line: newlines become "; " */
	for (size_t i = 0; log_buf && i < log_len; i++)
		if (log_buf[i] == '\n')
			log_buf[i] = i + 1 == log_len ? '\0' : ';';
	return log_buf ? log_buf : "";
}

/* An mbuf chain holding the packet: the first segment takes headlen bytes, the rest follow in
 * segments of at most SEG_ROOM bytes. */
static struct rte_mbuf *packet_mbuf(const struct frame_packet *p)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;
	int first = 1;
	while (first || off < p->len) {
		uint32_t want = first ? p->headlen : p->len - off;
		if (want > SEG_ROOM)
			want = SEG_ROOM;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (!m)
			frame_die("rte_pktmbuf_alloc");
		char *d = rte_pktmbuf_append(m, (uint16_t)want);
		if (!d && want > 0)
			frame_die("rte_pktmbuf_append");
		memcpy(d, p->data + off, want);
		off += want;
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0)
			frame_die("rte_pktmbuf_chain");
		first = 0;
	}
	return head;
}

struct conv {
	struct bpf_program *prog;
	struct rte_bpf_prm *prm;
	struct rte_bpf *bpf;
};

static uint64_t do_convert(void *arg)
{
	struct conv *c = arg;
	c->prm = rte_bpf_convert(c->prog);
	return 0;
}

static uint64_t do_load(void *arg)
{
	struct conv *c = arg;
	c->bpf = rte_bpf_load(c->prm);
	return 0;
}

struct exec {
	const struct rte_bpf *bpf;
	uint64_t (*jit)(void *);
	struct rte_mbuf *mb;
};

static uint64_t do_exec(void *arg)
{
	struct exec *e = arg;
	return rte_bpf_exec(e->bpf, e->mb);
}

static uint64_t do_jit(void *arg)
{
	struct exec *e = arg;
	return e->jit(e->mb);
}

static void put_result(int sig, uint64_t v)
{
	char msg[96];
	if (sig != 0)
		answer_result(STATUS_SIGNAL, (uint32_t)sig, strsignal(sig));
	else if (v >> 32) {
		snprintf(msg, sizeof(msg), "returned 0x%llx (upper 32 bits set)", (unsigned long long)v);
		answer_result(STATUS_ERROR, 0, msg);
	} else
		answer_result(STATUS_VALUE, (uint32_t)v, NULL);
}

static void reject(uint32_t id, int code, const char *stage, const char *what, const char *log, const struct rte_bpf_prm *prm, int want_ebpf)
{
	char msg[4096];
	snprintf(msg, sizeof(msg), "%s%s%s", what, *log ? ": " : "", log);
	answer_begin(id, code, stage, msg);
	answer_results(0);
	answer_sections(prm && want_ebpf ? 1 : 0);
	if (prm && want_ebpf) {
		section_begin(SECTION_EBPF);
		put_u32(prm->nb_ins);
		put_bytes(prm->ins, prm->nb_ins * (uint32_t)sizeof(prm->ins[0]));
		section_end();
	}
	answer_end();
}

/*
 * No batch may run in memory an earlier one damaged: some programs corrupt the library's memory
 * without crashing there, and a later, unrelated batch would crash in their place. Those known to
 * (suspect) run in a child forked from this initialised process; after a filter run that ended in a
 * signal elsewhere (its code may have written anywhere first), the process starts afresh (reexec).
 *  - rte_bpf_load of a program with no final RET: the converted program ends without EXIT and the
 *    validator's graph walk reads and writes the node past its array (DPDK v22.11.11
 *    lib/bpf/bpf_validate.c:1826-1847 add_edge accepts nidx == nb_ins; :2047-2050);
 *  - the JIT's code for JSET K with k in 0..127 (an 8-bit immediate where TEST r64 takes 32 bits,
 *    bpf_jit_x86.c:893-913, :126-131) and for a shift by a K that is not an int8 (4 bytes of
 *    immediate after C1 /4, bpf_jit_x86.c:437-443): stray instructions run.
 */
static int suspect(const struct frame_batch *b)
{
	if (b->ninsns == 0 || BPF_CLASS(b->insns[b->ninsns - 1].code) != BPF_RET)
		return 1;
	if (!(b->flags & FLAG_JIT))
		return 0;
	for (uint32_t i = 0; i < b->ninsns; i++) {
		uint16_t code = b->insns[i].code;
		int32_t k = (int32_t)b->insns[i].k;
		if (code == (BPF_JMP | BPF_JSET | BPF_K) && b->insns[i].k <= 127)
			return 1;
		if ((code == (BPF_ALU | BPF_LSH | BPF_K) || code == (BPF_ALU | BPF_RSH | BPF_K)) && (k < -128 || k > 127))
			return 1;
	}
	return 0;
}

#define REEXEC_ENV "BPFSPEC_DPDK_REEXEC"

/* Start this program afresh in this process, on the same pipes (the frame reader reads no further
 * than the batch it returns, so the next batches wait in the pipe); it says no hello again. */
static void reexec(char **argv)
{
	int out = frame_out_fd();
	if (dup2(out, 1) < 0 || close(out) != 0 || setenv(REEXEC_ENV, "1", 1) != 0)
		frame_die("reexec");
	execv("/proc/self/exe", argv);
	frame_die("execv");
}

/* Convert, load and run one batch and answer it; whether a filter run ended in a signal. */
static int run_batch(const struct frame_batch *bp)
{
	int caught = 0;
	const struct frame_batch b = *bp;
	uint64_t ignored;
	struct bpf_program prog = { .bf_len = b.ninsns, .bf_insns = b.insns };
	struct conv c = { &prog, NULL, NULL };
	int want_ebpf = (b.flags & FLAG_EBPF) != 0;
	char what[160];

	log_start();
	rte_errno = 0;
	int sig = guard_load(do_convert, &c, &ignored);
	/* A crash inside the library may leave a lock held (malloc's, stdio's): the process cannot go
	 * on. It exits at once; the driver restarts it and re-runs the batch alone to pin the crash
	 * (oracle/outside/judge.ts). */
	if (sig != 0)
		_exit(128 + sig);
	if (c.prm == NULL) {
		int err = rte_errno;
		const char *log = log_stop();
		snprintf(what, sizeof(what), "rte_bpf_convert: rte_errno %d (%s)", err, rte_strerror(err));
		reject(b.id, err ? err : -1, "rte_bpf_convert", what, log, NULL, 0);
		return 0;
	}
	rte_errno = 0;
	sig = guard_load(do_load, &c, &ignored);
	if (sig != 0)
		_exit(128 + sig);
	if (c.bpf == NULL) {
		int err = rte_errno;
		const char *log = log_stop();
		snprintf(what, sizeof(what), "rte_bpf_load: rte_errno %d (%s)", err, rte_strerror(err));
		reject(b.id, err ? err : -1, "rte_bpf_load", what, log, c.prm, want_ebpf);
		rte_free(c.prm);
		return 0;
	}
	const char *log = log_stop();
	struct rte_bpf_jit jit = { NULL, 0 };
	rte_bpf_get_jit(c.bpf, &jit);

	answer_begin(b.id, 0, "rte_bpf_load", log);
	struct rte_mbuf **mbs = calloc(b.npackets ? b.npackets : 1, sizeof(*mbs));
	if (!mbs)
		frame_die("out of memory");
	answer_results(b.npackets);
	for (uint32_t i = 0; i < b.npackets; i++) {
		mbs[i] = packet_mbuf(&b.packets[i]);
		struct exec e = { c.bpf, jit.func, mbs[i] };
		uint64_t v = 0;
		sig = guard_call(do_exec, &e, &v);
		caught |= sig != 0;
		put_result(sig, v);
	}
	uint32_t nsec = (want_ebpf ? 1 : 0) + ((b.flags & FLAG_JIT) ? 1 : 0) + ((b.flags & FLAG_LOG) ? 1 : 0);
	answer_sections(nsec);
	if (want_ebpf) {
		section_begin(SECTION_EBPF);
		put_u32(c.prm->nb_ins);
		put_bytes(c.prm->ins, c.prm->nb_ins * (uint32_t)sizeof(c.prm->ins[0]));
		section_end();
	}
	if (b.flags & FLAG_JIT) {
		section_begin(SECTION_JIT);
		put_u32(jit.func != NULL);
		answer_results(jit.func ? b.npackets : 0);
		for (uint32_t i = 0; jit.func && i < b.npackets; i++) {
			struct exec e = { c.bpf, jit.func, mbs[i] };
			uint64_t v = 0;
			sig = guard_call(do_jit, &e, &v);
			caught |= sig != 0;
			put_result(sig, v);
		}
		section_end();
	}
	if (b.flags & FLAG_LOG) {
		section_begin(SECTION_LOG);
		put_str(log);
		section_end();
	}
	answer_end();
	for (uint32_t i = 0; i < b.npackets; i++)
		rte_pktmbuf_free(mbs[i]);
	free(mbs);
	rte_bpf_destroy(c.bpf);
	rte_free(c.prm);
	return caught;
}

int main(int argc, char **argv)
{
	(void)argc;
	static const char *const engines[] = { "interpreter", "jit" };
	char *eal_args[] = { "bpfspec-dpdk", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error", "--no-telemetry", NULL };
	struct frame_batch b;

	frame_protect_stdout();
	/* the EAL's threads inherit a mask that blocks the guard's CPU timer, so SIGVTALRM reaches the
	 * thread that runs the filter (the main one) */
	sigset_t timer;
	sigemptyset(&timer);
	sigaddset(&timer, SIGVTALRM);
	pthread_sigmask(SIG_BLOCK, &timer, NULL);
	int eal = rte_eal_init(8, eal_args);
	pthread_sigmask(SIG_UNBLOCK, &timer, NULL);
	if (eal < 0) {
		fprintf(stderr, "bpfspec-dpdk: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	pool = rte_pktmbuf_pool_create("bpfspec", POOL_SIZE, 0, 0, SEG_ROOM + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	if (!pool) {
		fprintf(stderr, "bpfspec-dpdk: rte_pktmbuf_pool_create failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	guard_install();
	/* started afresh after a crash (reexec): the driver has had its hello */
	if (getenv(REEXEC_ENV) != NULL)
		unsetenv(REEXEC_ENV);
	else
		frame_hello("dpdk", rte_version(), engines, 2);
	while (frame_read_batch(&b)) {
		if (!suspect(&b)) {
			/* a filter run that crashed may have written anywhere first: start afresh */
			if (run_batch(&b))
				reexec(argv);
			continue;
		}
		pid_t parent = getpid();
		pid_t pid = fork();
		if (pid < 0)
			frame_die("fork");
		if (pid == 0) {
			/* the child dies with this process (the driver's watchdog kills a load that does not end) */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
				_exit(2);
			run_batch(&b);
			_exit(0);
		}
		int st;
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				frame_die("waitpid");
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			continue;
		/* the child did not answer: end as it did (128 + N after a crash caught in the load; a
		 * signal otherwise), which the driver reads as it would this process's own end */
		if (WIFEXITED(st))
			_exit(WEXITSTATUS(st));
		signal(WTERMSIG(st), SIG_DFL);
		raise(WTERMSIG(st));
		_exit(128 + WTERMSIG(st));
	}
	rte_eal_cleanup();
	return 0;
}

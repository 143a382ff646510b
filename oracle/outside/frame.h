/*
 * The outside-judge protocol for C adapters (oracle/outside/README.md, protocol.schema.json): read
 * batch frames from stdin, write hello and answer frames to stdout, and run one filter call with
 * the fatal signals caught (a crash of the implementation becomes a result, not a lost batch).
 */
#ifndef BPFSPEC_OUTSIDE_FRAME_H
#define BPFSPEC_OUTSIDE_FRAME_H

#include <stdint.h>

/* the C adapters hand the program to their implementation as libpcap's struct bpf_insn (libpcap's
 * bpf_filter, DPDK's rte_bpf_convert), so the frame reader decodes it into that type */
#include <pcap/bpf.h>

#define FRAME_HELLO 1
#define FRAME_BATCH 2
#define FRAME_ANSWER 3
#define FRAME_ERROR 4

#define SECTION_EBPF 1
#define SECTION_JIT 2
#define SECTION_LOG 3

#define FLAG_JIT 1
#define FLAG_EBPF 2
#define FLAG_LOG 4

#define STATUS_VALUE 0
#define STATUS_ERROR 1
#define STATUS_SIGNAL 2

#define MAX_FRAME (16u << 20)

struct frame_packet {
	uint32_t headlen;
	uint32_t len;
	const uint8_t *data;
};

struct frame_batch {
	uint32_t id;
	uint32_t flags;
	uint32_t ninsns;
	struct bpf_insn *insns;
	uint32_t npackets;
	struct frame_packet *packets;
};

/* Keep the protocol on the original stdout and send fd 1 to stderr, so that a library that prints
 * to stdout cannot corrupt the frames. Call before anything else. */
void frame_protect_stdout(void);

/* The descriptor the frames go to (the original stdout once frame_protect_stdout ran). */
int frame_out_fd(void);

/* Write the hello frame. */
void frame_hello(const char *implementation, const char *version, const char *const *engines, uint32_t nengines);

/* Read the next batch (valid until the next call); 0 at end of input. A malformed frame is
 * answered with an error frame and the process exits with status 2. */
int frame_read_batch(struct frame_batch *b);

/* Build one answer: begin, then exactly nresults results, then the section count and sections,
 * then end (which writes the frame). */
void answer_begin(uint32_t id, int32_t code, const char *stage, const char *message);
void answer_results(uint32_t n);
void answer_result(uint32_t status, uint32_t value, const char *message);
void answer_sections(uint32_t n);
/* A section: open with its tag, fill with put_u32 / put_bytes / put_str / answer_result, close. */
void section_begin(uint32_t tag);
void section_end(void);
void put_u32(uint32_t v);
void put_bytes(const void *p, uint32_t n);
void put_str(const char *s);
void answer_end(void);

/* Call fn(arg) with SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT and SIGTRAP caught, and stopped by SIGVTALRM
 * after GUARD_CPU_MS of CPU time (a filter run takes microseconds): 0 and *out set when it returned,
 * else the signal number. */
#define GUARD_CPU_MS 100
int guard_call(uint64_t (*fn)(void *), void *arg, uint64_t *out);
/* The same signals caught, with no CPU budget: for the implementation's load (convert, validate, JIT). */
int guard_load(uint64_t (*fn)(void *), void *arg, uint64_t *out);
void guard_install(void);

/* Exit with a message on stderr (status 2). */
void frame_die(const char *what);

#endif

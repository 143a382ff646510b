/*
 * pcap_compile helper for `bpfspec compile` and `--expr`: compiles one filter expression with the
 * system libpcap, as tcpdump does, and prints the program with libpcap's own bpf_dump in the
 * `tcpdump -ddd` form (the count, then "code jt jf k" per line).
 *
 *   pcap_compile LINKTYPE SNAPLEN OPTIMIZE NETMASK < expression
 *
 * LINKTYPE is a DLT name (EN10MB, RAW, LINUX_SLL, ...; pcap_datalink_name_to_val) or a number;
 * OPTIMIZE is 0 or 1 (tcpdump -O turns it off); NETMASK is the IPv4 netmask for "ip broadcast"
 * (tcpdump reading a savefile uses 0). The expression is read from stdin, up to 1 MiB.
 *
 * Exit status: 0 and the program on stdout; 1 and libpcap's error text on stderr (one line) when
 * the expression does not compile; 2 and a message on stderr for bad arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#define MAX_EXPR (1 << 20)

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static char expr[MAX_EXPR + 1];
	unsigned long snaplen, optimize, netmask, num;
	struct bpf_program prog;
	size_t len = 0, n;
	pcap_t *p;
	int dlt;

	if (argc != 5) {
		fprintf(stderr, "usage: pcap_compile LINKTYPE SNAPLEN OPTIMIZE NETMASK < expression\n");
		return 2;
	}
	/* the expression first: the caller writes it whole before reading the answer */
	while ((n = fread(expr + len, 1, MAX_EXPR - len, stdin)) > 0) {
		len += n;
		if (len == MAX_EXPR) {
			fprintf(stderr, "expression longer than %d bytes\n", MAX_EXPR - 1);
			return 2;
		}
	}
	expr[len] = '\0';
	dlt = pcap_datalink_name_to_val(argv[1]);
	if (dlt < 0) {
		if (parse_uint(argv[1], 0x7fffffff, &num) != 0) {
			fprintf(stderr, "unknown link type '%s' (a DLT name such as EN10MB, RAW or LINUX_SLL, or a number)\n", argv[1]);
			return 2;
		}
		dlt = (int)num;
	}
	if (parse_uint(argv[2], 0x7fffffff, &snaplen) != 0 || parse_uint(argv[3], 1, &optimize) != 0 ||
	    parse_uint(argv[4], 0xffffffffUL, &netmask) != 0) {
		fprintf(stderr, "bad SNAPLEN, OPTIMIZE or NETMASK\n");
		return 2;
	}
	if (strlen(expr) != len) {
		fprintf(stderr, "the expression contains a NUL byte\n");
		return 2;
	}
	p = pcap_open_dead(dlt, (int)snaplen);
	if (p == NULL) {
		fprintf(stderr, "pcap_open_dead failed for link type %d\n", dlt);
		return 2;
	}
	if (pcap_compile(p, &prog, expr, (int)optimize, (bpf_u_int32)netmask) < 0) {
		fprintf(stderr, "%s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	bpf_dump(&prog, 3);
	pcap_freecode(&prog);
	pcap_close(p);
	return fflush(stdout) == 0 ? 0 : 2;
}

/*
 * libpcap's bpf_filter() on the benchmark's programs and packets (built at bench time against the
 * distribution's libpcap: cc -O2 pcap_bench.c -lpcap).
 * Input file (little-endian): u32 nprogs, then per program u32 len and len x {u16 code, u8 jt, u8 jf,
 * u32 k}; u32 npkts, then per packet u32 len and the bytes.
 * Usage: pcap_bench FILE PASSES. Prints one JSON line: total ns of PASSES passes over every
 * (program, packet) pair, the evaluations, and per program the sum of results (mod 2^32) and the
 * number of accepted packets, so the caller can check that its evaluators did the same work.
 */
#include <pcap/pcap.h>
#include <pcap/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t rd32(const unsigned char **p) {
  uint32_t v = (uint32_t)(*p)[0] | ((uint32_t)(*p)[1] << 8) | ((uint32_t)(*p)[2] << 16) | ((uint32_t)(*p)[3] << 24);
  *p += 4;
  return v;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s FILE PASSES\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(size);
  if (fread(buf, 1, size, f) != (size_t)size) { perror("read"); return 1; }
  fclose(f);
  int passes = atoi(argv[2]);
  const unsigned char *p = buf;
  uint32_t np = rd32(&p);
  struct bpf_insn **progs = calloc(np, sizeof *progs);
  for (uint32_t i = 0; i < np; i++) {
    uint32_t n = rd32(&p);
    progs[i] = calloc(n, sizeof(struct bpf_insn));
    for (uint32_t j = 0; j < n; j++) {
      progs[i][j].code = (uint16_t)(p[0] | (p[1] << 8));
      progs[i][j].jt = p[2];
      progs[i][j].jf = p[3];
      p += 4;
      progs[i][j].k = rd32(&p);
    }
  }
  uint32_t nk = rd32(&p);
  const unsigned char **pkts = calloc(nk, sizeof *pkts);
  uint32_t *lens = calloc(nk, sizeof *lens);
  for (uint32_t i = 0; i < nk; i++) {
    lens[i] = rd32(&p);
    pkts[i] = p;
    p += lens[i];
  }
  uint32_t *sums = calloc(np, sizeof *sums);
  uint32_t *accepts = calloc(np, sizeof *accepts);
  for (uint32_t i = 0; i < np; i++)
    for (uint32_t k = 0; k < nk; k++) {
      u_int r = bpf_filter(progs[i], pkts[k], lens[k], lens[k]);
      sums[i] += r;
      accepts[i] += r != 0;
    }
  volatile uint32_t sink = 0;
  double t0 = now_ns();
  for (int pass = 0; pass < passes; pass++)
    for (uint32_t i = 0; i < np; i++)
      for (uint32_t k = 0; k < nk; k++) sink += bpf_filter(progs[i], pkts[k], lens[k], lens[k]);
  double t1 = now_ns();
  printf("{\"ns\":%.0f,\"evals\":%.0f,\"sums\":[", t1 - t0, (double)passes * np * nk);
  for (uint32_t i = 0; i < np; i++) printf("%s%u", i ? "," : "", sums[i]);
  printf("],\"accepts\":[");
  for (uint32_t i = 0; i < np; i++) printf("%s%u", i ? "," : "", accepts[i]);
  printf("],\"version\":\"%s\"}\n", pcap_lib_version());
  (void)sink;
  return 0;
}

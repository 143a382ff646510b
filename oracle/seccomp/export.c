// bpfspec's libseccomp exporter: builds seccomp filters with libseccomp's own API, the way container
// runtimes and systemd call it, and prints the classic BPF program seccomp_export_bpf() emits. It
// never loads a filter. Built on first use by oracle/build.ts (needs libseccomp-dev); driven by
// oracle/seccomp/export.ts, which turns profiles (Docker's, Podman's, systemd's groups) into this
// script.
//
// Script on stdin, one command per line:
//   filter <default> <badarch> <nnp 0|1> <optimize 1|2>   start a filter: seccomp_init(default), then
//                                                          SCMP_FLTATR_ACT_BADARCH, _CTL_NNP, _CTL_OPTIMIZE
//   native-only <0|1>                                      (0: seccomp_arch_remove(the native arch))
//   arch <name>                                            seccomp_arch_add(seccomp_arch_resolve_name(name)); EEXIST is fine
//   rule <action> <exact 0|1> <name> [<arg> <op> <a> <b>]...
//                                                          seccomp_syscall_resolve_name(name), then
//                                                          seccomp_rule_add{,_exact}_array; op one of
//                                                          eq ne lt le gt ge masked_eq; values hex
//   export                                                 seccomp_export_bpf() of the current filter
// Actions and values are hexadecimal u32/u64. Output, one line each:
//   W <text>             a name libseccomp does not know, or a rule it refuses with -EDOM (skipped,
//                        as runc and systemd skip them)
//   E <text>             an error (the script stops)
//   B <hex image>        an exported program (struct sock_filter records, this machine's byte order)
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static scmp_filter_ctx ctx = NULL;

static int fail(const char *what, int rc) {
  printf("E %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
  return 1;
}

static int parse_op(const char *s, enum scmp_compare *op) {
  static const struct { const char *n; enum scmp_compare op; } ops[] = {
      {"eq", SCMP_CMP_EQ}, {"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE},
      {"gt", SCMP_CMP_GT}, {"ge", SCMP_CMP_GE}, {"masked_eq", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(s, ops[i].n) == 0) {
      *op = ops[i].op;
      return 0;
    }
  return -1;
}

static int do_export(void) {
  FILE *tmp = tmpfile();
  if (tmp == NULL) return fail("tmpfile", errno);
  int rc = seccomp_export_bpf(ctx, fileno(tmp));
  if (rc < 0) {
    fclose(tmp);
    return fail("seccomp_export_bpf", rc);
  }
  fflush(tmp);
  rewind(tmp);
  printf("B ");
  int c;
  while ((c = fgetc(tmp)) != EOF) printf("%02x", c);
  printf("\n");
  fclose(tmp);
  return 0;
}

static int do_rule(char *rest) {
  char *save = NULL;
  char *act_s = strtok_r(rest, " ", &save);
  char *exact_s = strtok_r(NULL, " ", &save);
  char *name = strtok_r(NULL, " ", &save);
  if (act_s == NULL || exact_s == NULL || name == NULL) return fail("rule: expected <action> <exact> <name>", EINVAL);
  uint32_t action = (uint32_t)strtoul(act_s, NULL, 16);
  struct scmp_arg_cmp args[6];
  unsigned n = 0;
  for (;;) {
    char *idx = strtok_r(NULL, " ", &save);
    if (idx == NULL) break;
    char *op = strtok_r(NULL, " ", &save), *a = strtok_r(NULL, " ", &save), *b = strtok_r(NULL, " ", &save);
    if (op == NULL || a == NULL || b == NULL || n >= 6) return fail("rule: bad argument comparison", EINVAL);
    args[n].arg = (unsigned)strtoul(idx, NULL, 10);
    if (parse_op(op, &args[n].op) != 0) return fail("rule: unknown operator", EINVAL);
    args[n].datum_a = strtoull(a, NULL, 16);
    args[n].datum_b = strtoull(b, NULL, 16);
    n++;
  }
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) {
    printf("W %s: not known to libseccomp, skipped\n", name);
    return 0;
  }
  int rc = strcmp(exact_s, "1") == 0 ? seccomp_rule_add_exact_array(ctx, action, nr, n, args) : seccomp_rule_add_array(ctx, action, nr, n, args);
  if (rc == -EDOM) {
    printf("W %s: not on this architecture (-EDOM), skipped\n", name);
    return 0;
  }
  if (rc < 0) {
    char what[256];
    snprintf(what, sizeof what, "seccomp_rule_add %s", name);
    return fail(what, rc);
  }
  return 0;
}

int main(void) {
  char line[8192];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\n")] = 0;
    if (line[0] == 0 || line[0] == '#') continue;
    if (strncmp(line, "filter ", 7) == 0) {
      unsigned long def, bad, nnp, opt;
      if (sscanf(line + 7, "%lx %lx %lu %lu", &def, &bad, &nnp, &opt) != 4) return fail("filter: expected <default> <badarch> <nnp> <optimize>", EINVAL);
      if (ctx != NULL) seccomp_release(ctx);
      ctx = seccomp_init((uint32_t)def);
      if (ctx == NULL) return fail("seccomp_init", EINVAL);
      int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, (uint32_t)bad);
      if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, (uint32_t)nnp);
      if (rc == 0 && opt != 1) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)opt);
      if (rc < 0) return fail("seccomp_attr_set", rc);
    } else if (ctx == NULL) {
      return fail("no filter started", EINVAL);
    } else if (strcmp(line, "native-only 0") == 0) {
      int rc = seccomp_arch_remove(ctx, seccomp_arch_native());
      if (rc < 0) return fail("seccomp_arch_remove", rc);
    } else if (strncmp(line, "arch ", 5) == 0) {
      uint32_t a = seccomp_arch_resolve_name(line + 5);
      if (a == 0) return fail("seccomp_arch_resolve_name", EINVAL);
      int rc = seccomp_arch_add(ctx, a);
      if (rc < 0 && rc != -EEXIST) return fail("seccomp_arch_add", rc);
    } else if (strncmp(line, "rule ", 5) == 0) {
      if (do_rule(line + 5) != 0) return 1;
    } else if (strcmp(line, "export") == 0) {
      if (do_export() != 0) return 1;
    } else {
      return fail("unknown command", EINVAL);
    }
    fflush(stdout);
  }
  if (ctx != NULL) seccomp_release(ctx);
  return 0;
}

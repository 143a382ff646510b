// bpfspec's live seccomp oracle: seccomp(SECCOMP_SET_MODE_FILTER) for the attach verdict, then system
// calls with chosen numbers and arguments whose outcome is observed. Built on first use by
// oracle/seccomp/driver.ts (oracle/build.ts). Linux x86-64 only.
//
// Requests on stdin, one per line (numbers in hex unless said otherwise):
//   P                                   probe: prints "P <uid> <sandboxed 0|1> <tsc-per-ms> <ip64> <ip80> <int80 works 0|1> <&fprog of the attach calls>"
//   A <nflt> <ncall> [flags...]         attach filters then run calls; followed by nflt lines
//                                       "F <flags> <hex image>" (installed in order) and ncall lines
//                                       "C <abi 0=syscall|1=int80> <nr> <a0> .. <a5>"
//   The first word selects the mode: A (action: one child per call, the call made by a second thread,
//   the filters installed with TSYNC; the call may run, so it needs the sandbox: root) or B (batch: one
//   child for all calls, single-threaded, the filters installed with their flags alone; every call is
//   expected to trap, the child catches SIGSYS and goes on; used with copies whose every exit is TRAP).
// Responses: for each call one line
//   R <state> <attach errnos, comma-separated, decimal> <ret> <signo> <code> <si_errno> <si_syscall> <si_arch> <si_call_addr> <wait status>
//   state: ret (the call returned ret), trap (SIGSYS reached the handler: siginfo fields), thread (the
//   calling thread ended without a report), timeout (the call did not return within the budget),
//   exit / signal (the process ended before reporting; wait status), attach (an attach failed).
//   D <pid>                             dump: PTRACE_SECCOMP_GET_FILTER of every filter of <pid> (decimal)
//                                       -> "D <n>" then n lines "F <hex image>" or "E <errno>"
// The sandbox (root only): a new PID, network, IPC, UTS and mount namespace; the server is PID 1 of it,
// chrooted into an empty read-only tmpfs; each child drops to uid/gid 65534 with no groups, is not
// dumpable, has tight rlimits, no file descriptors but its shared page, and everything left in the
// namespace is SIGKILLed after each case. Without root: mode B only (calls that trap never run).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "harden_lock.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

#define MAX_INSNS 4096
#define MAX_FLT 16
#define MAX_CALLS 4096

struct call {
  uint64_t nr, a[6];
  int64_t ret;
  uint64_t ip;
};

// The system call itself, in assembly so every register is exactly what was asked for.
// do_syscall64(struct call *c): rax = nr, rdi rsi rdx r10 r8 r9 = a0..a5; c->ret = rax; c->ip = the
// address after the syscall instruction (KSTK_EIP).  do_int80(struct call *c): eax = nr, rbx rcx rdx
// rsi rdi rbp = a0..a5 (all 64 bits), INT 0x80.
struct call *volatile g_cur;
extern void do_syscall64(struct call *c);
extern void do_int80(struct call *c);
extern uint64_t ip_syscall64, ip_int80;
__asm__(
    ".text\n"
    ".globl do_syscall64\n"
    "do_syscall64:\n"
    "  push %rbx\n"
    "  mov %rdi, %rbx\n"
    "  mov 0(%rbx), %rax\n"
    "  mov 8(%rbx), %rdi\n"
    "  mov 16(%rbx), %rsi\n"
    "  mov 24(%rbx), %rdx\n"
    "  mov 32(%rbx), %r10\n"
    "  mov 40(%rbx), %r8\n"
    "  mov 48(%rbx), %r9\n"
    "  syscall\n"
    ".globl after_syscall64\n"
    "after_syscall64:\n"
    "  mov %rax, 56(%rbx)\n"
    "  pop %rbx\n"
    "  ret\n"
    ".globl do_int80\n"
    "do_int80:\n"
    "  push %rbx\n"
    "  push %rbp\n"
    "  push %r12\n"
    "  mov %rdi, %r12\n"
    "  mov 0(%r12), %rax\n"
    "  mov 8(%r12), %rbx\n"
    "  mov 16(%r12), %rcx\n"
    "  mov 24(%r12), %rdx\n"
    "  mov 32(%r12), %rsi\n"
    "  mov 40(%r12), %rdi\n"
    "  mov 48(%r12), %rbp\n"
    "  int $0x80\n"
    ".globl after_int80\n"
    "after_int80:\n"
    "  mov %rax, 56(%r12)\n"
    "  pop %r12\n"
    "  pop %rbp\n"
    "  pop %rbx\n"
    "  ret\n"
    // clone_thread(flags, stack_top, ctid, fn): raw clone; the child calls fn on the new stack.
    ".globl clone_thread\n"
    "clone_thread:\n"
    "  mov %rcx, %r9\n"
    "  mov %rdx, %r10\n"
    "  xor %edx, %edx\n"
    "  xor %r8d, %r8d\n"
    "  mov $56, %eax\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jnz 1f\n"
    "  and $-16, %rsp\n"
    "  call *%r9\n"
    "  ud2\n"
    "1: ret\n"
    // die(): exit_group(0) without libc; if the filter refuses it, an undefined instruction ends the group.
    ".globl die_now\n"
    "die_now:\n"
    "  mov $231, %eax\n"
    "  xor %edi, %edi\n"
    "  syscall\n"
    "  ud2\n");
extern char after_syscall64[], after_int80[];
extern long clone_thread(unsigned long flags, void *stack_top, int *ctid, void (*fn)(void));
extern void die_now(void) __attribute__((noreturn));

// The page a child and the server share.
struct shared {
  volatile int go, done, trapped, thread_tid;
  volatile int attach_errno[MAX_FLT];
  volatile int nattached;
  volatile int64_t ret;
  volatile int s_signo, s_code, s_errno, s_syscall;
  volatile unsigned s_arch;
  volatile uint64_t s_addr;
  // batch mode: per call
  volatile int b_state[MAX_CALLS];
  volatile int64_t b_ret[MAX_CALLS];
  volatile int b_signo[MAX_CALLS], b_code[MAX_CALLS], b_errno[MAX_CALLS], b_syscall[MAX_CALLS];
  volatile unsigned b_arch[MAX_CALLS];
  volatile uint64_t b_addr[MAX_CALLS];
  volatile int b_next;
};

static struct shared *sh;
static int g_abi;
static int sandboxed;
static uint64_t tsc_per_ms = 1000000;
static jmp_buf trap_jmp;
static volatile int batch_index = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (batch_index == -2) __builtin_trap(); // the batch child's own exit trapped: end it (SIGILL)
  if (batch_index >= 0) {
    int i = batch_index;
    sh->b_signo[i] = sig;
    sh->b_code[i] = si->si_code;
    sh->b_errno[i] = si->si_errno;
    sh->b_syscall[i] = si->si_syscall;
    sh->b_arch[i] = si->si_arch;
    sh->b_addr[i] = (uint64_t)(uintptr_t)si->si_call_addr;
    sh->b_state[i] = 2;
    _longjmp(trap_jmp, 1);
  }
  // Only the first SIGSYS is the call's: the main thread's own exit may trap too, and then ends the
  // process with an undefined instruction (SIGILL) instead of overwriting the report.
  int expected = 0;
  if (__atomic_load_n(&sh->done, __ATOMIC_SEQ_CST) != 0) __builtin_trap();
  if (!__atomic_compare_exchange_n(&sh->trapped, &expected, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) __builtin_trap();
  sh->s_signo = sig;
  sh->s_code = si->si_code;
  sh->s_errno = si->si_errno;
  sh->s_syscall = si->si_syscall;
  sh->s_arch = si->si_arch;
  sh->s_addr = (uint64_t)(uintptr_t)si->si_call_addr;
  __atomic_store_n(&sh->trapped, 2, __ATOMIC_SEQ_CST);
  for (;;) _mm_pause();
}

static struct sock_filter progs[MAX_FLT][MAX_INSNS];
static unsigned short plen[MAX_FLT];
static unsigned pflags[MAX_FLT];
static struct call calls[MAX_CALLS];

static int hexval(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

static int parse_image(const char *h, struct sock_filter *out, unsigned short *len) {
  size_t n = strlen(h);
  while (n > 0 && (h[n - 1] == '\n' || h[n - 1] == ' ')) n--;
  if (n % 16 != 0 || n / 16 > MAX_INSNS) return -1;
  unsigned char *b = (unsigned char *)out;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    b[i] = (unsigned char)(hi << 4 | lo);
  }
  *len = (unsigned short)(n / 16);
  return 0;
}

static void harden_child(void) {
  signal(SIGALRM, SIG_DFL);
  struct rlimit r;
  r.rlim_cur = r.rlim_max = 0;
  setrlimit(RLIMIT_CORE, &r);
  setrlimit(RLIMIT_RTPRIO, &r);
  r.rlim_cur = r.rlim_max = 1 << 20;
  setrlimit(RLIMIT_FSIZE, &r);
  r.rlim_cur = r.rlim_max = 2;
  setrlimit(RLIMIT_CPU, &r);
  r.rlim_cur = r.rlim_max = 1ul << 30;
  setrlimit(RLIMIT_AS, &r);
  r.rlim_cur = r.rlim_max = 1 << 16;
  setrlimit(RLIMIT_MEMLOCK, &r);
  prctl(PR_SET_DUMPABLE, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (sandboxed) {
    setgroups(0, NULL);
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(120);
  }
  // No file descriptors but the shared page (mapped, not a descriptor).
  for (int fd = 0; fd < 1024; fd++) close(fd);
}

// seccomp(SECCOMP_SET_MODE_FILTER, flags, &g_fp) through do_syscall64, so that the filters already
// installed see a call the model can predict: nr 317, args (1, flags, &g_fp, 0, 0, 0), ip ip64.
static struct sock_fprog g_fp;
static int install(int i, unsigned extra) {
  g_fp.len = plen[i];
  g_fp.filter = progs[i];
  struct call c = {.nr = SYS_seccomp, .a = {SECCOMP_SET_MODE_FILTER, pflags[i] | extra, (uint64_t)(uintptr_t)&g_fp, 0, 0, 0}};
  int saved = batch_index;
  batch_index = -2; // a SIGSYS during the attach ends the child (SIGILL)
  do_syscall64(&c);
  batch_index = saved;
  return c.ret < 0 ? (int)-c.ret : 0;
}

static void make_call(struct call *c) {
  if (g_abi == 1)
    do_int80(c);
  else
    do_syscall64(c);
}

static char thread_stack[1 << 16] __attribute__((aligned(64)));
static int ctid;

static void call_thread(void) {
  while (!__atomic_load_n(&sh->go, __ATOMIC_SEQ_CST)) _mm_pause();
  make_call(g_cur);
  sh->ret = g_cur->ret;
  __atomic_store_n(&sh->done, 1, __ATOMIC_SEQ_CST);
  for (;;) _mm_pause();
}

// Mode A child: thread first, then the filters with TSYNC, then the call in the thread; the main
// thread watches without system calls.
static void child_action(int nflt, struct call *c) {
  harden_child();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSYS, &sa, NULL);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(121);
  g_cur = c;
  ctid = 1;
  long t = clone_thread(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, thread_stack + sizeof thread_stack, &ctid, call_thread);
  if (t < 0) _exit(122);
  while (__atomic_load_n(&ctid, __ATOMIC_SEQ_CST) == 1) _mm_pause(); // wait until the kernel wrote the tid
  sh->thread_tid = ctid;
  for (int i = 0; i < nflt; i++) {
    int e = install(i, SECCOMP_FILTER_FLAG_TSYNC);
    sh->attach_errno[i] = e;
    sh->nattached = i + 1;
    if (e != 0) die_now();
  }
  __atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
  uint64_t start = __rdtsc(), budget = tsc_per_ms * 300;
  for (;;) {
    if (__atomic_load_n(&sh->done, __ATOMIC_SEQ_CST) || __atomic_load_n(&sh->trapped, __ATOMIC_SEQ_CST) == 2) break;
    if (__atomic_load_n(&ctid, __ATOMIC_SEQ_CST) == 0) {
      sh->done = 3; // the thread ended without a report
      break;
    }
    if (__rdtsc() - start > budget) {
      sh->done = 4;
      break;
    }
    _mm_pause();
  }
  die_now();
}

// Mode B child: single-threaded; the filters with their flags; every call in turn, SIGSYS caught.
static void child_batch(int nflt, int ncall) {
  harden_child();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSYS, &sa, NULL);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(121);
  for (int i = 0; i < nflt; i++) {
    int e = install(i, 0);
    sh->attach_errno[i] = e;
    sh->nattached = i + 1;
    if (e != 0) die_now();
  }
  for (int i = sh->b_next; i < ncall; i++) {
    sh->b_next = i;
    batch_index = i;
    sh->b_state[i] = 1; // started
    g_abi = (int)calls[i].ip;
    if (_setjmp(trap_jmp) == 0) {
      make_call(&calls[i]);
      sh->b_ret[i] = calls[i].ret;
      sh->b_state[i] = 3; // returned
    }
  }
  sh->b_next = ncall;
  batch_index = -2;
  die_now();
}

static void cleanup_namespace(void) {
  if (sandboxed) kill(-1, SIGKILL);
  while (waitpid(-1, NULL, WNOHANG | __WALL) > 0) {
  }
}

// Wait for the child with a watchdog (the child's own budget is 300 ms of spinning): blocking waits
// that SIGALRM interrupts after 3 s, then SIGKILL. Every task of ours is reaped on the way (__WALL,
// any pid): a call may have made its thread a tracee of ours (ptrace(PTRACE_TRACEME)), and a group
// leader is not reported before its traced threads are reaped; a stopped child is killed.
static void on_alarm(int sig) { (void)sig; }

static int wait_child(pid_t pid) {
  int status = 0, st = 0, killed = 0;
  struct itimerval it = {{0, 0}, {3, 0}}, off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &it, NULL);
  for (;;) {
    pid_t r = waitpid(-1, &st, __WALL);
    if (r == pid && (WIFEXITED(st) || WIFSIGNALED(st))) {
      status = st;
      break;
    }
    if (r == pid || (r < 0 && errno == EINTR)) {
      if (!killed) kill(pid, SIGKILL);
      killed = 1;
      if (r == pid) status = st;
      continue;
    }
    if (r < 0) break; // ECHILD: nothing left
  }
  setitimer(ITIMER_REAL, &off, NULL);
  return status;
}

static void print_attach(int nflt) {
  int n = sh->nattached;
  if (n == 0) {
    printf("-");
    return;
  }
  for (int i = 0; i < n && i < nflt; i++) printf("%s%d", i ? "," : "", sh->attach_errno[i]);
}

// The bpf_jit_harden window (oracle/kernel/sockopt.c) blinds the programs of tasks without CAP_BPF,
// as these children are: the filters are installed under the lock held shared (harden_lock.h), so a
// filter is never allocated while the sysctl is changed.
static int harden_lock = -1;

static void run_action(int nflt, int ncall) {
  for (int c = 0; c < ncall; c++) {
    memset(sh, 0, sizeof *sh);
    g_abi = (int)calls[c].ip;
    fflush(stdout);
    harden_lock_shared(harden_lock);
    pid_t pid = fork();
    if (pid == 0) child_action(nflt, &calls[c]);
    int status = pid < 0 ? -1 : wait_child(pid);
    harden_unlock(harden_lock);
    cleanup_namespace();
    const char *state;
    int attach_failed = sh->nattached > 0 && sh->attach_errno[sh->nattached - 1] != 0;
    if (attach_failed) state = "attach";
    else if (sh->done == 1) state = "ret"; // the call returned: a later SIGSYS is the main thread's exit
    else if (sh->trapped == 2) state = "trap";
    else if (sh->done == 3) state = "thread";
    else if (sh->done == 4) state = "timeout";
    else if (WIFSIGNALED(status)) state = "signal";
    else state = "exit";
    printf("R %s ", state);
    print_attach(nflt);
    printf(" %llx %d %d %d %d %x %llx %x\n", (unsigned long long)sh->ret, sh->s_signo, sh->s_code, sh->s_errno, sh->s_syscall, sh->s_arch, (unsigned long long)sh->s_addr, (unsigned)status);
  }
}

static void run_batch(int nflt, int ncall) {
  memset(sh, 0, sizeof *sh);
  while (sh->b_next < ncall) {
    int from = sh->b_next;
    sh->nattached = 0;
    fflush(stdout);
    harden_lock_shared(harden_lock);
    pid_t pid = fork();
    if (pid == 0) child_batch(nflt, ncall);
    int status = pid < 0 ? -1 : wait_child(pid);
    harden_unlock(harden_lock);
    cleanup_namespace();
    int attach_failed = sh->nattached > 0 && sh->attach_errno[sh->nattached - 1] != 0;
    if (attach_failed || pid < 0) {
      for (int i = from; i < ncall; i++) {
        printf("R attach ");
        print_attach(nflt);
        printf(" 0 0 0 0 0 0 0 %x\n", (unsigned)status);
      }
      return;
    }
    int last = sh->b_next;
    for (int i = from; i <= last && i < ncall; i++) {
      const char *state = sh->b_state[i] == 2 ? "trap" : sh->b_state[i] == 3 ? "ret" : WIFSIGNALED(status) ? "signal" : "exit";
      printf("R %s ", state);
      print_attach(nflt);
      printf(" %llx %d %d %d %d %x %llx %x\n", (unsigned long long)sh->b_ret[i], sh->b_signo[i], sh->b_code[i], sh->b_errno[i], sh->b_syscall[i], sh->b_arch[i], (unsigned long long)sh->b_addr[i], sh->b_state[i] == 2 || sh->b_state[i] == 3 ? 0u : (unsigned)status);
    }
    if (last >= ncall) break;
    sh->b_next = last + 1; // the call at `last` ended the child: go on after it
  }
}

static void do_dump(long pid) {
  if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0) {
    printf("D -%d\n", errno);
    return;
  }
  if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) != 0) {
    printf("D -%d\n", errno);
    ptrace(PTRACE_DETACH, pid, 0, 0);
    return;
  }
  int st;
  waitpid(pid, &st, __WALL);
  int n = 0;
  char *out = NULL;
  size_t outlen = 0;
  FILE *m = open_memstream(&out, &outlen);
  for (;; n++) {
    long len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)n, NULL);
    if (len < 0) {
      if (errno == ENOENT) break;
      fprintf(m, "E %d\n", errno);
      n++;
      break;
    }
    struct sock_filter *f = calloc((size_t)len, sizeof *f);
    if (!f || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)n, f) != len) {
      fprintf(m, "E %d\n", errno);
      free(f);
      n++;
      break;
    }
    fprintf(m, "F ");
    for (long i = 0; i < len; i++) {
      const unsigned char *b = (const unsigned char *)&f[i];
      for (int j = 0; j < 8; j++) fprintf(m, "%02x", b[j]);
    }
    fprintf(m, "\n");
    free(f);
  }
  fclose(m);
  ptrace(PTRACE_DETACH, pid, 0, 0);
  printf("D %d\n%s", n, out ? out : "");
  free(out);
}

// Whether INT 0x80 works from 64-bit code here (some kernels run without IA-32 emulation: #GP).
static int probe_int80(void) {
  pid_t pid = fork();
  if (pid == 0) {
    struct call c = {.nr = 20};
    do_int80(&c);
    _exit(c.ret > 0 ? 0 : 1);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void calibrate(void) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  uint64_t t0 = __rdtsc();
  struct timespec d = {0, 20000000};
  nanosleep(&d, NULL);
  uint64_t t1 = __rdtsc();
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  if (ms > 0) tsc_per_ms = (uint64_t)((t1 - t0) / ms);
}

static int setup_sandbox(void) {
  if (geteuid() != 0) return 0;
  if (unshare(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS) != 0) return 0;
  pid_t init = fork();
  if (init < 0) return 0;
  if (init > 0) {
    // The outer process only waits for the namespace's init (the server) and passes on its status.
    int st;
    while (waitpid(init, &st, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -1;
  if (mount("bpfspec-empty", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=0555") != 0) return -1;
  if (mount(NULL, "/tmp", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) return -1;
  if (chdir("/tmp") != 0 || chroot(".") != 0 || chdir("/") != 0) return -1;
  return 1;
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  calibrate();
  harden_lock = harden_lock_open(); // before the sandbox's /tmp
  int want_sandbox = getenv("BPFSPEC_SECCOMP_NO_SANDBOX") == NULL;
  if (want_sandbox) {
    int s = setup_sandbox();
    if (s < 0) {
      printf("X sandbox setup failed: %s\n", strerror(errno));
      return 1;
    }
    sandboxed = s;
  }
  struct sigaction al;
  memset(&al, 0, sizeof al);
  al.sa_handler = on_alarm; // no SA_RESTART: the alarm interrupts waitpid
  sigaction(SIGALRM, &al, NULL);
  sh = mmap(NULL, (sizeof(struct shared) + 4095) & ~4095ul, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) return 1;
  static char line[MAX_INSNS * 16 + 256];
  while (fgets(line, sizeof line, stdin)) {
    if (line[0] == 'P') {
      printf("P %d %d %llu %llx %llx %d %llx\n", (int)geteuid(), sandboxed, (unsigned long long)tsc_per_ms, (unsigned long long)(uintptr_t)after_syscall64, (unsigned long long)(uintptr_t)after_int80, probe_int80(), (unsigned long long)(uintptr_t)&g_fp);
    } else if (line[0] == 'D') {
      do_dump(strtol(line + 2, NULL, 10));
    } else if (line[0] == 'A' || line[0] == 'B') {
      char mode = line[0];
      int nflt = 0, ncall = 0;
      if (sscanf(line + 2, "%d %d", &nflt, &ncall) != 2 || nflt < 0 || nflt > MAX_FLT || ncall < 0 || ncall > MAX_CALLS) {
        printf("X bad request header\n");
        fflush(stdout);
        continue;
      }
      int bad = 0;
      for (int i = 0; i < nflt; i++) {
        if (!fgets(line, sizeof line, stdin)) return 0;
        char *sp = strchr(line + 2, ' ');
        if (line[0] != 'F' || !sp) {
          bad = 1;
          continue;
        }
        pflags[i] = (unsigned)strtoul(line + 2, NULL, 16);
        if (parse_image(sp + 1, progs[i], &plen[i]) != 0) bad = 1;
      }
      for (int i = 0; i < ncall; i++) {
        if (!fgets(line, sizeof line, stdin)) return 0;
        unsigned long long v[8];
        if (sscanf(line, "C %llx %llx %llx %llx %llx %llx %llx %llx", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8) {
          bad = 1;
          continue;
        }
        calls[i].ip = v[0]; // the ABI, kept in ip until the call
        calls[i].nr = v[1];
        for (int j = 0; j < 6; j++) calls[i].a[j] = v[2 + j];
      }
      if (bad) {
        printf("X bad request body\n");
      } else if (mode == 'A') {
        if (!sandboxed && getenv("BPFSPEC_SECCOMP_UNSAFE") == NULL) {
          printf("X action mode runs the calls: it needs root (the sandbox)\n");
        } else
          run_action(nflt, ncall);
      } else {
        run_batch(nflt, ncall); // the ABI is per call
      }
    } else {
      printf("X unknown request\n");
    }
    fflush(stdout);
  }
  return 0;
}

import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { bpfJump, bpfStmt, type Program } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { cachedNumbers, seccompCacheCheckAllow, seccompCacheCheckAllowBitmap, seccompCachePrepare, seccompIsConstAllow } from '../../model/seccomp/cache.js';
import { seccompCheckFilter, seccompCodeAllowed, SECCOMP_ALLOWED_CODES } from '../../model/seccomp/check.js';
import { ABIS, abiByName, abisOfAudit, populateSeccompData, seccompData, seccompDataBytes, seccompDataWords, seccompWordName, x32Nr } from '../../model/seccomp/data.js';
import { seccompBpfLoad, seccompRunClassic } from '../../model/seccomp/eval.js';
import { HOST_V6_18_X86_64, HOST_V6_6_AARCH64, HOST_V6_6_X86_64, hostOfAbi, SECCOMP_HOSTS } from '../../model/seccomp/host.js';
import { NEW_TASK, bpfProgCreateFromUser, seccompPrepareFilter, seccompSetModeFilter, type SeccompTask } from '../../model/seccomp/prepare.js';
import { actionOnly, classicRun, seccompAction, seccompFilterOutcome, seccompRunFilters, SeccompKernelRunner } from '../../model/seccomp/run.js';
import { SYSCALL_TABLES } from '../../model/seccomp/syscalls.js';
import * as U from '../../model/seccomp/uapi.js';

const ld = (k: number) => bpfStmt(0x20, k);
const ret = (k: number) => bpfStmt(0x06, k);
const jeq = (k: number, jt: number, jf: number) => bpfJump(0x15, k, jt, jf);
const X = U.AUDIT_ARCH_X86_64;

const attach = (progs: Program[], host = HOST_V6_6_X86_64): SeccompTask => {
  let t = NEW_TASK;
  for (const p of progs) {
    const r = seccompSetModeFilter(0, p, t, host, X86_64);
    if ('errno' in r) throw new Error(`${r.rule} ${r.pc}`);
    t = r;
  }
  return t;
};

test('uapi: AUDIT_ARCH values as the kernel defines them', (t) => {
  t.is(U.AUDIT_ARCH_X86_64, 0xc000003e);
  t.is(U.AUDIT_ARCH_I386, 0x40000003);
  t.is(U.AUDIT_ARCH_AARCH64, 0xc00000b7);
  t.is(U.AUDIT_ARCH_ARM, 0x40000028);
  t.is(U.AUDIT_ARCH_S390X, 0x80000016);
  t.is(U.MAX_INSNS_PER_PATH, 32768);
  t.is(U.ACTION_BY_NAME.get('errno'), 0x50000);
  t.is(U.ACTION_BY_NAME.get('__proto__'), undefined);
});

test('seccomp_check_filter: rewrites LD W ABS, LD/LDX W LEN; keeps the allowed set', (t) => {
  const r = seccompCheckFilter([ld(16), bpfStmt(0x80, 0), bpfStmt(0x81, 0), bpfStmt(0x94 & 0, 1), ret(0)]);
  t.is(r.rejection, null);
  t.deepEqual(r.prog.map((i) => [i.code, i.k]), [[0x21, 16], [0x00, 64], [0x01, 64], [0x00, 1], [0x06, 0]]);
  t.is(SECCOMP_ALLOWED_CODES.length, 38);
  t.true(seccompCodeAllowed(0x20));
  t.false(seccompCodeAllowed(0x94));
});

test('seccomp_check_filter: each rule, with pc and line', (t) => {
  const out = seccompCheckFilter([ld(0), ld(64), ret(0)]);
  t.like(out.rejection, { errno: -22, rule: 'seccomp-load-out-of-range', pc: 1, at: 'kernel/seccomp.c:292' });
  t.is(out.prog[1]!.code, 0x21, 'rewritten before the test');
  t.like(seccompCheckFilter([ld(6), ret(0)]).rejection, { rule: 'seccomp-load-misaligned', pc: 0 });
  for (const code of [0x28, 0x30, 0x40, 0x48, 0x50, 0xb1, 0x94, 0x9c])
    t.like(seccompCheckFilter([bpfStmt(code, 1), ret(0)]).rejection, { rule: 'seccomp-code-not-allowed', pc: 0, at: 'kernel/seccomp.c:344' });
});

test('the attach path: order of the checks and their errnos', (t) => {
  const h = HOST_V6_6_X86_64;
  t.like(seccompSetModeFilter(0, [], NEW_TASK, h, X86_64), { errno: -22, rule: 'len-zero', at: 'kernel/seccomp.c:659' });
  t.like(seccompSetModeFilter(0, Array(4097).fill(ret(0)), NEW_TASK, h, X86_64), { errno: -22, rule: 'len-too-long' });
  t.like(seccompSetModeFilter(0, [ret(0)], { ...NEW_TASK, noNewPrivs: false }, h, X86_64), { errno: -13, stage: 'permission', rule: 'no-new-privs' });
  t.false('errno' in seccompSetModeFilter(0, [ret(0)], { ...NEW_TASK, noNewPrivs: false, capSysAdmin: true }, h, X86_64));
  t.like(seccompPrepareFilter(null, NEW_TASK, X86_64, 3), { rule: 'filter-null' });
  // bpf_check_classic runs first: its rule wins over an earlier seccomp violation
  t.like(seccompSetModeFilter(0, [bpfStmt(0x28, 0), bpfStmt(0x64, 40), ret(0)], NEW_TASK, h, X86_64), { rule: 'shift-k-too-large', pc: 1 });
  t.like(seccompSetModeFilter(0, [ld(0xfffff000), ret(0)], NEW_TASK, h, X86_64), { rule: 'seccomp-load-out-of-range', pc: 0 });
  t.like(seccompSetModeFilter(0, [ld(0xfffff001), ret(0)], NEW_TASK, h, X86_64), { rule: 'ancillary-k-invalid', pc: 0 });
  t.like(seccompSetModeFilter(0, [ld(0)], NEW_TASK, h, X86_64), { rule: 'last-not-ret' });
  // flags
  t.like(seccompSetModeFilter(0x40, [ret(0)], NEW_TASK, h, X86_64), { stage: 'flags', rule: 'flags-unknown' });
  t.like(seccompSetModeFilter(U.SECCOMP_FILTER_FLAG_TSYNC | U.SECCOMP_FILTER_FLAG_NEW_LISTENER, [ret(0)], NEW_TASK, h, X86_64), { rule: 'flags-tsync-listener' });
  t.false('errno' in seccompSetModeFilter(U.SECCOMP_FILTER_FLAG_TSYNC | U.SECCOMP_FILTER_FLAG_NEW_LISTENER | U.SECCOMP_FILTER_FLAG_TSYNC_ESRCH, [ret(0)], NEW_TASK, h, X86_64));
  t.like(seccompSetModeFilter(U.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, [ret(0)], NEW_TASK, h, X86_64), { rule: 'flags-killable-without-listener' });
  const withListener = seccompSetModeFilter(U.SECCOMP_FILTER_FLAG_NEW_LISTENER, [ret(0)], NEW_TASK, h, X86_64) as SeccompTask;
  t.like(seccompSetModeFilter(U.SECCOMP_FILTER_FLAG_NEW_LISTENER, [ret(0)], withListener, h, X86_64), { errno: -16, rule: 'duplicate-listener' });
  const logged = seccompSetModeFilter(U.SECCOMP_FILTER_FLAG_LOG, [ret(0)], NEW_TASK, h, X86_64) as SeccompTask;
  t.true(logged.filters[0]!.log);
  // the JIT is required and missing
  t.like(bpfProgCreateFromUser([ret(0)], seccompCheckFilter, { ...X86_64, jitAvailable: false }), { errno: -524 });
});

test('seccomp_attach_filter: the path limit counts migrated eBPF instructions plus 4 per filter', (t) => {
  const big: Program = [...Array(4095).fill(bpfStmt(0x04, 1)), ret(0)]; // 4096 classic, 3 + 4096 + 1 eBPF
  let task = NEW_TASK;
  let n = 0;
  for (;;) {
    const r = seccompSetModeFilter(0, big, task, HOST_V6_6_X86_64, X86_64);
    if ('errno' in r) {
      t.like(r, { errno: -12, stage: 'attach', rule: 'path-too-long' });
      break;
    }
    task = r;
    n++;
  }
  const len = task.filters[0]!.migrated.converted.insns.length;
  t.is(n, Math.floor((U.MAX_INSNS_PER_PATH + 4) / (len + 4)));
});

test('populate_seccomp_data per ABI: truncations and widths', (t) => {
  const regs = { nr: 0x1_0000_0027n, args: [0xffff_ffff_0000_0001n, 2n, 3n, 4n, 5n, 0x1_0000_0006n], ip: 0xdead_beef_0000n };
  const x = populateSeccompData(abiByName('x86_64')!, regs);
  t.is(x.nr, 39);
  t.is(x.arch, X);
  t.is(x.args[0], 0xffff_ffff_0000_0001n);
  const i = populateSeccompData(abiByName('i386')!, regs);
  t.is(i.arch, U.AUDIT_ARCH_I386);
  t.is(i.args[0], 1n, '32-bit registers');
  t.is(i.instructionPointer, 0xbeef_0000n);
  const i80 = populateSeccompData(abiByName('i386-int80')!, regs);
  t.is(i80.args[0], 0xffff_ffff_0000_0001n, 'INT 0x80 from 64-bit code keeps the upper halves');
  t.is(populateSeccompData(abiByName('x32')!, { ...regs, nr: BigInt(x32Nr(0)) }).nr, 0x40000000);
  t.is(populateSeccompData(abiByName('x86_64')!, { nr: 0xffff_ffffn, args: [], ip: 0n }).nr, -1);
  t.is(abiByName('__proto__'), undefined);
  t.deepEqual(abisOfAudit(X).map((a) => a.name), ['x86_64', 'x32']);
  t.true(ABIS.every((a) => a.at.length > 0));
  t.throws(() => seccompData(0, X, [0n, 0n, 0n, 0n, 0n, 0n, 0n]));
});

test('seccomp_data words: little- and big-endian layouts, names', (t) => {
  const sd = seccompData(-2, X, [0x1111_2222_3333_4444n], 0x5555_6666_7777_8888n);
  const le = seccompDataWords(sd, true);
  t.is(le[0], 0xfffffffe);
  t.is(le[4], 0x3333_4444);
  t.is(le[5], 0x1111_2222);
  t.is(le[2], 0x7777_8888);
  const be = seccompDataWords(sd, false);
  t.is(be[4], 0x1111_2222);
  t.is(be[5], 0x3333_4444);
  t.is(seccompDataBytes(sd).length, 64);
  t.is(seccompWordName(0), 'nr');
  t.is(seccompWordName(4), 'arch');
  t.is(seccompWordName(8), 'instruction_pointer.lo');
  t.is(seccompWordName(12, false), 'instruction_pointer.lo');
  t.is(seccompWordName(20), 'args[0].hi');
  t.is(seccompWordName(60), 'args[5].hi');
  t.is(seccompWordName(2), '[2]');
});

test('the classic evaluator: every operation, and how it ends on programs seccomp refuses', (t) => {
  const sd = seccompData(7, X, [10n, 3n]);
  const run = (p: Program) => seccompRunClassic(p, sd);
  const alu: [number, number, number][] = [
    [0x04, 5, 15], [0x14, 3, 7], [0x24, 3, 30], [0x34, 3, 3], [0x54, 6, 2], [0x44, 5, 15], [0xa4, 2, 8], [0x64, 2, 40], [0x74, 1, 5],
  ];
  for (const [code, k, want] of alu) t.is(run([ld(16), bpfStmt(code, k), bpfStmt(0x16, 0)]).result, want, `code 0x${code.toString(16)}`);
  const algX: [number, number][] = [[0x0c, 13], [0x1c, 7], [0x2c, 30], [0x3c, 3], [0x5c, 2], [0x4c, 11], [0xac, 9], [0x6c, 80], [0x7c, 1]];
  for (const [code, want] of algX) t.is(run([ld(24), bpfStmt(0x07, 0), ld(16), bpfStmt(code, 0), bpfStmt(0x16, 0)]).result, want, `code 0x${code.toString(16)}`);
  t.is(run([ld(16), bpfStmt(0x84, 0), bpfStmt(0x16, 0)]).result, 0xfffffff6);
  t.is(run([bpfStmt(0x80, 0), bpfStmt(0x81, 0), bpfStmt(0x0c, 0), bpfStmt(0x16, 0)]).result, 128);
  t.is(run([bpfStmt(0x01, 9), bpfStmt(0x87, 0), bpfStmt(0x02, 3), bpfStmt(0x61, 3), bpfStmt(0x03, 4), bpfStmt(0x60, 4), bpfStmt(0x16, 0)]).result, 9);
  t.is(run([bpfStmt(0x05, 1), ret(1), ret(2)]).result, 2);
  const jumps: [number, number][] = [[0x15, 7], [0x25, 6], [0x35, 7], [0x45, 1]];
  for (const [code, k] of jumps) t.is(run([ld(0), bpfJump(code, k, 0, 1), ret(1), ret(2)]).result, 1, `jump 0x${code.toString(16)}`);
  for (const code of [0x1d, 0x2d, 0x3d, 0x4d]) t.is(run([bpfStmt(0x01, 7), ld(0), bpfJump(code, 0, 0, 1), ret(1), ret(2)]).result, code === 0x2d ? 2 : 1);
  t.like(run([bpfStmt(0x01, 0), bpfStmt(0x3c, 0), ret(1)]), { result: 0, exit: 'div-by-zero' });
  t.like(run([bpfStmt(0x34, 0), ret(1)]), { exit: 'invalid' });
  t.like(run([bpfStmt(0x28, 0), ret(1)]), { exit: 'invalid' });
  t.like(run([ld(3), ret(1)]), { exit: 'invalid' });
  for (const code of [0x60, 0x61, 0x02, 0x03]) t.like(run([bpfStmt(code, 16), ret(1)]), { exit: 'invalid' });
  t.like(run([ld(0)]), { exit: 'fell-off', result: 0 });
  const trace: { pc: number }[] = [];
  seccompRunClassic([ld(0), ret(1)], sd, true, trace as never);
  t.is(trace.length, 2);
  t.throws(() => seccompBpfLoad(new Uint32Array(16), 64));
});

test('the migrated program on the eBPF interpreter agrees with the classic evaluator', (t) => {
  const prog = [ld(4), jeq(X, 1, 0), ret(U.SECCOMP_RET_KILL_PROCESS), ld(0), jeq(1, 0, 3), ld(16), jeq(1, 0, 1), ret(U.SECCOMP_RET_ALLOW), ret(U.SECCOMP_RET_ERRNO | 9), bpfStmt(0x80, 0), bpfStmt(0x16, 0)];
  const task = attach([prog]);
  const runner = new SeccompKernelRunner();
  for (const sd of [seccompData(1, X, [1n]), seccompData(1, X, [2n]), seccompData(2, X), seccompData(1, U.AUDIT_ARCH_I386)]) {
    t.is(runner.run(task.filters[0]!, sd), seccompRunClassic(prog, sd).result);
    t.is(runner.fault, null);
  }
  const be = new SeccompKernelRunner(false);
  const sd = seccompData(1, X, [1n]);
  t.is(be.run(task.filters[0]!, sd), seccompRunClassic(prog, sd, false).result);
});

test('seccomp_run_filters: lowest ACTION_ONLY wins, ties keep the most recent, empty stack kills', (t) => {
  const sd = seccompData(1, X);
  const stack = attach([[ret(U.SECCOMP_RET_ERRNO | 1)], [ret(U.SECCOMP_RET_ERRNO | 2)], [ret(U.SECCOMP_RET_LOG)]]);
  const r = seccompRunFilters(stack.filters, sd, HOST_V6_6_X86_64, classicRun());
  t.is(r.ret, U.SECCOMP_RET_ERRNO | 2);
  t.is(r.match, 1);
  t.deepEqual(r.results, [U.SECCOMP_RET_LOG, U.SECCOMP_RET_ERRNO | 2, U.SECCOMP_RET_ERRNO | 1]);
  const kp = attach([[ret(U.SECCOMP_RET_KILL_THREAD)], [ret(U.SECCOMP_RET_KILL_PROCESS | 5)]]);
  t.is(seccompRunFilters(kp.filters, sd, HOST_V6_6_X86_64, classicRun()).ret, (U.SECCOMP_RET_KILL_PROCESS | 5) >>> 0);
  t.like(seccompRunFilters([], sd, HOST_V6_6_X86_64, classicRun()), { ret: U.SECCOMP_RET_KILL_PROCESS, match: null });
  const allow = attach([[ret(U.SECCOMP_RET_ALLOW)]]);
  t.like(seccompRunFilters(allow.filters, sd, HOST_V6_6_X86_64, classicRun()), { cached: true, match: null });
  t.is(actionOnly(0x80000000), -0x80000000);
});

test('__seccomp_filter: what the task sees for every action', (t) => {
  const sd = seccompData(39, X, [], 0x1234n);
  t.like(seccompFilterOutcome(U.SECCOMP_RET_ERRNO | 5000, sd), { action: 'errno', data: 5000, outcome: { kind: 'errno', errno: 4095 } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_ERRNO, sd), { outcome: { kind: 'errno', errno: 0 } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_TRAP | 7, sd), { action: 'trap', outcome: { kind: 'sigsys', siErrno: 7, siSyscall: 39, siArch: X, siCallAddr: 0x1234n, siCode: 1 } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_TRACE | 3, sd), { outcome: { kind: 'enosys', why: 'trace-without-tracer' } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_TRACE | 3, sd, { tracer: true }), { outcome: { kind: 'trace-event', message: 3 } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_USER_NOTIF, sd), { outcome: { kind: 'enosys', why: 'user-notif-without-listener' } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_USER_NOTIF, sd, { listener: true }), { outcome: { kind: 'notify' } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_LOG, sd), { action: 'log', outcome: { kind: 'ran' }, logged: true });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_ALLOW, sd), { action: 'allow', outcome: { kind: 'ran' }, logged: false });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_KILL_THREAD, sd), { outcome: { kind: 'killed', scope: 'process', coredump: true } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_KILL_THREAD, sd, { liveThreads: 2 }), { outcome: { kind: 'killed', scope: 'thread' } });
  t.like(seccompFilterOutcome(U.SECCOMP_RET_KILL_PROCESS, sd), { action: 'kill_process', outcome: { kind: 'killed', scope: 'process' } });
  t.like(seccompFilterOutcome(0x00010000, sd), { action: 'kill_process' }, 'an unknown action falls into the kill case');
  t.like(seccompFilterOutcome(U.SECCOMP_RET_ERRNO | 1, sd, { matchLog: true }), { logged: true });
  t.is(seccompAction(0x7ffe0000), 'kill_process');
});

test('seccomp_is_const_allow and the cache bitmaps', (t) => {
  const prog = [ld(4), jeq(X, 1, 0), ret(0), ld(0), bpfStmt(0x54, 0xff), bpfJump(0x35, 200, 4, 0), bpfJump(0x25, 100, 3, 0), bpfJump(0x45, 1, 1, 0), ret(U.SECCOMP_RET_ALLOW), ret(U.SECCOMP_RET_ERRNO), ret(U.SECCOMP_RET_ALLOW | 1)];
  t.true(seccompIsConstAllow(prog, { nr: 2, arch: X }));
  t.false(seccompIsConstAllow(prog, { nr: 3, arch: X }), 'JSET taken');
  t.false(seccompIsConstAllow(prog, { nr: 150, arch: X }), 'ALLOW with data is not cached');
  t.true(seccompIsConstAllow(prog, { nr: 0x102, arch: X }), 'AND K masks the number');
  t.false(seccompIsConstAllow(prog, { nr: 2, arch: U.AUDIT_ARCH_I386 }));
  t.false(seccompIsConstAllow([ld(16), ret(U.SECCOMP_RET_ALLOW)], { nr: 0, arch: X }), 'argument load');
  t.false(seccompIsConstAllow([bpfStmt(0x16, 0)], { nr: 0, arch: X }), 'RET A');
  t.true(seccompIsConstAllow([bpfStmt(0x05, 1), ret(0), ret(U.SECCOMP_RET_ALLOW)], { nr: 0, arch: X }), 'JA');
  t.false(seccompIsConstAllow([bpfStmt(0x05, 1)], { nr: 0, arch: X }), 'ran off the end');
  t.false(seccompIsConstAllow(null, { nr: 0, arch: X }));
  t.true(seccompIsConstAllow([ret(0)], { nr: 335, arch: X }, HOST_V6_18_X86_64), 'the uretprobe exception');
  t.false(seccompIsConstAllow([ret(0)], { nr: 335, arch: U.AUDIT_ARCH_I386 }, HOST_V6_18_X86_64));
  t.false(seccompIsConstAllow([ret(0)], { nr: 335, arch: X }, HOST_V6_6_X86_64));
  const c1 = seccompCachePrepare(prog, null, HOST_V6_6_X86_64);
  t.true(cachedNumbers(c1.allowNative).includes(2));
  t.is(cachedNumbers(c1.allowCompat).length, 0);
  const c2 = seccompCachePrepare([ret(U.SECCOMP_RET_ALLOW)], c1, HOST_V6_6_X86_64);
  t.deepEqual(cachedNumbers(c2.allowNative), cachedNumbers(c1.allowNative), 'as restrictive as the last');
  t.true(seccompCacheCheckAllow(c1, { nr: 2, arch: X }, HOST_V6_6_X86_64));
  t.false(seccompCacheCheckAllow(c1, { nr: 2 | U.X32_SYSCALL_BIT, arch: X }, HOST_V6_6_X86_64), 'x32 numbers are out of range');
  t.false(seccompCacheCheckAllow(c1, { nr: 2, arch: U.AUDIT_ARCH_AARCH64 }, HOST_V6_6_X86_64), 'another arch');
  const all = seccompCachePrepare([ret(U.SECCOMP_RET_ALLOW)], null, HOST_V6_6_AARCH64);
  t.true(seccompCacheCheckAllow(all, { nr: 5, arch: U.AUDIT_ARCH_ARM }, HOST_V6_6_AARCH64));
  const riscv = SECCOMP_HOSTS.get('v6.6-riscv64')!;
  const rc = seccompCachePrepare([ret(U.SECCOMP_RET_ALLOW)], null, riscv);
  t.true(seccompCacheCheckAllow(rc, { nr: 5, arch: 0 }, riscv), 'native-only: sd->arch not looked at');
  t.false(seccompCacheCheckAllowBitmap(new Uint8Array(4).fill(1), 4, -1));
  t.false(seccompCacheCheckAllow({ allowNative: null, allowCompat: null }, { nr: 1, arch: X }, HOST_V6_6_X86_64));
  t.is(hostOfAbi('x86_64'), HOST_V6_6_X86_64);
  t.is(hostOfAbi('aarch64'), HOST_V6_6_AARCH64);
  t.is(hostOfAbi('riscv64'), riscv);
  t.is(hostOfAbi('s390x'), null);
  t.is(cachedNumbers(null).length, 0);
});

test('system call tables: generated from the kernel, consistent with the installed uapi headers', (t) => {
  const x = new Map(SYSCALL_TABLES.x86_64);
  t.is(x.get('openat'), 257);
  t.is(x.get('map_shadow_stack'), 453);
  t.is(new Map(SYSCALL_TABLES.i386).get('socketcall'), 102);
  t.is(new Map(SYSCALL_TABLES.x32).get('read'), 0x40000000);
  t.is(new Map(SYSCALL_TABLES.aarch64).get('newfstatat'), 79);
  t.false(new Map(SYSCALL_TABLES.aarch64).has('open'));
  const check = (file: string, table: Map<string, number>): number => {
    let n = 0;
    for (const m of readFileSync(file, 'utf8').matchAll(/#define __NR_(\w+)\s+(\d+)/g)) {
      const nr = Number(m[2]);
      if (nr > 450) continue;
      if (table.has(m[1]!)) {
        t.is(table.get(m[1]!), nr, m[1]);
        n++;
      }
    }
    return n;
  };
  const h64 = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  const h32 = '/usr/include/x86_64-linux-gnu/asm/unistd_32.h';
  if (existsSync(h64)) t.true(check(h64, x) > 300);
  if (existsSync(h32)) t.true(check(h32, new Map(SYSCALL_TABLES.i386)) > 300);
});

test('the kernel profiles carry the seccomp hosts (model/kernel.ts seccompHost)', async (t) => {
  const k = await import('../../model/kernel.js');
  t.is(k.PROFILE_V6_6_0.seccompHost, HOST_V6_6_X86_64);
  t.is(k.PROFILE_V6_6_Y.seccompHost, HOST_V6_6_X86_64);
  t.is(k.PROFILE_V6_18.seccompHost, HOST_V6_18_X86_64);
  t.deepEqual([HOST_V6_18_X86_64.native!.nr, HOST_V6_18_X86_64.compat!.nr, ...HOST_V6_18_X86_64.uprobeException], [470, 470, 335, 336]);
  t.is(k.ARCHES.arm64!.seccompHost, HOST_V6_6_AARCH64);
  t.is(k.STRICT_ALIGN_64.seccompHost.compat, null);
});

// The attach layer against the running kernel (oracle/kernel/sockopt.c): sequences of SO_ATTACH_FILTER,
// SO_DETACH_FILTER and SO_LOCK_FILTER on fresh sockets, each call's errno and the socket's
// sk_omem_alloc after it (SO_MEMINFO) against model/attach.ts skSetsockopt; and constant blinding:
// with net.core.bpf_jit_harden 1 a caller without CAP_BPF/CAP_SYS_ADMIN (a child of the helper that
// dropped every capability) is charged for the blinded clone, root is not (include/linux/filter.h
// bpf_jit_blinding_enabled: `bpf_jit_harden == 1 && bpf_capable()` spares it; on 6.18
// bpf_token_capable(NULL, CAP_BPF), the same test). The sysctl is global: it is set only for the
// calls of one request (milliseconds), under an exclusive lock the seccomp oracle takes shared while it
// installs filters (its sandboxed children have no capabilities and would be blinded), and restored at
// once (by the helper, on signals too, and by the driver should the helper die). Root's attaches stay
// unblinded, so other root tests running at the same time are unaffected.
import test, { type ExecutionContext } from 'ava';
import { fc } from '@fast-check/ava';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { requiresSerial } from '../_skip.js';
import { skSetsockopts, type SockOpt } from '../../model/attach.js';
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/kernel.js';
import { bpfMigrateFilter } from '../../model/migrate/convert.js';
import { probeLive } from '../../cli/kernel.js';
import { JIT_HARDEN_LOCK, readSettledJitHarden as readJitHarden, SockoptOracle, type SockScript, type SockStep } from '../../oracle/kernel/sockopt.js';
import { invalidProgram, validProgram } from '../../fuzz/arb/index.js';

const opened = await SockoptOracle.open();
const oracle = 'missing' in opened ? null : opened;
const live = oracle === null ? null : await probeLive();
const liveMissing =
  'missing' in opened
    ? `the sockopt oracle: ${opened.missing}`
    : live!.header === null || live!.config.x86Jit === null
      ? `the running kernel's record (${live!.note ?? 'not probed'})`
      : null;
const LIVE = live?.config as KernelConfig;

const hardenWritable = ((): string | null => {
  if (liveMissing !== null) return liveMissing;
  if (process.getuid?.() !== 0) return 'root (to set net.core.bpf_jit_harden for the duration of one request)';
  try {
    accessSync('/proc/sys/net/core/bpf_jit_harden', constants.W_OK);
  } catch {
    return 'a writable /proc/sys/net/core/bpf_jit_harden';
  }
  return readJitHarden() === 0 ? null : 'net.core.bpf_jit_harden 0 on this machine (it is set to 1 for the test and restored)';
})();

test.after.always(async () => {
  await oracle?.close();
});

const S = (code: number, k: number, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });

/** The model's steps for a script: each call's 0/-errno and sk_omem_alloc after it. */
function modelSteps(ops: readonly SockOpt[], config: KernelConfig): SockStep[] {
  const steps: SockStep[] = [];
  let sk = undefined as Parameters<typeof skSetsockopts>[2];
  for (const op of ops) {
    const r = skSetsockopts([op], config, sk);
    sk = r.sk;
    const ret = r.results[0]!;
    steps.push({ ret: ret === 0 ? 0 : ret.errno, omem: r.sk.omemAlloc });
  }
  return steps;
}

const describe = (ops: readonly SockOpt[]): string =>
  ops.map((o) => (o.name === 'SO_ATTACH_FILTER' ? `attach(${o.prog?.length ?? 'NULL'})` : o.name === 'SO_LOCK_FILTER' ? `lock(${o.val})` : 'detach')).join(' ');

function compare(t: ExecutionContext, scripts: readonly SockScript[], got: readonly SockStep[][], configOf: (s: SockScript) => KernelConfig): void {
  scripts.forEach((s, i) => t.deepEqual(got[i], modelSteps(s.ops, configOf(s)), `script ${i}${s.unprivileged ? ' (no capabilities)' : ''}: ${describe(s.ops)}`));
}

// n x `ldb [k]` then `ret a`: 12 eBPF insns each for k 0, 13 for k > 0 (kernel-spec Appendix A; the
// sub of k, the jslt, the mov64 of arg4 and the jsge carry constants: 8 more once blinded), plus the
// prologue (7) and the exit.
const ldbs = (n: number, k = 0): Program => [...Array.from({ length: n }, () => S(0x30, k)), S(0x16, 0)];

requiresSerial(liveMissing, 'attach layer, live: replace, detach, lock, and the charge after each call (SO_MEMINFO)', async (t) => {
  const big = ldbs(1300); // 7 + 15600 + 1 eBPF insns, 124960 bytes: fits optmem_max 131072 alone, not beside itself
  const scripts: SockScript[] = [
    { unprivileged: false, ops: [{ name: 'SO_DETACH_FILTER' }] },
    { unprivileged: false, ops: [{ name: 'SO_ATTACH_FILTER', prog: [S(0x06, 1)] }, { name: 'SO_ATTACH_FILTER', prog: ldbs(3) }, { name: 'SO_DETACH_FILTER' }, { name: 'SO_DETACH_FILTER' }] },
    { unprivileged: false, ops: [{ name: 'SO_ATTACH_FILTER', prog: [S(0x06, 1)] }, { name: 'SO_LOCK_FILTER', val: 1 }, { name: 'SO_ATTACH_FILTER', prog: ldbs(2) }, { name: 'SO_DETACH_FILTER' }, { name: 'SO_LOCK_FILTER', val: 0 }, { name: 'SO_LOCK_FILTER', val: 7 }, { name: 'SO_ATTACH_FILTER', prog: [] }] },
    { unprivileged: false, ops: [{ name: 'SO_LOCK_FILTER', val: 0 }, { name: 'SO_ATTACH_FILTER', prog: [S(0x34, 0), S(0x06, 0)] }, { name: 'SO_ATTACH_FILTER', prog: big }, { name: 'SO_ATTACH_FILTER', prog: big }, { name: 'SO_ATTACH_FILTER', prog: [S(0x06, 1)] }, { name: 'SO_ATTACH_FILTER', prog: big }] },
  ];
  const r = await oracle!.run(scripts);
  t.is(r.status, 0);
  compare(t, scripts, r.steps, () => LIVE);
  // the point of the last script: `big` does not fit beside itself (the old charge still counts)
  t.deepEqual(r.steps[3]!.map((s) => s.ret), [0, -22, 0, -12, 0, 0]);
  t.is(r.steps[3]![2]!.omem, LIVE.bpfProgHeaderSize + 8 * (7 + 12 * 1300 + 1));
});

requiresSerial(liveMissing, 'attach layer, live: random sequences of attach (valid and invalid programs), detach and lock agree call by call', async (t) => {
  const op: fc.Arbitrary<SockOpt> = fc.oneof(
    { weight: 6, arbitrary: validProgram({ weights: { short: 6, realistic: 3, medium: 1, long: 0, limits: 0, jit: 0 } }).map((prog): SockOpt => ({ name: 'SO_ATTACH_FILTER', prog })) },
    { weight: 1, arbitrary: invalidProgram().map((c): SockOpt => ({ name: 'SO_ATTACH_FILTER', prog: c.prog })) },
    { weight: 2, arbitrary: fc.constant<SockOpt>({ name: 'SO_DETACH_FILTER' }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, 2).map((val): SockOpt => ({ name: 'SO_LOCK_FILTER', val })) },
  );
  const scripts = fc.sample(fc.array(op, { minLength: 1, maxLength: 6 }), { numRuns: 300, seed: 14 }).map((ops): SockScript => ({ unprivileged: false, ops }));
  const r = await oracle!.run(scripts);
  t.is(r.status, 0);
  compare(t, scripts, r.steps, () => LIVE);
  const calls = scripts.reduce((n, s) => n + s.ops.length, 0);
  const refused = r.steps.flat().filter((s) => s.ret !== 0).length;
  t.log(`${scripts.length} sockets, ${calls} calls, ${refused} refused`);
});

requiresSerial(hardenWritable, 'constant blinding, live: bpf_jit_harden 1 charges the blinded clone to a caller without capabilities, not to root', async (t) => {
  const unpriv: KernelConfig = { ...LIVE, bpfJitHarden: 1, bpfCapable: false, x86Jit: { ...LIVE.x86Jit!, capSysAdmin: false } };
  const root: KernelConfig = { ...LIVE, bpfJitHarden: 1 };
  // The -ENOMEM limit moves. n x `ld #cpu` (4 eBPF insns, no constant: three register moves and the
  // call) fill the program close to optmem_max at little cost to the kernel (blinding patches once per
  // constant, rescanning the program each time), then m x `ld #1` (mov32, 1 insn, 3 blinded) and `ret a`.
  const edgeProg = (n: number, m: number): Program => [...Array.from({ length: n }, () => S(0x20, 0xfffff024)), ...Array.from({ length: m }, () => S(0x00, 1)), S(0x16, 0)];
  const maxLen = Math.floor((LIVE.optmemMax - 1 - LIVE.bpfProgHeaderSize) / 8);
  const n = Math.min(4090, Math.floor((maxLen - 10) / 4));
  const fits = (p: Program, c: KernelConfig): boolean => {
    const m = bpfMigrateFilter(p, c);
    return 'ok' in m && m.progSize < c.optmemMax;
  };
  let m = 0;
  while (fits(edgeProg(n, m + 1), unpriv)) m++;
  t.true(fits(edgeProg(n, m + 1), root), 'the first program that does not fit blinded fits unblinded');
  const edge = [edgeProg(n, m), edgeProg(n, m + 1)];
  const progs = fc.sample(validProgram({ weights: { short: 6, realistic: 4, medium: 1, long: 0, limits: 0, jit: 0 } }), { numRuns: 150, seed: 41 });
  const scripts: SockScript[] = [];
  // unprivileged every one; as root the edge and a few others (root is not blinded: its calls only
  // lengthen the window)
  for (const [i, p] of [...edge, ...progs].entries()) {
    scripts.push({ unprivileged: true, ops: [{ name: 'SO_ATTACH_FILTER', prog: p }] });
    if (i < 12) scripts.push({ unprivileged: false, ops: [{ name: 'SO_ATTACH_FILTER', prog: p }] });
  }
  const started = performance.now();
  const r = await oracle!.run(scripts, 1);
  const window = performance.now() - started;
  t.is(r.status, 0, `the window: status ${r.status}`);
  t.is(r.hardenBefore, 0);
  t.is(readJitHarden(), 0, 'restored');
  compare(t, scripts, r.steps, (s) => (s.unprivileged ? unpriv : root));
  const [under, rootUnder, over, rootOver] = [r.steps[0]![0]!, r.steps[1]![0]!, r.steps[2]![0]!, r.steps[3]![0]!];
  t.is(rootUnder.ret, 0);
  t.is(under.ret, 0);
  t.is(over.ret, -12, `${m + 1} x ld #1: blinded it no longer fits`);
  t.is(rootOver.ret, 0, 'root is not blinded under bpf_jit_harden 1');
  const len = (omem: number): number => (omem - LIVE.bpfProgHeaderSize) / 8;
  t.log(
    `bpf_jit_harden 1, optmem_max ${LIVE.optmemMax}: ${n} x ld #cpu + ${m} x ld #1 + ret a: ${len(rootUnder.omem!)} eBPF insns as root, ${len(under.omem!)} blinded without capabilities (${under.omem} bytes charged); ` +
      `with ${m + 1} x ld #1: ${len(rootOver.omem!)} insns (${rootOver.omem} bytes) as root, -ENOMEM without capabilities (blinded: ${len(under.omem!) + 3} insns)`,
  );
  const unprivSteps = r.steps.filter((_, i) => scripts[i]!.unprivileged).map((s) => s[0]!);
  const unblindedLen = (p: Program): number => {
    const m = bpfMigrateFilter(p, LIVE);
    return 'ok' in m ? m.len : -1;
  };
  const blinded = [...edge, ...progs].filter((p, i) => unprivSteps[i]!.ret === 0 && unprivSteps[i]!.omem! > LIVE.bpfProgHeaderSize + 8 * unblindedLen(p)).length;
  t.log(`${progs.length + 2} programs attached without capabilities (12 also as root) in one request of ${window.toFixed(0)} ms, bpf_jit_harden 1 for ${(r.windowUs / 1000).toFixed(1)} ms of it: ${blinded} charged for a longer (blinded) program`);
});

requiresSerial(hardenWritable, 'constant blinding, live: bpf_jit_harden 2 blinds root too, and the -ENOMEM limit moves as the model says', async (t) => {
  const harden2: KernelConfig = { ...LIVE, bpfJitHarden: 2 };
  // n x `ld #cpu` (no constant), then m x `ld #1` (1 insn, 3 blinded) and `ret a`: the model's largest m
  // that still fits, unblinded and blinded, and the kernel's verdicts on both sides of each
  const edgeProg = (n: number, m: number): Program => [...Array.from({ length: n }, () => S(0x20, 0xfffff024)), ...Array.from({ length: m }, () => S(0x00, 1)), S(0x16, 0)];
  const maxLen = Math.floor((LIVE.optmemMax - 1 - LIVE.bpfProgHeaderSize) / 8);
  const n = Math.min(4090, Math.floor((maxLen - 10) / 4));
  const fits = (p: Program, c: KernelConfig): boolean => {
    const m = bpfMigrateFilter(p, c);
    return 'ok' in m && m.progSize < c.optmemMax;
  };
  const limit = (c: KernelConfig): number => {
    let m = 0;
    while (fits(edgeProg(n, m + 1), c)) m++;
    return m;
  };
  const plain = limit(LIVE);
  const blinded = limit(harden2);
  t.true(blinded < plain, `blinding lowers the limit: ${blinded} < ${plain}`);
  // (unblinded, the largest m is bounded by BPF_MAXINSNS, n + m + 1 <= 4096, before optmem_max)
  const progs = [edgeProg(n, blinded), edgeProg(n, blinded + 1), edgeProg(n, plain)];
  const random = fc.sample(validProgram({ weights: { short: 6, realistic: 4, medium: 1, long: 0, limits: 0, jit: 0 } }), { numRuns: 60, seed: 42 });
  const scripts: SockScript[] = [...progs, ...random].map((p) => ({ unprivileged: false, ops: [{ name: 'SO_ATTACH_FILTER', prog: p }] }));
  // one unprivileged caller too: under 2 it is blinded the same way
  scripts.push({ unprivileged: true, ops: [{ name: 'SO_ATTACH_FILTER', prog: edgeProg(n, blinded + 1) }] });
  const r = await oracle!.run(scripts, 2);
  t.is(r.status, 0);
  t.is(r.hardenBefore, 0);
  t.is(readJitHarden(), 0, 'restored');
  compare(t, scripts, r.steps, (s) => (s.unprivileged ? { ...harden2, bpfCapable: false, x86Jit: { ...LIVE.x86Jit!, capSysAdmin: false } } : harden2));
  t.deepEqual(
    r.steps.slice(0, 3).map((s) => s[0]!.ret),
    [0, -12, -12],
    'blinded: the blinded limit holds, the unblinded one is out of reach',
  );
  t.is(r.steps.at(-1)![0]!.ret, -12);
  // and without blinding the same kernel takes the unblinded limit (the same request, harden 0)
  const r0 = await oracle!.run(progs.map((p) => ({ unprivileged: false, ops: [{ name: 'SO_ATTACH_FILTER', prog: p }] })));
  t.deepEqual(
    r0.steps.map((s) => s[0]!.ret),
    [0, 0, 0],
  );
  const insns = (omem: number | null): number => (omem! - LIVE.bpfProgHeaderSize) / 8;
  t.log(
    `optmem_max ${LIVE.optmemMax}, sizeof(struct bpf_prog) ${LIVE.bpfProgHeaderSize}: ${n} x ld #cpu + m x ld #1 + ret a fits up to m = ${plain} unblinded (BPF_MAXINSNS; ` +
      `${insns(r0.steps[2]![0]!.omem)} eBPF insns, ${r0.steps[2]![0]!.omem} bytes charged) and up to m = ${blinded} under bpf_jit_harden 2 ` +
      `(${insns(r.steps[0]![0]!.omem)} insns blinded, ${r.steps[0]![0]!.omem} bytes); ${random.length} random programs agree under harden 2 (window ${(r.windowUs / 1000).toFixed(1)} ms)`,
  );
});

const flockMissing = hardenWritable ?? (spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0 ? null : 'flock(1) (Debian util-linux)');

requiresSerial(flockMissing, 'constant blinding, live: the bpf_jit_harden window waits for a shared holder of the lock (as the seccomp oracle is while it installs filters)', async (t) => {
  // a stand-in for the seccomp oracle: the lock held shared for 1.5 s
  const holder = spawn('flock', ['-s', JIT_HARDEN_LOCK, 'sleep', '1.5'], { stdio: 'ignore' });
  const exited = new Promise((res) => holder.once('exit', res));
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  const r = await oracle!.run([{ unprivileged: true, ops: [{ name: 'SO_ATTACH_FILTER', prog: [S(0x00, 5), S(0x16, 0)] }] }], 1);
  const waited = performance.now() - started;
  await exited;
  t.is(r.status, 0);
  t.true(waited > 900, `the request waited ${waited.toFixed(0)} ms for the shared lock`);
  // ld #5 (3 insns blinded) + ret a: 3 + 3 + 1 = 7 insns instead of 5
  t.is(r.steps[0]![0]!.omem, LIVE.bpfProgHeaderSize + 8 * 7);
  t.is(readJitHarden(), 0);
});

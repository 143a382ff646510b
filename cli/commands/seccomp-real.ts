// The real seccomp filters of corpus/real-filters/seccomp: what they are made from (Debian's
// packages of Docker's and Podman's profiles, the installed systemd's groups, libseccomp itself), how
// (oracle/seccomp/export.ts: libseccomp's seccomp_export_bpf through oracle/seccomp/export.c), and the
// sweep that runs them through check, run and kdiff: every system call number of an ABI's table (and
// a few outside it) with arguments drawn from the filters' own constants.
//
// `bpfspec seccomp export-real [-o DIR]` regenerates the corpus entries; the tests regenerate them
// where the packages are installed and compare with what is stored.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { Program } from '../../model/cbpf/insn.js';
import { seccompData, type SeccompData } from '../../model/seccomp/data.js';
import { HOST_V6_18_X86_64, HOST_V6_6_X86_64 } from '../../model/seccomp/host.js';
import { SYSCALL_TABLES } from '../../model/seccomp/syscalls.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from '../../model/seccomp/uapi.js';
import { X86_64 } from '../../model/config.js';
import { CorpusError, listEntries, readEntry, writeEntry, type CorpusEntry } from '../../fuzz/corpus.js';
import { SeccompLaneSpec, type SeccompJudgeStats, type SeccompLane } from '../../fuzz/seccomp/batched.js';
import { SeccompKernelJudge } from '../../fuzz/seccomp/judges.js';
import { newSeccompStats, SeccompChecker, xorshift } from '../../fuzz/seccomp/properties.js';
import { makeSeccompEntry, seccompEntryCase } from '../../fuzz/seccomp/corpus.js';
import { ensureSeccompExporter, ociFilter, runExporter, SCMP_ACT, systemdFilters, systemdGroup, systemdVersion, type OciProfile, type ScmpFilterSpec } from '../../oracle/seccomp/export.js';
import { printSeccompTools } from './seccomp-tools.js';

export const DOCKER_PROFILE = '/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json';
export const PODMAN_PROFILE = '/usr/share/gocode/src/github.com/containers/common/pkg/seccomp/seccomp.json';

/** Docker's default capabilities (golang-github-docker-docker-dev 20.10.24 oci/caps/defaults.go DefaultCapabilities). */
export const DOCKER_CAPS: readonly string[] = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
/** Podman's (golang-github-containers-common-dev 0.50.1 pkg/config/default.go DefaultCapabilities). */
export const PODMAN_CAPS: readonly string[] = ['CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'];

/** One real filter stack: how to build it, or why it cannot be built here. */
export interface RealFilterSource {
  readonly name: string;
  readonly title: string;
  /** the Debian packages (or the program) it is made from */
  readonly from: string;
  /** the filters in the order they are loaded (the last is the most recent), or what is missing */
  specs(): ScmpFilterSpec[] | { missing: string };
}

const readProfile = (path: string, pkg: string): OciProfile | { missing: string } => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as OciProfile) : { missing: `${pkg} (${path})` });

/** Every operator of libseccomp on 64-bit values, a few actions, the three x86 ABIs. */
function comparisons(optimize: 1 | 2): ScmpFilterSpec {
  const big = 0x1_0000_0002n;
  return {
    defaultAction: SCMP_ACT.ALLOW,
    badArch: SCMP_ACT.KILL_PROCESS,
    nnp: false,
    optimize,
    native: true,
    arches: ['x86', 'x32'],
    exact: false,
    rules: [
      { name: 'personality', action: SCMP_ACT.ERRNO(1), args: [{ index: 0, op: 'gt', a: big, b: 0n }] },
      { name: 'setpriority', action: SCMP_ACT.ERRNO(2), args: [{ index: 1, op: 'ge', a: 0x80000000n, b: 0n }, { index: 2, op: 'lt', a: 20n, b: 0n }] },
      { name: 'prctl', action: SCMP_ACT.ERRNO(3), args: [{ index: 0, op: 'le', a: 4n, b: 0n }] },
      { name: 'ioctl', action: SCMP_ACT.ERRNO(4), args: [{ index: 1, op: 'masked_eq', a: 0xffff_ff00n, b: 0x5400n }] },
      { name: 'kill', action: SCMP_ACT.TRAP, args: [{ index: 1, op: 'ne', a: 0n, b: 0n }] },
      { name: 'mmap', action: SCMP_ACT.ERRNO(5), args: [{ index: 2, op: 'masked_eq', a: 0x4n, b: 0x4n }] },
      { name: 'socket', action: SCMP_ACT.ERRNO(97), args: [{ index: 0, op: 'eq', a: 16n, b: 0n }] },
      { name: 'uname', action: SCMP_ACT.LOG },
      { name: 'reboot', action: SCMP_ACT.KILL_PROCESS },
      { name: 'sethostname', action: SCMP_ACT.KILL_THREAD },
      { name: 'ptrace', action: SCMP_ACT.TRACE(7) },
    ],
  };
}

export const REAL_FILTER_SOURCES: readonly RealFilterSource[] = [
  {
    name: 'docker-default',
    title: "Docker's default seccomp profile, default capabilities, as runc loads it on x86-64 (libseccomp binary tree)",
    from: `golang-github-docker-docker-dev (${DOCKER_PROFILE}), libseccomp2`,
    specs: () => {
      const p = readProfile(DOCKER_PROFILE, 'golang-github-docker-docker-dev');
      return 'missing' in p ? p : [ociFilter(p, { caps: DOCKER_CAPS, kernel: '6.6' })];
    },
  },
  {
    name: 'docker-cap-sys-admin',
    title: "Docker's default seccomp profile with --cap-add SYS_ADMIN --cap-add SYS_PTRACE, as runc loads it on x86-64",
    from: `golang-github-docker-docker-dev (${DOCKER_PROFILE}), libseccomp2`,
    specs: () => {
      const p = readProfile(DOCKER_PROFILE, 'golang-github-docker-docker-dev');
      return 'missing' in p ? p : [ociFilter(p, { caps: [...DOCKER_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'], kernel: '6.6' })];
    },
  },
  {
    name: 'podman-default',
    title: "Podman's default seccomp profile (containers/common), default capabilities, as runc loads it on x86-64",
    from: `golang-github-containers-common-dev (${PODMAN_PROFILE}), libseccomp2`,
    specs: () => {
      const p = readProfile(PODMAN_PROFILE, 'golang-github-containers-common-dev');
      return 'missing' in p ? p : [ociFilter(p, { caps: PODMAN_CAPS, kernel: '6.6' })];
    },
  },
  {
    name: 'systemd-system-service',
    title: 'systemd SystemCallFilter=@system-service (no SystemCallErrorNumber: kill the process), one filter per x86 ABI',
    from: 'systemd (systemd-analyze syscall-filter), libseccomp2',
    specs: () => {
      const names = systemdGroup('@system-service');
      return names === null ? { missing: 'systemd (systemd-analyze)' } : systemdFilters(names, true, SCMP_ACT.KILL_PROCESS);
    },
  },
  {
    name: 'systemd-system-service-eperm',
    title: 'systemd SystemCallFilter=@system-service with SystemCallErrorNumber=EPERM, one filter per x86 ABI',
    from: 'systemd (systemd-analyze syscall-filter), libseccomp2',
    specs: () => {
      const names = systemdGroup('@system-service');
      return names === null ? { missing: 'systemd (systemd-analyze)' } : systemdFilters(names, true, SCMP_ACT.ERRNO(1));
    },
  },
  {
    name: 'systemd-deny-privileged-resources',
    title: 'systemd SystemCallFilter=~@privileged @resources with SystemCallErrorNumber=EPERM, one filter per x86 ABI',
    from: 'systemd (systemd-analyze syscall-filter), libseccomp2',
    specs: () => {
      const a = systemdGroup('@privileged');
      const b = systemdGroup('@resources');
      return a === null || b === null ? { missing: 'systemd (systemd-analyze)' } : systemdFilters([...a, ...b], false, SCMP_ACT.ERRNO(1));
    },
  },
  {
    name: 'libseccomp-comparisons',
    title: "libseccomp's argument comparisons (every operator, 64-bit values) and actions on the three x86 ABIs",
    from: 'libseccomp2',
    specs: () => [comparisons(1)],
  },
  {
    name: 'libseccomp-comparisons-tree',
    title: "libseccomp's argument comparisons with the binary-tree optimizer (SCMP_FLTATR_CTL_OPTIMIZE 2)",
    from: 'libseccomp2',
    specs: () => [comparisons(2)],
  },
];

/** Build one real filter stack (most recent first), or say what is missing. */
export function buildRealFilter(src: RealFilterSource): { filters: Program[]; warnings: string[] } | { missing: string } {
  const specs = src.specs();
  if ('missing' in specs) return specs;
  const b = ensureSeccompExporter();
  if (!b.ok) return { missing: b.missing };
  const r = runExporter(b.path, specs);
  if (!r.ok) throw new Error(`${src.name}: the exporter failed: ${r.error}`);
  return { filters: r.programs.slice().reverse(), warnings: r.warnings };
}

/** The calls each stored entry records (the sweep runs every number; these are for reading and replay). */
export function sampleCalls(): SeccompData[] {
  const X = AUDIT_ARCH_X86_64;
  return [
    seccompData(39, X), // getpid
    seccompData(257, X, [0xffff_ff9cn, 0x1000n, 0x80000n]), // openat
    seccompData(135, X, [0n]), // personality(PER_LINUX)
    seccompData(135, X, [8n]), // personality(PER_LINUX32 | ...)
    seccompData(135, X, [0x1_0000_0003n]),
    seccompData(56, X, [0x10000000n]), // clone(CLONE_NEWUSER)
    seccompData(41, X, [16n, 3n, 9n]), // socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)
    seccompData(16, X, [1n, 0x5401n]), // ioctl(TCGETS)
    seccompData(272, X, [0x20000n]), // unshare(CLONE_NEWNS)
    seccompData(169, X, [0xfee1deadn]), // reboot
    seccompData(101, X), // ptrace
    seccompData(63, X), // uname
    seccompData(20, AUDIT_ARCH_I386), // i386 getpid
    seccompData(39 | X32_SYSCALL_BIT, X), // x32 getpid
    seccompData(1000, X), // an unassigned number
  ];
}

/** Write the entries of every real filter that can be built here into `dir`; returns what was written and skipped. */
export function writeRealFilters(dir: string, version: string): { written: string[]; skipped: string[] } {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const skipped: string[] = [];
  for (const src of REAL_FILTER_SOURCES) {
    const b = buildRealFilter(src);
    if ('missing' in b) {
      skipped.push(`${src.name}: needs ${b.missing}`);
      continue;
    }
    const sd = systemdVersion();
    const e = makeSeccompEntry({
      kind: 'real-filter',
      title: `${src.name}: ${src.title}`,
      filters: b.filters,
      inputs: sampleCalls(),
      host: HOST_V6_6_X86_64,
      asm: printSeccompTools(b.filters[0]!),
      origin: { bpfspec: version, source: `bpfspec seccomp export-real (${src.from}${src.from.startsWith('systemd') && sd ? `; systemd ${sd}` : ''})` },
      ...(b.warnings.length > 0 ? { notes: `libseccomp skipped: ${b.warnings.join('; ')}` } : {}),
    });
    written.push(writeEntry(dir, e).path);
  }
  return { written, skipped };
}

/** The stored real filters: name (the title's first word), stack (most recent first), entry. */
export function storedRealFilters(dir: string): { name: string; path: string; filters: Program[]; entry: CorpusEntry }[] {
  return listEntries([dir]).map((p) => {
    const r = readEntry(p);
    // an unreadable entry is bad input (one line, exit 2), not an internal error
    if (!r.ok) throw new CorpusError(r.error);
    let filters: Program[];
    try {
      filters = seccompEntryCase(r.entry).filters;
    } catch (e) {
      throw new CorpusError(`${p}: ${(e as Error).message}`);
    }
    return { name: r.entry.title.split(':')[0]!, path: p, filters, entry: r.entry };
  });
}

/** The constants a stack compares against (the K of its conditional jumps and AND), for argument generation. */
export function filterConstants(filters: readonly Program[]): number[] {
  const out = new Set<number>();
  for (const p of filters) for (const i of p) if ((i.code & 7) === 5 || i.code === 0x54) out.add(i.k >>> 0);
  return [...out];
}

/**
 * The sweep: every number from 0 to the ABI table's last and two past it, then a few far out, each
 * with `perNr` argument sets: all zero, then halves drawn from the filters' constants (and their
 * neighbours) or at random.
 */
export function syscallSweep(filters: readonly Program[], abi: 'x86_64' | 'i386', perNr: number, seed: number): SeccompData[] {
  const rows = SYSCALL_TABLES[abi]!;
  const arch = abi === 'x86_64' ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_I386;
  // every number from 0 to the table's last and two past it (unassigned ones included), then a few far out
  const max = Math.max(...rows.map(([, n]) => n));
  const nrs = Array.from({ length: max + 3 }, (_, i) => i);
  nrs.push(1000, 0x7fffffff, -1);
  const consts = filterConstants(filters);
  const rnd = xorshift(seed);
  const half = (): number => {
    const r = rnd() % 8;
    if (r < 3 || consts.length === 0) return r === 0 ? rnd() : rnd() % 64;
    const c = consts[rnd() % consts.length]!;
    return r === 7 ? (c + 1) >>> 0 : r === 6 ? (c - 1) >>> 0 : c;
  };
  const word = (): bigint => (BigInt(rnd() % 3 === 0 ? half() : 0) << 32n) | BigInt(half());
  const out: SeccompData[] = [];
  for (const nr of nrs)
    for (let k = 0; k < perNr; k++) {
      // a 32-bit process passes 32-bit registers: the upper halves are 0 (model/seccomp/data.ts, i386)
      const args = k === 0 ? [] : Array.from({ length: 6 }, () => (abi === 'i386' ? BigInt.asUintN(32, word()) : word()));
      out.push(seccompData(nr, arch, args, k === 0 ? 0n : abi === 'i386' ? BigInt.asUintN(32, word()) : word()));
    }
  return out;
}

/** What one real filter stack did in the sweep. */
export interface RealFilterReport {
  readonly name: string;
  readonly filters: number;
  readonly insns: readonly number[];
  /** the model's seccomp(2) verdict for the stack (and the live kernel's, in `live`) */
  readonly attach: string;
  /** per ABI: calls run through both spec judges, numbers the action cache marks, model findings */
  readonly model: Record<string, { calls: number; cacheMarked: number; actions: Record<string, number>; finding: string | null }>;
  /** the live kernel on x86_64 (null: not run) */
  readonly live: { verdicts: number; values: number; exact: number; none: number; outcomes: number; byAction: Record<string, number>; cached: number; outcomeNone: Record<string, number>; mismatches: string[] } | null;
}

/**
 * Run the stored real filters through check, run and kdiff: each stack's verdict, every system call
 * number of x86_64 and i386 (sweep, `perNr` argument sets each) through the spec's classic and kernel
 * judges and the cache property, and, with a live judge, the x86_64 sweep through the kernel (i386
 * only where INT 0x80 works: the live judge reports the others as not comparable).
 */
export async function runRealFilters(
  dir: string,
  opts: { readonly perNr: number; readonly seed: number; readonly lane: SeccompLane | null },
): Promise<RealFilterReport[]> {
  const out: RealFilterReport[] = [];
  for (const { name, filters } of storedRealFilters(dir)) {
    const checker = new SeccompChecker(X86_64, HOST_V6_6_X86_64);
    const model: RealFilterReport['model'] = {};
    for (const abi of ['x86_64', 'i386'] as const) {
      checker.stats = newSeccompStats();
      const sds = syscallSweep(filters, abi, opts.perNr, opts.seed);
      const f = checker.checkValid({ filters: filters.map((prog) => ({ shape: 'real', prog, consts: [] })), inputs: sds });
      model[abi] = { calls: sds.length, cacheMarked: checker.stats.cacheMarked, actions: checker.stats.actions, finding: f === null ? null : `${f.property}: ${f.detail}` };
    }
    const k = new SeccompKernelJudge(X86_64, HOST_V6_6_X86_64).judgeSync([{ prog: filters[0]!, below: filters.slice(1), inputs: [] }])[0]!;
    let live: RealFilterReport['live'] = null;
    if (opts.lane !== null) {
      const spec = new SeccompLaneSpec(opts.lane, X86_64, HOST_V6_18_X86_64);
      const stats: Record<string, SeccompJudgeStats> = {};
      const sds = [...syscallSweep(filters, 'x86_64', opts.perNr, opts.seed), ...syscallSweep(filters, 'i386', 1, opts.seed)];
      const ms = await spec.compareStack(filters, sds, stats, 50);
      const j = Object.values(stats)[0]!;
      live = { verdicts: j.cases, values: j.pairs, exact: j.exact, none: j.none, outcomes: j.outcomes, byAction: j.byAction, cached: j.cached, outcomeNone: j.outcomeNone, mismatches: ms.map((m) => `${m.kind}: ${m.message}`) };
    }
    out.push({ name, filters: filters.length, insns: filters.map((f) => f.length), attach: k.verdict.accepted ? 'installed' : k.verdict.message, model, live });
  }
  return out;
}

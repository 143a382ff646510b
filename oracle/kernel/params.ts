// The running kernel's parameters that the model takes as inputs, read from /proc, and the
// KernelConfig that makes the model match this kernel.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { PROFILE_V6_18, PROFILE_V6_6_0, type KernelConfig } from '../../model/kernel.js';
import type { X86JitFacts } from '../../model/jit/facts.js';
import { readSettledJitHarden } from './sockopt.js';

export interface KernelParams {
  /** uname -r (/proc/sys/kernel/osrelease) */
  readonly release: string;
  /** /proc/version */
  readonly version: string;
  readonly arch: string;
  /** net.core.optmem_max */
  readonly optmemMax: number;
  /** net.core.bpf_jit_enable, bpf_jit_harden (null: unreadable) */
  readonly bpfJitEnable: number | null;
  readonly bpfJitHarden: number | null;
  /** CONFIG_BPF_JIT_ALWAYS_ON from /proc/config.gz (null: no config.gz) */
  readonly jitAlwaysOn: boolean | null;
  /** bpf_capable() of this process (and of the oracles it starts): CAP_BPF (39) or CAP_SYS_ADMIN (21) in /proc/self/status CapEff (null: unreadable) */
  readonly bpfCapable?: boolean | null;
}

/** CAP_BPF or CAP_SYS_ADMIN in this process's effective set, from /proc/self/status (null: unreadable). */
export function readBpfCapable(): boolean | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m === null) return null;
    const eff = BigInt(`0x${m[1]}`);
    return (eff & (1n << 39n)) !== 0n || (eff & (1n << 21n)) !== 0n;
  } catch {
    return null;
  }
}

const readNum = (path: string): number | null => {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
};

/** Read the parameters (throws only when /proc is missing altogether). */
export function readKernelParams(): KernelParams {
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const version = readFileSync('/proc/version', 'utf8').trim();
  let jitAlwaysOn: boolean | null = null;
  try {
    const cfg = gunzipSync(readFileSync('/proc/config.gz')).toString();
    jitAlwaysOn = /^CONFIG_BPF_JIT_ALWAYS_ON=y$/m.test(cfg);
  } catch {
    jitAlwaysOn = null;
  }
  return {
    release,
    version,
    arch: process.arch === 'x64' ? 'x86_64' : process.arch,
    optmemMax: readNum('/proc/sys/net/core/optmem_max') ?? 20480,
    bpfJitEnable: readNum('/proc/sys/net/core/bpf_jit_enable'),
    // under the harden lock: a window of another process (set for milliseconds) is not the machine's value
    bpfJitHarden: readSettledJitHarden(),
    jitAlwaysOn,
    bpfCapable: readBpfCapable(),
  };
}

/** [major, minor] of a release string like "6.18.44-fc". */
export function releaseVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/**
 * The kernel record for this kernel (the `live` profile): v6.18's facts from 6.15 on (d4bac0288a2b
 * landed in 6.15), v6.6.0's before (a stable 6.6.y/6.12.y may or may not carry the 2025 backports;
 * the release string does not tell, so the live tests probe them), with what was read from it:
 * optmem_max, CONFIG_BPF_JIT_ALWAYS_ON (config.gz), bpf_jit_enable (jit_requested), bpf_jit_harden and
 * this process's bpf_capable() (constant blinding) and, when probed,
 * sizeof(struct bpf_prog), and the x86-64 JIT's facts (null when they were not probed: the JIT's
 * acceptance is then not modelled).
 */
export function liveConfig(p: KernelParams, bpfProgHeader?: number, x86Jit: X86JitFacts | null = null): KernelConfig {
  const [maj, min] = releaseVersion(p.release);
  const at = (a: number, b: number): boolean => maj > a || (maj === a && min >= b);
  const base = at(6, 15) ? PROFILE_V6_18 : PROFILE_V6_6_0;
  return {
    ...base,
    profile: 'live',
    optmemMax: p.optmemMax,
    bpfProgHeaderSize: bpfProgHeader ?? base.bpfProgHeaderSize,
    jitAlwaysOn: p.jitAlwaysOn ?? base.jitAlwaysOn,
    jitRequested: p.jitAlwaysOn === true || (p.bpfJitEnable === null ? base.jitRequested : p.bpfJitEnable !== 0),
    // the JIT's facts as probed from the running kernel (oracle/kernel/jitfacts.ts), else not modelled
    x86Jit: p.arch === 'x86_64' ? x86Jit : null,
    // constant blinding: the sysctl now, and this process's capabilities (the oracles attach as it)
    bpfJitHarden: p.bpfJitHarden ?? base.bpfJitHarden,
    bpfCapable: p.bpfCapable ?? base.bpfCapable,
  };
}

/** sizeof(struct bpf_prog) in v6.6 on x86-64, as model/migrate/charge.ts bpfProgSize assumes it. */
export const V6_6_BPF_PROG_HEADER = 72;


/** What every finding records about the kernel that judged it. */
export const paramsJson = (p: KernelParams, cpu: number, bpfProgHeader: number | null = null): Record<string, unknown> => ({
  release: p.release,
  version: p.version,
  arch: p.arch,
  optmem_max: p.optmemMax,
  bpf_jit_enable: p.bpfJitEnable,
  bpf_jit_harden: p.bpfJitHarden,
  jit_always_on: p.jitAlwaysOn,
  bpf_prog_header: bpfProgHeader,
  cpu,
});

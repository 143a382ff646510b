// The kernel flags every command that runs the model takes: `--kernel NAME` picks a profile of the
// kernel record (model/kernel.ts: v6.6.0, v6.6.y, v6.18, or live, probed from the running kernel),
// then `--arch`, `--optmem-max`, `--load-helpers`, `--bpf-prog-header`, `--jit-harden` and
// `--unprivileged` override single fields,
// and fuzz's `--variant` applies a historical bug (model/variants.ts). Names are looked up in Maps.
import type { Command } from 'commander';
import { ARCH_FACTS, DEFAULT_PROFILE, kernelProfile, PROFILE_NAMES, withArch, type KernelConfig } from '../model/kernel.js';
import { isVariantName, VARIANT_NAMES, variantConfig } from '../model/variants.js';
import { KernelOracle } from '../oracle/kernel/judge.js';
import { liveConfig, readKernelParams, type KernelParams } from '../oracle/kernel/params.js';
import { probeBpfProgHeader } from '../oracle/kernel/probe.js';
import { JitImageOracle } from '../oracle/kernel/jitimage.js';
import { liveJitFacts } from '../oracle/kernel/jitfacts.js';
import type { X86JitFacts } from '../model/jit/facts.js';
import { clip, InputError } from './io.js';

export interface KernelFlags {
  /** --kernel: a profile name (default v6.6.y; kdiff and `--judges live`: live) */
  readonly kernel?: string;
  readonly arch?: string;
  readonly optmemMax?: string;
  readonly loadHelpers?: string;
  readonly bpfProgHeader?: string;
  /** --jit-harden: net.core.bpf_jit_harden (0, 1, 2) */
  readonly jitHarden?: string;
  /** --unprivileged: the attaching task has neither CAP_BPF nor CAP_SYS_ADMIN */
  readonly unprivileged?: boolean;
  /** fuzz --variant: a historical bug to reintroduce (model/variants.ts) */
  readonly variant?: string;
}

/** Add the kernel flags to a command. */
export function kernelOptions(cmd: Command): Command {
  return cmd
    .option('--kernel <name>', `kernel profile (${PROFILE_NAMES.join(', ')}; default ${DEFAULT_PROFILE}, see README "Kernel profiles")`)
    .option('--arch <name>', `architecture facts the kernel branches on (${[...ARCH_FACTS.keys()].join(', ')}; default x86_64)`)
    .option('--optmem-max <bytes>', "net.core.optmem_max, the socket option memory limit (default: the profile's)")
    .option('--load-helpers <version>', "bpf_skb_load_helper_* body: v6.6.0, or backport (6.6.y after d4bac0288a2b, 6.15+) (default: the profile's)")
    .option('--bpf-prog-header <bytes>', "sizeof(struct bpf_prog), charged with 8 bytes per eBPF insn (default: the profile's)")
    .option('--jit-harden <n>', "net.core.bpf_jit_harden: 0, 1 (blind the programs of tasks without CAP_BPF) or 2 (blind every program) (default: the profile's; live: the running kernel's)")
    .option('--unprivileged', 'the attaching task has neither CAP_BPF nor CAP_SYS_ADMIN (blinded under --jit-harden 1; the x86-64 JIT adds its BHB barrier where the kernel has one)');
}

const byteCount = (flag: string, text: string): number => {
  if (!/^\d+$/.test(text) || Number(text) > 2 ** 31 - 1) throw new InputError(`${flag} ${clip(text)}: expected a byte count`);
  return Number(text);
};

/** The running kernel's record, probed as kdiff probes it, and what was probed. */
export interface LiveKernel {
  readonly config: KernelConfig;
  readonly params: KernelParams;
  /** sizeof(struct bpf_prog) measured through the charge, or null (not measurable) */
  readonly header: number | null;
  /** why a field comes from the release's profile instead of a measurement */
  readonly note: string | null;
}

/**
 * Probe the running kernel with an oracle already open (its CPU's process). An oracle that attaches
 * under a bpf_jit_harden of its own (KernelOracle.open `harden`, kdiff --jit-harden) makes that the
 * live record's bpf_jit_harden: it is what the kernel's verdicts are made under.
 */
export async function probeLiveWith(oracle: KernelOracle): Promise<LiveKernel> {
  const read = readKernelParams();
  const params = oracle.harden === null ? read : { ...read, bpfJitHarden: oracle.harden };
  const header = await probeBpfProgHeader(oracle, liveConfig(params), params.optmemMax);
  const jit = params.arch === 'x86_64' ? await probeJit() : null;
  const notes = [
    ...(header === null ? ['sizeof(struct bpf_prog) could not be pinned down by the charge probe'] : []),
    ...(jit !== null && 'missing' in jit ? [`the x86-64 JIT's facts are not known (${jit.missing}): its acceptance is not modelled`] : []),
  ];
  const x86Jit = jit !== null && !('missing' in jit) ? jit : null;
  return { params, header, config: liveConfig(params, header ?? undefined, x86Jit), note: notes.length > 0 ? notes.join('; ') : null };
}

/** The running kernel's x86-64 JIT facts, read off its own JIT output (oracle/kernel/jitfacts.ts). */
async function probeJit(): Promise<X86JitFacts | { missing: string }> {
  const o = await JitImageOracle.open();
  if ('missing' in o) return o;
  try {
    return await liveJitFacts(o);
  } finally {
    await o.close();
  }
}

/**
 * Probe the running kernel: /proc (release, optmem_max, JIT settings, config.gz) and, through an
 * oracle process, sizeof(struct bpf_prog). Without an oracle (no C compiler, not Linux) the header
 * comes from the release's profile and `note` says so; without /proc, InputError.
 */
export async function probeLive(): Promise<LiveKernel> {
  let params: KernelParams;
  try {
    params = readKernelParams();
  } catch (e) {
    throw new InputError(`--kernel live: cannot read the running kernel's parameters (${(e as Error).message})`);
  }
  const o = await KernelOracle.open(0);
  if ('missing' in o) return { params, header: null, config: liveConfig(params), note: `sizeof(struct bpf_prog) from the release's profile: the live probe needs ${o.missing}` };
  try {
    return await probeLiveWith(o);
  } finally {
    await o.close();
  }
}

/**
 * The record the flags describe. `live` is the running kernel's record when the caller has probed it
 * (kdiff does, with its own oracles); `fallback` the profile used when --kernel is absent.
 */
export function resolveKernel(f: KernelFlags, live: KernelConfig | null, fallback: string = DEFAULT_PROFILE): KernelConfig {
  const name = f.kernel ?? fallback;
  let config: KernelConfig | undefined;
  if (name === 'live') {
    if (live === null) throw new InputError('--kernel live: the running kernel was not probed');
    config = live;
  } else config = kernelProfile(name);
  if (config === undefined) throw new InputError(`--kernel ${clip(name)}: unknown kernel profile (one of ${PROFILE_NAMES.join(', ')})`);
  if (f.arch !== undefined) {
    config = withArch(config, f.arch);
    if (config === undefined) throw new InputError(`--arch ${clip(f.arch)}: unknown architecture (one of ${[...ARCH_FACTS.keys()].join(', ')})`);
  }
  if (f.optmemMax !== undefined) config = { ...config, optmemMax: byteCount('--optmem-max', f.optmemMax) };
  if (f.bpfProgHeader !== undefined) config = { ...config, bpfProgHeaderSize: byteCount('--bpf-prog-header', f.bpfProgHeader) };
  if (f.jitHarden !== undefined) {
    if (!/^[012]$/.test(f.jitHarden)) throw new InputError(`--jit-harden ${f.jitHarden}: expected 0, 1 or 2`);
    config = { ...config, bpfJitHarden: Number(f.jitHarden) };
  }
  if (f.unprivileged === true) config = { ...config, bpfCapable: false, x86Jit: config.x86Jit === null ? null : { ...config.x86Jit, capSysAdmin: false } };
  if (f.loadHelpers !== undefined) {
    if (f.loadHelpers !== 'v6.6.0' && f.loadHelpers !== 'backport') throw new InputError(`--load-helpers ${clip(f.loadHelpers)}: expected v6.6.0 or backport`);
    config = { ...config, loadHelpers: f.loadHelpers };
  }
  if (f.variant === undefined) return config;
  if (!isVariantName(f.variant)) throw new InputError(`--variant ${clip(f.variant)}: unknown variant (one of ${VARIANT_NAMES.join(', ')}; see bpfspec variants)`);
  return variantConfig(config, f.variant);
}

/** resolveKernel, probing the running kernel first when --kernel live asks for it (notes go to stderr). */
export async function kernelConfig(f: KernelFlags): Promise<KernelConfig> {
  if (f.kernel !== 'live') return resolveKernel(f, null);
  const live = await probeLive();
  if (live.note !== null) process.stderr.write(`bpfspec: --kernel live: ${live.note}\n`);
  return resolveKernel(f, live.config);
}

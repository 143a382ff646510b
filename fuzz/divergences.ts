// The divergence catalogue: every known difference between classic semantics (the classic
// evaluator) and the v6.6 migrated program (the kernel path). A divergence is never silenced: each
// entry names the trace event of the classic run that signals it and the one decision the v6.6
// kernel takes differently, and the fuzzer re-runs the classic evaluator with that decision switched
// to predict the kernel-path result exactly. Attach divergences are predicted from the program by an
// independent size calculation (fuzz/arb/ebpf-size.ts), never by running the converter; only the
// x86-64 JIT's refusal and constant blinding (which no size calculation gives) read model/migrate.
import {
  EV_DEV_NULL,
  EV_MAC_UNSET,
  EV_NEG_FRAG,
  EV_NLATTR_GUARD,
  EV_VLAN_DEI,
  EV_VLAN_PRESENT_ODD,
  type ClassicSemantics,
} from '../model/cbpf/eval.js';
import type { Program } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import type { Rejection } from '../model/verdict.js';
import { EINVAL, ENOMEM, ENOTSUPP } from '../model/uapi.js';
import { blindingRequested, bpfMigrateFilter, type MigratedProgram } from '../model/migrate/convert.js';
import { jitRejection } from '../model/jit/x86.js';
import type { EngineJitOutcome } from '../engine/migrate/convert.js';
import { convertedLen, jumpOverflowPc } from './arb/ebpf-size.js';

export interface RuntimeDivergence {
  readonly kind: 'runtime';
  readonly id: string;
  readonly title: string;
  /** The classic run's event bits (ClassicVm.events) whose presence is the predicate. */
  readonly events: number;
  /** The decision the v6.6 kernel takes differently; the prediction re-runs classic with it. */
  readonly decision: Partial<ClassicSemantics>;
  /** Only under this kernel configuration (e.g. the load-helper version), if any. */
  readonly when?: (config: KernelConfig) => boolean;
  readonly explanation: string;
  readonly at: readonly string[];
  /** The corpus entry (under corpus/) that shows it. */
  readonly example: string;
}

export interface AttachDivergence {
  readonly kind: 'attach';
  readonly id: string;
  readonly title: string;
  /** What the kernel path returns where classic semantics accept. */
  readonly errno: number;
  readonly stage: 'convert' | 'charge' | 'runtime';
  readonly rule: string;
  readonly explanation: string;
  readonly at: readonly string[];
  readonly example: string;
}

export type Divergence = RuntimeDivergence | AttachDivergence;

export const RUNTIME_DIVERGENCES: readonly RuntimeDivergence[] = [
  {
    kind: 'runtime',
    id: 'dev-null-exit-a',
    title: 'SKF_AD_IFINDEX / SKF_AD_HATYPE with skb->dev NULL: classic returns 0, v6.6 exits with the current A',
    events: EV_DEV_NULL,
    decision: { devNull: 'returnA' },
    explanation:
      'sk_run_filter returned 0 when skb->dev was NULL. convert_bpf_extensions emits `r2 = skb->dev; if r2 != 0 goto +1; exit` ' +
      'before reading dev->ifindex / dev->type, and the EXIT returns R0, which is A: the filter returns the current A ' +
      '(kernel-spec R1/R2). An AF_UNIX datagram has no dev.',
    at: ['net/core/filter.c:372', 'net/core/filter.c:377', 'net/core/filter.c:382'],
    example: 'divergences/dev-null-exit-a.json',
  },
  {
    kind: 'runtime',
    id: 'nlattr-guard-continue',
    title: 'SKF_AD_NLATTR / NLATTR_NEST guard failure: classic returns 0, v6.6 sets A = 0 and goes on',
    events: EV_NLATTR_GUARD,
    decision: { nlattrGuard: 'zeroContinue' },
    explanation:
      'The classic interpreter returned 0 from the whole filter when the skb was nonlinear, shorter than an nlattr, ' +
      'A > len - 4, or (nest) nla_len > len - A. The migrated program calls bpf_skb_get_nlattr[_nest], which returns 0 ' +
      'for the same guards; the result lands in A and the program continues (kernel-spec R3/R4).',
    at: ['net/core/filter.c:170', 'net/core/filter.c:190', 'net/core/filter.c:204', 'net/core/filter.c:430'],
    example: 'divergences/nlattr-guard-continue.json',
  },
  {
    kind: 'runtime',
    id: 'vlan-tag-dei',
    title: 'SKF_AD_VLAN_TAG with TCI bit 12 set: classic clears it, v6.6 returns the full TCI',
    events: EV_VLAN_DEI,
    decision: { vlanTag: 'v6.6' },
    explanation:
      'Classic kernels kept "tag present" in bit 12 of vlan_tci (VLAN_TAG_PRESENT) and returned tci & ~0x1000. Since ' +
      'the present bit was removed, convert_skb_access loads the whole u16 vlan_tci, DEI/CFI bit included (kernel-spec R5).',
    at: ['net/core/filter.c:331'],
    example: 'divergences/vlan-tag-dei.json',
  },
  {
    kind: 'runtime',
    id: 'vlan-present-odd',
    title: 'SKF_AD_VLAN_TAG_PRESENT when "tag put" and vlan_all != 0 disagree',
    events: EV_VLAN_PRESENT_ODD,
    decision: { vlanTag: 'v6.6' },
    explanation:
      'v6.6 answers SKF_AD_VLAN_TAG_PRESENT with skb->vlan_all != 0 (vlan_proto | vlan_tci), classic with the tag-present ' +
      'bit. They differ only for skbs whose producer set a tag with proto and tci 0, or set tci/proto without a tag ' +
      '(kernel-spec R6).',
    at: ['net/core/filter.c:338'],
    example: 'divergences/vlan-present-odd.json',
  },
  {
    kind: 'runtime',
    id: 'neg-offset-frags',
    title: 'SKF_NET_OFF / SKF_LL_OFF load reaching into frags: classic fails (0), backported 6.6.y succeeds',
    events: EV_NEG_FRAG,
    decision: { negativeLoads: 'frags' },
    when: (c) => c.loadHelpers === 'backport',
    explanation:
      'Classic and pristine v6.6.0 resolve negative offsets with bpf_internal_load_pointer_neg_helper, which only accepts ' +
      'the linear area. The 2025 backport of d4bac0288a2b converts the offset and reads frags with skb_copy_bits, so the ' +
      'load succeeds (kernel-spec R7). No divergence with the v6.6.0 helpers.',
    at: ['net/core/filter.c:214', 'kernel/bpf/core.c:74'],
    example: 'divergences/neg-offset-frags.json',
  },
  {
    kind: 'runtime',
    id: 'mac-unset-ll',
    title: 'SKF_LL_OFF load with no mac header: classic computes from the unset offset, v6.6 fails',
    events: EV_MAC_UNSET,
    decision: { macUnset: 'fail' },
    explanation:
      'v3.14 had no skb_mac_header_was_set() check: the unset mac_header (0xffff from head) was used as is, so a load ' +
      'succeeds when the linear area reaches that far. v6.6 returns NULL for an unset mac header (kernel-spec R8).',
    at: ['kernel/bpf/core.c:81'],
    example: 'divergences/mac-unset-ll.json',
  },
];

export const ATTACH_DIVERGENCES: readonly AttachDivergence[] = [
  {
    kind: 'attach',
    id: 'jump-offset-overflow',
    title: 'a jump whose eBPF offset does not fit s16: accepted classically, -EINVAL from bpf_convert_filter',
    errno: -EINVAL,
    stage: 'convert',
    rule: 'jump-offset-overflow',
    explanation:
      'BPF_EMIT_JMP rejects an eBPF offset outside [-32768, 32767]. Long expansions (LDX MSH, LD ABS with k > 32767) push a ' +
      'far JA over the limit (kernel-spec A3); and in the first iteration of the second conversion call forward targets ' +
      'still have addrs[t] == 0 (kcalloc), so any jump at an eBPF index >= 32768 fails (A4).',
    at: ['net/core/filter.c:701', 'net/core/filter.c:710'],
    example: 'divergences/jump-offset-overflow.json',
  },
  {
    kind: 'attach',
    id: 'optmem-exceeded',
    title: 'a migrated program larger than optmem_max: accepted classically, -ENOMEM from __sk_filter_charge',
    errno: -ENOMEM,
    stage: 'charge',
    rule: 'optmem-exceeded',
    explanation:
      'The socket is charged bpf_prog_size(eBPF len) = 72 + 8 * len bytes; with the v6.6 default optmem_max of 20480 a ' +
      'program that migrates to more than about 2550 eBPF instructions cannot be attached (kernel-spec A5).',
    at: ['net/core/filter.c:1226', 'net/core/filter.c:1232'],
    example: 'divergences/optmem-exceeded.json',
  },
  {
    kind: 'attach',
    id: 'x86-jit-refused',
    title: 'a program the x86-64 JIT cannot compile: accepted classically, -ENOTSUPP from bpf_prog_select_runtime with the JIT required',
    errno: -ENOTSUPP,
    stage: 'runtime',
    rule: 'jit-emit-mismatch',
    explanation:
      'bpf_int_jit_compile stops at two passes of equal total length; backward jumps (exits after the first) measure from two ' +
      'passes, so two jumps can trade sizes with the total unchanged and the emitting pass finds an insn that moved ' +
      '("bpf_jit: fatal error"); the padding passes fail likewise. The program stays interpreted, which with the JIT required is ' +
      '-ENOTSUPP (corpus/reports/x86-jit-convergence.md). Predicted by model/jit on the migrated program (the rule names the ' +
      'JIT failure: jit-emit-mismatch, jit-jmp-padding, ...); there is no independent calculation of the JIT\'s lengths: the ' +
      'live kernel checks them (test/jit/live.test.ts).',
    at: ['arch/x86/net/bpf_jit_comp.c:2741', 'kernel/bpf/core.c:2393'],
    example: 'divergences/x86-jit-refused.json',
  },
];

export const DIVERGENCES: readonly Divergence[] = [...RUNTIME_DIVERGENCES, ...ATTACH_DIVERGENCES];

/** Union of the event bits of every runtime entry that applies under `config`. */
export function divergenceEvents(config: KernelConfig): number {
  let m = 0;
  for (const d of RUNTIME_DIVERGENCES) if (!d.when || d.when(config)) m |= d.events;
  return m;
}

/** The entries whose events are in `events` (and apply under `config`). */
export const firedDivergences = (events: number, config: KernelConfig): RuntimeDivergence[] =>
  RUNTIME_DIVERGENCES.filter((d) => (events & d.events) !== 0 && (!d.when || d.when(config)));

/**
 * The most eBPF instructions bpf_convert_filter emits for one classic instruction: LDX MSH
 * (net/core/filter.c:787: one move, then convert_bpf_ld_abs's 15 at most for a byte, then five), and for the
 * prologue (net/core/filter.c:602-623: 3, plus 4 with seen_ld_abs). test/fuzz/predict.test.ts checks
 * fuzz/arb/ebpf-size.ts's counts against them on every code.
 */
export const MAX_EBPF_PER_CLASSIC = 21;
export const MAX_EBPF_PROLOGUE = 7;

export interface PredictedAttach {
  readonly divergence: AttachDivergence;
  readonly pc: number | null;
  /** the rule when it is not the entry's (the x86-64 JIT's failure) */
  readonly rule?: string;
}

/**
 * The x86-64 JIT's refusal of a program the converter takes (model/jit on the migrated program, with
 * the record's KernelConfig.x86Jit), when the JIT is required; null otherwise. Under constant blinding
 * (bpf_jit_harden) the refusal of a program whose blinded clone cannot be made (bpf_jit_blind_constants
 * fails, and every JIT falls back to the interpreter) is predicted too, also where the record does not
 * model the x86-64 JIT's passes (then with the rule `jit-required`).
 */
export function predictJitRefusal(
  prog: Program,
  config: KernelConfig,
  outcome?: () => EngineJitOutcome | null,
  /** bpfMigrateFilter(prog, config), where the caller has it already */
  migrated?: MigratedProgram | Rejection,
): PredictedAttach | null {
  if (config.arch !== 'x86_64' || !config.jitRequested || !config.jitAvailable) return null;
  const blinding = blindingRequested(config);
  if (config.x86Jit === null && !blinding) return null;
  if (outcome !== undefined && config.x86Jit !== null && !blinding) {
    // the engine's run of the same program (engine/jit/x86.ts, equal to model/jit: test/engine/jit.test.ts)
    const o = outcome();
    if (o === null) return null;
    const r = jitRejection(o.result, o.pcOf);
    // kernel/bpf/core.c:2378-2383 jit_needed: fp->jit_requested in 6.6.y, always under CONFIG_BPF_JIT_ALWAYS_ON
    const jitNeeded = config.jitAlwaysOn || (config.jitNeeded === 'jit-requested' && config.jitRequested);
    if (r === null || !jitNeeded) return null;
    return { divergence: ATTACH_DIVERGENCES[2]!, pc: r.pc, rule: r.rule };
  }
  // bpf_migrate_filter: the conversion, then bpf_prog_select_runtime with the x86-64 JIT's passes
  const m = migrated ?? bpfMigrateFilter(prog, config);
  if ('ok' in m || m.stage !== 'runtime' || !m.rule.startsWith('jit-')) return null;
  // `jit-required` without the JIT's passes modelled: only a failed blinding leaves an available JIT uncompiled
  if (m.rule === 'jit-required' && !(config.x86Jit === null && blinding)) return null;
  return { divergence: ATTACH_DIVERGENCES[2]!, pc: m.pc, rule: m.rule };
}

/**
 * For a program bpf_check_classic accepts: the attach divergence the kernel path will show, or null
 * when it attaches. From the expansion sizes alone (kernel-spec Appendix A), independently of
 * model/migrate: a jump offset overflow first (conversion runs before the charge), then the JIT's
 * refusal (predictJitRefusal), then the charge. Under constant blinding the charged length is the
 * blinded clone's, which only the model's bpf_jit_blind_constants computes.
 */
export function predictAttach(
  prog: Program,
  config: KernelConfig,
  jitOutcome?: () => EngineJitOutcome | null,
  /**
   * bpfMigrateFilter(prog, config) where the caller has it already (the spec kernel path's own
   * migration of the same program under the same record), or undefined: then it is made here when needed
   */
  migration?: () => MigratedProgram | Rejection | undefined,
): PredictedAttach | null {
  // Both checks below grow with the migrated length, so a program whose longest possible migration
  // (MAX_EBPF_PER_CLASSIC per instruction and the longest prologue) reaches neither limit needs no
  // count: that bound stands in for the length (most generated programs: up to 121 instructions
  // under the v6.6 optmem_max of 20480)
  const bound = MAX_EBPF_PER_CLASSIC * prog.length + MAX_EBPF_PROLOGUE;
  const len = bound <= 0x8000 && config.bpfProgHeaderSize + 8 * bound < config.optmemMax ? bound : convertedLen(prog, config);
  // No jump can overflow s16 in a program of at most 32768 eBPF instructions: every emitted index
  // e < len gives e + 1 <= 32768 in the first iteration, and a forward offset below len after it.
  const pc = len > 0x8000 ? jumpOverflowPc(prog, config) : null;
  if (pc !== null) return { divergence: ATTACH_DIVERGENCES[0]!, pc };
  // Under constant blinding the model's migration (bpf_jit_blind_constants) decides both the JIT's
  // refusal and the charged length: made once, for both
  const migrated = config.jitRequested && config.jitAvailable && blindingRequested(config) ? (migration?.() ?? bpfMigrateFilter(prog, config)) : undefined;
  // bpf_prog_select_runtime comes before the charge: the x86-64 JIT, where the record models it
  const jit = predictJitRefusal(prog, config, jitOutcome, migrated ?? migration?.());
  if (jit !== null) return jit;
  // bpf_prog_select_runtime replaces the program with the JIT's blinded clone (bpf_jit_harden), and
  // that is what __sk_filter_charge charges
  const charged = migrated !== undefined && 'ok' in migrated ? migrated.len : len;
  const size = config.bpfProgHeaderSize + 8 * charged;
  // __sk_filter_charge on a fresh socket: size <= optmem_max && 0 + size < optmem_max, i.e. size < optmem_max
  if (!(size < config.optmemMax)) return { divergence: ATTACH_DIVERGENCES[1]!, pc: null };
  return null;
}

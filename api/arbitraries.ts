// `bpfspec/arbitraries`: the fuzzer's fast-check arbitraries, for anyone who wants to property-test a
// classic BPF engine against the Linux spec. Valid programs by construction (accepted by
// bpf_check_classic: forward jumps in range, scratch memory written before read, RET last), programs
// aimed at one checker rule or migration failure, realistic packets (Ethernet, 802.1Q, ARP, IPv4/IPv6
// with options and extension headers, TCP, UDP, ICMP, netlink) with lengths near the offsets a program
// loads, and skbs with every metadata field. Every option is validated (BpfspecInputError).
//
// Node-free, like the root entry point: fast-check is the only dependency.
import type fc from 'fast-check';
import type { KernelConfig } from '../model/config.js';
import type { Program, SockFilter } from '../model/cbpf/insn.js';
import type { SkBuffFields } from '../model/skb.js';
import {
  CHECK_TARGETS,
  fuzzCase as arbFuzzCase,
  INVALID_RULES,
  invalidProgram as arbInvalid,
  limitsProgram as arbLimits,
  longProgram as arbLong,
  mediumProgram as arbMedium,
  MIGRATION_TARGETS,
  PACKET_KINDS,
  packet as arbPacket,
  packetOptionsFor,
  realisticProgram as arbRealistic,
  shortProgram as arbShort,
  skbCaseFrom,
  skbFields as arbSkbFields,
  TEMPLATES,
  validProgram as arbValid,
  type CheckTarget,
  type Flavour,
  type FuzzCase,
  type InvalidCase,
  type InvalidRule,
  type MigrationTarget,
  type Packet,
  type PacketKind,
  type SkbCase,
} from '../fuzz/arb/index.js';
import { campaignArbitrary, type CampaignCase } from '../fuzz/campaign.js';
import { asConfig, asInt, asOptions, asProgram, fail, guard, listOf, show } from './validate.js';

export { BpfspecInputError, isBpfspecInputError, type BpfspecErrorCode } from './errors.js';
export type { CheckTarget, Flavour, FuzzCase, InvalidCase, InvalidRule, MigrationTarget, Packet, PacketKind, SkbCase, CampaignCase };
export { INVALID_RULES, CHECK_TARGETS, MIGRATION_TARGETS, PACKET_KINDS };

// Every flavour once (a record, so that a flavour fuzz/arb adds or drops is a compile error here).
const FLAVOUR_SET: Readonly<Record<Flavour, true>> = { short: true, medium: true, realistic: true, long: true, limits: true, jit: true };

/** The program flavours validProgram mixes. */
export const FLAVOURS: readonly Flavour[] = Object.freeze(Object.keys(FLAVOUR_SET) as Flavour[]);

/** The names of the tcpdump-shaped templates realisticProgram draws from. */
export const TEMPLATE_NAMES: readonly string[] = Object.freeze(TEMPLATES.map((t) => t.name));

// --- programs -------------------------------------------------------------------------------------

export interface ValidProgramOptions {
  /**
   * Relative integer weights of the flavours (default short 800, realistic 140, medium 30, limits 5,
   * long 3, jit 3); a weight of 0 leaves a flavour out; at least one must be positive.
   * - short: 1..40 instructions over all 49 classic codes, every ancillary load, negative offsets
   * - medium: 40..400 instructions
   * - realistic: tcpdump-shaped filters (TEMPLATE_NAMES) with drawn constants
   * - long: up to BPF_MAXINSNS (4096), built from runs of repeated instructions
   * - limits: checker-valid programs just either side of the conversion limits (a jump offset of
   *   +32767, the first-pass jump position, the optmem charge): these may fail migration or the charge
   * - jit: programs aimed at the x86-64 JIT's jump-length limits (model/jit), sized for `config`
   */
  readonly weights?: Partial<Record<Flavour, number>>;
  /** The kernel configuration the 'limits' flavour sizes against (default DEFAULT_CONFIG: Linux 6.6.y on x86-64). */
  readonly config?: KernelConfig;
}

function asWeights(v: unknown, what: string): Partial<Record<Flavour, number>> {
  const w = asOptions(v, what);
  for (const key of Object.keys(w)) if (!(FLAVOURS as readonly string[]).includes(key)) fail('unknown-name', `${what}: unknown flavour ${show(key)} (one of ${FLAVOURS.join(', ')})`);
  const out: Partial<Record<Flavour, number>> = {};
  for (const f of FLAVOURS) if (w[f] !== undefined) out[f] = asInt(w[f], `${what}.${f}`, 0, 1_000_000);
  return out;
}

/** Valid programs: every one passes bpf_check_basics_ok and bpf_check_classic. */
export function validProgram(opts: ValidProgramOptions = {}): fc.Arbitrary<SockFilter[]> {
  const o = asOptions(opts, 'validProgram: options');
  const weights = o.weights === undefined ? undefined : asWeights(o.weights, 'validProgram: weights');
  const config = asConfig(o.config, 'validProgram: config');
  // the model's own check: every flavour weight 0 is a RangeError
  return guard('validProgram', () => arbValid({ ...(weights ? { weights } : {}), config }));
}

/** Valid programs of 1..40 instructions over all 49 codes. */
export const shortProgram = (): fc.Arbitrary<SockFilter[]> => arbShort();
/** Valid programs of 40..400 instructions. */
export const mediumProgram = (): fc.Arbitrary<SockFilter[]> => arbMedium();
/** Valid programs up to BPF_MAXINSNS instructions. */
export const longProgram = (): fc.Arbitrary<SockFilter[]> => arbLong();
/** Checker-valid programs at the conversion limits (sized for `config`, default DEFAULT_CONFIG). */
export const limitsProgram = (config?: KernelConfig): fc.Arbitrary<SockFilter[]> => arbLimits(asConfig(config, 'limitsProgram: config'));
/** tcpdump-shaped programs with drawn constants, and the template each came from (TEMPLATE_NAMES). */
export const realisticProgram = (): fc.Arbitrary<{ readonly name: string; readonly prog: readonly SockFilter[] }> => arbRealistic();

export interface InvalidProgramOptions {
  /**
   * Which rules to aim at (default INVALID_RULES, all 13: the checker's CHECK_TARGETS and the migration
   * failures MIGRATION_TARGETS). The big ones (len-too-long, jump-offset-overflow, optmem-exceeded:
   * 1,500..65,535 instructions) are drawn 1/8 as often as the others.
   */
  readonly rules?: readonly InvalidRule[];
  /** The kernel configuration the migration targets size against (default DEFAULT_CONFIG: Linux 6.6.y on x86-64). */
  readonly config?: KernelConfig;
}

/**
 * Invalid programs, each aimed at one rule: `{ prog, targets, stage, pc, how }`, where the attach path's
 * first failure is `targets` at `stage` ('check', 'convert' or 'charge'), at classic pc `pc` (null: about
 * the whole program). A valid program mutated just enough (`how` says how).
 */
export function invalidProgram(opts: InvalidProgramOptions = {}): fc.Arbitrary<InvalidCase> {
  const o = asOptions(opts, 'invalidProgram: options');
  const rules = o.rules === undefined ? undefined : listOf(INVALID_RULES, o.rules, 'invalidProgram: rules');
  return arbInvalid({ ...(rules ? { rules } : {}), config: asConfig(o.config, 'invalidProgram: config') });
}

// --- packets and skbs ---------------------------------------------------------------------------------

export interface PacketOptions {
  /** Which kinds to draw (default PACKET_KINDS: raw, eth-ipv4, eth-ipv6, eth-arp, eth-vlan, ipv4, ipv6, netlink). */
  readonly kinds?: readonly PacketKind[];
  /** Lengths worth hitting: half of the packets are cut or padded to one of them (default: lengths around the usual header ends). */
  readonly lengths?: readonly number[];
  /** The largest payload drawn, in bytes (default 96). */
  readonly maxPayload?: number;
  /** How often (0..16, in sixteenths) the tail of a packet goes to frags, headlen < len (default 5). */
  readonly fragWeight?: number;
}

function asPacketOptions(v: unknown, what: string, lengths = true): { kinds?: PacketKind[]; lengths?: number[]; maxPayload?: number; fragWeight?: number } {
  const o = asOptions(v, what);
  const known = lengths ? ['kinds', 'lengths', 'maxPayload', 'fragWeight'] : ['kinds', 'maxPayload', 'fragWeight'];
  for (const key of Object.keys(o)) if (!known.includes(key)) fail('invalid-argument', `${what}: unknown option ${show(key)} (known: ${known.join(', ')})`);
  const out: { kinds?: PacketKind[]; lengths?: number[]; maxPayload?: number; fragWeight?: number } = {};
  if (o.kinds !== undefined) out.kinds = listOf(PACKET_KINDS, o.kinds, `${what}.kinds`);
  if (o.lengths !== undefined) {
    if (!Array.isArray(o.lengths)) fail('invalid-argument', `${what}.lengths: expected an array of lengths, got ${show(o.lengths)}`);
    out.lengths = o.lengths.map((l: unknown, i) => asInt(l, `${what}.lengths[${i}]`, 0, 70000));
  }
  if (o.maxPayload !== undefined) out.maxPayload = asInt(o.maxPayload, `${what}.maxPayload`, 0, 65535);
  if (o.fragWeight !== undefined) out.fragWeight = asInt(o.fragWeight, `${what}.fragWeight`, 0, 16);
  return out;
}

/**
 * Packets: `{ bytes, headlen, preset, kind, layers, networkOffset, builtLength }`. Ethernet frames
 * belong on the 'ethernet' skb preset, the others on 'af_unix' (`preset`). Shrinks toward short raw
 * packets of zeros.
 */
export function packet(opts: PacketOptions = {}): fc.Arbitrary<Packet> {
  return arbPacket(asPacketOptions(opts, 'packet: options'));
}

/** Packets for one program: lengths drawn near the offsets it loads (o + size - 1, o + size, o + size + 1), plus the usual ones. */
export function packetFor(prog: Program, opts: Omit<PacketOptions, 'lengths'> = {}): fc.Arbitrary<Packet> {
  return arbPacket(packetOptionsFor(asProgram(prog, 'packetFor: program'), asPacketOptions(opts, 'packetFor: options', false)));
}

/** skb metadata alone (SkBuffFields), drawn around the values the ancillary loads care about. */
export const skbFields = (): fc.Arbitrary<SkBuffFields> => arbSkbFields();

/**
 * skb cases: `{ packet, skb, env }`, a packet (see packet(); `opts` as there) on its preset's skb with
 * drawn metadata (device or none, VLAN tag, mark, hash, queue, pkt_type, headers moved into the headroom
 * or unset) and an environment (CPU id, prandom seed). Every skb satisfies the model's consistency rules.
 */
export function skbCase(opts: PacketOptions = {}): fc.Arbitrary<SkbCase> {
  return skbCaseFrom(arbPacket(asPacketOptions(opts, 'skbCase: options')));
}

/** skb cases for one program: packet lengths near the offsets it loads. */
export function skbCaseFor(prog: Program, opts: Omit<PacketOptions, 'lengths'> = {}): fc.Arbitrary<SkbCase> {
  return skbCaseFrom(packetFor(prog, opts));
}

export interface FuzzCaseOptions {
  /** skbs per program (default 1, at most 4096). */
  readonly packetsPerProgram?: number;
  /** Program flavour weights (see ValidProgramOptions.weights). */
  readonly weights?: Partial<Record<Flavour, number>>;
  /** The kernel configuration (default DEFAULT_CONFIG: Linux 6.6.y on x86-64). */
  readonly config?: KernelConfig;
  /** Restrict packet kinds (default all). */
  readonly kinds?: readonly PacketKind[];
  /** Programs to draw instead of validProgram (e.g. your own corpus); they must be checker-valid. */
  readonly program?: fc.Arbitrary<SockFilter[]>;
}

/**
 * A valid program and `packetsPerProgram` skb cases whose packet lengths sit near the offsets this
 * program loads: `{ prog, inputs: [{ packet, skb, env }, ...] }`. What `bpfspec fuzz` checks.
 */
export function fuzzCase(opts: FuzzCaseOptions = {}): fc.Arbitrary<FuzzCase> {
  const o = asOptions(opts, 'fuzzCase: options');
  const known = ['packetsPerProgram', 'weights', 'config', 'kinds', 'program'];
  for (const key of Object.keys(o)) if (!known.includes(key)) fail('invalid-argument', `fuzzCase: unknown option ${show(key)} (known: ${known.join(', ')})`);
  const prog = o.program;
  if (prog !== undefined && (typeof prog !== 'object' || prog === null || typeof (prog as { generate?: unknown }).generate !== 'function'))
    fail('invalid-argument', 'fuzzCase: program: expected a fast-check Arbitrary of programs');
  const packetsPerProgram = o.packetsPerProgram === undefined ? 1 : asInt(o.packetsPerProgram, 'fuzzCase: packetsPerProgram', 1, 4096);
  const weights = o.weights === undefined ? undefined : asWeights(o.weights, 'fuzzCase: weights');
  const config = asConfig(o.config, 'fuzzCase: config');
  const kinds = o.kinds === undefined ? undefined : listOf(PACKET_KINDS, o.kinds, 'fuzzCase: kinds');
  return guard('fuzzCase', () =>
    arbFuzzCase({
      packetsPerProgram,
      ...(weights ? { weights } : {}),
      config,
      ...(kinds ? { kinds } : {}),
      ...(prog !== undefined ? { program: prog as fc.Arbitrary<SockFilter[]> } : {}),
    }),
  );
}

export interface CampaignCaseOptions {
  /** skbs per valid program (default 4, as `bpfspec fuzz`). */
  readonly packetsPerProgram?: number;
  /** The kernel configuration (default DEFAULT_CONFIG: Linux 6.6.y on x86-64). */
  readonly config?: KernelConfig;
}

/** The cases of a `bpfspec fuzz` campaign: 9 in 10 `{ valid: FuzzCase }`, 1 in 10 `{ invalid: InvalidCase }`. */
export function campaignCase(opts: CampaignCaseOptions = {}): fc.Arbitrary<CampaignCase> {
  const o = asOptions(opts, 'campaignCase: options');
  return campaignArbitrary(
    o.packetsPerProgram === undefined ? 4 : asInt(o.packetsPerProgram, 'campaignCase: packetsPerProgram', 1, 4096),
    asConfig(o.config, 'campaignCase: config'),
  );
}

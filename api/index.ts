// `bpfspec`: the library's root entry point. Programs in every format the command reads and writes,
// the checker and the attach path (check, migration, the migrated program and its disassembly),
// running a filter on an skb by the classic evaluator and by the kernel path (with traces), skbs,
// pcap/pcapng captures, the divergence catalogue and its predictions, and kernel configurations.
//
// Runs in a browser too: this module and everything it imports (model/, the format and capture
// readers of cli/formats and cli/packets, the divergence catalogue) use no Node API
// (test/package/browser.test.ts bundles it and runs the bundle without Node's globals).
//
// Every function validates what it is given (api/validate.ts) and throws a BpfspecInputError on bad
// input; what the kernel decides (a rejected program) is a value, a Rejection.
import { bpfCheckFilter as modelCheckFilter, KernelRunner, NEW_SOCK, packetRcv as modelPacketRcv, skAttachFilter as modelAttach, skFilterTrimCap as modelTrimCap } from '../model/attach.js';
import type { AttachedFilter, Delivery } from '../model/attach.js';
import { bpfCheckClassic as modelCheckClassic } from '../model/cbpf/check.js';
import { CLASSIC, ClassicVm, compileClassic, kernelSemantics, type ClassicProgram, type ClassicStep } from '../model/cbpf/eval.js';
import { BPF_MAXINSNS, decodeProgram as modelDecode, encodeProgram as modelEncode, type Endian, type Program, type SockFilter } from '../model/cbpf/insn.js';
import { DEFAULT_CONFIG, DEFAULT_PROFILE, PROFILES, X86_64, type KernelConfig, type LoadHelperVersion } from '../model/config.js';
import { printBpfInsn } from '../model/ebpf/disasm.js';
import { helperName } from '../model/ebpf/helpers.js';
import { assertBpfInsn, type BpfInsn } from '../model/ebpf/insn.js';
import { bpfInterpreterStackSize, type EbpfStep } from '../model/ebpf/interp.js';
import type { Fault } from '../model/ebpf/memory.js';
import { bpfConvertFilter as modelConvert, bpfMigrateFilter as modelMigrate, type ConvertResult, type MigratedProgram } from '../model/migrate/convert.js';
import { afUnixSkb as modelAfUnix, ethernetSkb as modelEthernet, PRESETS, type Env, type NetDevice, type PresetName, type SkBuff, type SkBuffFields } from '../model/skb.js';
import { fixedConfig, NOT_MODELLED, VARIANT_NAMES, VARIANTS, variantConfig as modelVariantConfig, type VariantInfo, type VariantName } from '../model/variants.js';
import type { Rejection, Stage } from '../model/verdict.js';
import { errnoName as modelErrnoName } from '../model/uapi.js';
import { bpfImage, checkExpressible as cliExpressible, detectFormat as cliDetect, FORMAT_NAMES, parseProgram as cliParse, printProgram as cliPrint, type FormatName } from '../cli/formats/index.js';
import { parseHexPacket as cliHexPacket, readPackets, type CaptureFormat, type Packet as CapturedPacket } from '../cli/packets/index.js';
import {
  ATTACH_DIVERGENCES,
  DIVERGENCES,
  divergenceEvents,
  firedDivergences,
  predictAttach as catalogueAttach,
  RUNTIME_DIVERGENCES,
  type AttachDivergence,
  type Divergence,
  type PredictedAttach,
  type RuntimeDivergence,
} from '../fuzz/divergences.js';
import {
  ARCH_TABLE,
  asBool,
  asBytes,
  asConfig,
  asEnv,
  asInt,
  asJudgeResult,
  asObject,
  asOptions,
  asProgram,
  asProgramOrNull,
  asSkb,
  asString,
  checkKernelPathFits,
  checkSkbFields,
  fail,
  guard,
  isObject,
  lookup,
  oneOf,
  show,
} from './validate.js';

export { BpfspecInputError, isBpfspecInputError, type BpfspecErrorCode, type BpfspecErrorDetails } from './errors.js';

// --- types --------------------------------------------------------------------------------------

export type { SockFilter, Program, Endian } from '../model/cbpf/insn.js';
export type { BpfInsn } from '../model/ebpf/insn.js';
export type { Rejection, Stage };
export type { KernelConfig, LoadHelperVersion };
export type { SkBuff, SkBuffFields, Env, NetDevice, PresetName };
export type { Fault, FaultKind } from '../model/ebpf/memory.js';
export type { ClassicStep, EbpfStep, Delivery, AttachedFilter, MigratedProgram, ConvertResult };
export type { FormatName, CaptureFormat, CapturedPacket };
export type { Divergence, RuntimeDivergence, AttachDivergence, PredictedAttach };
export type { VariantName, VariantInfo };
export type { Judge, JudgeCase, JudgeAnswer, JudgeResult, JudgeVerdict, SkbInput } from '../model/judge.js';
import { consistentResults as modelConsistent, type JudgeResult } from '../model/judge.js';

/** Whether two judges' results for one input can both be true of one run (exact vs partial: the known bits and the bound). */
export function consistentResults(a: JudgeResult, b: JudgeResult): boolean {
  return modelConsistent(asJudgeResult(a, 'consistentResults: a'), asJudgeResult(b, 'consistentResults: b'));
}

// --- constants: include/uapi/linux/filter.h and bpf_common.h, SKF_AD_*, errnos ---------------------

export {
  BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC, BPF_W, BPF_H, BPF_B,
  BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM, BPF_LEN, BPF_MSH, BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,
  BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE,
  BPF_JSET, BPF_K, BPF_X, BPF_A, BPF_TAX, BPF_TXA, BPF_MEMWORDS, BPF_MAJOR_VERSION,
  BPF_MINOR_VERSION, SKF_AD_OFF, SKF_AD_PROTOCOL, SKF_AD_PKTTYPE, SKF_AD_IFINDEX, SKF_AD_NLATTR,
  SKF_AD_NLATTR_NEST, SKF_AD_MARK, SKF_AD_QUEUE, SKF_AD_HATYPE, SKF_AD_RXHASH, SKF_AD_CPU,
  SKF_AD_ALU_XOR_X, SKF_AD_VLAN_TAG, SKF_AD_VLAN_TAG_PRESENT, SKF_AD_PAY_OFFSET, SKF_AD_RANDOM,
  SKF_AD_VLAN_TPID, SKF_AD_MAX, SKF_NET_OFF, SKF_LL_OFF, BPF_NET_OFF, BPF_LL_OFF, ANCILLARY, EPERM,
  EFAULT, EINVAL, ENOMEM, E2BIG, ERANGE, ENOTSUPP, ERRNO_NAMES,
} from '../model/uapi.js';
export { BPF_MAXINSNS };
export { MAX_FPROG_LEN, SOCK_FILTER_SIZE } from '../model/cbpf/insn.js';

/** include/uapi/linux/filter.h BPF_STMT(code, k): an instruction without jump offsets (k may be given as an s32). */
export const bpfStmt = (code: number, k: number): SockFilter => asProgram([{ code, jt: 0, jf: 0, k }], 'bpfStmt')[0]!;
/** include/uapi/linux/filter.h BPF_JUMP(code, k, jt, jf). */
export const bpfJump = (code: number, k: number, jt: number, jf: number): SockFilter => asProgram([{ code, jt, jf, k }], 'bpfJump')[0]!;

/** The name of an errno, either sign: errnoName(-22) is 'EINVAL' (Rejection.errno is negative, as the kernel returns it). */
export function errnoName(errno: number): string {
  return modelErrnoName(asInt(errno, 'errnoName: errno', -(2 ** 31), 2 ** 31 - 1));
}
export {
  PACKET_HOST,
  PACKET_BROADCAST,
  PACKET_MULTICAST,
  PACKET_OTHERHOST,
  PACKET_OUTGOING,
  PACKET_LOOPBACK,
  PACKET_USER,
  PACKET_KERNEL,
  ARPHRD_ETHER,
  ETH_P_IP,
  ETH_P_ARP,
  ETH_P_8021Q,
  ETH_P_8021AD,
  ETH_P_IPV6,
  ETH_HLEN,
  DEFAULT_ENV,
} from '../model/skb.js';

// --- programs: formats ----------------------------------------------------------------------------

export { FORMAT_NAMES };

const FORMATS: ReadonlyMap<string, FormatName> = new Map(FORMAT_NAMES.map((f) => [f, f]));
const ENDIANS = ['little', 'big'] as const;

const toInput = (v: unknown, what: string): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : asBytes(v, what));

/** Which format a program text or image is in, when that is unambiguous (binary bytes are raw); null otherwise. */
export function detectFormat(input: Uint8Array | string): FormatName | null {
  return cliDetect(toInput(input, 'detectFormat: input'));
}

export interface ParseOptions {
  /** The format (detected when absent: see detectFormat). */
  readonly format?: FormatName;
  /** Byte order of raw and hex images (default little, the x86-64 host order). */
  readonly endian?: Endian;
}

/**
 * Parse a classic program in any format the command reads: tcpdump-d, tcpdump-dd, tcpdump-ddd,
 * bpf_asm, bytecode, raw, hex, json. Text may be given as a string. Throws BpfspecInputError
 * 'parse-error' naming the line and column (details) of the first problem.
 */
export function parseProgram(input: Uint8Array | string, opts: ParseOptions = {}): { prog: SockFilter[]; format: FormatName } {
  const o = asOptions(opts, 'parseProgram: options');
  const format = o.format === undefined ? undefined : lookup(FORMATS, o.format, 'parseProgram: format');
  const endian = o.endian === undefined ? 'little' : oneOf(ENDIANS, o.endian, 'parseProgram: endian');
  const r = cliParse(toInput(input, 'parseProgram: input'), format, { endian });
  if (!r.ok) {
    const { message, ...where } = r.error;
    const at = where.line !== undefined ? `line ${where.line}${where.column !== undefined ? `:${where.column}` : ''}: ` : where.insn !== undefined ? `insn ${where.insn}: ` : '';
    fail('parse-error', `${at}${message}`, where);
  }
  return { prog: r.prog, format: r.format };
}

export interface PrintOptions {
  /** Byte order of raw and hex images (default little). */
  readonly endian?: Endian;
}

/**
 * Print a program in a format: bytes for 'raw', text for the others. A format that cannot show every
 * field (tcpdump-d) prints what it can: checkExpressible says what would be lost.
 */
export function printProgram(prog: Program, format: 'raw', opts?: PrintOptions): Uint8Array;
export function printProgram(prog: Program, format: Exclude<FormatName, 'raw'>, opts?: PrintOptions): string;
export function printProgram(prog: Program, format: FormatName, opts?: PrintOptions): string | Uint8Array;
export function printProgram(prog: Program, format: FormatName, opts: PrintOptions = {}): string | Uint8Array {
  const p = asProgram(prog);
  const f = lookup(FORMATS, format, 'printProgram: format');
  const o = asOptions(opts, 'printProgram: options');
  const endian = o.endian === undefined ? 'little' : oneOf(ENDIANS, o.endian, 'printProgram: endian');
  return guard('printProgram', () => cliPrint(p, f, { endian }));
}

/** Whether printing in `format` keeps every field: null, or one line naming the first instruction that loses one. */
export function checkExpressible(prog: Program, format: FormatName): string | null {
  const p = asProgram(prog);
  const e = cliExpressible(p, lookup(FORMATS, format, 'checkExpressible: format'));
  return e === null ? null : e.message;
}

/** Decode a struct sock_filter image (8 bytes per instruction). Throws 'parse-error' (details.offset) on a bad length. */
export function decodeProgram(image: Uint8Array, endian: Endian = 'little'): SockFilter[] {
  const r = modelDecode(asBytes(image, 'decodeProgram: image'), oneOf(ENDIANS, endian, 'decodeProgram: endian'));
  if (!r.ok) fail('parse-error', r.error.message, { offset: r.error.offset });
  return r.prog;
}

/** Encode a program as its struct sock_filter image. */
export function encodeProgram(prog: Program, endian: Endian = 'little'): Uint8Array {
  return modelEncode(asProgram(prog), oneOf(ENDIANS, endian, 'encodeProgram: endian'));
}

// --- kernel configurations -----------------------------------------------------------------------

export { X86_64, DEFAULT_CONFIG };

/** The architectures kernelConfig knows (their facts: efficient unaligned access, NET_IP_ALIGN). */
export const ARCH_NAMES: readonly string[] = Object.freeze([...ARCH_TABLE.keys()]);

/** The kernel profiles kernelConfig knows (v6.6.0, v6.6.y, v6.18); the running kernel's is openLiveKernel's (bpfspec/fuzz). */
export const KERNEL_PROFILES: readonly string[] = Object.freeze([...PROFILES.keys()]);

/** The profile kernelConfig starts from when none is named (v6.6.y: the tree the model's citations come from). */
export { DEFAULT_PROFILE };

export interface KernelConfigOptions {
  /** A profile (KERNEL_PROFILES): v6.6.0 (the release), v6.6.y (default: the stable tree the model cites), v6.18. */
  readonly profile?: string;
  /** x86_64 (default), arm64 or riscv64 (ARCH_NAMES): the architecture facts the kernel branches on. */
  readonly arch?: string;
  /** net.core.optmem_max in bytes (default: the profile's; 20480 on v6.6, 131072 from v6.8). */
  readonly optmemMax?: number;
  /** The body of bpf_skb_load_helper_*: 'v6.6.0' or 'backport' (6.6.y after d4bac0288a2b, 6.15+) (default: the profile's). */
  readonly loadHelpers?: LoadHelperVersion;
  /** sizeof(struct bpf_prog), the header of the socket charge (default: the profile's; 72 on v6.6 x86-64, 96 measured on 6.18). */
  readonly bpfProgHeaderSize?: number;
  /** Whether the eBPF JIT compiles the migrated program (default true). */
  readonly jitAvailable?: boolean;
  /** CONFIG_BPF_JIT_ALWAYS_ON (default true): without a JIT the attach fails with -ENOTSUPP. */
  readonly jitAlwaysOn?: boolean;
  /** A historical kernel bug to reintroduce (VARIANT_NAMES), with the parameters it needs. */
  readonly variant?: VariantName;
}

const CONFIG_OPTION_KEYS = ['profile', 'arch', 'optmemMax', 'loadHelpers', 'bpfProgHeaderSize', 'jitAvailable', 'jitAlwaysOn', 'variant'];

/**
 * A kernel configuration (model/kernel.ts: one record of every decision the model takes differently
 * from kernel to kernel): a profile, on an architecture, with single fields overridden and a historical
 * variant applied, in that order (as the command's --kernel, --arch, --optmem-max, --load-helpers,
 * --bpf-prog-header and --variant). Default: DEFAULT_CONFIG, Linux 6.6.y on x86-64.
 */
export function kernelConfig(opts: KernelConfigOptions = {}): KernelConfig {
  const o = asOptions(opts, 'kernelConfig: options');
  for (const key of Object.keys(o)) if (!CONFIG_OPTION_KEYS.includes(key)) fail('invalid-argument', `kernelConfig: unknown option ${show(key)} (known: ${CONFIG_OPTION_KEYS.join(', ')})`);
  let c: KernelConfig = lookup(PROFILES, o.profile ?? DEFAULT_PROFILE, 'kernelConfig: profile');
  if (o.arch !== undefined) c = { ...c, ...lookup(ARCH_TABLE, o.arch, 'kernelConfig: arch') };
  if (o.optmemMax !== undefined) c = { ...c, optmemMax: asInt(o.optmemMax, 'kernelConfig: optmemMax', 0, 2 ** 31 - 1) };
  if (o.loadHelpers !== undefined) c = { ...c, loadHelpers: oneOf(['v6.6.0', 'backport'] as const, o.loadHelpers, 'kernelConfig: loadHelpers') };
  if (o.bpfProgHeaderSize !== undefined) c = { ...c, bpfProgHeaderSize: asInt(o.bpfProgHeaderSize, 'kernelConfig: bpfProgHeaderSize', 0, 4096) };
  if (o.jitAvailable !== undefined) c = { ...c, jitAvailable: asBool(o.jitAvailable, 'kernelConfig: jitAvailable') };
  if (o.jitAlwaysOn !== undefined) c = { ...c, jitAlwaysOn: asBool(o.jitAlwaysOn, 'kernelConfig: jitAlwaysOn') };
  if (o.variant !== undefined) c = modelVariantConfig(c, oneOf(VARIANT_NAMES, o.variant, 'kernelConfig: variant'));
  return c;
}

export { VARIANTS, VARIANT_NAMES, NOT_MODELLED };

/** `base` with a historical variant reintroduced (and the kernel parameters it needs to show). */
export function variantConfig(base: KernelConfig, name: VariantName): KernelConfig {
  return modelVariantConfig(asConfig(base, 'variantConfig: base'), oneOf(VARIANT_NAMES, name, 'variantConfig: name'));
}

// --- the checker and the attach path ---------------------------------------------------------------

/** Whether an attach-path answer is a rejection (an errno, the rule, the pc and the kernel line). */
export const isRejection = (v: unknown): v is Rejection => isObject(v) && typeof v.errno === 'number' && typeof v.rule === 'string' && !('ok' in v);

/**
 * net/core/filter.c bpf_check_classic: the classic checker alone, on a program of 1..BPF_MAXINSNS
 * instructions (the kernel runs it only after bpf_check_basics_ok; use bpfCheckFilter for both).
 * null when accepted. With config.variant, the checker of that historical kernel.
 */
export function bpfCheckClassic(prog: Program, config?: KernelConfig): Rejection | null {
  const p = asProgram(prog);
  if (p.length === 0 || p.length > BPF_MAXINSNS)
    fail('invalid-argument', `bpfCheckClassic: ${p.length} instructions; bpf_check_classic runs after bpf_check_basics_ok, on 1..${BPF_MAXINSNS} (use bpfCheckFilter)`);
  return modelCheckClassic(p, asConfig(config));
}

/** The attach path's checks before migration, in the kernel's order: the length rules, then bpf_check_classic. null = accepted. */
export function bpfCheckFilter(prog: Program | null, config?: KernelConfig): Rejection | null {
  return modelCheckFilter(asProgramOrNull(prog), asConfig(config));
}

export interface AttachOptions {
  /** sk_omem_alloc of the socket before the attach (e.g. the charge of a filter it already has; default 0) */
  readonly omemAlloc?: number;
}

/**
 * setsockopt(SO_ATTACH_FILTER) -> sk_attach_filter: check, bpf_convert_filter, runtime selection and the
 * socket memory charge. The attached filter (with its migrated program), or the rejection. `null`
 * stands for a NULL filter pointer.
 */
export function skAttachFilter(prog: Program | null, config?: KernelConfig, opts: AttachOptions = {}): AttachedFilter | Rejection {
  const o = asOptions(opts, 'skAttachFilter: options');
  const omem = o.omemAlloc === undefined ? 0 : asInt(o.omemAlloc, 'skAttachFilter: omemAlloc', 0, 2 ** 31 - 1);
  return modelAttach(asProgramOrNull(prog), asConfig(config), { ...NEW_SOCK, omemAlloc: omem });
}

/** net/core/filter.c bpf_convert_filter (both calls): the eBPF program, or the convert-stage rejection. */
export function bpfConvertFilter(prog: Program, config?: KernelConfig): ConvertResult | Rejection {
  return modelConvert(asProgram(prog), asConfig(config));
}

/** net/core/filter.c bpf_migrate_filter, then bpf_prog_select_runtime: the migrated program and how it runs. */
export function bpfMigrateFilter(prog: Program, config?: KernelConfig): MigratedProgram | Rejection {
  return modelMigrate(asProgram(prog), asConfig(config));
}

const DISASM = { callName: (insn: BpfInsn) => helperName(insn.imm) };

function asEbpf(v: unknown, what: string): BpfInsn[] {
  if (!Array.isArray(v)) fail('invalid-argument', `${what}: expected an array of {code, dst, src, off, imm} instructions, got ${show(v)}`);
  return v.map((insn: unknown, pc) => {
    const o = asObject(insn, `${what}: insn ${pc}`);
    const x: BpfInsn = { code: o.code as number, dst: o.dst as number, src: o.src as number, off: o.off as number, imm: o.imm as number };
    guard(what, () => assertBpfInsn(x, pc));
    return x;
  });
}

/**
 * eBPF instructions as `bpftool prog dump xlated` prints them (kernel/bpf/disasm.c print_bpf_insn),
 * helper calls by name: "  12: (85) call bpf_skb_load_helper_8#1". One line per instruction.
 */
export function disassemble(insns: readonly BpfInsn[]): string[] {
  const p = asEbpf(insns, 'disassemble');
  const width = Math.max(3, String(p.length).length);
  return guard('disassemble', () => p.map((insn, pc) => printBpfInsn(insn, p[pc + 1], { ...DISASM, pc, pcWidth: width })));
}

/** One eBPF instruction of a migration, with its text. */
export interface EbpfLine {
  readonly pc: number;
  readonly insn: BpfInsn;
  /** as bpftool prints it, e.g. "  12: (85) call bpf_skb_load_helper_8#1" */
  readonly text: string;
}

/** A classic instruction and the eBPF instructions bpf_convert_filter made of it. */
export interface MigrationStep {
  readonly pc: number;
  readonly insn: SockFilter;
  /** as `tcpdump -d` prints it, e.g. "(000) ldh      [12]" */
  readonly text: string;
  readonly ebpf: readonly EbpfLine[];
}

/** What `bpfspec migrate` shows: the migrated program under each classic instruction, and the attach verdict. */
export interface Migration {
  /** the whole attach path's verdict (null: attached) */
  readonly attach: Rejection | null;
  /** bpf_convert_filter's verdict (null: converted; then the fields below are filled) */
  readonly convert: Rejection | null;
  /** the eBPF program, prologue included */
  readonly insns: readonly BpfInsn[];
  /** the prologue bpf_convert_filter emits before the first classic instruction */
  readonly prologue: readonly EbpfLine[];
  readonly steps: readonly MigrationStep[];
  /** new_prog->aux->stack_depth in bytes */
  readonly stackDepth: number | null;
  /** the interpreter that runs it: __bpf_prog_run32 ... __bpf_prog_run512 */
  readonly interpreter: string | null;
  /** iterations of the conversion's do_pass loop */
  readonly passes: number | null;
}

/** The migration of a program under `config` (default DEFAULT_CONFIG: Linux 6.6.y on x86-64), as `bpfspec migrate` prints it. */
export function migrate(prog: Program, config?: KernelConfig): Migration {
  const p = asProgram(prog);
  const c = asConfig(config);
  const attached = modelAttach(p, c);
  const attach = 'ok' in attached ? null : attached;
  const conv = modelConvert(p, c);
  if (!('ok' in conv))
    return { attach, convert: conv, insns: [], prologue: [], steps: p.map((insn, pc) => ({ pc, insn, text: bpfImage(insn, pc), ebpf: [] })), stackDepth: null, interpreter: null, passes: null };
  const { insns, map } = conv;
  const line = (pc: number): EbpfLine => ({ pc, insn: insns[pc]!, text: printBpfInsn(insns[pc]!, insns[pc + 1], { ...DISASM, pc, pcWidth: 5 }) });
  const range = (from: number, to: number): EbpfLine[] => Array.from({ length: to - from }, (_, i) => line(from + i));
  return {
    attach,
    convert: null,
    insns,
    prologue: range(0, map[0]!),
    steps: p.map((insn, pc) => ({ pc, insn, text: bpfImage(insn, pc), ebpf: range(map[2 * pc]!, map[2 * pc + 1]!) })),
    stackDepth: conv.stackDepth,
    interpreter: `__bpf_prog_run${bpfInterpreterStackSize(conv.stackDepth)}`,
    passes: conv.passes,
  };
}

// --- skbs ------------------------------------------------------------------------------------------

/** The skb presets: 'af_unix' (a datagram on an AF_UNIX socket) and 'ethernet' (a frame an AF_PACKET socket sees). */
export const SKB_PRESETS: readonly PresetName[] = Object.freeze(['af_unix', 'ethernet']);

const PRESET_TABLE: ReadonlyMap<string, (data: Uint8Array, fields?: SkBuffFields) => SkBuff> = new Map(SKB_PRESETS.map((n) => [n, PRESETS[n]]));

function presetSkb(build: (data: Uint8Array, fields?: SkBuffFields) => SkBuff, data: unknown, fields: unknown, what: string): SkBuff {
  const d = asBytes(data, `${what}: data`);
  const f = checkSkbFields(fields, `${what}: fields`) as SkBuffFields;
  return asSkb(build(d, f), what);
}

/**
 * Preset af_unix: a datagram on an AF_UNIX socket: no device, mac header unset, network header at 0,
 * every metadata field 0; `fields` override any of them (e.g. { headlen: 10 } puts the rest in frags).
 */
export const afUnixSkb = (data: Uint8Array, fields: SkBuffFields = {}): SkBuff => presetSkb(modelAfUnix, data, fields, 'afUnixSkb');

/**
 * Preset ethernet: a frame received on an Ethernet device (ifindex 2, ARPHRD_ETHER, address
 * 02:00:00:00:00:01) as AF_PACKET sees it: mac header at 0, network header at 14, protocol and pkt_type
 * as eth_type_trans derives them; `fields` override any of them.
 */
export const ethernetSkb = (data: Uint8Array, fields: SkBuffFields = {}): SkBuff => presetSkb(modelEthernet, data, fields, 'ethernetSkb');

/** An skb from a preset by name. */
export function makeSkb(preset: PresetName, data: Uint8Array, fields: SkBuffFields = {}): SkBuff {
  return presetSkb(lookup(PRESET_TABLE, preset, 'makeSkb: preset'), data, fields, 'makeSkb');
}

// --- captures and packets --------------------------------------------------------------------------

export interface Capture {
  readonly format: CaptureFormat;
  readonly snaplen: number;
  readonly packets: readonly CapturedPacket[];
  /** what the reader noticed but accepted (e.g. truncated records) */
  readonly notes: readonly string[];
}

/** Read every packet of a pcap or pcapng capture (chosen by its magic). Throws 'bad-capture' naming the byte offset. */
export function readCapture(bytes: Uint8Array): Capture {
  const r = readPackets(asBytes(bytes, 'readCapture: bytes'));
  if (!r.ok) fail('bad-capture', r.error);
  return { format: r.format, snaplen: r.snaplen, packets: r.packets, notes: r.notes };
}

/** The skb a captured packet arrives on, as `bpfspec run --pcap` builds it: ethernet for Ethernet captures (LINKTYPE 1), else af_unix. */
export function skbForPacket(packet: CapturedPacket, fields: SkBuffFields = {}): SkBuff {
  const p = asObject(packet, 'skbForPacket: packet');
  return presetSkb(p.linktype === 1 ? modelEthernet : modelAfUnix, p.data, fields, 'skbForPacket');
}

/** Bytes from hex ("45 00 00 54", "0x4500:0054", separators ' ', ':', '-', '.'). Throws 'parse-error'. */
export function parseHexPacket(text: string): Uint8Array {
  const r = cliHexPacket(asString(text, 'parseHexPacket: text'));
  if (!r.ok) fail('parse-error', r.error);
  return r.data;
}

// --- running a filter ----------------------------------------------------------------------------

/** Which evaluator: the classic one, the kernel path (migration + eBPF interpreter), or both. */
export type PathName = 'classic' | 'kernel' | 'both';

export interface RunOptions {
  /** the CPU id and prandom seed the run sees (default { cpu: 0, randomSeed: 1 }) */
  readonly env?: Env;
  /** default 'both' */
  readonly path?: PathName;
  /** record every step (classic: pc, A, X, M; kernel: eBPF pc and registers) */
  readonly trace?: boolean;
}

/** The result of one filter on one skb. */
export interface RunResult {
  /** bpf_check_basics_ok + bpf_check_classic (the classic evaluator runs only when null) */
  readonly check: Rejection | null;
  /** the whole attach path (the kernel path runs only when null) */
  readonly attach: Rejection | null;
  /** the classic evaluator's u32 result, or null when not run */
  readonly classic: number | null;
  /** the kernel path's u32 result, or null when not run */
  readonly kernel: number | null;
  /** a model fault of the kernel path (its result is then 0): never expected, a finding if seen */
  readonly fault: Fault | null;
  /** whether both ran and agree (null when one did not run) */
  readonly agree: boolean | null;
  /** what AF_PACKET (packet_rcv) does with the result: the kernel path's, else the classic one */
  readonly delivery: Delivery | null;
  readonly classicTrace?: readonly ClassicStep[];
  readonly kernelTrace?: readonly EbpfStep[];
}

/** A program loaded once and run on many skbs. */
export interface Filter {
  readonly prog: readonly SockFilter[];
  readonly config: KernelConfig;
  /** bpf_check_basics_ok + bpf_check_classic: null when the classic evaluator can run it */
  readonly check: Rejection | null;
  /** the whole attach path: null when the kernel path can run it */
  readonly attach: Rejection | null;
  /** the migrated program (null when not attached) */
  readonly migrated: MigratedProgram | null;
  /** Both paths (or one: opts.path) on one skb, with traces on request. */
  run(skb: SkBuff, opts?: RunOptions): RunResult;
  /** The classic evaluator's result (throws 'program-rejected' when check is not null). */
  classic(skb: SkBuff, env?: Env): number;
  /** The kernel path's result (throws 'program-rejected' when attach is not null); a model fault gives 0 and sets lastFault. */
  kernel(skb: SkBuff, env?: Env): number;
  /** the fault of the last kernel-path run, or null */
  readonly lastFault: Fault | null;
}

const PATHS = ['classic', 'kernel', 'both'] as const;

// A KernelRunner holds a memory image of the skb (a 256 KiB head region and more): filters of one
// configuration share one, as the fuzzer's judges do (every run lays its skb out afresh, so sharing is
// invisible in results). A few configurations are kept; a program's runs are synchronous.
const RUNNERS = new Map<string, KernelRunner>();
const RUNNER_CACHE = 8;

function sharedRunner(config: KernelConfig): KernelRunner {
  const key = JSON.stringify(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1)));
  let r = RUNNERS.get(key);
  if (r === undefined) {
    if (RUNNERS.size >= RUNNER_CACHE) RUNNERS.delete(RUNNERS.keys().next().value!);
    r = new KernelRunner(config);
    RUNNERS.set(key, r);
  }
  return r;
}

class LoadedFilter implements Filter {
  readonly check: Rejection | null;
  readonly attach: Rejection | null;
  readonly migrated: MigratedProgram | null;
  private readonly attached: AttachedFilter | null;
  private readonly decoded: ClassicProgram | null;
  private readonly vm: ClassicVm;
  private runner: KernelRunner | null = null;

  constructor(
    readonly prog: readonly SockFilter[],
    readonly config: KernelConfig,
  ) {
    // The fixed checker: a historical variant (config.variant) perturbs the kernel path only (as the fuzzer's judges do).
    this.check = modelCheckFilter(prog);
    const a = modelAttach(prog, config);
    this.attached = 'ok' in a ? a : null;
    this.attach = 'ok' in a ? null : a;
    this.migrated = this.attached === null ? null : this.attached.migrated;
    this.decoded = this.check === null ? compileClassic(prog) : null;
    this.vm = new ClassicVm(config, CLASSIC);
  }

  lastFault: Fault | null = null;

  private kernelRunner(): KernelRunner {
    if (this.runner === null) this.runner = sharedRunner(this.config);
    return this.runner;
  }

  classic(skb: SkBuff, env?: Env): number {
    if (this.decoded === null) fail('program-rejected', 'the classic evaluator needs a program bpf_check_classic accepts', { rejection: this.check! });
    return this.vm.run(this.decoded, asSkb(skb), asEnv(env));
  }

  kernel(skb: SkBuff, env?: Env): number {
    if (this.attached === null) fail('program-rejected', 'the kernel path needs a program the attach path accepts', { rejection: this.attach! });
    const s = asSkb(skb);
    checkKernelPathFits(s);
    const runner = this.kernelRunner();
    const r = runner.run(this.attached, s, asEnv(env));
    this.lastFault = runner.fault;
    return r;
  }

  run(skb: SkBuff, opts: RunOptions = {}): RunResult {
    const o = asOptions(opts, 'run: options');
    const s = asSkb(skb);
    const env = asEnv(o.env, 'run: env');
    const path = o.path === undefined ? 'both' : oneOf(PATHS, o.path, 'run: path');
    const trace = o.trace === undefined ? false : asBool(o.trace, 'run: trace');
    const runClassic = path !== 'kernel' && this.decoded !== null;
    const runKernel = path !== 'classic' && this.attached !== null;
    if (runKernel) checkKernelPathFits(s);
    const classicTrace: ClassicStep[] | null = trace && runClassic ? [] : null;
    const kernelTrace: EbpfStep[] | null = trace && runKernel ? [] : null;
    const classic = runClassic ? this.vm.run(this.decoded!, s, env, classicTrace) : null;
    const kernel = runKernel ? this.kernelRunner().run(this.attached!, s, env, kernelTrace) : null;
    if (runKernel) this.lastFault = this.runner!.fault;
    const result = kernel ?? classic;
    return {
      check: this.check,
      attach: this.attach,
      classic,
      kernel,
      fault: runKernel ? this.lastFault : null,
      agree: classic !== null && kernel !== null ? classic === kernel : null,
      delivery: result === null ? null : modelPacketRcv(result, s.data.length),
      ...(classicTrace ? { classicTrace } : {}),
      ...(kernelTrace ? { kernelTrace } : {}),
    };
  }
}

export interface LoadOptions {
  /** the kernel configuration (default DEFAULT_CONFIG, Linux 6.6.y on x86-64; see kernelConfig) */
  readonly config?: KernelConfig;
}

/** Check and attach a program once (both paths), to run it on many skbs. Never throws for a rejected program: see check and attach. */
export function loadFilter(prog: Program, opts: LoadOptions = {}): Filter {
  const o = asOptions(opts, 'loadFilter: options');
  return new LoadedFilter(asProgram(prog), asConfig(o.config, 'loadFilter: config'));
}

/** Run a program on one skb by both paths (or one: opts.path), with traces on request. */
export function runFilter(prog: Program, skb: SkBuff, opts: RunOptions & LoadOptions = {}): RunResult {
  const o = asOptions(opts, 'runFilter: options');
  const { config, ...run } = o;
  return loadFilter(prog, config === undefined ? {} : { config: config as KernelConfig }).run(skb, run as RunOptions);
}

/** A 64-bit register (0..10, 11 = AX) of a kernel-path trace step, as a u64. */
export function ebpfRegister(step: EbpfStep, reg: number): bigint {
  const s = asObject(step, 'ebpfRegister: step');
  if (!(s.regs instanceof Uint32Array)) fail('invalid-argument', 'ebpfRegister: step.regs: expected the Uint32Array of a trace step');
  const r = asInt(reg, 'ebpfRegister: reg', 0, 11);
  return (BigInt(s.regs[2 * r + 1]!) << 32n) | BigInt(s.regs[2 * r]!);
}

/** net/packet/af_packet.c packet_rcv: drop on 0, else keep min(result, len) bytes (what tcpdump sees). */
export function packetRcv(result: number, len: number): Delivery {
  return modelPacketRcv(asInt(result, 'packetRcv: result', 0, 2 ** 32 - 1), asInt(len, 'packetRcv: len', 0, 2 ** 32 - 1));
}

/** net/core/filter.c sk_filter_trim_cap: other sockets drop on 0, else trim to max(cap, result) bytes. */
export function skFilterTrimCap(result: number, len: number, cap = 1): Delivery {
  return modelTrimCap(asInt(result, 'skFilterTrimCap: result', 0, 2 ** 32 - 1), asInt(len, 'skFilterTrimCap: len', 0, 2 ** 32 - 1), asInt(cap, 'skFilterTrimCap: cap', 0, 2 ** 32 - 1));
}

// --- the divergence catalogue and its predictions ------------------------------------------------

export { DIVERGENCES, RUNTIME_DIVERGENCES, ATTACH_DIVERGENCES };

function acceptedProgram(prog: Program, config: KernelConfig, what: string): SockFilter[] {
  const p = asProgram(prog);
  const r = modelCheckFilter(p, config);
  if (r !== null) fail('program-rejected', `${what}: the checker rejects the program (${r.rule}); predictions are about programs it accepts`, { rejection: r });
  return p;
}

/**
 * For a program the checker accepts: the attach divergence the kernel path shows (a jump offset that
 * overflows s16 in bpf_convert_filter, or a migrated program over optmem_max), predicted from the
 * expansion sizes alone; null when it attaches.
 */
export function predictAttach(prog: Program, config?: KernelConfig): PredictedAttach | null {
  const c = asConfig(config);
  return catalogueAttach(acceptedProgram(prog, c, 'predictAttach'), fixedConfig(c));
}

/** What the catalogue predicts for one run. */
export interface RunPrediction {
  /** the classic evaluator's result */
  readonly classic: number;
  /** the kernel path's result as the catalogue predicts it (the classic run with the v6.6 decisions) */
  readonly kernel: number;
  /** the catalogue entries whose decision point the run reached (under this configuration) */
  readonly divergences: readonly RuntimeDivergence[];
}

/**
 * Run the classic evaluator and predict the kernel path's result from the divergence catalogue: where
 * no catalogued decision point is reached the two agree; where one is, the kernel gives the classic run
 * with the v6.6 decision (the property the fuzzer checks on every case).
 */
export function predictRun(prog: Program, skb: SkBuff, opts: { readonly env?: Env; readonly config?: KernelConfig } = {}): RunPrediction {
  const o = asOptions(opts, 'predictRun: options');
  const config = asConfig(o.config, 'predictRun: config');
  const p = acceptedProgram(prog, config, 'predictRun');
  const s = asSkb(skb);
  const env = asEnv(o.env, 'predictRun: env');
  const decoded = compileClassic(p);
  const vm = new ClassicVm(config, CLASSIC);
  const classic = vm.run(decoded, s, env);
  // as the fuzzer does: predictions come from the fixed kernel (a historical variant flips decisions of the judges, never of the catalogue)
  const fixed = fixedConfig(config);
  const events = vm.events & divergenceEvents(fixed);
  const kernel = events === 0 ? classic : new ClassicVm(config, kernelSemantics(fixed)).run(decoded, s, env);
  return { classic, kernel, divergences: firedDivergences(events, fixed) };
}

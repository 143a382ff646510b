// Validation at the API boundary (not an entry point): every value a caller hands in is checked and
// normalised here before it reaches the model, and bad input becomes a BpfspecInputError. The model
// itself trusts its callers (it throws RangeError only on misuse); nothing a caller passes through
// the API reaches it unchecked.
import type { SockFilter } from '../model/cbpf/insn.js';
import { MAX_FPROG_LEN } from '../model/cbpf/insn.js';
import { ARCH_FACTS, DEFAULT_CONFIG, PROFILES, type KernelConfig } from '../model/config.js';
import { DEFAULT_HEAD_CAPACITY } from '../model/ebpf/skbmem.js';
import { assertSkb, DEFAULT_ENV, type Env, type SkBuff } from '../model/skb.js';
import type { JudgeResult } from '../model/judge.js';
import { isVariantName, VARIANT_NAMES, variantConfig } from '../model/variants.js';
import { BpfspecInputError, type BpfspecErrorCode, type BpfspecErrorDetails } from './errors.js';

export function fail(code: BpfspecErrorCode, message: string, details: BpfspecErrorDetails = {}): never {
  throw new BpfspecInputError(code, message, details);
}

/** A short description of a value for a message (strings cut to 80 characters, saying how long they were). */
export function show(v: unknown): string {
  if (typeof v === 'string') return v.length > 80 ? `'${v.slice(0, 77)}...' (${v.length} characters)` : `'${v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${tag(v).slice(8, -1)} of ${(v as Uint8Array).length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) fail('invalid-argument', `${what}: expected an object, got ${show(v)}`);
  return v;
}

/** An optional options object: undefined gives {}. */
export const asOptions = (v: unknown, what: string): Record<string, unknown> => (v === undefined ? {} : asObject(v, what));

export function asInt(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail('invalid-argument', `${what}: expected an integer in ${lo}..${hi}, got ${show(v)}`);
  return v;
}

/** A u32, also accepted as a negative s32 (as C callers write `(u32)-4096`), normalised with >>> 0. */
export const asU32 = (v: unknown, what: string): number => asInt(v, what, -(2 ** 31), 2 ** 32 - 1) >>> 0;

export function asBool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail('invalid-argument', `${what}: expected true or false, got ${show(v)}`);
  return v;
}

export function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') fail('invalid-argument', `${what}: expected a string, got ${show(v)}`);
  return v;
}

const tag = (v: unknown): string => Object.prototype.toString.call(v);

/** Bytes: a Uint8Array (a Node Buffer is one; one from another realm, an iframe or a vm context, too) or an ArrayBuffer. */
export function asBytes(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array || (ArrayBuffer.isView(v) && tag(v) === '[object Uint8Array]')) return v as Uint8Array;
  if (v instanceof ArrayBuffer || tag(v) === '[object ArrayBuffer]') return new Uint8Array(v as ArrayBuffer);
  return fail('invalid-argument', `${what}: expected a Uint8Array, got ${show(v)}`);
}

/** A name looked up in a Map (never in a plain object: '__proto__' and 'toString' are just unknown names). */
export function lookup<T>(table: ReadonlyMap<string, T>, name: unknown, what: string): T {
  const v = typeof name === 'string' ? table.get(name) : undefined;
  if (v === undefined) fail('unknown-name', `${what} ${show(name)}: unknown (one of ${[...table.keys()].join(', ')})`);
  return v;
}

/** A name that must be one of `names`. */
export function oneOf<T extends string>(names: readonly T[], name: unknown, what: string): T {
  if (typeof name !== 'string' || !(names as readonly string[]).includes(name)) fail('unknown-name', `${what} ${show(name)}: unknown (one of ${names.join(', ')})`);
  return name as T;
}

/** An array of names, each one of `names`, at least one. */
export function listOf<T extends string>(names: readonly T[], v: unknown, what: string): T[] {
  if (!Array.isArray(v)) fail('invalid-argument', `${what}: expected an array of names, got ${show(v)}`);
  if (v.length === 0) fail('invalid-argument', `${what}: expected at least one name`);
  return v.map((n, i) => oneOf(names, n, `${what}[${i}]`));
}

/**
 * A classic program: an array of at most 65535 (struct sock_fprog's u16 len) records { code: u16, jt:
 * u8, jf: u8, k: u32 }. k may also be given as a negative s32 (SKF_AD_OFF + ...); the copy returned has
 * it normalised. The attach path's own length rules (1..BPF_MAXINSNS) are verdicts, not errors.
 */
export function asProgram(v: unknown, what = 'program'): SockFilter[] {
  if (!Array.isArray(v)) fail('invalid-argument', `${what}: expected an array of {code, jt, jf, k} instructions, got ${show(v)}`);
  if (v.length > MAX_FPROG_LEN) fail('invalid-argument', `${what}: ${v.length} instructions; struct sock_fprog carries at most ${MAX_FPROG_LEN}`);
  const out: SockFilter[] = new Array<SockFilter>(v.length);
  for (let pc = 0; pc < v.length; pc++) {
    const insn: unknown = v[pc];
    if (!isObject(insn)) fail('invalid-argument', `${what}: insn ${pc}: expected an object {code, jt, jf, k}, got ${show(insn)}`, { insn: pc });
    const field = (name: string, bits: number): number => {
      const x = insn[name];
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= 2 ** bits)
        fail('invalid-argument', `${what}: insn ${pc}: ${name} ${show(x)} is not a u${bits}`, { insn: pc });
      return x;
    };
    const k = insn.k;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < -(2 ** 31) || k >= 2 ** 32)
      fail('invalid-argument', `${what}: insn ${pc}: k ${show(k)} is not a u32 (or s32)`, { insn: pc });
    out[pc] = { code: field('code', 16), jt: field('jt', 8), jf: field('jf', 8), k: k >>> 0 };
  }
  return out;
}

/** A program or null (a NULL filter pointer, for the attach path). */
export const asProgramOrNull = (v: unknown, what = 'program'): SockFilter[] | null => (v === null ? null : asProgram(v, what));

const SKB_KEYS: readonly string[] = [
  'data',
  'headlen',
  'headroom',
  'macHeader',
  'networkHeader',
  'protocol',
  'pktType',
  'dev',
  'mark',
  'queueMapping',
  'hash',
  'vlanTci',
  'vlanProto',
  'vlanPresent',
];

/** The SkBuff fields a caller may set on a preset (all but data). */
export const SKB_FIELD_KEYS: readonly string[] = SKB_KEYS.filter((k) => k !== 'data');

function checkDev(v: unknown, what: string): void {
  if (v === null) return;
  const d = asObject(v, what);
  for (const key of Object.keys(d)) if (key !== 'ifindex' && key !== 'type') fail('invalid-argument', `${what}: unknown member ${show(key)} (expected ifindex and type)`);
  asInt(d.ifindex, `${what}.ifindex`, -(2 ** 31), 2 ** 31 - 1);
  asInt(d.type, `${what}.type`, 0, 0xffff);
}

/** Fields to set on a preset: a subset of the SkBuff fields (unknown names are an error), each type-checked. */
export function checkSkbFields(v: unknown, what: string): Record<string, unknown> {
  const f = asOptions(v, what);
  for (const key of Object.keys(f)) if (!SKB_FIELD_KEYS.includes(key)) fail('invalid-argument', `${what}: unknown skb field ${show(key)} (known: ${SKB_FIELD_KEYS.join(', ')})`);
  if ('headroom' in f) asBytes(f.headroom, `${what}.headroom`);
  if ('dev' in f) checkDev(f.dev, `${what}.dev`);
  if ('vlanPresent' in f) asBool(f.vlanPresent, `${what}.vlanPresent`);
  if ('macHeader' in f && f.macHeader !== null) asInt(f.macHeader, `${what}.macHeader`, -(2 ** 31), 2 ** 31 - 1);
  for (const key of ['headlen', 'networkHeader', 'protocol', 'pktType', 'mark', 'queueMapping', 'hash', 'vlanTci', 'vlanProto'])
    if (key in f && typeof f[key] !== 'number') fail('invalid-argument', `${what}.${key}: expected a number, got ${show(f[key])}`);
  return f;
}

/** An skb: every SkBuff field present and consistent (model/skb.ts assertSkb). Returns a copy with only those fields. */
export function asSkb(v: unknown, what = 'skb'): SkBuff {
  const s = asObject(v, what);
  for (const key of SKB_KEYS) if (!(key in s)) fail('invalid-argument', `${what}: missing field ${key} (build skbs with afUnixSkb, ethernetSkb or makeSkb)`);
  const data = asBytes(s.data, `${what}.data`);
  checkSkbFields(Object.fromEntries(SKB_FIELD_KEYS.map((k) => [k, s[k]])), what);
  const skb: SkBuff = {
    data,
    headlen: s.headlen as number,
    headroom: asBytes(s.headroom, `${what}.headroom`),
    macHeader: s.macHeader as number | null,
    networkHeader: s.networkHeader as number,
    protocol: s.protocol as number,
    pktType: s.pktType as number,
    dev: s.dev === null ? null : { ifindex: (s.dev as { ifindex: number }).ifindex, type: (s.dev as { type: number }).type },
    mark: s.mark as number,
    queueMapping: s.queueMapping as number,
    hash: s.hash as number,
    vlanTci: s.vlanTci as number,
    vlanProto: s.vlanProto as number,
    vlanPresent: s.vlanPresent as boolean,
  };
  try {
    assertSkb(skb);
  } catch (e) {
    if (e instanceof RangeError) fail('invalid-argument', `${what}: ${e.message.replace(/^skb\./, '')}`);
    throw e;
  }
  return skb;
}

/**
 * The kernel path lays the skb out in a model memory image whose head region (headroom + linear part)
 * holds DEFAULT_HEAD_CAPACITY bytes: a model limit, reported as such.
 */
export function checkKernelPathFits(skb: SkBuff, what = 'skb'): void {
  const head = skb.headroom.length + skb.headlen;
  if (head > DEFAULT_HEAD_CAPACITY)
    fail('model-limit', `${what}: headroom + linear part of ${head} bytes exceeds the kernel-path model's ${DEFAULT_HEAD_CAPACITY}-byte skb head (put the rest in frags: headlen)`);
}

export function asEnv(v: unknown, what = 'env'): Env {
  if (v === undefined) return DEFAULT_ENV;
  const e = asObject(v, what);
  for (const key of Object.keys(e)) if (key !== 'cpu' && key !== 'randomSeed') fail('invalid-argument', `${what}: unknown field ${show(key)} (expected cpu and randomSeed)`);
  return { cpu: e.cpu === undefined ? 0 : asU32(e.cpu, `${what}.cpu`), randomSeed: e.randomSeed === undefined ? 1 : asU32(e.randomSeed, `${what}.randomSeed`) };
}

/** The architectures by name, with their facts (model/kernel.ts ARCH_FACTS). */
export const ARCH_TABLE: ReadonlyMap<string, Partial<KernelConfig>> = ARCH_FACTS;

/** Fields of a KernelConfig that a preset may leave out. */
const OPTIONAL_CONFIG_KEYS: readonly string[] = ['variant'];

/**
 * The values each string field of the decision record takes in some profile, on some architecture,
 * under some historical variant: a configuration with any other value is no kernel the model knows.
 * (Derived from the presets, so that a field the model adds is checked without a change here.)
 */
const STRING_FIELD_VALUES: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const presets = [...PROFILES.values()].flatMap((p) => [p, ...VARIANT_NAMES.map((v) => variantConfig(p, v))]);
  const out = new Map<string, Set<string>>();
  for (const [key, want] of Object.entries(DEFAULT_CONFIG)) {
    if (typeof want !== 'string' || key === 'profile' || key === 'arch' || key === 'variant') continue;
    out.set(key, new Set(presets.map((p) => (p as unknown as Record<string, unknown>)[key]).filter((x): x is string => typeof x === 'string')));
  }
  return out;
})();

/**
 * `got` has the shape of the default record's `want`: the same type (numbers as non-negative
 * integers); a nested record (the x86-64 JIT's facts) the same fields, recursively, or null.
 */
function checkShape(got: unknown, want: unknown, what: string): void {
  if (typeof want === 'number') asInt(got, what, 0, 0xffffffff); // u32 fields too (an AUDIT_ARCH_* value)
  else if (Array.isArray(want)) {
    // a list (e.g. seccompHost.uprobeException): each element shaped like the default's first, else a u32
    if (!Array.isArray(got)) fail('invalid-argument', `${what}: expected an array, got ${show(got)}`);
    got.forEach((x, i) => checkShape(x, want.length > 0 ? want[0] : 0, `${what}[${i}]`));
  } else if (want !== null && typeof want === 'object') {
    if (got === null) return;
    const o = asObject(got, what);
    for (const key of Object.keys(o)) if (!Object.hasOwn(want, key)) fail('invalid-argument', `${what}: unknown field ${show(key)}`);
    for (const [key, w] of Object.entries(want)) checkShape(o[key], w, `${what}.${key}`);
  } else if (want !== null && typeof got !== typeof want) fail('invalid-argument', `${what}: expected a ${typeof want}, got ${show(got)}`);
}

/**
 * A kernel configuration: every field of the default record present with the same type (numbers as
 * non-negative integers), no unknown field, each enumerated field one of the values the model's
 * profiles and variants use, the architecture a known one. undefined gives DEFAULT_CONFIG.
 */
export function asConfig(v: unknown, what = 'config'): KernelConfig {
  if (v === undefined) return DEFAULT_CONFIG;
  const c = asObject(v, what);
  const base = DEFAULT_CONFIG as unknown as Record<string, unknown>;
  for (const key of Object.keys(c))
    if (!Object.hasOwn(base, key) && !OPTIONAL_CONFIG_KEYS.includes(key))
      fail('invalid-argument', `${what}: unknown field ${show(key)} (build configurations with kernelConfig())`);
  for (const [key, want] of Object.entries(base)) {
    checkShape(c[key], want, `${what}.${key}`);
    const values = STRING_FIELD_VALUES.get(key);
    if (values !== undefined && !values.has(c[key] as string)) fail('unknown-name', `${what}.${key} ${show(c[key])}: unknown (one of ${[...values].join(', ')})`);
  }
  if (!ARCH_TABLE.has(c.arch as string)) fail('unknown-name', `${what}.arch ${show(c.arch)}: unknown (one of ${[...ARCH_TABLE.keys()].join(', ')})`);
  if (c.variant !== undefined && (typeof c.variant !== 'string' || !isVariantName(c.variant)))
    fail('unknown-name', `${what}.variant ${show(c.variant)}: unknown (one of ${VARIANT_NAMES.join(', ')})`);
  return { ...(c as unknown as KernelConfig) };
}

/**
 * Run model code on validated input: a RangeError the model throws (its signal of API misuse, e.g. a
 * limit of the model) becomes a BpfspecInputError.
 */
export function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError) fail('invalid-argument', `${what}: ${e.message}`);
    throw e;
  }
}

/** A judge's result for one input (model/judge.ts JudgeResult): exact, partial or none, numbers as u32/s32. */
export function asJudgeResult(r: unknown, what: string): JudgeResult {
  const o = asObject(r, what);
  if (o.known === 'exact') asInt(o.value, `${what}.value`, -(2 ** 31), 2 ** 32 - 1);
  else if (o.known === 'partial') for (const k of ['atLeast', 'mask', 'bits']) asInt(o[k], `${what}.${k}`, -(2 ** 31), 2 ** 32 - 1);
  else if (o.known === 'none') asString(o.reason, `${what}.reason`);
  else fail('invalid-argument', `${what}.known: expected 'exact', 'partial' or 'none', got ${show(o.known)}`);
  return r as JudgeResult;
}

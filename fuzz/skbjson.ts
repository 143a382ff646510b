// The JSON form of an skb, shared by `bpfspec run --skb/--set`, `bpfspec eval`'s "skb" objects and
// corpus entries: a preset plus snake_case field overrides, validated with one clear message per
// problem, and the way back (skbToJson) so that every skb the fuzzer makes can be written and replayed.
import { DEFAULT_HEAD_CAPACITY } from '../model/ebpf/skbmem.js';
import { assertSkb, PRESETS, type Env, type PresetName, type SkBuff, type SkBuffFields } from '../model/skb.js';

/** The snake_case fields a user may set, with a one-line description each (README and --help). */
export const SKB_FIELDS: readonly (readonly [string, string])[] = [
  ['preset', "'af_unix' (default) or 'ethernet'"],
  ['dev', 'null, or {"ifindex": int, "type": u16} (on the command line also IFINDEX:TYPE)'],
  ['protocol', 'u16, host order (ntohs(skb->protocol))'],
  ['pkt_type', '0..7 (PACKET_HOST, BROADCAST, MULTICAST, OTHERHOST, OUTGOING, ...)'],
  ['mark', 'u32'],
  ['queue_mapping', 'u16'],
  ['hash', 'u32 (skb->hash)'],
  ['vlan_tci', 'u16, all 16 bits'],
  ['vlan_proto', 'u16, host order (e.g. 0x8100)'],
  ['vlan_present', 'true or false'],
  ['mac_header', 'offset from skb->data, or null (never set)'],
  ['network_header', 'offset from skb->data'],
  ['headlen', 'bytes in the linear part; the rest of the packet is in frags'],
  ['headroom', 'hex bytes before skb->data (negative offsets can reach them)'],
  ['cpu', 'the CPU id SKF_AD_CPU returns'],
  ['random_seed', 'u32 seed of the prandom state behind SKF_AD_RANDOM'],
];

const FIELD_NAMES: ReadonlySet<string> = new Set(SKB_FIELDS.map(([name]) => name));

/** The presets by name, looked up in a Map: a user string never reaches an object's prototype. */
const PRESET_BY_NAME: ReadonlyMap<string, (data: Uint8Array, fields?: SkBuffFields) => SkBuff> = new Map(
  (Object.keys(PRESETS) as PresetName[]).map((name) => [name, PRESETS[name]]),
);
export const PRESET_NAMES: readonly string[] = [...PRESET_BY_NAME.keys()];

/**
 * The most bytes of headroom plus linear data the model's skb image holds (model/ebpf/skbmem.ts
 * DEFAULT_HEAD_CAPACITY). A model limit, not the kernel's: the rest of a larger packet goes in frags
 * ("headlen").
 */
export const MODEL_HEAD_CAPACITY = DEFAULT_HEAD_CAPACITY;

export interface SkbSpec {
  readonly preset: PresetName;
  readonly fields: Record<string, unknown>;
}

export class SkbSpecError extends Error {}

/**
 * User text inside a message: control characters escaped (a message stays one line) and, past `max`
 * characters, cut and followed by its length.
 */
export function clip(s: string, max = 80): string {
  const head = s.length > max ? s.slice(0, Math.max(max - 3, 1)) : s;
  // eslint-disable-next-line no-control-regex
  const shown = head.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return s.length > max ? `${shown}... (${s.length} characters)` : shown;
}

/**
 * A JSON value in a message: its JSON text, cut to `max` characters. Never recursive beyond a few
 * levels (a deeply nested value must not overflow the stack: `[[[...]]]` is shown as `[[[...]]]`).
 */
export function describe(v: unknown, max = 80): string {
  const parts: string[] = [];
  let len = 0;
  const push = (s: string): boolean => {
    parts.push(s);
    len += s.length;
    return len <= max;
  };
  const walk = (x: unknown, depth: number): boolean => {
    if (x === null || typeof x !== 'object') {
      return push(typeof x === 'string' ? JSON.stringify(x.length > max ? x.slice(0, max) : x) : String(x));
    }
    if (depth >= 8) return push(Array.isArray(x) ? '[...]' : '{...}');
    if (Array.isArray(x)) {
      if (!push('[')) return false;
      for (let i = 0; i < x.length; i++) {
        if (i > 0 && !push(',')) return false;
        if (!walk(x[i], depth + 1)) return false;
      }
      return push(']');
    }
    if (!push('{')) return false;
    let first = true;
    for (const k of Object.keys(x)) {
      if (!first && !push(',')) return false;
      first = false;
      if (!push(`${JSON.stringify(k.length > max ? k.slice(0, max) : k)}:`)) return false;
      if (!walk((x as Record<string, unknown>)[k], depth + 1)) return false;
    }
    return push('}');
  };
  walk(v, 0);
  const text = parts.join('');
  return text.length > max ? `${clip(text.slice(0, max - 3), max)}...` : clip(text, max + 16);
}

const has = (o: object, key: string): boolean => Object.hasOwn(o, key);

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function uint(name: string, v: unknown, bits: number): number {
  if (!isInt(v) || v < 0 || v >= 2 ** bits) throw new SkbSpecError(`skb field ${name}: ${describe(v)} is not a u${bits}`);
  return v;
}

function int(name: string, v: unknown, lo: number, hi: number): number {
  if (!isInt(v) || v < lo || v > hi) throw new SkbSpecError(`skb field ${name}: ${describe(v)} is not an integer in ${lo}..${hi}`);
  return v;
}

const HEX_BYTES = /^(?:[0-9a-fA-F]{2})*$/;

function hexBytes(name: string, v: unknown): Uint8Array {
  const s = typeof v === 'string' ? v.replace(/[\s:]/g, '') : null;
  if (s === null || !HEX_BYTES.test(s)) throw new SkbSpecError(`skb field ${name}: ${describe(v)} is not a hex byte string`);
  // No Buffer: this module is also bundled into the browser page (web/).
  return Uint8Array.from({ length: s.length / 2 }, (_, i) => parseInt(s.slice(2 * i, 2 * i + 2), 16));
}

/**
 * Build the skb and environment for one packet. `spec` is a JSON object with the fields of SKB_FIELDS
 * (each optional; unknown names are an error). Throws SkbSpecError with one line naming the field.
 */
export function buildSkb(packet: Uint8Array, spec: Record<string, unknown> = {}): { skb: SkBuff; env: Env } {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new SkbSpecError('skb must be a JSON object');
  for (const key of Object.keys(spec)) if (!FIELD_NAMES.has(key)) throw new SkbSpecError(`unknown skb field '${clip(key)}'`);
  const preset = has(spec, 'preset') ? spec.preset : 'af_unix';
  const make = typeof preset === 'string' ? PRESET_BY_NAME.get(preset) : undefined;
  if (make === undefined) throw new SkbSpecError(`skb field preset: ${describe(preset)} is not one of ${PRESET_NAMES.join(', ')}`);
  const f: { -readonly [K in keyof SkBuffFields]: SkBuffFields[K] } = {};
  if (has(spec, 'dev')) {
    const d = spec.dev;
    if (d === null) f.dev = null;
    else if (typeof d === 'object' && !Array.isArray(d)) {
      const o = d as Record<string, unknown>;
      for (const key of Object.keys(o))
        if (key !== 'ifindex' && key !== 'type') throw new SkbSpecError(`skb field dev: unknown member '${clip(key)}'`);
      f.dev = { ifindex: int('dev.ifindex', has(o, 'ifindex') ? o.ifindex : 0, -(2 ** 31), 2 ** 31 - 1), type: uint('dev.type', has(o, 'type') ? o.type : 0, 16) };
    } else throw new SkbSpecError(`skb field dev: ${describe(d)} is neither null nor {"ifindex", "type"}`);
  }
  if (has(spec, 'protocol')) f.protocol = uint('protocol', spec.protocol, 16);
  if (has(spec, 'pkt_type')) f.pktType = uint('pkt_type', spec.pkt_type, 3);
  if (has(spec, 'mark')) f.mark = uint('mark', spec.mark, 32);
  if (has(spec, 'queue_mapping')) f.queueMapping = uint('queue_mapping', spec.queue_mapping, 16);
  if (has(spec, 'hash')) f.hash = uint('hash', spec.hash, 32);
  if (has(spec, 'vlan_tci')) f.vlanTci = uint('vlan_tci', spec.vlan_tci, 16);
  if (has(spec, 'vlan_proto')) f.vlanProto = uint('vlan_proto', spec.vlan_proto, 16);
  if (has(spec, 'vlan_present')) {
    if (typeof spec.vlan_present !== 'boolean') throw new SkbSpecError(`skb field vlan_present: ${describe(spec.vlan_present)} is not true or false`);
    f.vlanPresent = spec.vlan_present;
  }
  if (has(spec, 'headroom')) f.headroom = hexBytes('headroom', spec.headroom);
  const room = (f.headroom ?? new Uint8Array(0)).length;
  if (has(spec, 'mac_header')) f.macHeader = spec.mac_header === null ? null : int('mac_header', spec.mac_header, -room, 0xffff);
  if (has(spec, 'network_header')) f.networkHeader = int('network_header', spec.network_header, -room, 0xffff);
  if (has(spec, 'headlen')) f.headlen = int('headlen', spec.headlen, 0, packet.length);
  const env: Env = {
    cpu: has(spec, 'cpu') ? uint('cpu', spec.cpu, 32) : 0,
    randomSeed: has(spec, 'random_seed') ? uint('random_seed', spec.random_seed, 32) : 1,
  };
  const skb = make(packet, f);
  // The model's skb image holds headroom + linear data in one region of fixed capacity.
  const linear = skb.headroom.length + skb.headlen;
  if (linear > MODEL_HEAD_CAPACITY)
    throw new SkbSpecError(
      `packet of ${packet.length} bytes: headroom ${skb.headroom.length} + linear ${skb.headlen} = ${linear} bytes exceed the model's skb head capacity of ` +
        `${MODEL_HEAD_CAPACITY} bytes (a limit of the model, not of the kernel; set headlen to put the rest in frags)`,
    );
  try {
    assertSkb(skb);
  } catch (e) {
    throw new SkbSpecError(clip((e as Error).message, 200));
  }
  return { skb, env };
}

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * The JSON form of an skb and its environment: every field written out (no preset needed to read
 * it back), so that buildSkb(skb.data, skbToJson(skb, env)) rebuilds the same skb. The preset is
 * af_unix, whose defaults every field then overrides.
 */
export function skbToJson(skb: SkBuff, env: Env): Record<string, unknown> {
  return {
    preset: 'af_unix',
    dev: skb.dev === null ? null : { ifindex: skb.dev.ifindex, type: skb.dev.type },
    protocol: skb.protocol,
    pkt_type: skb.pktType,
    mark: skb.mark,
    queue_mapping: skb.queueMapping,
    hash: skb.hash,
    vlan_tci: skb.vlanTci,
    vlan_proto: skb.vlanProto,
    vlan_present: skb.vlanPresent,
    headroom: hexOf(skb.headroom),
    mac_header: skb.macHeader,
    network_header: skb.networkHeader,
    headlen: skb.headlen,
    cpu: env.cpu,
    random_seed: env.randomSeed,
  };
}

/** Parse one `--set field=value` argument into the JSON value buildSkb expects. */
export function parseSetting(arg: string): [string, unknown] {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new SkbSpecError(`--set ${clip(arg)}: expected field=value`);
  const name = arg.slice(0, eq);
  const text = arg.slice(eq + 1).trim();
  if (!FIELD_NAMES.has(name)) throw new SkbSpecError(`--set: unknown skb field '${clip(name)}' (known: ${[...FIELD_NAMES].join(', ')})`);
  if (name === 'preset' || name === 'headroom') return [name, text];
  if (text === 'null') return [name, null];
  if (text === 'true' || text === 'false') return [name, text === 'true'];
  if (name === 'dev') {
    const m = /^(-?(?:0x[0-9a-f]+|\d+)):(0x[0-9a-f]+|\d+)$/i.exec(text);
    if (m) return [name, { ifindex: parseIntLiteral(m[1]!), type: parseIntLiteral(m[2]!) }];
    try {
      return [name, JSON.parse(text)];
    } catch {
      throw new SkbSpecError(`--set dev=${clip(text)}: expected null, IFINDEX:TYPE or a JSON object`);
    }
  }
  const n = parseIntLiteral(text);
  if (Number.isNaN(n)) throw new SkbSpecError(`--set ${name}=${clip(text)}: not a number`);
  return [name, n];
}

/** Decimal, 0x hex or negative decimal; NaN when it is none of them. */
export function parseIntLiteral(text: string): number {
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^-?0x[0-9a-f]+$/i.test(text)) return text.startsWith('-') ? -Number(text.slice(1)) : Number(text);
  return NaN;
}

// The JSON form of an skb, shared by `bpfspec run --skb/--set`, `bpfspec eval`'s "skb" objects and
// corpus entries: a preset plus snake_case field overrides, validated with one clear message per
// problem, and the way back (skbToJson) so that every skb the fuzzer makes can be written and replayed.
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

const FIELD_NAMES = new Set(SKB_FIELDS.map(([name]) => name));

export interface SkbSpec {
  readonly preset: PresetName;
  readonly fields: Record<string, unknown>;
}

export class SkbSpecError extends Error {}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function uint(name: string, v: unknown, bits: number): number {
  if (!isInt(v) || v < 0 || v >= 2 ** bits) throw new SkbSpecError(`skb field ${name}: ${JSON.stringify(v)} is not a u${bits}`);
  return v;
}

function int(name: string, v: unknown, lo: number, hi: number): number {
  if (!isInt(v) || v < lo || v > hi) throw new SkbSpecError(`skb field ${name}: ${JSON.stringify(v)} is not an integer in ${lo}..${hi}`);
  return v;
}

function hexBytes(name: string, v: unknown): Uint8Array {
  if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v.replace(/[\s:]/g, '')))
    throw new SkbSpecError(`skb field ${name}: ${JSON.stringify(v)} is not a hex byte string`);
  const hex = v.replace(/[\s:]/g, '');
  // No Buffer: this module is also bundled into the browser page (web/).
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

/**
 * Build the skb and environment for one packet. `spec` is a JSON object with the fields of SKB_FIELDS
 * (each optional; unknown names are an error). Throws SkbSpecError with one line naming the field.
 */
export function buildSkb(packet: Uint8Array, spec: Record<string, unknown> = {}): { skb: SkBuff; env: Env } {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new SkbSpecError('skb must be a JSON object');
  for (const key of Object.keys(spec)) if (!FIELD_NAMES.has(key)) throw new SkbSpecError(`unknown skb field '${key}'`);
  const preset = spec.preset ?? 'af_unix';
  if (typeof preset !== 'string' || !(preset in PRESETS))
    throw new SkbSpecError(`skb field preset: ${JSON.stringify(preset)} is not one of ${Object.keys(PRESETS).join(', ')}`);
  const f: { -readonly [K in keyof SkBuffFields]: SkBuffFields[K] } = {};
  if ('dev' in spec) {
    const d = spec.dev;
    if (d === null) f.dev = null;
    else if (typeof d === 'object' && !Array.isArray(d)) {
      const o = d as Record<string, unknown>;
      for (const key of Object.keys(o))
        if (key !== 'ifindex' && key !== 'type') throw new SkbSpecError(`skb field dev: unknown member '${key}'`);
      f.dev = { ifindex: int('dev.ifindex', o.ifindex ?? 0, -(2 ** 31), 2 ** 31 - 1), type: uint('dev.type', o.type ?? 0, 16) };
    } else throw new SkbSpecError(`skb field dev: ${JSON.stringify(d)} is neither null nor {"ifindex", "type"}`);
  }
  if ('protocol' in spec) f.protocol = uint('protocol', spec.protocol, 16);
  if ('pkt_type' in spec) f.pktType = uint('pkt_type', spec.pkt_type, 3);
  if ('mark' in spec) f.mark = uint('mark', spec.mark, 32);
  if ('queue_mapping' in spec) f.queueMapping = uint('queue_mapping', spec.queue_mapping, 16);
  if ('hash' in spec) f.hash = uint('hash', spec.hash, 32);
  if ('vlan_tci' in spec) f.vlanTci = uint('vlan_tci', spec.vlan_tci, 16);
  if ('vlan_proto' in spec) f.vlanProto = uint('vlan_proto', spec.vlan_proto, 16);
  if ('vlan_present' in spec) {
    if (typeof spec.vlan_present !== 'boolean') throw new SkbSpecError(`skb field vlan_present: ${JSON.stringify(spec.vlan_present)} is not true or false`);
    f.vlanPresent = spec.vlan_present;
  }
  if ('headroom' in spec) f.headroom = hexBytes('headroom', spec.headroom);
  const room = (f.headroom ?? new Uint8Array(0)).length;
  if ('mac_header' in spec) f.macHeader = spec.mac_header === null ? null : int('mac_header', spec.mac_header, -room, 0xffff);
  if ('network_header' in spec) f.networkHeader = int('network_header', spec.network_header, -room, 0xffff);
  if ('headlen' in spec) f.headlen = int('headlen', spec.headlen, 0, packet.length);
  const env: Env = {
    cpu: 'cpu' in spec ? uint('cpu', spec.cpu, 32) : 0,
    randomSeed: 'random_seed' in spec ? uint('random_seed', spec.random_seed, 32) : 1,
  };
  const skb = PRESETS[preset as PresetName](packet, f);
  try {
    assertSkb(skb);
  } catch (e) {
    throw new SkbSpecError((e as Error).message);
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
  if (eq <= 0) throw new SkbSpecError(`--set ${JSON.stringify(arg)}: expected field=value`);
  const name = arg.slice(0, eq);
  const text = arg.slice(eq + 1).trim();
  if (!FIELD_NAMES.has(name)) throw new SkbSpecError(`--set: unknown skb field '${name}' (known: ${[...FIELD_NAMES].join(', ')})`);
  if (name === 'preset' || name === 'headroom') return [name, text];
  if (text === 'null') return [name, null];
  if (text === 'true' || text === 'false') return [name, text === 'true'];
  if (name === 'dev') {
    const m = /^(-?(?:0x[0-9a-f]+|\d+)):(0x[0-9a-f]+|\d+)$/i.exec(text);
    if (m) return [name, { ifindex: parseIntLiteral(m[1]!), type: parseIntLiteral(m[2]!) }];
    try {
      return [name, JSON.parse(text)];
    } catch {
      throw new SkbSpecError(`--set dev=${text}: expected null, IFINDEX:TYPE or a JSON object`);
    }
  }
  const n = parseIntLiteral(text);
  if (Number.isNaN(n)) throw new SkbSpecError(`--set ${name}=${text}: not a number`);
  return [name, n];
}

/** Decimal, 0x hex or negative decimal; NaN when it is none of them. */
export function parseIntLiteral(text: string): number {
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^-?0x[0-9a-f]+$/i.test(text)) return text.startsWith('-') ? -Number(text.slice(1)) : Number(text);
  return NaN;
}

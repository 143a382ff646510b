// The fuzzer's generators in one place, and fuzzCase: a program with the skbs to run it on.
import fc from 'fast-check';
import type { KernelConfig } from '../../model/config.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import type { PacketKind } from './packet.js';
import { packetDraw, packetFromDraw, packetOptionsFor } from './packet.js';
import type { SkbCase } from './skb.js';
import { skbCaseOf, skbDraw } from './skb.js';
import type { Flavour } from './program.js';
import { validProgram } from './program.js';

export * from './constants.js';
export * from './ebpf-size.js';
export * from './program.js';
export * from './realistic.js';
export * from './invalid.js';
export * from './packet.js';
export * from './skb.js';

export interface FuzzCaseOptions {
  /** skbs per program (default 1): decode/check once, evaluate many. */
  readonly packetsPerProgram?: number;
  /** Program flavour weights (see validProgram). */
  readonly weights?: Partial<Record<Flavour, number>>;
  readonly config?: KernelConfig;
  /** Restrict packet kinds. */
  readonly kinds?: readonly PacketKind[];
  /** Program arbitrary to use instead of validProgram (e.g. a corpus replay). */
  readonly program?: fc.Arbitrary<SockFilter[]>;
}

/** A program and the skbs (with env) it runs on. */
export interface FuzzCase {
  readonly prog: SockFilter[];
  readonly inputs: readonly SkbCase[];
}

/**
 * A valid program, then `packetsPerProgram` packets whose lengths sit near the offsets this
 * program loads, each on an skb with drawn metadata.
 */
export function fuzzCase(opts: FuzzCaseOptions = {}): fc.Arbitrary<FuzzCase> {
  const n = opts.packetsPerProgram ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`fuzzCase: packetsPerProgram ${n} is not a positive integer`);
  const prog = opts.program ?? validProgram({ ...(opts.weights ? { weights: opts.weights } : {}), ...(opts.config ? { config: opts.config } : {}) });
  const pktOpts = opts.kinds ? { kinds: opts.kinds } : {};
  // No chain: the program and the per-input draws shrink independently; the packet lengths are
  // derived from the program when the draws are turned into packets.
  return fc
    .tuple(prog, fc.array(fc.tuple(packetDraw(), skbDraw()), { minLength: n, maxLength: n }))
    .map(([p, draws]) => {
      const po = packetOptionsFor(p, pktOpts);
      return { prog: p, inputs: draws.map(([pd, sd]) => skbCaseOf(packetFromDraw(pd, po), sd)) };
    });
}

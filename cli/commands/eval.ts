// `bpfspec eval`: a batch oracle for other tools. JSON lines in, one JSON line out per input, in order.
import { createInterface } from 'node:readline';
import { compileClassic, ClassicVm } from '../../model/cbpf/eval.js';
import { decodeProgram } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { buildSkb, SkbSpecError } from '../skbspec.js';
import { checkVerdict, verdictJson } from './check.js';

export interface EvalOptions {
  readonly config: KernelConfig;
}

const HEX = /^([0-9a-fA-F]{2})*$/;

class LineError extends Error {}

function hexField(obj: Record<string, unknown>, name: string): Uint8Array {
  const v = obj[name];
  if (typeof v !== 'string') throw new LineError(`"${name}" must be a hex string`);
  const s = v.replace(/\s+/g, '');
  if (!HEX.test(s)) throw new LineError(`"${name}" is not valid hex (odd length or a non-hex character)`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Evaluate one input object; returns the output object (an error object for a bad line). */
export function evalOne(input: unknown, vm: ClassicVm): Record<string, unknown> {
  const id = input !== null && typeof input === 'object' && !Array.isArray(input) ? ((input as Record<string, unknown>).id ?? null) : null;
  try {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new LineError('a line must be a JSON object');
    const obj = input as Record<string, unknown>;
    for (const key of Object.keys(obj))
      if (!['id', 'prog', 'packet', 'skb'].includes(key)) throw new LineError(`unknown member "${key}"`);
    const image = hexField(obj, 'prog');
    const dec = decodeProgram(image);
    if (!dec.ok) throw new LineError(`"prog": ${dec.error.message}`);
    const packet = hexField(obj, 'packet');
    const { skb, env } = buildSkb(packet, (obj.skb ?? {}) as Record<string, unknown>);
    const verdict = checkVerdict(dec.prog);
    const classic = verdict === null ? vm.run(compileClassic(dec.prog), skb, env) : null;
    return { id, attach: verdictJson(verdict), classic };
  } catch (e) {
    if (e instanceof LineError || e instanceof SkbSpecError) return { id, error: e.message };
    throw e;
  }
}

/** Read JSON lines from `input`, write one output line each to `out`. Resolves when input ends. */
export async function runEval(opts: EvalOptions, input: NodeJS.ReadableStream, out: (line: string) => void): Promise<void> {
  const vm = new ClassicVm(opts.config);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      out(JSON.stringify({ id: null, error: `line ${lineNo}: not JSON: ${(e as Error).message}` }));
      continue;
    }
    out(JSON.stringify(evalOne(parsed, vm)));
  }
}

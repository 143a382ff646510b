// `bpfspec eval`: a batch oracle for other tools. JSON lines in, one JSON line out per input, in order.
import { createInterface } from 'node:readline';
import { bpfCheckFilter, KernelRunner, skAttachFilter } from '../../model/attach.js';
import { compileClassic, ClassicVm } from '../../model/cbpf/eval.js';
import { decodeProgram } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { buildSkb, SkbSpecError } from '../skbspec.js';
import { verdictJson } from './check.js';
import { faultJson } from './migrate.js';
import { evalSeccompLine } from './seccomp.js';
import { InputError } from '../io.js';

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

/** The reusable engines of one eval session. */
export class Evaluator {
  private readonly vm: ClassicVm;
  private readonly runner: KernelRunner;
  constructor(config: KernelConfig) {
    this.vm = new ClassicVm(config);
    this.runner = new KernelRunner(config);
  }

  /**
   * Evaluate one input object. `attach` is the whole attach path's verdict (check, convert, charge,
   * runtime); `classic` is the classic evaluator's result whenever bpf_check_classic accepts (classic
   * semantics have no later stage), `kernel` the migrated program's result when the attach succeeds.
   */
  one(input: unknown): Record<string, unknown> {
    const id = input !== null && typeof input === 'object' && !Array.isArray(input) ? ((input as Record<string, unknown>).id ?? null) : null;
    try {
      if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new LineError('a line must be a JSON object');
      const obj = input as Record<string, unknown>;
      for (const key of Object.keys(obj))
        if (!['id', 'prog', 'packet', 'skb', 'seccomp'].includes(key)) throw new LineError(`unknown member "${key}"`);
      const dec = decodeProgram(hexField(obj, 'prog'));
      if (!dec.ok) throw new LineError(`"prog": ${dec.error.message}`);
      // seccomp cases (ws-seccomp, cli/commands/seccomp.ts)
      if ('seccomp' in obj) {
        if ('packet' in obj || 'skb' in obj) throw new LineError('"seccomp" replaces "packet" and "skb"');
        try {
          return { id, ...evalSeccompLine(obj, dec.prog) };
        } catch (e) {
          if (e instanceof InputError) throw new LineError(e.message);
          throw e;
        }
      }
      const { skb, env } = buildSkb(hexField(obj, 'packet'), (obj.skb ?? {}) as Record<string, unknown>);
      const check = bpfCheckFilter(dec.prog);
      const attached = skAttachFilter(dec.prog, this.runner.config);
      const classic = check === null ? this.vm.run(compileClassic(dec.prog), skb, env) : null;
      const kernel = 'ok' in attached ? this.runner.run(attached, skb, env) : null;
      const fault = 'ok' in attached ? this.runner.fault : null;
      return {
        id,
        attach: verdictJson('ok' in attached ? null : attached),
        classic,
        kernel,
        agree: classic !== null && kernel !== null ? classic === kernel : null,
        ...(fault ? { fault: faultJson(fault) } : {}),
      };
    } catch (e) {
      if (e instanceof LineError || e instanceof SkbSpecError) return { id, error: e.message };
      throw e;
    }
  }
}

/** Read JSON lines from `input`, write one output line each to `out`. Resolves when input ends. */
export async function runEval(opts: EvalOptions, input: NodeJS.ReadableStream, out: (line: string) => void): Promise<void> {
  const ev = new Evaluator(opts.config);
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
    out(JSON.stringify(ev.one(parsed)));
  }
}

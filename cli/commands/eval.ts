// `bpfspec eval`: a batch oracle for other tools. JSON lines in, exactly one JSON line out per input
// line, in order, whatever the line holds: a malformed, hostile or oversized line gets its
// `{"id", "error"}` line and the batch goes on.
//
// Lines end at LF only (a CR before the LF is dropped; a CR elsewhere is part of the line). The id is
// echoed as the JSON text it was given (12345678901234567890 stays exactly that, not a rounded
// double), with the whitespace outside strings removed so that the output line has no raw CR.
import { bpfCheckFilter, KernelRunner, skAttachFilter } from '../../model/attach.js';
import { compileClassic, ClassicVm } from '../../model/cbpf/eval.js';
import { decodeProgram } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { compileExpression, compileOptions } from '../compile/index.js';
import { clip, InputError } from '../io.js';
import { buildSkb, describe, SkbSpecError } from '../../fuzz/skbjson.js';
import { verdictJson } from './check.js';
import { faultJson } from './migrate.js';
import { evalSeccompLine } from './seccomp.js';

export interface EvalOptions {
  readonly config: KernelConfig;
}

/** The longest input line read (a 262,144-byte packet is 524,288 hex digits; the rest is room). */
export const MAX_LINE = 8 * 1024 * 1024;

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const MEMBERS: ReadonlySet<string> = new Set(['id', 'prog', 'expr', 'linktype', 'packet', 'skb', 'seccomp']);

class LineError extends Error {}

function hexField(obj: Record<string, unknown>, name: string): Uint8Array {
  const v = Object.hasOwn(obj, name) ? obj[name] : undefined;
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

  /** The program of a line: "prog" (hex of the image) or "expr" (a tcpdump expression, with an optional "linktype"). */
  private program(obj: Record<string, unknown>): ReturnType<typeof decodeProgram> & { ok: true } {
    const hasProg = Object.hasOwn(obj, 'prog');
    const hasExpr = Object.hasOwn(obj, 'expr');
    if (hasProg && hasExpr) throw new LineError('give "prog" or "expr", not both');
    if (hasExpr) {
      if (typeof obj.expr !== 'string') throw new LineError('"expr" must be a string (a tcpdump filter expression)');
      const linktype = Object.hasOwn(obj, 'linktype') ? obj.linktype : undefined;
      if (linktype !== undefined && typeof linktype !== 'string') throw new LineError('"linktype" must be a string such as "EN10MB"');
      let c: ReturnType<typeof compileExpression>;
      try {
        c = compileExpression(obj.expr, compileOptions(linktype === undefined ? {} : { linktype }));
      } catch (e) {
        if (e instanceof InputError) throw new LineError(e.message);
        throw e;
      }
      if (!c.ok) throw new LineError(`"expr": ${c.error}`);
      return { ok: true, prog: c.prog };
    }
    if (Object.hasOwn(obj, 'linktype')) throw new LineError('"linktype" goes with "expr"');
    const dec = decodeProgram(hexField(obj, 'prog'));
    if (!dec.ok) throw new LineError(`"prog": ${dec.error.message}`);
    return dec;
  }

  /**
   * Evaluate one input object; the result has no id (the caller adds the one it was given). `attach`
   * is the whole attach path's verdict (check, convert, charge, runtime); `classic` is the classic
   * evaluator's result whenever bpf_check_classic accepts (classic semantics have no later stage),
   * `kernel` the migrated program's result when the attach succeeds. Never throws.
   */
  one(input: unknown): Record<string, unknown> {
    try {
      if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new LineError('a line must be a JSON object');
      const obj = input as Record<string, unknown>;
      for (const key of Object.keys(obj)) if (!MEMBERS.has(key)) throw new LineError(`unknown member ${describe(key)}`);
      const dec = this.program(obj);
      // seccomp cases (ws-seccomp, cli/commands/seccomp.ts)
      if (Object.hasOwn(obj, 'seccomp')) {
        if (Object.hasOwn(obj, 'packet') || Object.hasOwn(obj, 'skb')) throw new LineError('"seccomp" replaces "packet" and "skb"');
        try {
          return evalSeccompLine(obj, dec.prog);
        } catch (e) {
          if (e instanceof InputError) throw new LineError(e.message);
          throw e;
        }
      }
      const spec = Object.hasOwn(obj, 'skb') ? obj.skb : {};
      const { skb, env } = buildSkb(hexField(obj, 'packet'), spec as Record<string, unknown>);
      const check = bpfCheckFilter(dec.prog);
      const attached = skAttachFilter(dec.prog, this.runner.config);
      const classic = check === null ? this.vm.run(compileClassic(dec.prog), skb, env) : null;
      const kernel = 'ok' in attached ? this.runner.run(attached, skb, env) : null;
      const fault = 'ok' in attached ? this.runner.fault : null;
      return {
        attach: verdictJson('ok' in attached ? null : attached),
        classic,
        kernel,
        agree: classic !== null && kernel !== null ? classic === kernel : null,
        ...(fault ? { fault: faultJson(fault) } : {}),
      };
    } catch (e) {
      if (e instanceof LineError || e instanceof SkbSpecError) return { error: e.message };
      return { error: `internal error: ${clip(e instanceof Error ? e.message : String(e), 200)}` };
    }
  }
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The index of the quote closing the JSON string whose opening quote is at `i` (escapes skipped). */
function stringEnd(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x5c) i++;
    else if (d === 0x22) break;
  }
  return i;
}

/** The end of the JSON value starting at `i` (valid JSON assumed: JSON.parse accepted the text). */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
      if (depth === 0) return i + 1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === 0x2c && depth === 0) return i;
  }
  return i;
}

/** A JSON text without the whitespace outside its strings. */
function minify(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i);
    else if (isWs(c)) {
      out += text.slice(start, i);
      start = i + 1;
    }
  }
  return out + text.slice(start);
}

/**
 * The JSON text of the top-level member `key` of an object's JSON text (the last one, as JSON.parse
 * keeps the last of duplicate names), or null. Linear; `text` must be valid JSON of an object.
 */
export function memberText(text: string, key: string): string | null {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && isWs(text.charCodeAt(i))) i++;
  };
  ws();
  if (text[i] !== '{') return null;
  i++;
  let found: string | null = null;
  for (;;) {
    ws();
    if (text[i] !== '"') return found;
    const kEnd = valueEnd(text, i);
    const name = JSON.parse(text.slice(i, kEnd)) as string;
    i = kEnd;
    ws();
    i++; // ':'
    ws();
    const vEnd = valueEnd(text, i);
    if (name === key) found = text.slice(i, vEnd);
    i = vEnd;
    ws();
    if (text[i] !== ',') return found;
    i++;
  }
}

/** The output line of one input line (without its newline): always exactly one JSON object. */
export function evalLine(ev: Evaluator, line: string, lineNo: number): string {
  if (line.trim() === '') return JSON.stringify({ id: null, error: `line ${lineNo}: empty line` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    return JSON.stringify({ id: null, error: `line ${lineNo}: not JSON: ${clip((e as Error).message, 120)}` });
  }
  const isObject = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  const idText = isObject ? memberText(line, 'id') : null;
  const rest = JSON.stringify(ev.one(parsed));
  return `{"id":${idText === null ? 'null' : minify(idText)}${rest === '{}' ? '}' : `,${rest.slice(1)}`}`;
}

/** Lines of a byte stream, split at LF only; a line longer than `max` bytes is reported by its length. */
async function* lines(input: AsyncIterable<Buffer | string>, max: number): AsyncGenerator<{ text: string } | { tooLong: number }> {
  let parts: Buffer[] = [];
  let size = 0;
  let over = false;
  const take = (): { text: string } | { tooLong: number } => {
    const r = over ? { tooLong: size } : { text: decode(Buffer.concat(parts, size)) };
    parts = [];
    size = 0;
    over = false;
    return r;
  };
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl < 0 ? buf.length : nl;
      const piece = buf.subarray(start, end);
      size += piece.length;
      if (size > max) {
        over = true;
        parts = [];
      } else if (!over && piece.length > 0) parts.push(piece);
      if (nl < 0) break;
      yield take();
      start = nl + 1;
    }
  }
  if (size > 0 || parts.length > 0) yield take();
}

const decoder = new TextDecoder('utf-8');
/** A line's text: UTF-8 (invalid bytes become U+FFFD, then fail as JSON), one CR before the LF dropped. */
const decode = (b: Buffer): string => {
  const t = decoder.decode(b);
  return t.endsWith('\r') ? t.slice(0, -1) : t;
};

/**
 * Read JSON lines from `input`, write exactly one output line per input line to `out` (awaited, so a
 * slow reader slows the batch instead of filling memory). Resolves with the number of lines.
 */
export async function runEval(opts: EvalOptions, input: AsyncIterable<Buffer | string>, out: (line: string) => void | Promise<void>): Promise<number> {
  const ev = new Evaluator(opts.config);
  let lineNo = 0;
  for await (const l of lines(input, MAX_LINE)) {
    lineNo++;
    const text =
      'tooLong' in l ? JSON.stringify({ id: null, error: `line ${lineNo}: ${l.tooLong} bytes, longer than the ${MAX_LINE} bytes a line may have` }) : evalLine(ev, l.text, lineNo);
    await out(text);
  }
  return lineNo;
}

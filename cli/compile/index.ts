// Filter expressions: `bpfspec compile 'EXPR'` and `--expr 'EXPR'` compile a tcpdump expression with
// the system libpcap's pcap_compile, through a small C helper (cli/compile/pcap_compile.c) built on
// first use into the cache (oracle/build.ts). Defaults are tcpdump's: link type EN10MB, snaplen
// 262144, optimizer on, netmask 0 (what tcpdump uses reading a savefile), so that the program equals
// `tcpdump -ddd` on an Ethernet capture byte for byte.
import { spawnSync } from 'node:child_process';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { ensureCBinary } from '../../oracle/build.js';
import { parseTcpdumpDDD } from '../formats/tcpdump.js';
import { clip, InputError } from '../io.js';

export interface CompileOptions {
  /** a DLT name (EN10MB, RAW, LINUX_SLL, ...) or number, as pcap_datalink_name_to_val reads it */
  readonly linktype: string;
  readonly snaplen: number;
  readonly optimize: boolean;
  /** IPv4 netmask for `ip broadcast` (u32) */
  readonly netmask: number;
}

export const DEFAULT_COMPILE: CompileOptions = { linktype: 'EN10MB', snaplen: 262144, optimize: true, netmask: 0 };

/** The longest expression accepted (the helper's buffer). */
export const MAX_EXPR = (1 << 20) - 1;

export type CompileResult =
  | { readonly ok: true; readonly prog: SockFilter[]; /** bpf_dump's text, as `tcpdump -ddd` prints it */ readonly ddd: string }
  | { readonly ok: false; /** libpcap's message, or what is wrong with the arguments */ readonly error: string };

let helper: string | null = null;

/** The helper's path, built on first use; InputError naming the missing Debian package otherwise. */
function helperPath(): string {
  if (helper !== null) return helper;
  const b = ensureCBinary({
    name: 'pcap_compile',
    sources: ['cli/compile/pcap_compile.c'],
    libs: ['-lpcap'],
    requires: [{ header: 'pcap/pcap.h', debian: 'libpcap-dev' }],
  });
  if (!b.ok) throw new InputError(`compiling a filter expression needs ${b.missing}`);
  helper = b.path;
  return helper;
}

/** Whether the helper can be built here (null), or what is missing. */
export function compileMissing(): string | null {
  try {
    helperPath();
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^compiling a filter expression needs /, '');
  }
}

const LINKTYPE = /^[A-Za-z0-9_]{1,64}$/;

/** Check the options as the command line gives them (strings): throws InputError naming the flag. */
export function compileOptions(o: { linktype?: string; snaplen?: string; optimize?: boolean; netmask?: string }): CompileOptions {
  const linktype = o.linktype ?? DEFAULT_COMPILE.linktype;
  if (!LINKTYPE.test(linktype)) throw new InputError(`--linktype ${clip(linktype)}: expected a link-type name such as EN10MB, RAW or LINUX_SLL, or its DLT number`);
  let snaplen = DEFAULT_COMPILE.snaplen;
  if (o.snaplen !== undefined) {
    if (!/^\d{1,10}$/.test(o.snaplen) || Number(o.snaplen) < 1 || Number(o.snaplen) > 0x7fffffff)
      throw new InputError(`--snaplen ${clip(o.snaplen)}: expected a whole number of bytes from 1 to ${0x7fffffff}`);
    snaplen = Number(o.snaplen);
  }
  return { linktype, snaplen, optimize: o.optimize !== false, netmask: DEFAULT_COMPILE.netmask };
}

const cache = new Map<string, CompileResult>();

/**
 * Compile an expression. A bad expression gives libpcap's own error text; a missing libpcap-dev or
 * C compiler throws InputError naming it. Results are cached per expression and options.
 */
export function compileExpression(expr: string, opts: CompileOptions = DEFAULT_COMPILE): CompileResult {
  if (expr.includes('\0')) return { ok: false, error: 'the expression contains a NUL character' };
  const input = Buffer.from(expr, 'utf8');
  if (input.length > MAX_EXPR) return { ok: false, error: `expression of ${input.length} bytes: longer than ${MAX_EXPR} bytes` };
  const key = JSON.stringify([expr, opts.linktype, opts.snaplen, opts.optimize, opts.netmask]);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const path = helperPath();
  const r = spawnSync(path, [opts.linktype, String(opts.snaplen), opts.optimize ? '1' : '0', String(opts.netmask >>> 0)], {
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  let res: CompileResult;
  // EPIPE: the helper answered (and exited) before reading all of the expression; its status tells the rest
  if (r.error && !((r.error as NodeJS.ErrnoException).code === 'EPIPE' && r.status !== null)) throw new InputError(`pcap_compile helper ${path}: ${clip(r.error.message, 200)}`);
  if (r.status === 0) {
    const parsed = parseTcpdumpDDD(r.stdout);
    if (!parsed.ok) throw new InputError(`pcap_compile helper printed what bpfspec cannot read: ${clip(parsed.error.message, 200)}`);
    res = { ok: true, prog: parsed.prog, ddd: r.stdout };
  } else if (r.status === 1 || r.status === 2) {
    res = { ok: false, error: clip(r.stderr.trim().split('\n').join('; '), 300) || `pcap_compile failed (exit ${r.status})` };
  } else {
    throw new InputError(`pcap_compile helper ${path} ended with ${r.signal ?? `exit ${r.status}`}: ${clip(r.stderr.trim(), 200)}`);
  }
  if (cache.size > 1024) cache.clear();
  cache.set(key, res);
  return res;
}

// Loading a classic program for every command: from a file in any supported format, or from a
// tcpdump filter expression (--expr, compiled by the system libpcap).
import { bpfCheckFilter } from '../model/attach.js';
import { decodeProgram, type Endian, type SockFilter } from '../model/cbpf/insn.js';
import { compileExpression, compileOptions } from './compile/index.js';
import { FORMAT_NAMES, formatError, parseProgram, type FormatName } from './formats/index.js';
import { clip, InputError, readInput } from './io.js';

export { FORMAT_NAMES };

const FORMAT_SET: ReadonlySet<string> = new Set(FORMAT_NAMES);

export function checkFormatName(name: string | undefined, flag: string): FormatName | undefined {
  if (name === undefined) return undefined;
  if (!FORMAT_SET.has(name)) throw new InputError(`${flag} ${clip(name)}: unknown format (one of ${FORMAT_NAMES.join(', ')})`);
  return name as FormatName;
}

export function checkEndian(name: string | undefined): Endian {
  if (name === undefined || name === 'little') return 'little';
  if (name === 'big') return 'big';
  throw new InputError(`--endian ${clip(name)}: expected little or big`);
}

/** The capture file a program file turns out to be, by its first four bytes, or null. */
export function captureMagic(bytes: Uint8Array): string | null {
  if (bytes.length < 4) return null;
  const be = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const le = ((bytes[3]! << 24) | (bytes[2]! << 16) | (bytes[1]! << 8) | bytes[0]!) >>> 0;
  if (be === 0x0a0d0d0a) return 'a pcapng capture';
  for (const m of [be, le]) {
    if (m === 0xa1b2c3d4) return 'a pcap capture';
    if (m === 0xa1b23c4d) return 'a pcap capture (nanosecond timestamps)';
  }
  return null;
}

/**
 * For a raw (or hex) image: whether it reads as a program the checker accepts only in the other byte
 * order. Returns that order, or null.
 */
function otherEndianFits(bytes: Uint8Array, format: FormatName, prog: readonly SockFilter[], endian: Endian): Endian | null {
  if (format !== 'raw' && format !== 'hex') return null;
  if (prog.length === 0 || bpfCheckFilter(prog) === null) return null;
  const other: Endian = endian === 'little' ? 'big' : 'little';
  const again = format === 'raw' ? decodeProgram(bytes, other) : (() => {
    const r = parseProgram(bytes, 'hex', { endian: other });
    return r.ok ? { ok: true as const, prog: r.prog } : { ok: false as const };
  })();
  return again.ok && bpfCheckFilter(again.prog) === null ? other : null;
}

export interface LoadOptions {
  readonly format?: FormatName;
  readonly endian?: Endian;
  /** whether --endian was given: a mismatch is then a warning, not an error */
  readonly endianGiven?: boolean;
  /** where warnings go (one line each) */
  readonly warn?: (line: string) => void;
}

/** Read and parse FILE ('-' = stdin); the format is detected unless given. */
export function loadProgram(path: string, format?: FormatName, endian: Endian = 'little', opts: Omit<LoadOptions, 'format' | 'endian'> = {}): { prog: SockFilter[]; format: FormatName } {
  const bytes = readInput(path, { what: 'a program file' });
  const capture = captureMagic(bytes);
  if (capture !== null && (format === undefined || format === 'raw'))
    throw new InputError(`${path}: this is ${capture}, not a program (packets go to --pcap FILE; a program file holds a filter)`);
  const res = parseProgram(bytes, format, { endian });
  if (!res.ok) throw new InputError(formatError(res.error, path));
  const other = otherEndianFits(bytes, res.format, res.prog, endian);
  if (other !== null) {
    const msg = `${path}: read ${endian}-endian, this ${res.format} image is a program the kernel rejects; read ${other}-endian it is accepted`;
    if (!opts.endianGiven) throw new InputError(`${msg}: the image looks ${other}-endian (give --endian ${other}, or --endian ${endian} to read it as it is)`);
    opts.warn?.(`bpfspec: warning: ${msg}`);
  }
  return { prog: res.prog, format: res.format };
}

/** The program flags every program-reading command takes. */
export interface ProgramFlags {
  readonly format?: string;
  readonly endian?: string;
  readonly expr?: string;
  readonly linktype?: string;
  readonly snaplen?: string;
  readonly optimize?: boolean;
}

export interface LoadedProgram {
  readonly prog: SockFilter[];
  /** the format the file was read as, or 'expr' */
  readonly format: FormatName | 'expr';
  /** how to name the program in messages: the file name, or expr 'EXPR' */
  readonly label: string;
}

/**
 * The program of a command: FILE in any format, or --expr 'EXPR' compiled by libpcap (exactly one
 * of them). libpcap's own error text for a bad expression (InputError, exit 2).
 */
export function readProgram(file: string | undefined, o: ProgramFlags, warn?: (line: string) => void): LoadedProgram {
  const exprOnly = o.linktype !== undefined || o.snaplen !== undefined || o.optimize === false;
  if (o.expr !== undefined) {
    if (file !== undefined) throw new InputError(`give a program FILE or --expr, not both (FILE ${clip(file)})`);
    if (o.format !== undefined || o.endian !== undefined) throw new InputError('--format and --endian describe a program file: not with --expr');
    const c = compileExpression(o.expr, compileOptions(o));
    if (!c.ok) throw new InputError(`--expr ${JSON.stringify(clip(o.expr))}: ${c.error}`);
    return { prog: c.prog, format: 'expr', label: `expr ${JSON.stringify(clip(o.expr))}` };
  }
  if (file === undefined) throw new InputError("give a program FILE ('-' for stdin) or --expr 'EXPRESSION'");
  if (exprOnly) throw new InputError('--linktype, --snaplen and --no-optimize go with --expr');
  const { prog, format } = loadProgram(file, checkFormatName(o.format, '--format'), checkEndian(o.endian), { endianGiven: o.endian !== undefined, ...(warn ? { warn } : {}) });
  return { prog, format, label: file };
}

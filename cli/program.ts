// Loading a classic program from a file in any supported format, for every command.
import type { Endian, SockFilter } from '../model/cbpf/insn.js';
import { FORMAT_NAMES, formatError, parseProgram, type FormatName } from './formats/index.js';
import { InputError, readInput } from './io.js';

export { FORMAT_NAMES };

export function checkFormatName(name: string | undefined, flag: string): FormatName | undefined {
  if (name === undefined) return undefined;
  if (!(FORMAT_NAMES as readonly string[]).includes(name))
    throw new InputError(`${flag} ${name}: unknown format (one of ${FORMAT_NAMES.join(', ')})`);
  return name as FormatName;
}

export function checkEndian(name: string | undefined): Endian {
  if (name === undefined || name === 'little') return 'little';
  if (name === 'big') return 'big';
  throw new InputError(`--endian ${name}: expected little or big`);
}

/** Read and parse FILE ('-' = stdin); the format is detected unless given. */
export function loadProgram(path: string, format?: FormatName, endian: Endian = 'little'): { prog: SockFilter[]; format: FormatName } {
  const bytes = readInput(path);
  const res = parseProgram(bytes, format, { endian });
  if (!res.ok) throw new InputError(formatError(res.error, path));
  return { prog: res.prog, format: res.format };
}

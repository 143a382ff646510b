// Shared types and small helpers of the program formats bpfspec reads and writes.
import type { SockFilter } from '../../model/cbpf/insn.js';
import { clip, describe } from '../../fuzz/skbjson.js';

export { clip, describe };

/** Every program format bpfspec reads and writes. */
export type FormatName = 'tcpdump-d' | 'tcpdump-dd' | 'tcpdump-ddd' | 'bpf_asm' | 'bytecode' | 'raw' | 'hex' | 'json';

export const FORMAT_NAMES: readonly FormatName[] = ['tcpdump-d', 'tcpdump-dd', 'tcpdump-ddd', 'bpf_asm', 'bytecode', 'raw', 'hex', 'json'];

/** Why an input is not a program in a format: one clear line, and where (1-based line and column, 0-based insn). */
export interface ParseError {
  message: string;
  line?: number;
  column?: number;
  insn?: number;
}

export type ParseResult = { ok: true; prog: SockFilter[]; format: FormatName } | { ok: false; error: ParseError };

/** What a single format parser returns (the dispatcher adds the format name). */
export type Parsed = { ok: true; prog: SockFilter[] } | { ok: false; error: ParseError };

export const fail = (message: string, where: Omit<ParseError, 'message'> = {}): { ok: false; error: ParseError } => ({
  ok: false,
  error: { message, ...where },
});

/** Decode text input (UTF-8; a BOM is dropped; invalid bytes become U+FFFD and later fail as unknown characters). */
export const decodeText = (input: Uint8Array): string => new TextDecoder('utf-8').decode(input);

/** 1-based line and column of a character offset in a text. */
export function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** Show a piece of input in an error message, quoted, on one line, cut past 80 characters (saying how long it was). */
export const quote = (s: string): string => `'${clip(s)}'`;

/** Field limits of struct sock_filter (include/uapi/linux/filter.h:24). */
export const FIELD_MAX = { code: 0xffff, jt: 0xff, jf: 0xff, k: 0xffffffff } as const;
export type Field = keyof typeof FIELD_MAX;

// The one error the library API throws on bad input: a typed error the caller can catch and switch on
// (`code`), never a crash of the host process. Kernel-level outcomes are not errors: a program the
// kernel rejects is a Rejection value, as in the model. Shared by every entry point (one class, so
// `instanceof` holds whichever entry point threw it).
import type { Rejection } from '../model/verdict.js';

/** What kind of bad input an error is about. */
export type BpfspecErrorCode =
  /** a value of the wrong type or out of its range: a program field, an skb field, an option */
  | 'invalid-argument'
  /** a name that is not in its table: a format, a preset, an architecture, a variant, a rule, a judge */
  | 'unknown-name'
  /** text or bytes that are not a program in the format (details: line, column, insn or byte offset) */
  | 'parse-error'
  /** bytes that are not a pcap or pcapng capture */
  | 'bad-capture'
  /** a file or object that is not a valid corpus entry (details: path) */
  | 'bad-corpus-entry'
  /** a path that does not exist (details: path) */
  | 'not-found'
  /** valid input past a limit of the model, e.g. an skb head larger than the kernel-path image holds */
  | 'model-limit'
  /** a function that needs a program the kernel accepts got one it rejects (details: rejection) */
  | 'program-rejected'
  /** what the machine lacks for it: Linux, a C compiler, a writable cache (the message names it) */
  | 'unavailable';

/** Where the problem is, when it has a place. */
export interface BpfspecErrorDetails {
  /** 1-based line and column in a text input */
  readonly line?: number;
  readonly column?: number;
  /** 0-based instruction index */
  readonly insn?: number;
  /** byte offset in a binary input */
  readonly offset?: number;
  /** the file the problem is in */
  readonly path?: string;
  /** the kernel's verdict, for 'program-rejected' */
  readonly rejection?: Rejection;
}

/**
 * Thrown by every bpfspec API function on bad input. `message` is one line naming what is wrong (the
 * text the `bpfspec` command prints after `bpfspec: `); `code` says which kind of problem it is.
 */
export class BpfspecInputError extends Error {
  override readonly name = 'BpfspecInputError';
  readonly code: BpfspecErrorCode;
  readonly details: BpfspecErrorDetails;

  constructor(code: BpfspecErrorCode, message: string, details: BpfspecErrorDetails = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** Whether a caught value is a BpfspecInputError (of any entry point). */
export const isBpfspecInputError = (e: unknown): e is BpfspecInputError => e instanceof BpfspecInputError;

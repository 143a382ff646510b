// Kernel-level outcomes of the attach path, as values (never exceptions).

/** Where in the attach path a program was turned away. */
/** ('flags', 'permission' and 'attach' are seccomp(2)'s: model/seccomp/prepare.ts) */
export type Stage = 'copy' | 'check' | 'convert' | 'charge' | 'runtime' | 'flags' | 'permission' | 'attach';

/**
 * A rejection: the (negative) errno the kernel returns, the rule that fired, the classic pc it
 * fired at (null when it is about the whole program) and the kernel file:line of the decision.
 */
export interface Rejection {
  readonly errno: number;
  readonly stage: Stage;
  readonly rule: string;
  readonly pc: number | null;
  readonly at: string;
}

export const reject = (errno: number, stage: Stage, rule: string, pc: number | null, at: string): Rejection => ({
  errno,
  stage,
  rule,
  pc,
  at,
});

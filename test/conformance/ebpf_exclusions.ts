// bpf_conformance tests whose expected value is not what the Linux v6.6 interpreter (___bpf_prog_run, as
// reached by a socket filter: no verifier fixups) produces. Each entry says why and what the model must do
// instead, so the exclusion is checked, not skipped.
import type { FaultKind } from '../../model/ebpf/memory.js';

export interface Exclusion {
  readonly file: string;
  readonly reason: string;
  /** the fault the kernel-interpreter model must report for this file */
  readonly fault: FaultKind;
}

const DIV0 =
  'division by zero: the expected value follows RFC 9669 (the verifier patches div by 0 to 0 and mod by 0 to dst); the raw interpreter divides and traps (x86 #DE)';
const DIV0_LATE =
  'its last check divides by zero (RFC 9669 result 0 / dst unchanged); every check before it passes in the model, then the interpreter traps (x86 #DE)';
const SDIV_OVF = 'S64_MIN / -1 in div64_s64: RFC 9669 defines a result; the interpreter executes idiv, which traps (x86 #DE)';
const LOCAL_CALL =
  'bpf-to-bpf call (src_reg BPF_PSEUDO_CALL): only the verifier turns it into JMP_CALL_ARGS with a frame; the interpreter would call __bpf_call_base + imm';

export const EBPF_EXCLUSIONS: readonly Exclusion[] = [
  { file: 'rfc9669_div32.data', reason: DIV0_LATE, fault: 'div-by-zero' },
  { file: 'rfc9669_div64.data', reason: DIV0_LATE, fault: 'div-by-zero' },
  { file: 'rfc9669_mod32.data', reason: DIV0_LATE, fault: 'div-by-zero' },
  { file: 'rfc9669_mod64.data', reason: DIV0_LATE, fault: 'div-by-zero' },
  { file: 'rfc9669_sdiv32.data', reason: DIV0_LATE, fault: 'div-by-zero' },
  { file: 'rfc9669_sdiv64.data', reason: DIV0_LATE, fault: 'div-by-zero' },
  { file: 'rfc9669_smod32.data', reason: DIV0_LATE, fault: 'div-by-zero' },
  { file: 'rfc9669_smod64.data', reason: DIV0_LATE, fault: 'div-by-zero' },
  { file: 'div32-by-zero-reg.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'div32-by-zero-reg-2.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'div64-by-zero-reg.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'mod-by-zero-reg.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'mod64-by-zero-reg.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'sdiv32-by-zero-imm.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'sdiv32-by-zero-reg.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'sdiv64-by-zero-imm.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'sdiv64-by-zero-reg.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'smod32-neg-by-zero-imm.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'smod32-neg-by-zero-reg.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'smod64-neg-by-zero-imm.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'smod64-neg-by-zero-reg.data', reason: DIV0, fault: 'div-by-zero' },
  { file: 'sdiv64-intmin-by-negone-imm.data', reason: SDIV_OVF, fault: 'div-overflow' },
  { file: 'sdiv64-intmin-by-negone-reg.data', reason: SDIV_OVF, fault: 'div-overflow' },
  { file: 'smod64-intmin-by-negone-imm.data', reason: SDIV_OVF, fault: 'div-overflow' },
  { file: 'smod64-intmin-by-negone-reg.data', reason: SDIV_OVF, fault: 'div-overflow' },
  { file: 'call_local.data', reason: LOCAL_CALL, fault: 'unknown-helper' },
  { file: 'rfc9669_call_local.data', reason: LOCAL_CALL, fault: 'unknown-helper' },
  {
    file: 'callx.data',
    reason: 'BPF_JMP | BPF_CALL | BPF_X (callx, 0x8d) is not in the v6.6 BPF_INSN_MAP: default_label, BUG',
    fault: 'bug',
  },
  {
    file: 'call_unwind_fail.data',
    reason: 'helper 5 of the bpf_conformance runtime ("unwind") is not a socket-filter helper; the model has no helper table here',
    fault: 'unknown-helper',
  },
];

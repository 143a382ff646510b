// The engine's checker: model/attach.ts bpfCheckFilter (bpf_check_basics_ok, then
// model/cbpf/check.ts bpfCheckClassic and check_load_and_stores) on a program's columns, with one
// masks[] buffer reused from call to call. Same verdict (errno, rule, pc, line) on every program.
import { CHECK_RULE_AT, chkCodeAllowed, type CheckRule } from '../../model/cbpf/check.js';
import type { KernelConfig } from '../../model/kernel.js';
import { BPF_MAXINSNS, BPF_MEMWORDS, EINVAL, SKF_AD_OFF, SKF_AD_VLAN_TPID } from '../../model/uapi.js';
import { reject, type Rejection } from '../../model/verdict.js';
import type { ClassicColumns } from './program.js';

const checkReject = (rule: CheckRule, pc: number | null): Rejection => reject(-EINVAL, 'check', rule, pc, CHECK_RULE_AT[rule]);

const AD_FIRST = SKF_AD_OFF >>> 0;
const AD_LAST = (SKF_AD_OFF + SKF_AD_VLAN_TPID) >>> 0;

// bpf_check_classic's switch as a table: what each u16 code asks of its k (or of its jumps). A code
// outside the table's rules (K_NONE) passes the loop whatever its k. test/engine/attach.test.ts
// compares the verdicts with the spec's on raw codes.
const K_NONE = 0;
const K_NOT_ALLOWED = 1;
const K_DIV = 2;
const K_SHIFT = 3;
const K_MEM_LOAD = 4;
const K_MEM_STORE = 5;
const K_JA = 6;
const K_JCOND = 7;
const K_ANC = 8;
const CHECK_OF = new Uint8Array(0x10000);
for (let c = 0; c < 0x10000; c++) {
  let r = K_NONE;
  if (!chkCodeAllowed(c)) r = K_NOT_ALLOWED;
  else
    switch (c) {
      case 0x34: // BPF_ALU | BPF_DIV | BPF_K
      case 0x94: // BPF_ALU | BPF_MOD | BPF_K
        r = K_DIV;
        break;
      case 0x64: // BPF_ALU | BPF_LSH | BPF_K
      case 0x74: // BPF_ALU | BPF_RSH | BPF_K
        r = K_SHIFT;
        break;
      case 0x60: // BPF_LD | BPF_MEM
      case 0x61: // BPF_LDX | BPF_MEM
        r = K_MEM_LOAD;
        break;
      case 0x02: // BPF_ST
      case 0x03: // BPF_STX
        r = K_MEM_STORE;
        break;
      case 0x05: // BPF_JMP | BPF_JA
        r = K_JA;
        break;
      case 0x15: case 0x1d: case 0x35: case 0x3d: case 0x25: case 0x2d: case 0x45: case 0x4d: // prettier-ignore
        r = K_JCOND;
        break;
      case 0x20: // BPF_LD | BPF_W | BPF_ABS (bpf_anc_helper: k one of the 16 SKF_AD_* values)
      case 0x28:
      case 0x30:
        r = K_ANC;
        break;
      default:
        break;
    }
  CHECK_OF[c] = r;
}

/** Reusable state of the engine checker. */
export class EngineChecker {
  private masks = new Uint16Array(BPF_MAXINSNS);

  // model/attach.ts bpfCheckFilter
  /** The attach path's checks on `p` (len 0 is flen == 0); null = accepted. */
  check(p: ClassicColumns, config?: KernelConfig): Rejection | null {
    // the fixed kernel's checks (no config, or one whose checker decisions are the fixed ones) are
    // made once per program loaded into the columns
    if (config === undefined || (config.checkShiftK && config.checkLoadAndStores)) return p.checked !== undefined ? p.checked : (p.checked = this.checkWith(p, undefined));
    return this.checkWith(p, config);
  }

  private checkWith(p: ClassicColumns, config: KernelConfig | undefined): Rejection | null {
    const flen = p.len;
    if (flen === 0) return checkReject('len-zero', null);
    if (flen > BPF_MAXINSNS) return checkReject('len-too-long', null);
    const code = p.code;
    const ks = p.k;
    const jt = p.jt;
    const jf = p.jf;
    const shiftK = config?.checkShiftK ?? true;
    // whether any LD/LDX MEM is there: check_load_and_stores rejects nothing else
    let memLoads = false;
    for (let pc = 0; pc < flen; pc++) {
      const r = CHECK_OF[code[pc]!]!;
      if (r === K_NONE) continue;
      const k = ks[pc]!;
      switch (r) {
        case K_NOT_ALLOWED:
          return checkReject('code-not-allowed', pc);
        case K_DIV:
          if (k === 0) return checkReject('div-by-zero-k', pc);
          break;
        case K_SHIFT:
          if (k >= 32 && shiftK) return checkReject('shift-k-too-large', pc);
          break;
        case K_MEM_LOAD:
          memLoads = true;
          if (k >= BPF_MEMWORDS) return checkReject('mem-index-out-of-range', pc);
          break;
        case K_MEM_STORE:
          if (k >= BPF_MEMWORDS) return checkReject('mem-index-out-of-range', pc);
          break;
        case K_JA:
          if (k >= flen - pc - 1) return checkReject('ja-out-of-range', pc);
          break;
        case K_JCOND:
          if (pc + jt[pc]! + 1 >= flen || pc + jf[pc]! + 1 >= flen) return checkReject('jump-out-of-range', pc);
          break;
        default: // K_ANC
          if (k >= AD_FIRST && !(k <= AD_LAST && (k & 3) === 0)) return checkReject('ancillary-k-invalid', pc);
          break;
      }
    }
    const last = code[flen - 1]!;
    if (last !== 0x06 && last !== 0x16) return checkReject('last-not-ret', flen - 1);
    if ((config !== undefined && !config.checkLoadAndStores) || !memLoads) return null;
    return this.checkLoadAndStores(p);
  }

  // model/cbpf/check.ts checkLoadAndStores
  private checkLoadAndStores(p: ClassicColumns): Rejection | null {
    const flen = p.len;
    if (this.masks.length < flen) this.masks = new Uint16Array(flen);
    const masks = this.masks;
    masks.fill(0xffff, 0, flen);
    const code = p.code;
    const ks = p.k;
    let memvalid = 0;
    for (let pc = 0; pc < flen; pc++) {
      memvalid &= masks[pc]!;
      const k = ks[pc]!;
      switch (code[pc]) {
        case 0x02:
        case 0x03:
          memvalid = (memvalid | (1 << k)) & 0xffff;
          break;
        case 0x60:
        case 0x61:
          if ((memvalid & (1 << k)) === 0) return checkReject('mem-read-before-write', pc);
          break;
        case 0x05:
          masks[pc + 1 + k] &= memvalid;
          memvalid = 0xffff;
          break;
        case 0x15: case 0x1d: case 0x35: case 0x3d: case 0x25: case 0x2d: case 0x45: case 0x4d: // prettier-ignore
          masks[pc + 1 + p.jt[pc]!] &= memvalid;
          masks[pc + 1 + p.jf[pc]!] &= memvalid;
          memvalid = 0xffff;
          break;
        default:
          break;
      }
    }
    return null;
  }
}

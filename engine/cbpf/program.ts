// The classic program as the engines take it: columns (model/cbpf/eval.ts ClassicProgram) in
// buffers that are reused from case to case, so a campaign allocates nothing per program.
import { decodeOp, type ClassicProgram } from '../../model/cbpf/eval.js';
import { assertInsn, type Program } from '../../model/cbpf/insn.js';
import { BPF_MAXINSNS } from '../../model/uapi.js';
import type { Rejection } from '../../model/verdict.js';

// model/cbpf/eval.ts decodeOp as tables: the op of each u16 code for an ordinary k, and where k can
// change it (decodeOp is asked then): k == 0 (DIV/MOD K), k >= BPF_MEMWORDS (the scratch memory
// ops), k in the ancillary range SKF_AD_OFF.. (LD ABS). test/engine/program.test.ts checks every code.
const OP_OF = new Uint8Array(0x10000);
const K_RULE = new Uint8Array(0x10000);
const K_ZERO = 1;
const K_MEM = 2;
const K_ANC = 4;
for (let c = 0; c < 0x10000; c++) {
  const op = decodeOp(c, 1);
  OP_OF[c] = op;
  K_RULE[c] = (decodeOp(c, 0) !== op ? K_ZERO : 0) | (decodeOp(c, 16) !== op ? K_MEM : 0) | (decodeOp(c, 0xfffff000) !== op ? K_ANC : 0);
}

// model/cbpf/eval.ts decodeOp
/** decodeOp(code, k) by the tables (code a u16, k a u32). */
export function engineDecodeOp(code: number, k: number): number {
  const r = K_RULE[code]!;
  if (r !== 0 && (((r & K_ZERO) !== 0 && k === 0) || ((r & K_MEM) !== 0 && k >= 16) || ((r & K_ANC) !== 0 && k >= 0xfffff000))) return decodeOp(code, k);
  return OP_OF[code]!;
}

/** A ClassicProgram whose columns live in reusable buffers (len says how much of them is the program). */
export class ClassicColumns implements ClassicProgram {
  len = 0;
  code: Uint16Array;
  ops: Uint8Array;
  jt: Uint8Array;
  jf: Uint8Array;
  k: Uint32Array;

  constructor(capacity = 64) {
    this.code = new Uint16Array(capacity);
    this.ops = new Uint8Array(capacity);
    this.jt = new Uint8Array(capacity);
    this.jf = new Uint8Array(capacity);
    this.k = new Uint32Array(capacity);
  }

  /** Make room for `n` instructions (the columns grow, never shrink). */
  reserve(n: number): void {
    if (n <= this.code.length) return;
    const cap = Math.max(n, 2 * this.code.length);
    this.code = new Uint16Array(cap);
    this.ops = new Uint8Array(cap);
    this.jt = new Uint8Array(cap);
    this.jf = new Uint8Array(cap);
    this.k = new Uint32Array(cap);
  }

  /** the program the columns hold (load skips the copy when asked for the same one again), or null */
  private loaded: Program | null = null;

  /**
   * The fixed kernel's checker verdict on the program the columns hold (engine/cbpf/check.ts
   * EngineChecker.check; undefined: not checked yet), so that the judges sharing the columns check it once.
   */
  checked: Rejection | null | undefined = undefined;

  // model/cbpf/eval.ts compileClassic, into these buffers
  /**
   * Load a program (throws RangeError on a field outside its C width, as compileClassic). Loading
   * the program the columns already hold is free (the judges of one case share columns); a program
   * longer than BPF_MAXINSNS sets len alone (bpf_check_basics_ok reads nothing else of it).
   */
  load(prog: Program): this {
    if (prog === this.loaded) return this;
    const n = prog.length;
    this.loaded = null;
    this.checked = undefined;
    if (n > BPF_MAXINSNS) {
      this.len = n;
      this.loaded = prog;
      return this;
    }
    this.reserve(n);
    const codes = this.code;
    const jts = this.jt;
    const jfs = this.jf;
    const ks = this.k;
    const ops = this.ops;
    for (let pc = 0; pc < n; pc++) {
      const insn = prog[pc]!;
      const code = insn.code;
      const jt = insn.jt;
      const jf = insn.jf;
      const k = insn.k;
      // assertInsn's checks on numbers (it throws the spec's RangeError for the field that does not fit)
      if ((code & 0xffff) !== code || (jt & 0xff) !== jt || (jf & 0xff) !== jf || k >>> 0 !== k) assertInsn(insn, pc);
      codes[pc] = code;
      jts[pc] = jt;
      jfs[pc] = jf;
      ks[pc] = k;
      ops[pc] = engineDecodeOp(code, k);
    }
    this.len = n;
    this.loaded = prog;
    return this;
  }

  /** Set instruction pc (columns only; the caller keeps len and calls decode() when done). */
  set(pc: number, code: number, jt: number, jf: number, k: number): void {
    this.loaded = null;
    this.checked = undefined;
    this.code[pc] = code;
    this.jt[pc] = jt;
    this.jf[pc] = jf;
    this.k[pc] = k;
  }

  /** Fill ops from code and k for pc < len (after set()). */
  decode(): this {
    for (let pc = 0; pc < this.len; pc++) this.ops[pc] = engineDecodeOp(this.code[pc]!, this.k[pc]!);
    return this;
  }

  /** The program as records (for reports and the spec). */
  toProgram(): Program {
    const out = new Array(this.len);
    for (let pc = 0; pc < this.len; pc++) out[pc] = { code: this.code[pc]!, jt: this.jt[pc]!, jf: this.jf[pc]!, k: this.k[pc]! };
    return out;
  }
}

// The classic program as the engines take it: columns (model/cbpf/eval.ts ClassicProgram) in
// buffers that are reused from case to case, so a campaign allocates nothing per program.
import { decodeOp, type ClassicProgram } from '../../model/cbpf/eval.js';
import { assertInsn, type Program } from '../../model/cbpf/insn.js';

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

  // model/cbpf/eval.ts compileClassic, into these buffers
  /** Load a program (throws RangeError on a field outside its C width, as compileClassic). */
  load(prog: Program): this {
    const n = prog.length;
    this.reserve(n);
    for (let pc = 0; pc < n; pc++) {
      const insn = prog[pc]!;
      assertInsn(insn, pc);
      this.code[pc] = insn.code;
      this.jt[pc] = insn.jt;
      this.jf[pc] = insn.jf;
      this.k[pc] = insn.k;
      this.ops[pc] = decodeOp(insn.code, insn.k >>> 0);
    }
    this.len = n;
    return this;
  }

  /** Set instruction pc (columns only; the caller keeps len and calls decode() when done). */
  set(pc: number, code: number, jt: number, jf: number, k: number): void {
    this.code[pc] = code;
    this.jt[pc] = jt;
    this.jf[pc] = jf;
    this.k[pc] = k;
  }

  /** Fill ops from code and k for pc < len (after set()). */
  decode(): this {
    for (let pc = 0; pc < this.len; pc++) this.ops[pc] = decodeOp(this.code[pc]!, this.k[pc]!);
    return this;
  }

  /** The program as records (for reports and the spec). */
  toProgram(): Program {
    const out = new Array(this.len);
    for (let pc = 0; pc < this.len; pc++) out[pc] = { code: this.code[pc]!, jt: this.jt[pc]!, jf: this.jf[pc]!, k: this.k[pc]! };
    return out;
  }
}

// The kernel's bpf_asm syntax (tools/bpf/bpf_exp.l lexer, tools/bpf/bpf_exp.y grammar and label passes).
//
// Reading follows bpf_asm exactly, with these documented leniencies: '\r' is whitespace (bpf_asm
// rejects it), `[x+4]` is accepted (flex lexes "+4" as one number so bpf_asm rejects it), several
// labels may precede one instruction, and the escape `.insn code, jt, jf, k` (not bpf_asm syntax:
// bpf_asm stops at the '.') writes any raw instruction. Duplicate labels are an error (bpf_asm
// silently uses the first). Numbers must fit in 32 bits (bpf_asm truncates strtol/strtoul results).
//
// Printing emits one canonical form that bpf_asm itself assembles to the same program whenever no
// `.insn` escape is needed; checkBpfAsmExpressible names the first instruction that needs one.
import { assertInsn, type Program, type SockFilter } from '../../model/cbpf/insn.js';
import { SKF_AD_OFF } from '../../model/uapi.js';
import { clip, quote, type ParseError, type Parsed } from './types.js';

// ---------------------------------------------------------------------------------------------
// Lexer: tools/bpf/bpf_exp.l (flex, %option caseless; longest match, first rule wins a tie).

/** tools/bpf/bpf_exp.l: the mnemonic keywords and the opcode family each stands for. */
const MNEMONICS = [
  'ldb', 'ldh', 'ld', 'ldi', 'ldx', 'ldxi', 'ldxb', 'st', 'stx', 'jmp', 'ja', 'jeq', 'jneq', 'jne', 'jlt', 'jle', 'jgt', 'jge',
  'jset', 'add', 'sub', 'mul', 'div', 'mod', 'neg', 'and', 'xor', 'or', 'lsh', 'rsh', 'ret', 'tax', 'txa',
] as const;
type Mnemonic = (typeof MNEMONICS)[number];
const MNEMONIC_SET: ReadonlySet<string> = new Set(MNEMONICS);

/** tools/bpf/bpf_exp.l: `"#"?name` extension keywords, value SKF_AD_* (vlan_pr and vlan_avail are the same). */
export const ASM_ANCILLARY: ReadonlyMap<string, number> = new Map([
  ['proto', 0],
  ['type', 4],
  ['poff', 52],
  ['ifidx', 8],
  ['nla', 12],
  ['nlan', 16],
  ['mark', 20],
  ['queue', 24],
  ['hatype', 28],
  ['rxhash', 32],
  ['cpu', 36],
  ['vlan_tci', 44],
  ['vlan_pr', 48],
  ['vlan_avail', 48],
  ['vlan_tpid', 60],
  ['rand', 56],
]);
/** The spelling the printer uses for each ancillary offset (filter.rst's names). */
const ASM_ANCILLARY_NAME = new Map<number, string>([...ASM_ANCILLARY].filter(([n]) => n !== 'vlan_pr').map(([n, ad]) => [ad, n]));

type Tok =
  | { t: 'op'; v: Mnemonic }
  | { t: 'len' }
  | { t: 'ext'; v: number }
  | { t: 'num'; v: number; text: string }
  | { t: 'label'; v: string }
  | { t: 'insn' } // .insn escape (not bpf_asm)
  | { t: 'punct'; v: string }; // one of : , # % [ ] ( ) x a + M * &

interface Token {
  readonly tok: Tok;
  readonly line: number;
  readonly column: number;
  readonly text: string;
}

type LexResult = { ok: true; tokens: Token[] } | { ok: false; error: ParseError };

const PUNCT = ':,#%[]()+*&';

/** tools/bpf/bpf_exp.l number rules: 0x hex (strtoul), 0b binary, decimal with sign (strtol), 0 octal. */
function lexNumber(s: string): { len: number; value: number | null } | null {
  const cands: [RegExp, (m: string) => number][] = [
    [/^0x[0-9a-f]+/i, (m) => bigParse(m.slice(2), 16)],
    [/^0b[01]+/i, (m) => bigParse(m.slice(2), 2)],
    [/^(?:0|[-+]?[1-9][0-9]*)/, (m) => (m[0] === '-' ? -bigParse(m.slice(1), 10) : bigParse(m.replace(/^\+/, ''), 10))],
    [/^0[0-7]+/, (m) => bigParse(m.slice(1), 8)],
  ];
  let best: { len: number; value: number | null } | null = null;
  for (const [re, val] of cands) {
    const m = re.exec(s);
    if (m && (best === null || m[0].length > best.len)) {
      const v = val(m[0]);
      best = { len: m[0].length, value: v >= -0x80000000 && v <= 0xffffffff ? v >>> 0 : null };
    }
  }
  return best;
}

function bigParse(digits: string, radix: number): number {
  const d = digits.replace(/^0+/, '');
  if (d.length > 40) return Infinity;
  return d === '' ? 0 : parseInt(d, radix);
}

const isWordChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** The end of the run of letters, digits and '_' (and a leading sign) from `pos`: how long a bad number really is. */
function alnumEnd(src: string, pos: number): number {
  let i = pos;
  if (src[i] === '-' || src[i] === '+') i++;
  while (i < src.length && isWordChar(src.charCodeAt(i))) i++;
  return i;
}

/** The `"#"?[a-z_][a-z0-9_]*` word at `pos` (keywords, extensions, labels), however long; or null. */
function wordAt(src: string, pos: number): [string] | null {
  let i = pos;
  if (src.charCodeAt(i) === 35) i++; // '#'
  const c = src.charCodeAt(i);
  if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95)) return null;
  i++;
  while (i < src.length && isWordChar(src.charCodeAt(i))) i++;
  return [src.slice(pos, i)];
}

/**
 * tools/bpf/bpf_exp.l as a function: the token list of a source text, or the first unknown character.
 * With `maxTokens`, stops after that many (format detection looks at the first two).
 */
export function lexBpfAsm(src: string, maxTokens = Infinity): LexResult {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const advance = (n: number): void => {
    for (let i = pos; i < pos + n; i++) {
      if (src.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    pos += n;
  };
  while (pos < src.length && tokens.length < maxTokens) {
    const column = pos - lineStart + 1;
    const c = src[pos]!;
    // Whitespace and comments: [ \t]+, [ \n]+, ";"[^\n]*, "/*"...*/", and ^#.* at the start of a line.
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      advance(1);
      continue;
    }
    if (c === ';') {
      const nl = src.indexOf('\n', pos);
      advance((nl < 0 ? src.length : nl) - pos);
      continue;
    }
    if (c === '#' && pos === lineStart) {
      const nl = src.indexOf('\n', pos);
      advance((nl < 0 ? src.length : nl) - pos);
      continue;
    }
    if (src.startsWith('/*', pos)) {
      // bpf_exp.l's comment rule "/*"([^\*]|\*[^/])*"*/" (so `/* **/` is not a comment, as in bpf_asm);
      // linear: the two alternatives start with different characters
      const m = /^\/\*(?:[^*]|\*[^/])*\*\//.exec(src.slice(pos));
      if (m) {
        advance(m[0].length);
        continue;
      }
      return { ok: false, error: { message: "unterminated comment '/*'", line, column } };
    }
    // Longest match among keyword, label and number rules; ties go to the earlier rule (keywords).
    const word = wordAt(src, pos);
    const d = src.charCodeAt(pos);
    // only a digit or a sign can start a number (the window bounds the longest number's regex work)
    const num = (d >= 48 && d <= 57) || d === 45 || d === 43 ? lexNumber(src.slice(pos, pos + 4096)) : null;
    if (word && (!num || word[0].length >= num.len)) {
      const w = word[0];
      const hash = w[0] === '#';
      const name = (hash ? w.slice(1) : w).toLowerCase();
      let tok: Tok | null = null;
      if (name === 'len') tok = { t: 'len' };
      else if (ASM_ANCILLARY.has(name)) tok = { t: 'ext', v: ASM_ANCILLARY.get(name)! };
      else if (!hash && MNEMONIC_SET.has(name)) tok = { t: 'op', v: name as Mnemonic };
      if (tok) {
        tokens.push({ tok, line, column, text: w });
        advance(w.length);
        continue;
      }
      if (hash) {
        tokens.push({ tok: { t: 'punct', v: '#' }, line, column, text: '#' });
        advance(1);
        continue;
      }
      if (w.length === 1) {
        const lc = w.toLowerCase();
        if (lc === 'x' || lc === 'a' || lc === 'm') {
          tokens.push({ tok: { t: 'punct', v: lc === 'm' ? 'M' : lc }, line, column, text: w });
          advance(1);
          continue;
        }
        return { ok: false, error: { message: `unknown character ${quote(w)} (labels have at least 2 characters)`, line, column } };
      }
      tokens.push({ tok: { t: 'label', v: w }, line, column, text: w });
      advance(w.length);
      continue;
    }
    if (num) {
      const text = src.slice(pos, pos + num.len);
      if (num.value === null) return { ok: false, error: { message: `number ${clip(src.slice(pos, alnumEnd(src, pos)))} does not fit in 32 bits`, line, column } };
      tokens.push({ tok: { t: 'num', v: num.value, text }, line, column, text });
      advance(num.len);
      continue;
    }
    if (PUNCT.includes(c)) {
      tokens.push({ tok: { t: 'punct', v: c }, line, column, text: c });
      advance(1);
      continue;
    }
    if (c === '.' && /^\.insn\b/i.test(src.slice(pos, pos + 6))) {
      tokens.push({ tok: { t: 'insn' }, line, column, text: '.insn' });
      advance(5);
      continue;
    }
    const shown = c === '\uFFFD' ? 'invalid UTF-8 byte' : c.charCodeAt(0) < 32 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c;
    return { ok: false, error: { message: `unknown character '${shown}'`, line, column } };
  }
  return { ok: true, tokens };
}

// ---------------------------------------------------------------------------------------------
// Parser: tools/bpf/bpf_exp.y (grammar actions, then bpf_stage_2_reduce_labels).

// Maps (a mnemonic is a user string: never an object's key)
const ALU: ReadonlyMap<string, number> = new Map(Object.entries({ add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, mod: 0x90, xor: 0xa0 }));
const JCOND: ReadonlyMap<string, number> = new Map(Object.entries({ jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40 }));
/** bpf_exp.y jneq/jlt/jle: the opcode they assemble to, with the single label as jf. */
const JPSEUDO: ReadonlyMap<string, number> = new Map(Object.entries({ jneq: 0x10, jne: 0x10, jlt: 0x30, jle: 0x20 }));

interface LabelRef {
  readonly name: string;
  readonly tok: Token;
}
interface Pending {
  readonly insn: SockFilter;
  readonly jt?: LabelRef;
  readonly jf?: LabelRef;
  readonly k?: LabelRef;
  readonly tok: Token;
}

class AsmSyntaxError {
  constructor(readonly error: ParseError) {}
}

/** tools/bpf/bpf_exp.y bpf_asm_compile: stage 1 (grammar) then stage 2 (labels), as a total function. */
export function parseBpfAsm(src: string): Parsed {
  const lexed = lexBpfAsm(src);
  if (!lexed.ok) return lexed;
  const toks = lexed.tokens;
  let i = 0;
  const pending: Pending[] = [];
  const labels = new Map<string, { pc: number; tok: Token }>();
  const endTok = (): Token => {
    const last = toks[toks.length - 1];
    return last ? { ...last, column: last.column + last.text.length } : { tok: { t: 'punct', v: '' }, line: 1, column: 1, text: '' };
  };
  const err = (message: string, at?: Token): AsmSyntaxError => {
    const t = at ?? toks[i] ?? endTok();
    return new AsmSyntaxError({ message, line: t.line, column: t.column, insn: pending.length });
  };
  const peek = (): Token | undefined => toks[i];
  const isP = (t: Token | undefined, v: string): boolean => t !== undefined && t.tok.t === 'punct' && t.tok.v === v;
  const show = (t: Token | undefined): string => (t === undefined ? 'end of input' : quote(t.text));
  const punct = (v: string, what?: string): Token => {
    const t = peek();
    if (!isP(t, v)) throw err(`expected '${v}'${what ? ` ${what}` : ''}, found ${show(t)}`);
    i++;
    return t!;
  };
  const number = (what: string): number => {
    const t = peek();
    if (t === undefined || t.tok.t !== 'num') throw err(`expected ${what}, found ${show(t)}`);
    i++;
    return t.tok.v;
  };
  const label = (): LabelRef => {
    const t = peek();
    if (t === undefined || t.tok.t !== 'label') throw err(`expected a label, found ${show(t)}`);
    i++;
    return { name: t.tok.v, tok: t };
  };
  /** 'x' or '%' 'x' */
  const optX = (): boolean => {
    if (isP(peek(), 'x')) {
      i++;
      return true;
    }
    if (isP(peek(), '%') && isP(toks[i + 1], 'x')) {
      i += 2;
      return true;
    }
    return false;
  };
  /** '[' 'x' '+' number ']' | '[' '%' 'x' '+' number ']' | '[' number ']' after the '['. */
  const bracket = (): { ind: boolean; k: number } => {
    if (optX()) {
      const t = peek();
      // Leniency: "[x+4]" lexes as 'x' number(+4) in flex; accept it as "x + 4".
      if (t !== undefined && t.tok.t === 'num' && t.text[0] === '+') {
        i++;
        punct(']');
        return { ind: true, k: t.tok.v };
      }
      punct('+', "after 'x'");
      const k = number('an offset');
      punct(']');
      return { ind: true, k };
    }
    const k = number("an offset or 'x + offset'");
    punct(']');
    return { ind: false, k };
  };
  /** number '*' '(' '[' number ']' '&' number ')' of ldx/ldxb, checked as bpf_exp.y does (4 and 0xf only). */
  const msh = (): number => {
    const four = peek();
    const m = number("'4*([k]&0xf)'");
    punct('*');
    punct('(');
    punct('[');
    const k = number('an offset');
    punct(']');
    punct('&');
    const mask = number('0xf');
    punct(')');
    if (m !== 4 || mask !== 0xf) throw err('ldxb offset not supported! (only 4*([k]&0xf))', four);
    return k;
  };
  const mem = (): number => {
    punct('M', "('M[k]')");
    punct('[');
    const k = number('a scratch slot');
    punct(']');
    return k;
  };
  const imm = (hashOptional: boolean): number => {
    if (isP(peek(), '#')) i++;
    else if (!hashOptional) throw err(`expected '#k', found ${show(peek())}`);
    return number('an immediate value');
  };

  const instr = (opTok: Token, op: Mnemonic): Pending => {
    const at = opTok;
    const mk = (code: number, k = 0, refs: Partial<Pick<Pending, 'jt' | 'jf' | 'k'>> = {}): Pending => ({
      insn: { code, jt: 0, jf: 0, k: k >>> 0 },
      tok: at,
      ...refs,
    });
    const t = peek();
    switch (op) {
      case 'ldb':
      case 'ldh':
      case 'ld': {
        const size = op === 'ldb' ? 0x10 : op === 'ldh' ? 0x08 : 0x00;
        if (t?.tok.t === 'ext') {
          i++;
          return mk(0x20 | size, SKF_AD_OFF + t.tok.v);
        }
        if (isP(t, '[')) {
          i++;
          const b = bracket();
          return mk((b.ind ? 0x40 : 0x20) | size, b.k);
        }
        if (op === 'ld') {
          if (t?.tok.t === 'len') {
            i++;
            return mk(0x80);
          }
          if (isP(t, 'M')) return mk(0x60, mem());
          if (isP(t, '#')) return mk(0x00, imm(false));
        }
        throw err(`bad operand ${show(t)} for '${op}'`);
      }
      case 'ldi':
        return mk(0x00, imm(true));
      case 'ldxi':
        return mk(0x01, imm(true));
      case 'ldx':
        if (t?.tok.t === 'len') {
          i++;
          return mk(0x81);
        }
        if (isP(t, 'M')) return mk(0x61, mem());
        if (isP(t, '#')) return mk(0x01, imm(false));
        if (t?.tok.t === 'num') return mk(0xb1, msh());
        throw err(`bad operand ${show(t)} for 'ldx'`);
      case 'ldxb':
        return mk(0xb1, msh());
      case 'st':
        return mk(0x02, mem());
      case 'stx':
        return mk(0x03, mem());
      case 'jmp':
      case 'ja':
        return mk(0x05, 0, { k: label() });
      case 'jeq':
      case 'jgt':
      case 'jge':
      case 'jset':
      case 'jneq':
      case 'jne':
      case 'jlt':
      case 'jle': {
        const pseudo = JPSEUDO.get(op);
        const jop = pseudo ?? JCOND.get(op)!;
        let code: number;
        let k = 0;
        if (optX()) code = 0x05 | jop | 0x08;
        else if (isP(peek(), '#')) {
          i++;
          code = 0x05 | jop;
          k = number('a value to compare with');
        } else throw err(`bad operand ${show(t)} for '${op}': expected '#k' or 'x'`);
        punct(',', 'before the jump label');
        const first = label();
        if (pseudo !== undefined) return mk(code, k, { jf: first });
        if (isP(peek(), ',')) {
          i++;
          return mk(code, k, { jt: first, jf: label() });
        }
        return mk(code, k, { jt: first });
      }
      case 'neg':
        return mk(0x84);
      case 'tax':
        return mk(0x07);
      case 'txa':
        return mk(0x87);
      case 'ret':
        if (isP(t, 'a') || (isP(t, '%') && isP(toks[i + 1], 'a'))) {
          i += isP(t, 'a') ? 1 : 2;
          return mk(0x16);
        }
        if (optX()) return mk(0x0e);
        if (isP(t, '#')) return mk(0x06, imm(false));
        throw err(`bad operand ${show(t)} for 'ret': expected '#k', 'a' or 'x'`);
      default: {
        // add sub mul div mod and or xor lsh rsh
        const aop = ALU.get(op)!;
        if (optX()) return mk(0x04 | aop | 0x08);
        if (isP(t, '#')) return mk(0x04 | aop, imm(false));
        throw err(`bad operand ${show(t)} for '${op}': expected '#k' or 'x'`);
      }
    }
  };

  /** `.insn code, jt, jf, k`: the raw escape. */
  const rawInsn = (at: Token): Pending => {
    const fields: number[] = [];
    for (const [n, [what, max]] of ([['code', 0xffff], ['jt', 0xff], ['jf', 0xff], ['k', 0xffffffff]] as const).entries()) {
      if (n > 0) punct(',', `before ${what}`);
      const t = peek();
      const v = number(what);
      if (v > max) throw err(`.insn ${what} ${t!.text} is out of range (max ${max})`, t);
      fields.push(v);
    }
    return { insn: { code: fields[0]!, jt: fields[1]!, jf: fields[2]!, k: fields[3]! }, tok: at };
  };

  try {
    while (i < toks.length) {
      // labelled: label ':' (bpf_asm allows one per instruction; we allow several)
      while (peek()?.tok.t === 'label' && isP(toks[i + 1], ':')) {
        const t = toks[i]!;
        const name = (t.tok as { v: string }).v;
        const prev = labels.get(name);
        if (prev) throw err(`duplicate label ${quote(name)} (first defined at line ${prev.tok.line})`, t);
        labels.set(name, { pc: pending.length, tok: t });
        i += 2;
      }
      const t = peek();
      if (t === undefined) throw err('expected an instruction after the label', toks[i - 2]);
      i++;
      if (t.tok.t === 'op') pending.push(instr(t, t.tok.v));
      else if (t.tok.t === 'insn') pending.push(rawInsn(t));
      else if (t.tok.t === 'label') throw err(`unknown mnemonic ${quote(t.text)}`, t);
      else throw err(`expected an instruction, found ${show(t)}`, t);
    }
    // bpf_stage_2_reduce_labels: k of ja, then jt, then jf.
    const prog: SockFilter[] = [];
    for (const [pc, p] of pending.entries()) {
      const find = (ref: LabelRef): number => {
        const l = labels.get(ref.name);
        if (!l) throw new AsmSyntaxError({ message: `no such label ${quote(ref.name)}`, line: ref.tok.line, column: ref.tok.column, insn: pc });
        return l.pc;
      };
      // bpf_encode_jt_jf_offset: delta = off - i - 1 must be 0..255.
      const rel = (ref: LabelRef, field: 'jt' | 'jf'): number => {
        const off = find(ref);
        const delta = off - pc - 1;
        if (delta < 0 || delta > 255)
          throw new AsmSyntaxError({
            message: `${field} label ${quote(ref.name)} is insn ${off}, ${delta} insns after insn ${pc + 1}: out of range (0..255)`,
            line: ref.tok.line,
            column: ref.tok.column,
            insn: pc,
          });
        return delta;
      };
      prog.push({
        code: p.insn.code,
        jt: p.jt ? rel(p.jt, 'jt') : p.insn.jt,
        jf: p.jf ? rel(p.jf, 'jf') : p.insn.jf,
        // bpf_reduce_k_jumps: (uint32_t)(off - i - 1), unchecked, so backward ja wraps.
        k: p.k ? (find(p.k) - pc - 1) >>> 0 : p.insn.k,
      });
    }
    return { ok: true, prog };
  } catch (e) {
    if (e instanceof AsmSyntaxError) return { ok: false, error: e.error };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Printer.

const ALU_NAME = new Map([...ALU].map(([n, v]) => [v, n]));
const JCOND_NAME = new Map([...JCOND].map(([n, v]) => [v, n]));
/** The one-label pseudo form for a condition whose jt is 0 (jeq -> jneq, jge -> jlt, jgt -> jle). */
const JPSEUDO_NAME = new Map([
  [0x10, 'jneq'],
  [0x30, 'jlt'],
  [0x20, 'jle'],
]);

const dec = (k: number): string => String(k >>> 0);
const hx = (k: number): string => `0x${(k >>> 0).toString(16)}`;

/** Where the jumps of an instruction go (absolute pcs), or null when the instruction is not a jump. */
function targets(insn: SockFilter, pc: number): { jt?: number; jf?: number; ja?: number } | null {
  if (insn.code === 0x05) return { ja: (pc + 1 + insn.k) % 2 ** 32 };
  if (JCOND_NAME.has(insn.code & 0xf0) && (insn.code & ~0xf8) === 0x05) return { jt: pc + 1 + insn.jt, jf: pc + 1 + insn.jf };
  return null;
}

/** The bpf_asm text of one instruction (labels named l<pc>, each added to refs), or null when it needs the .insn escape. */
function asmText(insn: SockFilter, pc: number, n: number, refs: Set<number> = new Set()): string | null {
  const { code, jt, jf, k } = insn;
  const lbl = (t: number): string => (refs.add(t), `l${t}`);
  const t = targets(insn, pc);
  if (t) {
    if (t.ja !== undefined) return jt === 0 && jf === 0 && t.ja < n ? `ja ${lbl(t.ja)}` : null;
    if (t.jt! >= n || t.jf! >= n) return null;
    const isX = (code & 0x08) !== 0;
    if (isX && k !== 0) return null;
    const operand = isX ? 'x' : `#${hx(k)}`;
    const cond = code & 0xf0;
    if (jf === 0) return `${JCOND_NAME.get(cond)} ${operand}, ${lbl(t.jt!)}`;
    if (jt === 0 && JPSEUDO_NAME.has(cond)) return `${JPSEUDO_NAME.get(cond)} ${operand}, ${lbl(t.jf!)}`;
    return `${JCOND_NAME.get(cond)} ${operand}, ${lbl(t.jt!)}, ${lbl(t.jf!)}`;
  }
  if (jt !== 0 || jf !== 0) return null;
  const abs = (op: string): string => {
    const ad = (k - (SKF_AD_OFF >>> 0)) >>> 0;
    const name = ad < 64 ? ASM_ANCILLARY_NAME.get(ad) : undefined;
    return name !== undefined ? `${op} #${name}` : `${op} [${dec(k)}]`;
  };
  const noK = (s: string): string | null => (k === 0 ? s : null);
  switch (code) {
    case 0x00: return `ld #${hx(k)}`;
    case 0x01: return `ldx #${hx(k)}`;
    case 0x20: return abs('ld');
    case 0x28: return abs('ldh');
    case 0x30: return abs('ldb');
    case 0x40: return `ld [x + ${dec(k)}]`;
    case 0x48: return `ldh [x + ${dec(k)}]`;
    case 0x50: return `ldb [x + ${dec(k)}]`;
    case 0x60: return `ld M[${dec(k)}]`;
    case 0x61: return `ldx M[${dec(k)}]`;
    case 0x80: return noK('ld #len');
    case 0x81: return noK('ldx #len');
    case 0xb1: return `ldxb 4*([${dec(k)}]&0xf)`;
    case 0x02: return `st M[${dec(k)}]`;
    case 0x03: return `stx M[${dec(k)}]`;
    case 0x84: return noK('neg');
    case 0x07: return noK('tax');
    case 0x87: return noK('txa');
    case 0x06: return `ret #${dec(k)}`;
    case 0x0e: return noK('ret x');
    case 0x16: return noK('ret a');
  }
  const op = ALU_NAME.get(code & 0xf0);
  if ((code & 0x07) === 0x04 && op !== undefined && (code & ~0xf8) === 0x04) {
    if (code & 0x08) return noK(`${op} x`);
    return op === 'and' || op === 'or' || op === 'xor' ? `${op} #${hx(k)}` : `${op} #${dec(k)}`;
  }
  return null;
}

/** The lossless escape for an instruction bpf_asm cannot write. */
const escape = (insn: SockFilter): string => `.insn ${hx(insn.code)}, ${insn.jt}, ${insn.jf}, ${hx(insn.k)}`;

/** Print a program as bpf_asm source: one instruction per line, `l<pc>: ` before each jump target. */
export function printBpfAsm(prog: Program): string {
  const n = prog.length;
  const targeted = new Set<number>();
  const texts = prog.map((insn, pc) => (assertInsn(insn, pc), asmText(insn, pc, n, targeted)));
  return prog.map((insn, pc) => `${targeted.has(pc) ? `l${pc}: ` : ''}${texts[pc] ?? escape(insn)}\n`).join('');
}

/** The first instruction printBpfAsm has to write with the `.insn` escape (so real bpf_asm cannot read it), or null. */
export function checkBpfAsmExpressible(prog: Program): ParseError | null {
  for (const [pc, insn] of prog.entries()) {
    if (asmText(insn, pc, prog.length) === null)
      return {
        message: `insn ${pc} { code ${hx(insn.code)}, jt ${insn.jt}, jf ${insn.jf}, k ${hx(insn.k)} } has no bpf_asm form (printed as '${escape(insn)}')`,
        insn: pc,
      };
  }
  return null;
}

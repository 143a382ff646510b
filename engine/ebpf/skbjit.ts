// The engine's compiled kernel path: an SkbProgram (./skbprog.ts) translated once into a JavaScript
// function of the skb, with the registers and the stack words in locals, every field and packet
// read inline, and a load followed by its byte swap (ld_abs's `LDX; ENDIAN TO_BE`) read big-endian
// in one step. It must equal SkbVm.run, and so model/attach.ts KernelRunner.run, on every skb: the
// same result, or BAIL where the spec would fault (test/engine).
import { aluDivMod, STACK_POISON } from '../../model/ebpf/interp.js';
import { HELPER_FUNCS, type HelperEnv } from '../../model/ebpf/helpers.js';
import { arsh64, lsh64, mul64, neg64, rsh64, swab16, swab32, swab64, type Regs } from '../../model/ebpf/alu64.js';
import { NLATTR_OOB } from '../../model/variants.js';
import type { SkBuff } from '../../model/skb.js';
import { cond32, cond64, emitAlu } from './jit.js';
import {
  BAIL,
  ctxField,
  dataLoad,
  F_DATA_LEN,
  F_DATA_PTR,
  F_DEV_PTR,
  F_DEV_TYPE,
  F_IFINDEX,
  F_LEN,
  OP_BAIL,
  OP_LD_CTX,
  OP_LD_DATA,
  OP_LD_DEV,
  OP_LD_STACK,
  OP_ST_STACK,
  type SkbProgram,
} from './skbprog.js';

/** What the generated code calls. */
export interface SkbRuntime {
  /** the helpers' view (skb, config, cpu, prandom state), set by the caller before each run */
  readonly env: HelperEnv;
  readonly helpers: typeof HELPER_FUNCS;
  readonly ctxField: typeof ctxField;
  readonly dataLoad: typeof dataLoad;
  readonly swab16: typeof swab16;
  readonly swab32: typeof swab32;
  /** a scratch register file for the 64-bit helpers of model/ebpf/alu64.ts */
  readonly r: Regs;
  readonly mul64: typeof mul64;
  readonly lsh64: typeof lsh64;
  readonly rsh64: typeof rsh64;
  readonly arsh64: typeof arsh64;
  readonly neg64: typeof neg64;
  readonly swab64: typeof swab64;
  readonly divmod: typeof aluDivMod;
  readonly oob: number;
  readonly le: boolean;
}

/** A compiled SkbProgram: (skb, runtime) -> u32 result, or BAIL. */
export type SkbFilterFn = (skb: SkBuff, rt: SkbRuntime) => number;

export function newSkbRuntime(env: HelperEnv): SkbRuntime {
  return {
    env,
    helpers: HELPER_FUNCS,
    ctxField,
    dataLoad,
    swab16,
    swab32,
    r: new Uint32Array(32),
    mul64,
    lsh64,
    rsh64,
    arsh64,
    neg64,
    swab64,
    divmod: aluDivMod,
    oob: NLATTR_OOB,
    le: env.config.littleEndian,
  };
}

/** The big-endian read expression of `size` bytes at d[pos] (pos >= 0, in bounds). */
const beRead = (size: number): string =>
  size === 1 ? 'd[pos]' : size === 2 ? '((d[pos] << 8) | d[pos + 1])' : '(((d[pos] << 24) | (d[pos + 1] << 16) | (d[pos + 2] << 8) | d[pos + 3]) >>> 0)';
/** The little-endian read expression. */
const leRead = (size: number): string =>
  size === 1 ? 'd[pos]' : size === 2 ? '(d[pos] | (d[pos + 1] << 8))' : '((d[pos] | (d[pos + 1] << 8) | (d[pos + 2] << 16) | (d[pos + 3] << 24)) >>> 0)';

/** The JS body of an SkbProgram (see the file header), or why it is not compiled. */
export function skbJsSource(p: SkbProgram): { source: string } | { reason: string } {
  const len = p.len;
  const targets = new Set<number>();
  for (let pc = 0; pc < len; pc++) {
    const c = p.code[pc]!;
    if (c === 0x18) {
      pc++;
      continue;
    }
    const cls = c & 0x07;
    if (c <= 0xff && (cls === 0x05 || cls === 0x06) && c !== 0x85 && c !== 0x95) targets.add(pc + 1 + (c === 0x06 ? p.imm[pc]! : p.off[pc]!));
  }
  const stackWords = new Set<number>();
  for (let pc = 0; pc < len; pc++) if (p.code[pc] === OP_LD_STACK || p.code[pc] === OP_ST_STACK) stackWords.add(p.aux[pc]!);
  const L = (w: number): string => `l${w >> 1}`;
  const H = (w: number): string => `h${w >> 1}`;
  const lines: string[] = [];
  const regs = Array.from({ length: 11 }, (_, r) => `l${r} = 0, h${r} = 0`).join(', ');
  const poison = (STACK_POISON * 0x01010101) >>> 0;
  lines.push(`let ${regs}, v = 0, w = 0, pos = 0, st = 0;`);
  if (stackWords.size > 0) lines.push(`let ${[...stackWords].map((x) => `s${x} = ${poison}`).join(', ')};`);
  lines.push('const d = skb.data, headlen = skb.headlen, hr = skb.headroom.length, r = rt.r;');
  const inside = [...targets].filter((t) => t < len).sort((a, b) => b - a);
  lines.push(inside.map((t) => `L${t}: {`).join(' '));
  const open = new Set(inside);
  const jump = (from: number, t: number): string => (t >= len ? 'return -1;' : t === from + 1 ? '' : `break L${t};`);
  for (let pc = 0; pc < len; pc++) {
    if (open.has(pc)) lines.push(`} // L${pc}`);
    const c = p.code[pc]!;
    const d = 2 * p.dst[pc]!;
    const s = 2 * p.src[pc]!;
    const off = p.off[pc]!;
    const imm = p.imm[pc]!;
    const immU = imm >>> 0;
    const immHi = (imm >> 31) >>> 0;
    const dl = L(d);
    const dh = H(d);
    const sl = L(s);
    const sh = H(s);
    const z = `${dh} = 0;`;
    const viaR = (call: string): string => `r[0] = ${dl}; r[1] = ${dh}; ${call} ${dl} = r[0]; ${dh} = r[1];`;
    let stmt = emitAlu(c, d, s, off, imm, 0, viaR);
    if (stmt !== null) {
      lines.push(stmt);
      continue;
    }
    switch (c) {
      case OP_LD_CTX: {
        const f = p.aux[pc]!;
        const e =
          f === F_LEN
            ? 'd.length'
            : f === F_DATA_LEN
              ? '(d.length - headlen)'
              : f === F_DATA_PTR
                ? '0'
                : f === F_DEV_PTR
                  ? '(skb.dev === null ? 0 : 1)'
                  : `rt.ctxField(skb, ${f}, rt.le)`;
        stmt = `${dl} = ${e}; ${z}`;
        break;
      }
      case OP_LD_DATA: {
        const size = p.aux[pc]!;
        // a load followed by its byte swap on the same register (ld_abs): read big-endian at once
        const next = pc + 1 < len && !open.has(pc + 1) ? p.code[pc + 1]! : -1;
        const fuse = size > 1 && next === 0xdc && 2 * p.dst[pc + 1]! === d && p.imm[pc + 1] === size * 8;
        const where = `pos = (${sh} === 0 ? ${sl} : ${sh} === 0xffffffff ? ${sl} - 4294967296 : NaN) + ${off}; if (!(pos >= -hr && pos + ${size} <= headlen)) return -1;`;
        const slow = fuse ? `rt.${size === 2 ? 'swab16' : 'swab32'}(rt.dataLoad(skb, pos, ${size}))` : `rt.dataLoad(skb, pos, ${size})`;
        stmt = `${where} ${dl} = pos >= 0 ? ${fuse ? beRead(size) : leRead(size)} : ${slow}; ${z}`;
        if (fuse) {
          lines.push(stmt);
          pc++;
          continue;
        }
        break;
      }
      case OP_LD_STACK:
        stmt = `${dl} = s${p.aux[pc]!}; ${z}`;
        break;
      case OP_ST_STACK:
        stmt = `s${p.aux[pc]!} = ${sl};`;
        break;
      case OP_LD_DEV:
        stmt = `if (skb.dev === null) return -1; ${dl} = ${p.aux[pc] === F_IFINDEX ? 'skb.dev.ifindex >>> 0' : p.aux[pc] === F_DEV_TYPE ? 'skb.dev.type & 0xffff' : 'NaN'}; ${z}`;
        break;
      case OP_BAIL:
        stmt = 'return -1;';
        break;
      case 0x18:
        stmt = `${dl} = ${immU}; ${dh} = ${p.imm[pc + 1]! >>> 0};`;
        lines.push(stmt);
        pc++;
        continue;
      case 0x3f: case 0x37: case 0x9f: case 0x97: case 0x3c: case 0x34: case 0x9c: case 0x94: // prettier-ignore
        stmt = `r[0] = ${dl}; r[1] = ${dh}; r[2] = ${sl}; r[3] = ${sh}; st = rt.divmod(r, ${c}, 0, 2, ${off}, ${imm}); if (st !== 0) return -1; ${dl} = r[0]; ${dh} = r[1];`;
        break;
      case 0x85: {
        const call = `v = rt.helpers[${imm}](rt.env, l2, l3, l4); if (v === rt.oob) return -1; l0 = v >>> 0; h0 = v < 0 ? 0xffffffff : Math.floor(v / 4294967296) >>> 0;`;
        // bpf_skb_load_helper_{8,16,32} (model/ebpf/helpers.ts bpfSkbLoadHelper), its first branch
        // inline: a non-negative offset with `headlen - offset >= len` reads the linear data, big-endian
        const size = imm === 1 ? 1 : imm === 2 ? 2 : imm === 3 ? 4 : 0;
        stmt = size === 0 ? call : `pos = l4 | 0; if (pos >= 0 && ((l3 - pos) | 0) >= ${size}) { l0 = ${beRead(size)}; h0 = 0; } else { ${call} }`;
        break;
      }
      case 0x95:
        stmt = 'return l0;';
        break;
      case 0x05:
        stmt = jump(pc, pc + 1 + off);
        break;
      case 0x06:
        stmt = jump(pc, pc + 1 + imm);
        break;
      default: {
        const cls = c & 0x07;
        const op = c & 0xf0;
        const x = (c & 0x08) !== 0;
        let cond: string | null = null;
        if (cls === 0x05) cond = cond64(op, dl, dh, x ? sl : String(immU), x ? sh : String(immHi), x ? `(${sh} | 0)` : String(imm >> 31));
        else if (cls === 0x06) cond = cond32(op, dl, x ? sl : String(immU));
        if (cond === null) return { reason: `opcode 0x${c.toString(16)} at ${pc}` };
        const t = jump(pc, pc + 1 + off);
        stmt = t === '' ? '' : `if (${cond}) { ${t} }`;
      }
    }
    lines.push(stmt);
  }
  lines.push('return -1;');
  return { source: lines.join('\n') };
}

/** Compile an SkbProgram (null when it is not compiled: run it on SkbVm). */
export function compileSkbProgram(p: SkbProgram): SkbFilterFn | null {
  const src = skbJsSource(p);
  if ('reason' in src) return null;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('skb', 'rt', `"use strict";\n${src.source}`) as SkbFilterFn;
}

export { BAIL };

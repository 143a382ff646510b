// The memory the eBPF interpreter reads and writes: a flat 64-bit address space made of regions.
//
// In the kernel, ___bpf_prog_run dereferences raw kernel pointers (`*(SIZE *)(unsigned long)(SRC + off)`,
// kernel/bpf/core.c LDST) and trusts the verifier, or check_load_and_stores for classic programs, to keep
// them in bounds. The model gives every object the program can reach a region with a fixed address, and
// turns any access outside them into a Fault value instead of a crash.
//
// ADDRESS REPRESENTATION (stable interface; other modules build pointers with it)
//   A pointer is a 64-bit value held as two u32 halves (hi, lo), exactly as the interpreter's registers
//   hold it. Region number `id` (0 .. MAX_REGIONS-1) owns the hi word REGION_HI_BASE + id
//   (0xffff8880 + id, a direct-map-looking kernel address) and its bytes sit at
//   lo = region.start .. region.start + region.size - 1, with REGION_LO_BASE = 0x40000000 <= start and
//   start + capacity <= 0x80000000. So an s16 offset (or any offset below 1 GiB) from a pointer into a
//   region never changes the hi word, and everything around a region in the same hi word is unmapped.
//   Region 0 is always the stack: its END is fixed at STACK_END_LO (FP = R10 points there) and its start
//   moves down with the stack size of the interpreter variant chosen (interpreters[], core.c:2223).
//
// ACCESS RULES (each violation is a Fault; see FaultKind)
//   - the hi word names no region, or the bytes [lo, lo+size) are not all inside the region's current
//     extent (this includes an access that crosses the region's end, and a stack access below
//     FP - stackSize): 'unmapped' / 'out-of-bounds';
//   - a store or atomic to a region that is not writable: 'read-only';
//   - loads and stores of 1, 2, 4 and 8 bytes, little-endian (x86-64), any alignment (x86 allows it).
//
// REUSE: regions are created once with a capacity and refilled per run; `setBytes` copies into the
// preallocated buffer and `resize` + `bytes()` let a caller fill it in place. Nothing is allocated per access.

/** hi word of region 0; region id i lives at hi = REGION_HI_BASE + i */
export const REGION_HI_BASE = 0xffff8880;
/** lowest lo word of any region's bytes */
export const REGION_LO_BASE = 0x40000000;
/** a region's capacity limit (keeps start + capacity below 0x80000000) */
export const MAX_REGION_CAPACITY = 0x40000000;
export const MAX_REGIONS = 64;
/** lo word one past the stack's last byte: FP = (REGION_HI_BASE, STACK_END_LO) */
export const STACK_END_LO = 0x7ffff000;
/** The stack region's id. */
export const STACK_REGION_ID = 0;

/** What went wrong, where; a value, never an exception. */
export type FaultKind =
  /** load/store at an address whose hi word is no region (a NULL or garbage pointer in the kernel) */
  | 'unmapped'
  /** load/store in a region's hi word but outside its current bytes (includes below FP - stack size) */
  | 'out-of-bounds'
  /** store or atomic to a read-only region */
  | 'read-only'
  /** DIV/MOD by zero: an x86 #DE trap in the kernel (the interpreter has no check) */
  | 'div-by-zero'
  /** S64_MIN / -1 in div64_s64: an x86 #DE trap */
  | 'div-overflow'
  /** default_label: unknown opcode, or atomic with an unknown imm; pr_warn + BUG_ON(1) (core.c) */
  | 'bug'
  /** a register field >= MAX_BPF_EXT_REG (12): the C indexes past regs[] */
  | 'bad-register'
  /** pc left the program (a jump out of range, or falling off the end): the kernel runs whatever follows */
  | 'pc-out-of-range'
  /** the model's step budget ran out (a bound on every run; the kernel has none) */
  | 'step-budget'
  /** CALL of an imm with no helper in the table (the kernel would jump to __bpf_call_base + imm) */
  | 'unknown-helper'
  /** a helper reported a fault of its own */
  | 'helper'
  /** an internal opcode the model does not execute (JMP_CALL_ARGS, JMP_TAIL_CALL) */
  | 'unsupported';

export interface Fault {
  readonly kind: FaultKind;
  /** the instruction index (insnsi[] slot) that faulted, or -1 when not tied to one */
  readonly pc: number;
  /** the 64-bit address of a memory fault, else null */
  readonly addr: bigint | null;
  /** bytes accessed (memory faults), else 0 */
  readonly size: number;
  /** name of the region the address fell in (by hi word), else null */
  readonly region: string | null;
  readonly write: boolean;
  /** human-readable detail, e.g. the kernel's pr_warn text */
  readonly detail: string;
}

export const makeFault = (kind: FaultKind, pc: number, detail: string, extra: Partial<Fault> = {}): Fault => ({
  kind,
  pc,
  addr: null,
  size: 0,
  region: null,
  write: false,
  detail,
  ...extra,
});

/** 64-bit pointer from its halves. */
export const ptr64 = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
/** The halves of a 64-bit value (u64 or s64 bigint). */
export const split64 = (v: bigint): { hi: number; lo: number } => {
  const u = BigInt.asUintN(64, v);
  return { hi: Number(u >> 32n), lo: Number(u & 0xffffffffn) };
};

/** Status codes of Memory.check/load/store (0 = ok). */
export const MEM_OK = 0;
export const MEM_UNMAPPED = 1;
export const MEM_OUT_OF_BOUNDS = 2;
export const MEM_READ_ONLY = 3;
const STATUS_KIND: readonly FaultKind[] = ['unmapped', 'unmapped', 'out-of-bounds', 'read-only'];

/** One object the program can address. */
export class Region {
  readonly id: number;
  readonly name: string;
  /** the hi word of every address in this region */
  readonly hi: number;
  /** bytes of the backing buffer (fixed, except through rebind) */
  capacity: number;
  writable: boolean;
  /** the backing bytes (capacity long); the live bytes are buf[bufOff, bufOff + size) */
  buf: Uint8Array;
  dv: DataView;
  /** lo word of the first live byte */
  start: number;
  /** live size in bytes */
  size: number;
  /** offset in buf of the first live byte */
  bufOff: number;
  /** true when the region grows downwards from a fixed end (the stack) */
  readonly endAnchored: boolean;

  constructor(id: number, name: string, capacity: number, writable: boolean, endAnchored: boolean) {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_REGION_CAPACITY)
      throw new RangeError(`region ${name}: capacity ${capacity} outside 0..${MAX_REGION_CAPACITY}`);
    this.id = id;
    this.name = name;
    this.hi = (REGION_HI_BASE + id) >>> 0;
    this.capacity = capacity;
    this.writable = writable;
    this.buf = new Uint8Array(capacity);
    this.dv = new DataView(this.buf.buffer);
    this.endAnchored = endAnchored;
    this.size = endAnchored ? capacity : 0;
    this.bufOff = 0;
    this.start = endAnchored ? STACK_END_LO - capacity : REGION_LO_BASE;
  }

  /** Set the live size (0..capacity); the bytes keep whatever the buffer held. Cheap. */
  resize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.capacity)
      throw new RangeError(`region ${this.name}: size ${size} outside 0..${this.capacity}`);
    this.size = size;
    if (this.endAnchored) {
      this.bufOff = this.capacity - size;
      this.start = STACK_END_LO - size;
    }
  }

  /**
   * Back the region by another buffer (whose DataView is `dv`) holding `size` live bytes from its
   * start; the region keeps its id and addresses. For a caller that keeps a laid-out image per
   * object and swaps it in instead of copying (KernelRunner's image cache). Not for the stack.
   */
  rebind(buf: Uint8Array, dv: DataView, size: number): void {
    // Cheap checks only (this runs once per run): the caller pairs buf with its own DataView.
    if (this.endAnchored || buf.length > MAX_REGION_CAPACITY || !(size >= 0 && size <= buf.length))
      throw new RangeError(`region ${this.name}: cannot rebind to ${size} of ${buf.length} bytes`);
    this.buf = buf;
    this.dv = dv;
    this.capacity = buf.length;
    this.size = size;
  }

  /** Copy `bytes` in as the region's whole content (size = bytes.length). */
  setBytes(bytes: Uint8Array): void {
    this.resize(bytes.length);
    this.buf.set(bytes, this.bufOff);
  }

  /** The live bytes (a view, not a copy: writes through it are seen by the program). */
  bytes(): Uint8Array {
    return this.buf.subarray(this.bufOff, this.bufOff + this.size);
  }

  /** lo word of the address of live byte `offset` (offset may be past the end: pointers may point anywhere). */
  lo(offset = 0): number {
    return (this.start + offset) >>> 0;
  }

  /** 64-bit address of live byte `offset`. */
  addr(offset = 0): bigint {
    return ptr64(this.hi, this.start + offset);
  }

  /** lo word one past the last live byte. */
  endLo(): number {
    return (this.start + this.size) >>> 0;
  }
}

/** The address space: region 0 is the stack, the rest are added by the caller. */
export class Memory {
  private readonly byHi: (Region | undefined)[] = new Array<Region | undefined>(MAX_REGIONS).fill(undefined);
  private readonly byName = new Map<string, Region>();
  /** the stack (region 0), MAX_BPF_STACK bytes of capacity, end-anchored at STACK_END_LO */
  readonly stack: Region;

  // Results of the last check/load (no allocation per access).
  /** region of the last successful check */
  cur: Region | null = null;
  /** index into cur.buf of the last successful check */
  idx = 0;
  /** loaded value, low and high words (high is 0 for sizes < 8) */
  valLo = 0;
  valHi = 0;

  constructor(stackCapacity = 512) {
    this.stack = new Region(STACK_REGION_ID, 'stack', stackCapacity, true, true);
    this.byHi[STACK_REGION_ID] = this.stack;
    this.byName.set('stack', this.stack);
  }

  /** Add a region with a fixed capacity (size starts at 0; use setBytes or resize). */
  addRegion(name: string, capacity: number, writable: boolean): Region {
    if (this.byName.has(name)) throw new Error(`region ${name} already exists`);
    const id = this.byHi.indexOf(undefined);
    if (id < 0) throw new Error(`too many regions (max ${MAX_REGIONS})`);
    const r = new Region(id, name, capacity, writable, false);
    this.byHi[id] = r;
    this.byName.set(name, r);
    return r;
  }

  region(name: string): Region | undefined {
    return this.byName.get(name);
  }

  /** Every region, by id. */
  regions(): Region[] {
    return this.byHi.filter((r): r is Region => r !== undefined);
  }

  /** The region whose hi word this is (the address need not be inside it). */
  regionOf(hi: number): Region | undefined {
    const id = ((hi >>> 0) - REGION_HI_BASE) >>> 0;
    return id < MAX_REGIONS ? this.byHi[id] : undefined;
  }

  /** Choose the live stack size (the interpreter variant's `u64 stack[size/8]`). */
  setStackSize(size: number): void {
    this.stack.resize(size);
  }

  /**
   * Whether [addr, addr+size) is inside one region (and writable if `write`): MEM_OK and sets cur/idx,
   * else the status code.
   */
  check(hi: number, lo: number, size: number, write: boolean): number {
    const id = ((hi >>> 0) - REGION_HI_BASE) >>> 0;
    if (id >= MAX_REGIONS) return MEM_UNMAPPED;
    const r = this.byHi[id];
    if (r === undefined) return MEM_UNMAPPED;
    const rel = (lo >>> 0) - r.start; // may be negative
    if (rel < 0 || rel + size > r.size) return MEM_OUT_OF_BOUNDS;
    if (write && !r.writable) return MEM_READ_ONLY;
    this.cur = r;
    this.idx = r.bufOff + rel;
    return MEM_OK;
  }

  /** Load `size` (1, 2, 4, 8) bytes little-endian, zero-extended into valLo/valHi. */
  load(hi: number, lo: number, size: number): number {
    const st = this.check(hi, lo, size, false);
    if (st !== MEM_OK) return st;
    this.readAt(size);
    return MEM_OK;
  }

  /** Store the low `size` bytes of (vHi:vLo) little-endian. */
  store(hi: number, lo: number, size: number, vLo: number, vHi: number): number {
    const st = this.check(hi, lo, size, true);
    if (st !== MEM_OK) return st;
    this.writeAt(size, vLo, vHi);
    return MEM_OK;
  }

  /** Read at the last checked place into valLo/valHi. */
  readAt(size: number): void {
    const dv = this.cur!.dv;
    const i = this.idx;
    switch (size) {
      case 1:
        this.valLo = dv.getUint8(i);
        this.valHi = 0;
        break;
      case 2:
        this.valLo = dv.getUint16(i, true);
        this.valHi = 0;
        break;
      case 4:
        this.valLo = dv.getUint32(i, true);
        this.valHi = 0;
        break;
      default:
        this.valLo = dv.getUint32(i, true);
        this.valHi = dv.getUint32(i + 4, true);
    }
  }

  /** Write at the last checked place. */
  writeAt(size: number, vLo: number, vHi: number): void {
    const dv = this.cur!.dv;
    const i = this.idx;
    switch (size) {
      case 1:
        dv.setUint8(i, vLo & 0xff);
        break;
      case 2:
        dv.setUint16(i, vLo & 0xffff, true);
        break;
      case 4:
        dv.setUint32(i, vLo >>> 0, true);
        break;
      default:
        dv.setUint32(i, vLo >>> 0, true);
        dv.setUint32(i + 4, vHi >>> 0, true);
    }
  }

  /** The Fault for a non-OK status of an access at (hi, lo). */
  fault(status: number, pc: number, hi: number, lo: number, size: number, write: boolean): Fault {
    const kind = STATUS_KIND[status] ?? 'unmapped';
    const r = this.regionOf(hi);
    const addr = ptr64(hi, lo);
    const where = r ? `${r.name}[${(lo >>> 0) - r.start}] (live ${r.size} bytes)` : 'no region';
    return makeFault(kind, pc, `${write ? 'store' : 'load'} of ${size} bytes at 0x${addr.toString(16)}: ${where}`, {
      addr,
      size,
      region: r ? r.name : null,
      write,
    });
  }
}

// The eBPF memory model with the interpreter's hottest access inlined: must equal
// model/ebpf/memory.ts Memory.load (check, then readAt) in status, side effects (cur, idx) and value.
import { MAX_REGIONS, MEM_OK, MEM_OUT_OF_BOUNDS, MEM_UNMAPPED, Memory, REGION_HI_BASE, type Region } from '../../model/ebpf/memory.js';

/** Memory whose load() assembles the little-endian bytes in place (equal to Memory.load). */
export class EngineMemory extends Memory {
  private readonly regionsByHi: (Region | undefined)[];

  constructor(stackCapacity = 512) {
    super(stackCapacity);
    this.regionsByHi = new Array<Region | undefined>(MAX_REGIONS).fill(undefined);
    this.regionsByHi[0] = this.stack;
  }

  override addRegion(name: string, capacity: number, writable: boolean): Region {
    const r = super.addRegion(name, capacity, writable);
    this.regionsByHi[r.id] = r;
    return r;
  }

  // model/ebpf/memory.ts Memory.load
  override load(hi: number, lo: number, size: number): number {
    const id = ((hi >>> 0) - REGION_HI_BASE) >>> 0;
    if (id >= MAX_REGIONS) return MEM_UNMAPPED;
    const r = this.regionsByHi[id];
    if (r === undefined) return MEM_UNMAPPED;
    const rel = (lo >>> 0) - r.start; // may be negative
    if (rel < 0 || rel + size > r.size) return MEM_OUT_OF_BOUNDS;
    const b = r.buf;
    const i = r.bufOff + rel;
    this.cur = r;
    this.idx = i;
    if (size === 1) {
      this.valLo = b[i]!;
      this.valHi = 0;
    } else if (size === 2) {
      this.valLo = b[i]! | (b[i + 1]! << 8);
      this.valHi = 0;
    } else if (size === 4) {
      this.valLo = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
      this.valHi = 0;
    } else {
      this.valLo = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
      this.valHi = (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) >>> 0;
    }
    return MEM_OK;
  }
}

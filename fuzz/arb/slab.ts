// Small typed arrays for the generators, carved out of shared slabs. A typed array of more than 64
// bytes gets its own backing store outside the JavaScript heap, which costs V8 about a microsecond to
// allocate and more to collect: several times the cost of building a short program. A case needs a
// few (its genome's words, each packet's bytes, payloads, headroom), so they are views on a slab
// (as Node's Buffer pool does): zero-filled, since a slab is never reused, only dropped once every
// view on it is unreachable. A view's byteOffset is not 0: readers of `.buffer` must use
// byteOffset and byteLength (every reader in this repository does).

/** Bytes per slab, and the largest array carved out of one (larger ones get their own buffer). */
const SLAB_BYTES = 32 * 1024;
const MAX_CARVED = 4096;

let slab = new ArrayBuffer(SLAB_BYTES);
/** the slab as bytes and as words: arrays are carved as their subarrays (cheaper than new views) */
let bytes8 = new Uint8Array(slab);
let words32 = new Uint32Array(slab);
let used = 0;

/** The offset of `bytes` fresh bytes in `slab` (8-aligned), starting a new slab when this one is full. */
function carve(bytes: number): number {
  const size = (bytes + 7) & ~7;
  if (used + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    bytes8 = new Uint8Array(slab);
    words32 = new Uint32Array(slab);
    used = 0;
  }
  const at = used;
  used += size;
  return at;
}

/** A zero-filled Uint8Array of n bytes. */
export function slabBytes(n: number): Uint8Array {
  if (n > MAX_CARVED) return new Uint8Array(n);
  const at = carve(n);
  return new Uint8Array(slab, at, n);
}

/**
 * In-place building (fuzz/arb/packet.ts Bytes): the offset at which a writer may write up to `room`
 * bytes straight into the current slab (a new slab when fewer are left), carving nothing yet. The
 * writer reads the store through slabStore() and must end with slabClose, or zero what it wrote.
 */
export function slabOpen(room: number): number {
  if (used + room > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    bytes8 = new Uint8Array(slab);
    words32 = new Uint32Array(slab);
    used = 0;
  }
  return used;
}

/** The current slab's bytes (the store slabOpen's offset is in). */
export const slabStore = (): Uint8Array => bytes8;

/** The bytes a writer may write in place from slabOpen's offset `at` (to the slab's end). */
export const slabRoom = (at: number): number => SLAB_BYTES - at;

/**
 * Close what slabOpen opened at `at`, after `written` bytes were written there: the array of its
 * first `len` bytes (len <= slabRoom(at)), as slabBytes would have carved it; the bytes written
 * past `len` are passed over (never carved again: every carved array starts zero-filled).
 */
export function slabClose(at: number, len: number, written: number): Uint8Array {
  used = at + ((Math.max(len, written) + 7) & ~7);
  return new Uint8Array(slab, at, len);
}

/** A zero-filled Uint32Array of n words. */
export function slabWords(n: number): Uint32Array {
  if (4 * n > MAX_CARVED) return new Uint32Array(n);
  const at = carve(4 * n) >>> 2;
  return words32.subarray(at, at + n);
}

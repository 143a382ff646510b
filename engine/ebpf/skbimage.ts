// Image reuse: an skb laid out once on buffers of its own, swapped into the image's regions for every
// later run instead of being laid out again. Each bound image must read exactly as
// model/ebpf/skbmem.ts layOutSkb would have written it.
import type { KernelConfig } from '../../model/kernel.js';
import type { SkBuff } from '../../model/skb.js';
import { NET_DEVICE_MODELLED_SIZE, SIZEOF_SK_BUFF } from '../../model/ebpf/layout.js';
import { createSkbImage, layOutSkb, writeDev, writeHead, writeSkb, type SkbImage } from '../../model/ebpf/skbmem.js';
import type { Memory } from '../../model/ebpf/memory.js';

/** One skb laid out on buffers of its own (what layOutSkb writes into an image's regions). */
export interface LaidOutSkb {
  readonly skb: SkBuff;
  readonly ctx: Uint8Array;
  readonly ctxDv: DataView;
  readonly head: Uint8Array;
  readonly headDv: DataView;
  /** null when skb->dev is NULL */
  readonly dev: Uint8Array | null;
  readonly devDv: DataView | null;
}

/** An SkbImage that remembers its regions' own buffers, so that bound images can be swapped back out. */
export interface ReusableSkbImage extends SkbImage {
  readonly own: { readonly ctx: Uint8Array; readonly ctxDv: DataView; readonly head: Uint8Array; readonly headDv: DataView; readonly dev: Uint8Array; readonly devDv: DataView };
}

/** model/ebpf/skbmem.ts createSkbImage, remembering the regions' own buffers. */
export function createReusableSkbImage(mem: Memory, headCapacity?: number): ReusableSkbImage {
  const img = createSkbImage(mem, headCapacity);
  const own = { ctx: img.skbRegion.buf, ctxDv: img.skbRegion.dv, head: img.headRegion.buf, headDv: img.headRegion.dv, dev: img.devRegion.buf, devDv: img.devRegion.dv };
  return { ...img, own };
}

// model/ebpf/skbmem.ts layOutSkb, after swapping the image's own buffers back in
/** Lay `skb` out into the image's own buffers (never into a LaidOutSkb that was bound). */
export function layOutSkbFresh(img: ReusableSkbImage, skb: SkBuff, config: Pick<KernelConfig, 'littleEndian'>): void {
  const own = img.own;
  if (img.headRegion.buf !== own.head) {
    img.skbRegion.rebind(own.ctx, own.ctxDv, SIZEOF_SK_BUFF);
    img.headRegion.rebind(own.head, own.headDv, 0);
    img.devRegion.rebind(own.dev, own.devDv, 0);
  }
  layOutSkb(img, skb, config);
}

// model/ebpf/skbmem.ts layOutSkb, on fresh buffers
/** Lay `skb` out for `img` on fresh buffers (see LaidOutSkb). */
export function layOutSkbOwn(img: ReusableSkbImage, skb: SkBuff, config: Pick<KernelConfig, 'littleEndian'>): LaidOutSkb {
  const linear = skb.headroom.length + skb.headlen;
  if (linear > img.own.head.length) throw new RangeError(`skb head of ${linear} bytes exceeds the region capacity ${img.own.head.length}`);
  const head = new Uint8Array(linear);
  writeHead(head, skb);
  const ctx = new Uint8Array(SIZEOF_SK_BUFF);
  const ctxDv = new DataView(ctx.buffer);
  writeSkb(img, ctx, ctxDv, skb, config);
  let dev: Uint8Array | null = null;
  let devDv: DataView | null = null;
  if (skb.dev) {
    dev = new Uint8Array(NET_DEVICE_MODELLED_SIZE);
    devDv = new DataView(dev.buffer);
    writeDev(dev, devDv, skb);
  }
  return { skb, ctx, ctxDv, head, headDv: new DataView(head.buffer), dev, devDv };
}

/** Make img's regions show a LaidOutSkb (no copy; the regions are read-only to programs). */
export function bindSkb(img: ReusableSkbImage, l: LaidOutSkb): void {
  img.skbRegion.rebind(l.ctx, l.ctxDv, SIZEOF_SK_BUFF);
  img.headRegion.rebind(l.head, l.headDv, l.head.length);
  if (l.dev !== null) img.devRegion.rebind(l.dev, l.devDv!, NET_DEVICE_MODELLED_SIZE);
  else img.devRegion.resize(0);
}

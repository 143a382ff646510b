// Every outside judge bpfspec knows, by name: libpcap, dpdk, dpdk-jit, xnet.
import { DPDK, DPDK_JIT } from '../dpdk/judge.js';
import { LIBPCAP } from '../libpcap/judge.js';
import { XNET } from '../xnet/judge.js';
import type { OutsideSpec } from './judge.js';

export const OUTSIDE_JUDGES: readonly OutsideSpec[] = [LIBPCAP, DPDK, DPDK_JIT, XNET];

const BY_NAME: ReadonlyMap<string, OutsideSpec> = new Map(OUTSIDE_JUDGES.map((s) => [s.name, s]));

/** The spec of an outside judge by name, or undefined. */
export const outsideSpec = (name: string): OutsideSpec | undefined => BY_NAME.get(name);

/** Whether this machine can build the judge's adapter: null, or what is missing. Never throws. */
export function outsideMissing(spec: OutsideSpec): string | null {
  const b = spec.build();
  return b.ok ? null : b.missing;
}

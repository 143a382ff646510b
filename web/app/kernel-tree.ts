// The kernel trees the model cites, and the files in them it knows: a citation `file:line` becomes a
// link to that line of the tree at its commit. Pure data and string functions (the page and the
// build both use it).

/** The 6.6.y tree the model's line numbers are read from (model/migrate/convert.ts names it). */
export const TREE_REPO = 'eclipse-oniro-mirrors/kernel_linux_6.6';
/** Its commit, in full; the model's headers name its first 12 digits (the build checks they agree). */
export const TREE_COMMIT = '79226fb0ba80507889754ada4214e93fc4df4ea7';

export type TreeName = '6.6.y' | '3.14';

export interface KernelFile {
  readonly path: string;
  readonly tree: TreeName;
}

/**
 * Every kernel file a model citation may name. A citation of a file not listed here fails the build
 * (web/build/citations.ts); a listed file that no citation names fails the reference test, so the list
 * is exactly what the model mirrors.
 */
export const KERNEL_FILES: readonly KernelFile[] = [
  { path: 'net/core/filter.c', tree: '6.6.y' },
  { path: 'net/core/sock.c', tree: '6.6.y' },
  { path: 'kernel/bpf/core.c', tree: '6.6.y' },
  { path: 'kernel/bpf/disasm.c', tree: '6.6.y' },
  { path: 'net/core/flow_dissector.c', tree: '6.6.y' },
  { path: 'include/linux/filter.h', tree: '6.6.y' },
  { path: 'include/uapi/linux/filter.h', tree: '6.6.y' },
  { path: 'include/uapi/linux/bpf.h', tree: '6.6.y' },
  { path: 'include/uapi/linux/bpf_common.h', tree: '6.6.y' },
  { path: 'include/uapi/linux/if_arp.h', tree: '6.6.y' },
  { path: 'include/uapi/linux/if_packet.h', tree: '6.6.y' },
];

/** Files other workstreams' model code is about to cite (seccomp, the x86-64 JIT): known, not required. */
export const KERNEL_FILES_EXPECTED: readonly KernelFile[] = [
  { path: 'kernel/seccomp.c', tree: '6.6.y' },
  { path: 'arch/x86/net/bpf_jit_comp.c', tree: '6.6.y' },
  { path: 'include/uapi/linux/seccomp.h', tree: '6.6.y' },
  { path: 'include/linux/seccomp.h', tree: '6.6.y' },
  { path: 'net/packet/af_packet.c', tree: '6.6.y' },
  { path: 'include/linux/skbuff.h', tree: '6.6.y' },
  { path: 'include/linux/err.h', tree: '6.6.y' },
  { path: 'include/uapi/linux/audit.h', tree: '6.6.y' },
  { path: 'include/uapi/asm-generic/siginfo.h', tree: '6.6.y' },
];

/**
 * Abbreviations the model's comments define (model/cbpf/eval.ts, model/variants.ts): "F:N" is
 * net/core/filter.c and "C:N" kernel/bpf/core.c of the 6.6.y tree; "3.14:N" is net/core/filter.c of
 * the last pre-eBPF kernel (an indexed 3.14.y copy, not linked: no tree at a commit is cited for it).
 */
export const ABBREVIATIONS: ReadonlyMap<string, KernelFile> = new Map([
  ['F', { path: 'net/core/filter.c', tree: '6.6.y' }],
  ['C', { path: 'kernel/bpf/core.c', tree: '6.6.y' }],
  ['3.14', { path: 'net/core/filter.c', tree: '3.14' }],
]);

const ALL_FILES = [...KERNEL_FILES, ...KERNEL_FILES_EXPECTED];

/**
 * The kernel file a citation's file part names: a full path, an abbreviation (F, C, 3.14), or a bare
 * file name that exactly one known file has (disasm.c). null when the model does not know it.
 */
export function resolveKernelFile(name: string): KernelFile | null {
  const abbr = ABBREVIATIONS.get(name);
  if (abbr !== undefined) return abbr;
  const exact = ALL_FILES.find((f) => f.path === name);
  if (exact !== undefined) return exact;
  if (name.includes('/')) return null;
  const byBase = ALL_FILES.filter((f) => f.path.endsWith(`/${name}`));
  return byBase.length === 1 ? byBase[0]! : null;
}

/**
 * Files whose cited lines are not read at TREE_COMMIT, and where they are (the provenance of
 * test/jit/data/kernel-lines-*.json): the x86-64 JIT's line numbers are v6.18.35's (model/jit/facts.ts),
 * flow_dissector.c's are of the Qualcomm 6.6 tree model/flow.ts names, and af_packet.c, uapi bpf.h and
 * if_packet.h are of the same repository's 6.6.22 snapshot (the cited commit's are not indexed).
 */
export const LINE_SOURCES: ReadonlyMap<string, { readonly repo: string; readonly commit: string }> = new Map([
  ['arch/x86/net/bpf_jit_comp.c', { repo: 'leftymods/linux-6.18.y', commit: 'a950cbcc4bda2190cb3fdd1f517bdd2a042f894d' }],
  ['net/core/flow_dissector.c', { repo: 'CodeLinaro-mirror/qsdk_oss_kernel_linux-ipq-6.6', commit: '6f1f33de1761e79bc579673fd59d80eb13c95a1b' }],
  ['net/packet/af_packet.c', { repo: TREE_REPO, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e' }],
  ['include/uapi/linux/bpf.h', { repo: TREE_REPO, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e' }],
  ['include/uapi/linux/if_packet.h', { repo: TREE_REPO, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e' }],
]);

/** The address of a cited line: at the cited commit, or where LINE_SOURCES says its lines are read (null for the unlinked 3.14 tree). */
export function kernelLineUrl(file: KernelFile, line: number): string | null {
  if (file.tree !== '6.6.y') return null;
  const at = LINE_SOURCES.get(file.path) ?? { repo: TREE_REPO, commit: TREE_COMMIT };
  return `https://github.com/${at.repo}/blob/${at.commit}/${file.path}#L${line}`;
}

export interface KernelRef {
  /** what to show, e.g. "net/core/filter.c:1135" */
  readonly text: string;
  readonly file: KernelFile | null;
  readonly line: number | null;
  readonly url: string | null;
}

/**
 * A `file:line` reference as the model writes it in a Rejection's `at` or a divergence's `at`
 * (e.g. "net/core/filter.c:1135", "kernel/bpf/core.c:2393", "net/core/filter.c:~1370"); anything
 * else comes back as text without a link.
 */
export function kernelRef(at: string): KernelRef {
  const m = /^([\w./-]+\.[ch]|F|C|3\.14):~?(\d+)/.exec(at.trim());
  if (m === null) return { text: at, file: null, line: null, url: null };
  const file = resolveKernelFile(m[1]!);
  const line = Number(m[2]);
  return { text: at, file, line, url: file === null ? null : kernelLineUrl(file, line) };
}

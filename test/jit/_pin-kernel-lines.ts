// Writes test/jit/data/kernel-lines-6.6.y.json: the lines of the cited 6.6.y tree that the model's
// citations need (test/jit/_citations.ts checkCitation visits them), with where each file's text came
// from. Run by hand when a citation is added or moved, with a directory holding the files' text:
//   node dist/test/jit/_pin-kernel-lines.js TREE_DIR > test/jit/data/kernel-lines-6.6.y.json
// (not a test: ava runs *.test.js only). PROVENANCE below says how each file's text was obtained; only
// the lines up to `upTo` are trusted and pinned.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { extractCitations } from '../../web/build/citations.js';
import { projectRoot } from '../_shared.js';
import { checkCitation, kernelNames, NEAR } from './_citations.js';

const OH = 'eclipse-oniro-mirrors/kernel_linux_6.6';
const SAME_BLOB =
  'copied from the same repository\'s OpenHarmony-5.0.2-Release branch (40d9c67f876f, v6.6.22); the file is byte-identical (same git blob) in the v6.6.22, v6.6.80 and v6.6.87 trees compared, so it is taken as the cited tree\'s';

interface Provenance {
  readonly repo: string;
  readonly commit: string;
  readonly source: string;
  readonly upTo?: number;
}

export const PROVENANCE: Readonly<Record<string, Provenance>> = {
  'net/core/filter.c': {
    repo: OH,
    commit: '79226fb0ba80507889754ada4214e93fc4df4ea7',
    source:
      'v6.6.87 (Yunbaby8/linux-6.6.87-lab) with the load-helper hunk (bpf_skb_load_helper_convert_offset, d4bac0288a2b) as read at the cited commit (read_file); 333304 characters there; the reconstruction agrees with the cited text at character offsets 0-16000 and 38000; a later hunk (bpf_l4_csum_replace, is_ipv6) moves what follows, so only lines up to 1960 are pinned',
    upTo: 1960,
  },
  'kernel/bpf/core.c': {
    repo: OH,
    commit: '31c8f21f4c95d59c8e730038b868109e9244a936',
    source:
      'v6.6.87 with three hunks read at the cited commit (the only version the index holds): mutex_init(ext_mutex) in bpf_prog_alloc_no_stats, __bpf_prog_map_compatible split from bpf_prog_map_compatible, `bool jit_needed = fp->jit_requested`; agrees with the cited text at offsets 16000, 32000, 57000, 73000 and 76000 (77892 characters there, 14 after offset 76000 not reconstructed), so lines up to 2940 are pinned',
    upTo: 2940,
  },
  'include/linux/filter.h': {
    repo: OH,
    commit: '31c8f21f4c95d59c8e730038b868109e9244a936',
    source:
      'v6.6.87 with the __bpf_prog_run statistics hunk (4 lines: duration, `if (likely(prog->stats))`) read at the cited commit; agrees at offsets 11000 and (14 characters later than the reconstruction, within one line) 27000 and 30000 of 44475; the bodies around every pinned citation compared by eye',
  },
  'include/uapi/linux/filter.h': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
  'include/uapi/linux/bpf_common.h': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
  'include/uapi/linux/if_arp.h': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
  'include/uapi/linux/seccomp.h': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
  'include/uapi/linux/audit.h': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
  'include/uapi/asm-generic/siginfo.h': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
  'include/linux/err.h': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
  'kernel/bpf/disasm.c': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
  'kernel/seccomp.c': { repo: OH, commit: '40d9c67f876ffc30bdb4c7f474abc46e0456839e', source: SAME_BLOB },
};

/** Every model source file, as extractCitations takes them. */
export function modelSources(root = projectRoot): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (rel: string): void => {
    for (const f of readdirSync(join(root, rel)).sort()) {
      const r = `${rel}/${f}`;
      if (statSync(join(root, r)).isDirectory()) walk(r);
      else if (r.endsWith('.ts')) out.push({ path: r, text: readFileSync(join(root, r), 'utf8') });
    }
  };
  walk('model');
  return out;
}

/**
 * Every `FILE:LINE` written out in full in the model's sources (a kernel path from PROVENANCE, then a
 * line; ranges and lists give their first line), wherever it stands.
 */
export function lineRefs(sources: readonly { path: string; text: string }[]): { model: string; path: string; line: number }[] {
  const out: { model: string; path: string; line: number }[] = [];
  const files = Object.keys(PROVENANCE).map((p) => p.replace(/[.]/g, '\\.')).join('|');
  const re = new RegExp(`(?<![\\w/])(${files}):(\\d+)`, 'g');
  for (const s of sources) for (const m of s.text.matchAll(re)) out.push({ model: s.path, path: m[1]!, line: Number(m[2]) });
  return out;
}

function main(treeDir: string): void {
  const sources = modelSources();
  const c = extractCitations(sources, new Set(sources.map((s) => s.path)));
  const pinned = new Map<string, Map<number, string>>();
  const text = new Map<string, string[]>();
  for (const e of c.entries) {
    if (e.kernelFile.tree !== '6.6.y' || e.kernelName === '') continue;
    const prov = PROVENANCE[e.kernelFile.path];
    if (prov === undefined) continue;
    const file = join(treeDir, e.kernelFile.path);
    if (!existsSync(file)) throw new Error(`${file}: missing`);
    if (!text.has(file)) text.set(file, readFileSync(file, 'utf8').split('\n'));
    const lines = text.get(file)!;
    const upTo = prov.upTo ?? lines.length;
    if (e.kernelLine > upTo) continue;
    const keep = pinned.get(e.kernelFile.path) ?? new Map<number, string>();
    pinned.set(e.kernelFile.path, keep);
    const visit = (n: number): string | undefined => {
      if (n > upTo || n > lines.length) return undefined;
      keep.set(n, lines[n - 1]!);
      return lines[n - 1];
    };
    for (let n = e.kernelLine - NEAR; n <= e.kernelLine + NEAR; n++) if (n >= 1) visit(n);
    const r = checkCitation(visit, e.kernelLine, kernelNames(e.kernelName));
    if (!r.ok) process.stderr.write(`${e.modelFile}:${e.citeLine} ${e.kernelFile.path}:${e.kernelLine} ${e.kernelName}: ${r.why}\n`);
  }
  // every other `FILE:LINE` a model file names (inline comments, rejection sites): that line
  for (const ref of lineRefs(sources)) {
    const prov = PROVENANCE[ref.path];
    const file = join(treeDir, ref.path);
    if (prov === undefined || !existsSync(file)) continue;
    if (!text.has(file)) text.set(file, readFileSync(file, 'utf8').split('\n'));
    const lines = text.get(file)!;
    if (ref.line > (prov.upTo ?? lines.length) || ref.line > lines.length) continue;
    const keep = pinned.get(ref.path) ?? new Map<number, string>();
    pinned.set(ref.path, keep);
    keep.set(ref.line, lines[ref.line - 1]!);
  }
  const files: Record<string, unknown> = {};
  for (const path of Object.keys(PROVENANCE).sort()) {
    const keep = pinned.get(path);
    if (keep === undefined) continue;
    const lines: Record<string, string> = {};
    for (const n of [...keep.keys()].sort((a, b) => a - b)) lines[String(n)] = keep.get(n)!;
    files[path] = { ...PROVENANCE[path], lines };
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        about:
          "Lines of the 6.6.y tree the model cites (web/app/kernel-tree.ts TREE_REPO), pinned so citations cannot drift: test/jit/citations.test.ts checks every model citation of these files against them. Written by test/jit/_pin-kernel-lines.ts; each file says where its text came from.",
        near: NEAR,
        files,
      },
      null,
      1,
    )}\n`,
  );
}

if (process.argv[1]?.endsWith('_pin-kernel-lines.js')) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node dist/test/jit/_pin-kernel-lines.js TREE_DIR\n');
    process.exit(2);
  }
  main(dir);
}

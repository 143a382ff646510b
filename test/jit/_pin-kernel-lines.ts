// Writes test/jit/data/kernel-lines-TREE.json: the lines of a cited kernel tree that the model's
// citations need (test/jit/_citations.ts checkCitation visits them), with where each file's text came
// from. Run by hand when a citation is added or moved, with a directory holding the files' text:
//   node dist/test/jit/_pin-kernel-lines.js 6.6.y TREE_DIR > test/jit/data/kernel-lines-6.6.y.json
//   node dist/test/jit/_pin-kernel-lines.js 6.18.35 TREE_DIR > test/jit/data/kernel-lines-6.18.35.json
// (and 6.6.80, 6.6.22: the older x86-64 JITs model/jit names in parentheses)
// (not a test: ava runs *.test.js only). A file of the tree that TREE_DIR lacks keeps the lines the
// current JSON pins for it (the 6.6.y files read at the cited commit were reconstructed once and are not
// kept as whole texts). TREES below says how each file's text was obtained; only the lines up to `upTo`
// are trusted and pinned.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { extractCitations } from '../../web/build/citations.js';
import { projectRoot } from '../_shared.js';
import { checkCitation, citesPart, kernelNames } from './_citations.js';

const OH = 'eclipse-oniro-mirrors/kernel_linux_6.6';
const OH_5_0_2 = '40d9c67f876ffc30bdb4c7f474abc46e0456839e';
const SAME_BLOB =
  'copied from the same repository\'s OpenHarmony-5.0.2-Release branch (40d9c67f876f, v6.6.22); the file is byte-identical (same git blob) in the v6.6.22, v6.6.80 and v6.6.87 trees compared, so it is taken as the cited tree\'s';

export interface Provenance {
  readonly repo: string;
  readonly commit: string;
  readonly source: string;
  readonly upTo?: number;
}

/** The trees whose lines are pinned, one JSON file each (test/jit/data/kernel-lines-TREE.json). */
export type PinnedTree = '6.6.y' | '6.18.35' | '6.6.80' | '6.6.22';

export const TREES: Readonly<Record<PinnedTree, { readonly about: string; readonly files: Readonly<Record<string, Provenance>> }>> = {
  '6.6.y': {
    about:
      "Lines of the 6.6.y tree the model cites (web/app/kernel-tree.ts TREE_REPO), pinned so citations cannot drift: test/jit/citations.test.ts checks every model citation of these files against them. Written by test/jit/_pin-kernel-lines.ts; each file says where its text came from.",
    files: {
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
      'net/core/sock.c': {
        repo: OH,
        commit: '79226fb0ba80507889754ada4214e93fc4df4ea7',
        source:
          'v6.6.87 (Yunbaby8/linux-6.6.87-lab @ 7fe0c4ed5035, blob 84ba3f67bca9); read_file at the cited commit (103371 characters there, 103324 in v6.6.87): the pages read at offsets 16000 and 30000 start with the same text at the same offsets in both, and the second ends with `case SO_GET_FILTER:` at offset 45927 in both, so the 47 characters more lie past line 1896 (sk_setsockopt, line 1097, lies in the pages read); lines up to 1896 are pinned',
        upTo: 1896,
      },
      'net/core/flow_dissector.c': {
        repo: 'CodeLinaro-mirror/qsdk_oss_kernel_linux-ipq-6.6',
        commit: '6f1f33de1761e79bc579673fd59d80eb13c95a1b',
        source:
          'the tree model/flow.ts names (the cited 6.6.y commit has no flow_dissector.c in the index): eclipse-oniro-mirrors/kernel_linux_6.6 @ 40d9c67f876f (blob 272f09251343, fetched) with the two changes read at this commit (read_file, 55979 characters): `DEBUG_NET_WARN_ON_ONCE(!net)` for `WARN_ON_ONCE(!net)` in __skb_flow_dissect (10 characters, no line) and the vendor `|| (key_control->flags & FLOW_DIS_FIRST_FRAG)) {` ports call (one line more); the pages read there at offsets 29990 and 44000 start with the text of the result at the same offsets, both changes lie in them, and the file ends at 55979 in both (the first 29990 characters have the same length, not compared)',
      },
      'net/packet/af_packet.c': {
        repo: OH,
        commit: OH_5_0_2,
        source:
          'the snapshot model/attach.ts names (dda72fb05f8a, OpenHarmony-5.0.0-Release, the same blob 7adf48549a3b as here, OpenHarmony-5.0.2-Release), fetched (git show); the cited commit has no af_packet.c in the index, and the file differs in v6.6.87 (packet_rcv 47 lines lower)',
      },
      'include/uapi/linux/bpf.h': {
        repo: OH,
        commit: OH_5_0_2,
        source:
          'fetched snapshot (git show, blob 366df8a1a5fc, v6.6.22); the cited commit has no bpf.h in the index, and the file differs in v6.6.80/v6.6.87 (blob 431bc700bcfb: struct bpf_insn at the same line 72, the src_reg comments 17 lines lower)',
      },
      'include/uapi/linux/if_packet.h': {
        repo: OH,
        commit: OH_5_0_2,
        source:
          'fetched snapshot (git show, blob 9efc42382fdb); the same blob in v6.6.87 (Yunbaby8/linux-6.6.87-lab); the cited commit has no if_packet.h in the index',
      },
    },
  },
  '6.18.35': {
    about:
      "Lines of v6.18.35's arch/x86/net/bpf_jit_comp.c, the tree model/jit cites (model/jit/facts.ts), pinned so citations cannot drift: test/jit/citations.test.ts checks every model citation of the x86-64 JIT against them. Written by test/jit/_pin-kernel-lines.ts.",
    files: {
      'arch/x86/net/bpf_jit_comp.c': {
        repo: 'leftymods/linux-6.18.y',
        commit: 'a950cbcc4bda2190cb3fdd1f517bdd2a042f894d',
        source:
          'fetched (git show): the commit tagged v6.18.35 in that repository ("update to v6.18.35", Makefile 6.18.35), blob 788671a32d8e, the same blob at 40a9e9f43d44 (the commit model/jit/facts.ts names) and at v6.18.17; it differs from the v6.18 tag\'s (de5083cb1d37) only in emit_kcfi\'s padding, a loop over CONFIG_FUNCTION_PADDING_CFI where v6.18 has 11 EMIT1(0x90) lines (two lines for eleven at line 441: the lines cited below 441 are v6.18\'s too, the ones after it 9 lower than v6.18\'s)',
      },
    },
  },
  '6.6.80': {
    about:
      "Lines of 6.6.80's arch/x86/net/bpf_jit_comp.c, the second tree model/jit cites (`:1784 (6.6.80:1038)`, model/jit/facts.ts), pinned so those lines cannot drift: test/jit/citations.test.ts checks them. Written by test/jit/_pin-kernel-lines.ts.",
    files: {
      'arch/x86/net/bpf_jit_comp.c': {
        repo: 'xzxHomeAssistant/linux-6.6.y',
        commit: '8618cc741d2b58efd93f26975c24034056332713',
        source:
          'fetched (git show): the commit model/jit/facts.ts names (Makefile 6.6.80), blob a50c99e9b5c0; the same blob in v6.6.87 (Yunbaby8/linux-6.6.87-lab @ 7fe0c4ed5035), so the two trees agree on every line',
      },
    },
  },
  '6.6.22': {
    about:
      "Lines of 6.6.22's arch/x86/net/bpf_jit_comp.c (before c8831bdbfbab), which model/jit/facts.ts cites once (`(6.6.22:56)`), pinned so that line cannot drift. Written by test/jit/_pin-kernel-lines.ts.",
    files: {
      'arch/x86/net/bpf_jit_comp.c': {
        repo: OH,
        commit: OH_5_0_2,
        source: 'fetched snapshot (git show), blob 955133077c10, the same blob at dda72fb05f8a (OpenHarmony-5.0.0-Release, the commit model/jit/facts.ts names)',
      },
    },
  },
};

/** The trees model/jit names in parentheses after a v6.18.35 line (`:1784 (6.6.80:1038)`). */
export const OTHER_JIT_TREES = ['6.6.80', '6.6.22'] as const;

/**
 * Every `6.6.80:N` / `6.6.22:N` in the model's sources (a line of that tree's bpf_jit_comp.c), with the
 * v6.18.35 line it stands beside when it is written `:M (6.6.80:N)` or `bpf_jit_comp.c:M (6.6.80:N)`
 * (both lines then say the same thing), and the kernel name when it follows a named citation
 * (`bpf_jit_comp.c:217 is_ereg (6.6.80:206)`).
 */
export function otherTreeRefs(
  sources: readonly { path: string; text: string }[],
): { model: string; modelLine: number; tree: (typeof OTHER_JIT_TREES)[number]; line: number; beside: number | null; name: string | null }[] {
  const out: { model: string; modelLine: number; tree: (typeof OTHER_JIT_TREES)[number]; line: number; beside: number | null; name: string | null }[] = [];
  for (const s of sources)
    for (const [i, text] of s.text.split('\n').entries())
      for (const m of text.matchAll(/(?<![\w.])(6\.6\.80|6\.6\.22):(\d+)/g)) {
        const before = text.slice(0, m.index);
        const pair = /(?:^|[^\w.])(?:bpf_jit_comp\.c)?:(\d+)(?:-\d+)? \($/.exec(before);
        const named = /bpf_jit_comp\.c:\d+ ([A-Za-z_]\w*) \($/.exec(before);
        out.push({
          model: s.path,
          modelLine: i + 1,
          tree: m[1] as (typeof OTHER_JIT_TREES)[number],
          line: Number(m[2]),
          beside: pair === null ? null : Number(pair[1]),
          name: named === null ? null : named[1]!,
        });
      }
  return out;
}

/** The 6.6.y tree's files (the test's first tree). */
export const PROVENANCE: Readonly<Record<string, Provenance>> = TREES['6.6.y'].files;

/**
 * The pinned tree a citation of `path` (in the tree web/app/kernel-tree.ts gives it) is checked against:
 * model/jit cites the x86-64 JIT of v6.18.35 (model/jit/facts.ts), the rest the 6.6.y tree. null for a
 * tree nothing is pinned of (3.14).
 */
export function pinnedTreeOf(path: string, tree: string): PinnedTree | null {
  if (path === 'arch/x86/net/bpf_jit_comp.c') return '6.18.35';
  return tree === '6.6.y' ? '6.6.y' : null;
}

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
 * Every `FILE:LINE` written out in full in the model's sources (a kernel path of a pinned tree, then a
 * line; ranges and lists give their first line), wherever it stands, with the tree it is read against.
 */
export function lineRefs(sources: readonly { path: string; text: string }[]): { model: string; tree: PinnedTree; path: string; line: number }[] {
  const out: { model: string; tree: PinnedTree; path: string; line: number }[] = [];
  const all = [...new Set(Object.values(TREES).flatMap((t) => Object.keys(t.files)))];
  const re = new RegExp(`(?<![\\w/])(${all.map((p) => p.replace(/[.]/g, '\\.')).join('|')}):(\\d+)`, 'g');
  for (const s of sources)
    for (const m of s.text.matchAll(re)) {
      const tree = pinnedTreeOf(m[1]!, '6.6.y')!;
      out.push({ model: s.path, tree, path: m[1]!, line: Number(m[2]) });
    }
  return out;
}

/** The citation's comment line in the model's sources. */
export function commentLine(sources: readonly { path: string; text: string }[], modelFile: string, line: number): string {
  return sources.find((s) => s.path === modelFile)?.text.split('\n')[line - 1] ?? '';
}

function main(tree: PinnedTree, treeDir: string): void {
  const sources = modelSources();
  const c = extractCitations(sources, new Set(sources.map((s) => s.path)));
  const prov = TREES[tree].files;
  const jsonPath = join(projectRoot, 'test', 'jit', 'data', `kernel-lines-${tree}.json`);
  const old = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as { files: Record<string, { lines: Record<string, string> }> }).files : {};
  // a file's lines: its text in TREE_DIR, else what the current JSON pins of it
  const source = new Map<string, (n: number) => string | undefined>();
  const lineSource = (path: string): ((n: number) => string | undefined) => {
    let f = source.get(path);
    if (f === undefined) {
      const file = join(treeDir, path);
      const upTo = prov[path]!.upTo ?? Infinity;
      if (existsSync(file)) {
        const lines = readFileSync(file, 'utf8').split('\n');
        f = (n) => (n > upTo || n > lines.length || n < 1 ? undefined : lines[n - 1]);
      } else if (Object.hasOwn(old, path)) {
        const lines = old[path]!.lines;
        f = (n) => (n > upTo || !Object.hasOwn(lines, String(n)) ? undefined : lines[String(n)]);
        for (const n of Object.keys(lines)) keep(path).set(Number(n), lines[n]!);
      } else throw new Error(`${file}: missing, and ${jsonPath} pins nothing of it`);
      source.set(path, f);
    }
    return f;
  };
  const pinned = new Map<string, Map<number, string>>();
  const keep = (path: string): Map<number, string> => {
    let k = pinned.get(path);
    if (k === undefined) pinned.set(path, (k = new Map()));
    return k;
  };
  const visitor = (path: string) => {
    const lineOf = lineSource(path);
    return (n: number): string | undefined => {
      const s = lineOf(n);
      if (s !== undefined) keep(path).set(n, s);
      return s;
    };
  };
  for (const e of c.entries) {
    if (e.kernelName === '' || pinnedTreeOf(e.kernelFile.path, e.kernelFile.tree) !== tree) continue;
    const path = e.kernelFile.path;
    if (prov[path] === undefined || e.kernelLine > (prov[path]!.upTo ?? Infinity)) continue;
    const visit = visitor(path);
    // the cited line with two lines of context either side, for a reader of the JSON
    for (let n = e.kernelLine - 2; n <= e.kernelLine + 2; n++) visit(n);
    const r = checkCitation(visit, e.kernelLine, kernelNames(e.kernelName), citesPart(commentLine(sources, e.modelFile, e.citeLine), e.kernelName));
    if (!r.ok) process.stderr.write(`${e.modelFile}:${e.citeLine} ${path}:${e.kernelLine} ${e.kernelName}: ${r.why}\n`);
  }
  // the lines of the other JIT trees, and the v6.18.35 lines they stand beside
  for (const ref of otherTreeRefs(sources)) {
    if (ref.tree === tree) for (let n = ref.line - 2; n <= ref.line + 2; n++) visitor('arch/x86/net/bpf_jit_comp.c')(n);
    if (tree === '6.18.35' && ref.beside !== null) visitor('arch/x86/net/bpf_jit_comp.c')(ref.beside);
  }
  // every other `FILE:LINE` a model file names (inline comments, rejection sites): that line
  for (const ref of lineRefs(sources)) {
    if (ref.tree !== tree || prov[ref.path] === undefined) continue;
    if (visitor(ref.path)(ref.line) === undefined) process.stderr.write(`${ref.model}: ${ref.path}:${ref.line} not pinned (past upTo or the end)\n`);
  }
  const files: Record<string, unknown> = {};
  for (const path of Object.keys(prov).sort()) {
    const k = pinned.get(path);
    if (k === undefined) continue;
    const lines: Record<string, string> = {};
    for (const n of [...k.keys()].sort((x, y) => x - y)) lines[String(n)] = k.get(n)!;
    files[path] = { ...prov[path], lines };
  }
  process.stdout.write(`${JSON.stringify({ about: TREES[tree].about, tree, files }, null, 1)}\n`);
}

if (process.argv[1]?.endsWith('_pin-kernel-lines.js')) {
  const [tree, dir] = process.argv.slice(2);
  if (dir === undefined || !Object.hasOwn(TREES, tree!)) {
    process.stderr.write(`usage: node dist/test/jit/_pin-kernel-lines.js ${Object.keys(TREES).join('|')} TREE_DIR\n`);
    process.exit(2);
  }
  main(tree as PinnedTree, dir);
}

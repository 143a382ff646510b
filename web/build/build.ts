// Builds the page: one self-contained HTML file (the script, the style and the data inline, so that it
// opens from disk with file:// as well as from `bpfspec web`). The model is bundled from model/ as it
// is (esbuild follows the imports; nothing is copied); the build fails on a model citation that names
// no function or a file the model does not know, and on a bundle that reaches for a Node API.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build as esbuild, type Metafile } from 'esbuild';
import { TREE_COMMIT } from '../app/kernel-tree.js';
import type { EntryData, PageData, ReferenceRow } from '../app/data.js';
import { extractCitations, type Citations } from './citations.js';

export class WebBuildError extends Error {}

export interface BuildOptions {
  /** the project root (where model/, examples/ and corpus/ are) */
  readonly root: string;
  /** where index.html is written */
  readonly outDir: string;
}

export interface BuildResult {
  readonly html: string;
  readonly htmlBytes: number;
  readonly scriptBytes: number;
  readonly dataBytes: number;
  /** project-relative source files whose code is in the bundle, with the SHA-256 of each as read from the tree */
  readonly inputs: readonly { readonly path: string; readonly sha256: string }[];
  readonly citations: Citations;
  readonly entries: number;
  readonly ms: number;
}

/** The corpus folders bundled as data. */
export const CORPUS_GROUPS = ['divergences', 'historical', 'findings'] as const;

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function walk(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}

/** Every citation of model/ (throws WebBuildError listing the bad ones). */
export function readCitations(root: string): Citations {
  const files = walk(join(root, 'model'), '.ts').map((p) => ({ path: relative(root, p).split('\\').join('/'), text: readFileSync(p, 'utf8') }));
  const known = new Set(files.map((f) => f.path));
  const c = extractCitations(files, known);
  const errors = c.errors.map((e) => `${e.file}:${e.line}: ${e.message}`);
  if (c.treeId === null) errors.push('model/: no header names the tree its line numbers are read from (eclipse-oniro-mirrors/kernel_linux_6.6 @ COMMIT)');
  else if (!TREE_COMMIT.startsWith(c.treeId)) errors.push(`model headers read line numbers from kernel_linux_6.6 @ ${c.treeId}, but the page links ${TREE_COMMIT} (web/app/kernel-tree.ts)`);
  if (errors.length > 0) throw new WebBuildError(`${errors.length} bad citation${errors.length === 1 ? '' : 's'} in model/:\n  ${errors.join('\n  ')}`);
  return c;
}

function referenceRows(c: Citations): ReferenceRow[] {
  return c.entries.map((e) => ({
    modelFile: e.modelFile,
    modelLine: e.modelLine,
    modelName: e.modelName,
    kind: e.kind,
    kernelPath: e.kernelFile.path,
    kernelTree: e.kernelFile.tree,
    kernelLine: e.kernelLine,
    kernelLineAs: e.kernelLineAs,
    kernelName: e.kernelName,
    note: e.note,
  }));
}

function readEntries(root: string): EntryData[] {
  const out: EntryData[] = [];
  for (const group of CORPUS_GROUPS) {
    const dir = join(root, 'corpus', group);
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const file = join(dir, name);
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new WebBuildError(`corpus/${group}/${name}: not JSON (${(err as Error).message})`);
      }
      const program = e.program as { hex?: unknown; asm?: unknown } | undefined;
      const config = e.config as EntryData['config'] | undefined;
      const inputs = e.inputs as EntryData['inputs'] | undefined;
      if (typeof program?.hex !== 'string' || config === undefined || !Array.isArray(inputs) || typeof e.title !== 'string')
        throw new WebBuildError(`corpus/${group}/${name}: not a corpus entry (program.hex, config, inputs, title)`);
      const variant = e.variant as { name?: unknown } | undefined;
      const expect = e.expect as { results?: { classic: number | null; kernel: number | null }[] } | undefined;
      out.push({
        id: `${group}/${name.replace(/\.json$/, '')}`,
        group,
        kind: String(e.kind),
        title: e.title,
        divergence: typeof e.divergence === 'string' ? e.divergence : null,
        message: typeof e.message === 'string' ? e.message : null,
        notes: typeof e.notes === 'string' ? e.notes : null,
        hex: program.hex,
        asm: typeof program.asm === 'string' ? program.asm : null,
        config: { arch: config.arch, optmem_max: config.optmem_max, load_helpers: config.load_helpers },
        inputs: inputs.map((i) => ({ packet: i.packet, skb: i.skb })),
        variant: typeof variant?.name === 'string' ? variant.name : null,
        expect: (expect?.results ?? []).map((r) => ({ classic: r.classic, kernel: r.kernel })),
      });
    }
  }
  return out;
}

/** The page's data: examples, corpus entries, the reference table. */
export function pageData(root: string, citations: Citations): PageData {
  const ex = join(root, 'examples');
  const files = readdirSync(ex).sort();
  const modelFiles = new Set(citations.entries.map((e) => e.modelFile)).size;
  return {
    examples: files.filter((n) => /\.(dd|ddd|d|bpf|asm|txt|json|hex)$/.test(n)).map((name) => ({ name, text: readFileSync(join(ex, name), 'utf8') })),
    captures: files.filter((n) => /\.(pcap|pcapng)$/.test(n)).map((name) => ({ name, base64: readFileSync(join(ex, name)).toString('base64') })),
    entries: readEntries(root),
    reference: { rows: referenceRows(citations), inline: citations.inline, modelFiles },
  };
}

/** `</script` and `<!--` cannot appear inside an inline script: escape the `<`. */
const inlineSafe = (s: string): string => s.replace(/<(?=\/script|!--)/gi, '\\u003c');

/** Imports that must never reach the bundle: Node's built-in modules. */
function nodeImports(meta: Metafile): string[] {
  const bad: string[] = [];
  for (const [file, input] of Object.entries(meta.inputs))
    for (const imp of input.imports) if (imp.path.startsWith('node:') || imp.external) bad.push(`${file} imports ${imp.path}`);
  return bad;
}

export async function buildPage(opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const { root, outDir } = opts;
  const citations = readCitations(root);
  const data = pageData(root, citations);
  const res = await esbuild({
    absWorkingDir: root,
    entryPoints: [join(root, 'web', 'app', 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  }).catch((e: Error) => {
    throw new WebBuildError(`bundling web/app/main.ts failed: ${e.message}`);
  });
  const bad = nodeImports(res.metafile);
  if (bad.length > 0) throw new WebBuildError(`the page bundle reaches Node APIs:\n  ${bad.join('\n  ')}`);
  const script = res.outputFiles[0]!.text;
  if (/\brequire\(|from\s*["']node:|import\(["']node:/.test(script)) throw new WebBuildError('the page bundle contains a require() or node: import');
  // the files that contribute code (read but tree-shaken away, e.g. fast-check behind fuzz/arb/constants.ts, do not)
  const output = Object.values(res.metafile.outputs)[0]!;
  const inputs = Object.entries(output.inputs)
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([p]) => p)
    .sort()
    .map((p) => ({ path: p, sha256: sha256(readFileSync(join(root, p))) }));
  const template = readFileSync(join(root, 'web', 'app', 'index.html'), 'utf8');
  const style = readFileSync(join(root, 'web', 'app', 'style.css'), 'utf8');
  const dataJson = inlineSafe(JSON.stringify(data));
  const html = template
    .replace('/*STYLE*/', () => style)
    .replace('/*DATA*/', () => dataJson)
    .replace('/*SCRIPT*/', () => inlineSafe(script));
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, 'index.html');
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, html);
  renameSync(tmp, out);
  const metaOut = join(outDir, 'bundle-inputs.json');
  writeFileSync(`${metaOut}.${process.pid}.tmp`, `${JSON.stringify(inputs, null, 1)}\n`);
  renameSync(`${metaOut}.${process.pid}.tmp`, metaOut);
  return {
    html: out,
    htmlBytes: Buffer.byteLength(html),
    scriptBytes: Buffer.byteLength(script),
    dataBytes: Buffer.byteLength(dataJson),
    inputs,
    citations,
    entries: data.entries.length,
    ms: Date.now() - t0,
  };
}

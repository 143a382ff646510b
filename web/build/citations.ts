// The reference view's data: every citation of the model (`// net/core/filter.c:1065 bpf_check_classic`
// above `export function bpfCheckClassic`), read from the model's source at build time. A citation is
// a comment line that starts with `FILE:LINE` (FILE a kernel path, a bare file name, or one of the
// abbreviations F, C, 3.14). One that heads a declaration is a reference entry: the model's name and
// line beside the kernel's name and line. The build fails (errors) on a citation whose file the model
// does not know (web/app/kernel-tree.ts), on a citation heading a function that names no kernel
// function, and on a citation that points at a model file that does not exist.
import { resolveKernelFile, type KernelFile } from '../app/kernel-tree.js';

export type DeclKind = 'function' | 'method' | 'class' | 'constant' | 'type';

export interface ReferenceEntry {
  /** model file, relative to the project root ("model/cbpf/check.ts") */
  readonly modelFile: string;
  /** line of the declaration (1-based) */
  readonly modelLine: number;
  /** the declared name ("bpfCheckClassic", "EbpfVm.run") */
  readonly modelName: string;
  readonly kind: DeclKind;
  /** line of the citation comment */
  readonly citeLine: number;
  readonly kernelFile: KernelFile;
  /** the file as written ("F", "disasm.c", "net/core/filter.c") */
  readonly kernelFileAs: string;
  readonly kernelLine: number;
  /** the line part as written, ranges and all ("1816-1909", "228/253/278", "~1370") */
  readonly kernelLineAs: string;
  /** the kernel name the citation gives ("bpf_check_classic", "ALU(ADD, +)"), or "" */
  readonly kernelName: string;
  /** the rest of the comment line after the name */
  readonly note: string;
}

export interface CitationError {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface Citations {
  readonly entries: ReferenceEntry[];
  /** citations inside code (not heading a declaration): counted and checked, not listed */
  readonly inline: number;
  readonly errors: CitationError[];
  /**
   * The commit of the 6.6.y tree the model's line numbers are read from: the one model/migrate/convert.ts's
   * header names (else the one the model names most often), or null when none is named.
   */
  readonly treeId: string | null;
}

const CITE = /^\s*(?:\/\/|\/\*\*|\*)\s*([\w.-]+(?:\/[\w.-]+)*\.[ch]|F|C|3\.14):(~?\d+(?:(?:-|\/|\/:|, ?)\d+)*)(.*)$/;
const COMMENT = /^\s*(?:\/\/|\/\*|\*)/;
const TOP_FUNCTION = /^(?:export\s+)?(?:default\s+)?(?:async\s+)?function\*?\s+([A-Za-z_$][\w$]*)/;
const TOP_CLASS = /^(?:export\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/;
const TOP_TYPE = /^(?:export\s+)?(?:interface|type|enum)\s+([A-Za-z_$][\w$]*)/;
const TOP_CONST = /^(?:export\s+)?(?:const|let)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(.*)$/;
const METHOD = /^(?:(?:private|protected|public|static|async|readonly|override|get|set)\s+)*([A-Za-z_$][\w$]*)\s*[(<]/;
const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'return', 'catch', 'function', 'new', 'constructor']);
/**
 * The kernel name a citation gives, and the rest of its text. A name is a C identifier that looks like
 * one of the kernel's (snake_case, a MACRO, or followed by its argument list: `bpf_check_classic`,
 * `ALU(ADD, +)`, `__bpf_prog_run<stackSize>(ctx, insn)`, `bpf_skb_load_helper_{8,16,32}`), or
 * `struct NAME`. Prose ("the prologue", "registers") is no name.
 */
export function splitName(rest: string): { kernelName: string; note: string } {
  const struct = /^struct\s+([A-Za-z_]\w*)/.exec(rest);
  if (struct) return { kernelName: `struct ${struct[1]}`, note: rest.slice(struct[0].length).replace(/^[\s,;:]+/, '') };
  const id = /^[A-Za-z_]\w*/.exec(rest);
  if (id === null) return { kernelName: '', note: rest };
  // then any bracketed suffixes: (args), {8,16,32}, [i], and <param> directly after the identifier
  let end = id[0].length;
  for (;;) {
    const open = rest[end];
    const close = open === '(' ? ')' : open === '{' ? '}' : open === '[' ? ']' : open === '<' ? '>' : null;
    if (close === null) break;
    let depth = 0;
    let j = end;
    for (; j < rest.length; j++) {
      if (rest[j] === open) depth++;
      else if (rest[j] === close && --depth === 0) break;
    }
    if (j >= rest.length) break; // unbalanced: the name ends before it
    end = j + 1;
    // an identifier may go on after the brackets: ALU(64)_DIV/MOD_X/K
    end += /^[\w/]*/.exec(rest.slice(end))![0].length;
  }
  const name = rest.slice(0, end);
  const looksKernel = name.includes('_') || /^[A-Z][A-Z0-9]*$/.test(id[0]) || end > id[0].length;
  if (!looksKernel) return { kernelName: '', note: rest };
  return { kernelName: name, note: rest.slice(end).replace(/^[\s,;:]+/, '') };
}
const MODEL_PATH = /\bmodel\/[\w/.-]+\.ts\b/g;

/** What a line that follows a citation declares, if anything (top level, or a class member). */
/**
 * Whether a `const NAME = INIT` declares a function: an arrow function (its parameters may run over
 * the next lines) or a function expression. Read up to the first `;` or 8 lines, whichever comes first.
 */
function isFunctionInit(init: string, rest: readonly string[]): boolean {
  if (/^(?:async\s+)?function\b/.test(init)) return true;
  let text = init;
  for (let i = 0; i < 8 && !text.includes(';') && i < rest.length; i++) text += ` ${rest[i]!.trim()}`;
  text = text.split(';')[0]!;
  return /^(?:async\s+)?(?:<[^>]*>\s*)?(?:\([^]*?\)|[A-Za-z_$][\w$]*)\s*(?::\s*[^=]+?)?=>/.test(text);
}

function declaration(line: string, className: string | null, rest: readonly string[] = []): { name: string; kind: DeclKind } | null {
  const indent = line.length - line.trimStart().length;
  const code = line.trim();
  if (indent === 0) {
    let m = TOP_FUNCTION.exec(code);
    if (m) return { name: m[1]!, kind: 'function' };
    m = TOP_CLASS.exec(code);
    if (m) return { name: m[1]!, kind: 'class' };
    m = TOP_TYPE.exec(code);
    if (m) return { name: m[1]!, kind: 'type' };
    m = TOP_CONST.exec(code);
    if (m) {
      return { name: m[1]!, kind: isFunctionInit(m[2]!, rest) ? 'function' : 'constant' };
    }
    return null;
  }
  if (indent === 2 && className !== null) {
    const m = METHOD.exec(code);
    if (m && !KEYWORDS.has(m[1]!)) return { name: `${className}.${m[1]!}`, kind: 'method' };
  }
  return null;
}

/** Read the citations of the given model files (paths relative to the project root). */
export function extractCitations(files: readonly { readonly path: string; readonly text: string }[], knownModelFiles: ReadonlySet<string>): Citations {
  const entries: ReferenceEntry[] = [];
  const errors: CitationError[] = [];
  const treeIds = new Map<string, number>();
  let convertTreeId: string | null = null;
  let inline = 0;
  for (const { path, text } of files) {
    const lines = text.split('\n');
    // tree ids, also when "kernel_linux_6.6" and "@ id" sit on two comment lines
    const comments = lines.map((l) => (/^\s*(?:\/\/|\/\*|\*)/.test(l) ? l.replace(/^\s*(?:\/\/|\/\*\*?|\*)/, '') : '\n')).join(' ');
    for (const m of comments.matchAll(/kernel_linux_6\.6\s+@\s+([0-9a-f]{7,40})/g)) {
      treeIds.set(m[1]!, (treeIds.get(m[1]!) ?? 0) + 1);
      if (path === 'model/migrate/convert.ts') convertTreeId ??= m[1]!;
    }
    let className: string | null = null;
    for (const [i, raw] of lines.entries()) {
      const cls = TOP_CLASS.exec(raw);
      if (cls) className = cls[1]!;
      const c = CITE.exec(raw);
      if (c === null) continue;
      const [, fileAs, lineAs, restRaw] = c as unknown as [string, string, string, string];
      const where = { file: path, line: i + 1 };
      for (const ref of restRaw.matchAll(MODEL_PATH))
        if (!knownModelFiles.has(ref[0])) errors.push({ ...where, message: `citation names ${ref[0]}, which is not a model file` });
      const kernelFile = resolveKernelFile(fileAs);
      if (kernelFile === null) {
        errors.push({ ...where, message: `citation of ${fileAs}:${lineAs}: a kernel file the model does not know (web/app/kernel-tree.ts KERNEL_FILES)` });
        continue;
      }
      // The declaration this citation heads: the next line that is not a comment (a blank line ends it).
      let j = i + 1;
      while (j < lines.length && COMMENT.test(lines[j]!)) j++;
      const decl = j < lines.length && lines[j]!.trim() !== '' ? declaration(lines[j]!, className, lines.slice(j + 1, j + 9)) : null;
      if (decl === null) {
        inline++;
        continue;
      }
      const rest = restRaw.replace(/\*\/\s*$/, '').trim();
      const { kernelName, note } = splitName(rest);
      if ((decl.kind === 'function' || decl.kind === 'method') && kernelName === '')
        errors.push({ ...where, message: `citation of ${fileAs}:${lineAs} heads ${decl.name} but names no kernel function` });
      entries.push({
        modelFile: path,
        modelLine: j + 1,
        modelName: decl.name,
        kind: decl.kind,
        citeLine: i + 1,
        kernelFile,
        kernelFileAs: fileAs,
        kernelLine: Number(lineAs.replace(/^~/, '').split(/[-/,]/)[0]),
        kernelLineAs: lineAs,
        kernelName,
        note,
      });
    }
  }
  const mostNamed = [...treeIds.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
  return { entries, inline, errors, treeId: convertTreeId ?? mostNamed };
}

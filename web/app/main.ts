// The page: inputs, verdicts, the migration side by side, the per-packet table, the lockstep stepper
// and the reference view. Everything it computes comes from ./spec.ts (the model, unchanged); this
// file only reads inputs and draws. The whole state lives in the URL fragment (./state.ts).
import type { EntryData, PageData, ReferenceRow } from './data.js';
import { byId, fill, h, kernelLink } from './dom.js';
import { kernelLineUrl, kernelRef, resolveKernelFile, TREE_COMMIT, TREE_REPO } from './kernel-tree.js';
import {
  analyse,
  ARCH_NAMES,
  FORMAT_NAMES,
  hex32,
  kernelConfig,
  lockstep,
  memSlotOffset,
  packetsFromCapture,
  packetsFromHex,
  packetSkb,
  parseProgramText,
  programFromHex,
  reg64,
  Runner,
  SKB_FIELDS,
  stackBefore,
  VARIANTS,
  type Analysis,
  type Divergence,
  type FormatName,
  type Lockstep,
  type PacketRun,
  type PacketSource,
  type ParsedProgram,
} from './spec.js';
import { parseState, printState, type PageState, type PacketsRef } from './state.js';

const data = JSON.parse(byId('page-data').textContent ?? '{}') as PageData;
const ENTRIES = new Map<string, EntryData>(data.entries.map((e) => [e.id, e]));
const EXAMPLES = new Map(data.examples.map((e) => [e.name, e]));
const CAPTURES = new Map(data.captures.map((c) => [c.name, c]));
const REF_BY_MODEL = new Map<string, ReferenceRow>();
const REF_BY_KERNEL = new Map<string, ReferenceRow>();
for (const r of data.reference.rows) {
  if (!REF_BY_MODEL.has(r.modelName)) REF_BY_MODEL.set(r.modelName, r);
  const bare = r.kernelName.replace(/[(<].*$/, '');
  if (bare !== '' && !REF_BY_KERNEL.has(bare)) REF_BY_KERNEL.set(bare, r);
}

const MAX_TABLE_ROWS = 2000;

let state: PageState;
/** A capture dropped on the page (its bytes are not in the URL; its packets are, as hex, when small). */
let dropped: { name: string; packets: PacketSource[]; notes: string[] } | null = null;

// ---------------------------------------------------------------------------------------------
// Derived values, recomputed only when their inputs change

interface ProgramView {
  readonly parsed: ParsedProgram;
  readonly text: string;
  readonly source: string;
}

interface Derived {
  key: string;
  program: ProgramView;
  analysis: Analysis | null;
  configError: string | null;
  packets: { ok: true; packets: PacketSource[]; notes: string[] } | { ok: false; message: string };
  results: { run: PacketRun | null; error: string | null }[];
  trace: Lockstep | null;
  traceError: string | null;
}

let derived: Derived | null = null;

function programView(s: PageState): ProgramView {
  const p = s.program;
  if (p.kind === 'example') {
    const ex = EXAMPLES.get(p.name);
    if (ex === undefined) return { parsed: { ok: false, message: `no shipped example '${p.name}'` }, text: '', source: `examples/${p.name}` };
    return { parsed: parseProgramText(ex.text, null), text: ex.text, source: `examples/${p.name}` };
  }
  if (p.kind === 'entry') {
    const e = ENTRIES.get(p.id);
    if (e === undefined) return { parsed: { ok: false, message: `no corpus entry '${p.id}'` }, text: '', source: `corpus/${p.id}.json` };
    const parsed = programFromHex(e.hex);
    return { parsed, text: e.asm ?? e.hex, source: `corpus/${p.id}.json` };
  }
  const fmt = p.format !== null && (FORMAT_NAMES as readonly string[]).includes(p.format) ? (p.format as FormatName) : null;
  return { parsed: parseProgramText(p.text, fmt), text: p.text, source: 'pasted' };
}

/** The kernel parameters in force: the state's, else the entry's, else the v6.6 defaults. */
function params(s: PageState): { arch: string; optmemMax: number; loadHelpers: 'v6.6.0' | 'backport'; variant: string | null } {
  const e = s.program.kind === 'entry' ? ENTRIES.get(s.program.id) : undefined;
  const variant = s.variant === null ? (e?.variant ?? null) : s.variant === 'none' ? null : s.variant;
  return {
    arch: s.arch ?? e?.config.arch ?? 'x86_64',
    optmemMax: s.optmemMax ?? e?.config.optmem_max ?? 20480,
    loadHelpers: s.loadHelpers ?? e?.config.load_helpers ?? 'v6.6.0',
    variant,
  };
}

function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function packetsOf(ref: PacketsRef, s: PageState): Derived['packets'] {
  if (ref.kind === 'entry') {
    const e = s.program.kind === 'entry' ? ENTRIES.get(s.program.id) : undefined;
    if (e === undefined) return { ok: false, message: 'the packets of a corpus entry need an entry as the program' };
    const packets: PacketSource[] = [];
    for (const [i, inp] of e.inputs.entries()) {
      const r = packetsFromHex(inp.packet === '' ? '' : inp.packet);
      const bytes = r.ok && r.packets.length === 1 ? r.packets[0]!.data : new Uint8Array(0);
      packets.push({ data: bytes, label: `input ${i + 1}`, skb: inp.skb });
    }
    return { ok: true, packets, notes: [] };
  }
  if (ref.kind === 'capture') {
    if (dropped !== null && ref.name === `dropped:${dropped.name}`) return { ok: true, packets: dropped.packets, notes: dropped.notes };
    if (ref.name.startsWith('dropped:')) return { ok: false, message: `${ref.name.slice(8)}: a dropped capture too large for a link (over 16 KiB, or of mixed link types) is not in it: drop it again` };
    const c = CAPTURES.get(ref.name);
    if (c === undefined) return { ok: false, message: `no shipped capture '${ref.name}'` };
    return packetsFromCapture(base64Bytes(c.base64), ref.name);
  }
  const r = packetsFromHex(ref.text);
  if (!r.ok) return r;
  return { ok: true, packets: r.packets.map((p) => ({ ...p, skb: { preset: ref.preset } })), notes: r.notes };
}

function derive(s: PageState): Derived {
  const p = params(s);
  const key = JSON.stringify([s.program, s.packets, s.skb, p, s.packet, dropped?.name ?? null]);
  if (derived !== null && derived.key === key) return derived;
  const program = programView(s);
  const cfg = kernelConfig({ arch: p.arch, optmemMax: p.optmemMax, loadHelpers: p.loadHelpers, variant: p.variant as never });
  const configError = typeof cfg === 'string' ? cfg : null;
  const analysis = program.parsed.ok && typeof cfg !== 'string' ? analyse(program.parsed.prog, cfg) : null;
  const packets = packetsOf(s.packets, s);
  const results: Derived['results'] = [];
  let trace: Lockstep | null = null;
  let traceError: string | null = null;
  if (analysis !== null && packets.ok) {
    const runner = new Runner(analysis);
    for (const pk of packets.packets.slice(0, MAX_TABLE_ROWS)) {
      const b = packetSkb(pk, s.skb);
      results.push(b.ok ? { run: runner.run(b.skb, b.env), error: null } : { run: null, error: b.message });
    }
    const sel = packets.packets[s.packet];
    if (sel !== undefined) {
      const b = packetSkb(sel, s.skb);
      if (b.ok) trace = lockstep(analysis, b.skb, b.env);
      else traceError = b.message;
    }
  }
  derived = { key, program, analysis, configError, packets, results, trace, traceError };
  return derived;
}

// ---------------------------------------------------------------------------------------------
// State changes

function setState(patch: Partial<PageState>, opts: { replace?: boolean } = {}): void {
  state = { ...state, ...patch };
  const frag = printState(state);
  const url = `${location.pathname}${location.search}#${frag}`;
  if (opts.replace === false) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
  render();
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** The kernel line of a reference row (none for the unlinked 3.14 tree). */
function rowUrl(r: ReferenceRow): string | null {
  if (r.kernelTree !== '6.6.y') return null;
  const f = resolveKernelFile(r.kernelPath);
  return f === null ? null : kernelLineUrl(f, r.kernelLine);
}

function refLink(modelName: string): HTMLElement | null {
  const r = REF_BY_MODEL.get(modelName);
  if (r === undefined) return null;
  return kernelLink(`${r.kernelName || modelName} (${r.kernelTree === '3.14' ? 'v3.14 ' : ''}${r.kernelPath}:${r.kernelLineAs})`, rowUrl(r), `model: ${r.modelFile}:${r.modelLine} ${r.modelName}`);
}

function atLink(at: string): HTMLElement {
  const ref = kernelRef(at);
  return kernelLink(ref.text, ref.url);
}

function renderSources(): void {
  const sel = byId<HTMLSelectElement>('program-source');
  const current = state.program.kind === 'example' ? `x:${state.program.name}` : state.program.kind === 'entry' ? `e:${state.program.id}` : 't';
  if (sel.options.length === 0) {
    sel.append(h('option', { value: 't' }, 'pasted program (edit below)'));
    const ex = h('optgroup', { label: 'examples/' });
    for (const e of data.examples) ex.append(h('option', { value: `x:${e.name}` }, e.name));
    sel.append(ex);
    const groups = new Map<string, HTMLOptGroupElement>();
    for (const e of data.entries) {
      let g = groups.get(e.group);
      if (g === undefined) {
        g = h('optgroup', { label: `corpus/${e.group}/` });
        groups.set(e.group, g);
        sel.append(g);
      }
      g.append(h('option', { value: `e:${e.id}`, title: e.title }, `${e.id.slice(e.group.length + 1)}: ${e.title}`));
    }
  }
  sel.value = current;
  const caps = byId<HTMLSelectElement>('packet-source');
  if (caps.options.length === 0) {
    caps.append(h('option', { value: 'e' }, "the corpus entry's inputs"));
    for (const c of data.captures) caps.append(h('option', { value: `x:${c.name}` }, `examples/${c.name}`));
    caps.append(h('option', { value: 'h' }, 'hex (edit below)'));
    caps.append(h('option', { value: 'd', disabled: true }, 'a dropped capture'));
  }
  caps.value = state.packets.kind === 'entry' ? 'e' : state.packets.kind === 'capture' ? (state.packets.name.startsWith('dropped:') ? 'd' : `x:${state.packets.name}`) : 'h';
}

function renderParams(): void {
  const p = params(state);
  const arch = byId<HTMLSelectElement>('param-arch');
  if (arch.options.length === 0) for (const a of ARCH_NAMES) arch.append(h('option', { value: a }, a));
  arch.value = p.arch;
  byId<HTMLInputElement>('param-optmem').value = String(p.optmemMax);
  byId<HTMLSelectElement>('param-helpers').value = p.loadHelpers;
  const v = byId<HTMLSelectElement>('param-variant');
  if (v.options.length === 0) {
    v.append(h('option', { value: 'none' }, 'none (the fixed v6.6 model)'));
    for (const x of VARIANTS) v.append(h('option', { value: x.name, title: x.title }, `${x.name} (${x.year})`));
  }
  v.value = p.variant ?? 'none';
}

function renderProgramText(d: Derived, force: boolean): void {
  const ta = byId<HTMLTextAreaElement>('program-text');
  if (force || document.activeElement !== ta) ta.value = d.program.text;
  const fmt = byId<HTMLSelectElement>('program-format');
  if (fmt.options.length === 0) {
    fmt.append(h('option', { value: '' }, 'detect'));
    for (const f of FORMAT_NAMES) fmt.append(h('option', { value: f }, f));
  }
  fmt.value = state.program.kind === 'text' ? (state.program.format ?? '') : '';
  const info = byId('program-info');
  const e = state.program.kind === 'entry' ? ENTRIES.get(state.program.id) : undefined;
  fill(
    info,
    h('span', { class: 'muted' }, d.program.source),
    d.program.parsed.ok ? h('span', null, ` · ${d.program.parsed.format}, ${d.program.parsed.prog.length} instructions`) : null,
    e ? h('div', { class: 'entry-title' }, `${e.kind}: ${e.title}`) : null,
    e?.notes ? h('div', { class: 'muted small' }, e.notes) : null,
    e?.message ? h('div', { class: 'muted small' }, e.message) : null,
  );
}

function renderVerdicts(d: Derived): void {
  const box = byId('verdicts');
  if (!d.program.parsed.ok) {
    fill(box, h('div', { id: 'verdict-check', class: 'verdict bad' }, `bpfspec: ${d.program.parsed.message}`));
    return;
  }
  if (d.configError !== null || d.analysis === null) {
    fill(box, h('div', { id: 'verdict-check', class: 'verdict bad' }, `bpfspec: ${d.configError ?? 'no analysis'}`));
    return;
  }
  const a = d.analysis;
  const line = (id: string, label: string, v: Analysis['check'], extra: HTMLElement | null = null): HTMLElement =>
    h(
      'div',
      { class: `verdict ${v.accepted ? 'ok' : 'bad'}` },
      h('span', { class: 'label' }, label),
      h('span', { id, 'data-accepted': String(v.accepted), 'data-rule': v.rule ?? '', 'data-pc': v.pc ?? '' }, v.text),
      v.at ? h('span', null, ' ', atLink(v.at)) : null,
      extra,
    );
  const rt = a.runtime;
  const jitNote = rt ? (rt.jited ? 'bpf_prog_select_runtime: native code from the JIT (the stepping below runs the same eBPF in the interpreter)' : `bpf_prog_select_runtime: interpreter ${rt.interpreter}`) : null;
  const jit = rt?.jit ?? null;
  const jitLine = jit
    ? h(
        'div',
        { id: 'jit', 'data-jited': String(jit.jited), 'data-passes': String(jit.passes) },
        jit.jited
          ? `x86-64 JIT: ${jit.passes} passes, image ${jit.proglen} bytes${jit.blindedLen !== null ? `, on the constant-blinded clone of ${jit.blindedLen} instructions (bpf_jit_harden)` : ''} `
          : `x86-64 JIT: failed (${jit.reason}) after ${jit.passes} passes; the interpreter runs it `,
        refLink('bpfIntJitCompile'),
      )
    : null;
  fill(
    box,
    line('verdict-check', 'bpf_check_classic', a.check, refLink('bpfCheckClassic')),
    line('verdict-attach', 'attach path', a.attach, refLink('skAttachFilter')),
    rt
      ? h(
          'div',
          { id: 'runtime', class: 'runtime' },
          h('div', null, `conversion: ${a.prog.length} classic → ${a.migration?.insns.length ?? '?'} eBPF instructions in ${rt.passes} passes, stack depth ${rt.stackDepth} bytes `, refLink('bpfConvertFilter')),
          h('div', null, `charge: bpf_prog_size = ${rt.progSize} bytes against optmem_max ${rt.optmemMax} `, refLink('__skFilterCharge')),
          h('div', null, `runtime: ${jitNote}; interpreter bucket ${rt.interpreter} `, refLink('bpfProgSelectRuntime')),
          jitLine,
        )
      : null,
    a.attachDivergence ? divergenceBox(a.attachDivergence, 'attach-divergence') : null,
    !a.check.accepted && a.attach.accepted
      ? h(
          'div',
          { id: 'attach-divergence', class: 'divergence none' },
          a.config.variant
            ? `The fixed checker (the classic side's) rejects what the kernel path accepts: the historical bug ${a.config.variant} (model/variants.ts) at work.`
            : 'The classic checker rejects what the kernel path accepts, and no catalogued divergence says so: this would be a finding.',
        )
      : null,
    a.check.accepted && !a.attach.accepted && a.attachDivergence === null
      ? h('div', { id: 'attach-divergence', class: 'divergence none' }, 'classic accepts and the kernel path refuses, and no catalogued attach divergence matches: this would be a finding')
      : null,
  );
}

function divergenceBox(dv: Divergence, id?: string): HTMLElement {
  return h(
    'div',
    { class: 'divergence', id: id ?? null, 'data-divergence': dv.id },
    h('div', null, h('b', null, `catalogued divergence ${dv.id}`), `: ${dv.title}`),
    h('div', { class: 'small' }, dv.explanation),
    h('div', { class: 'small' }, 'kernel lines: ', ...dv.at.flatMap((at, i) => [i > 0 ? ', ' : '', atLink(at)])),
    h('div', { class: 'small muted' }, `corpus example: corpus/${dv.example}`),
  );
}

function bpHas(kind: 'c' | 'e', pc: number): boolean {
  return state.breakpoints.includes(`${kind}${pc}`);
}

function toggleBp(kind: 'c' | 'e', pc: number): void {
  const id = `${kind}${pc}`;
  setState({ breakpoints: state.breakpoints.includes(id) ? state.breakpoints.filter((b) => b !== id) : [...state.breakpoints, id] });
}

function renderMigration(d: Derived): void {
  const box = byId('migration');
  const a = d.analysis;
  if (a === null) {
    fill(box);
    return;
  }
  const m = a.migration;
  const row = d.trace?.rows[Math.min(state.row, d.trace.rows.length - 1)];
  const curC = row && row.c >= 0 ? d.trace!.classicTrace[row.c]!.pc : -1;
  const curE = row && row.e >= 0 ? d.trace!.ebpfTrace[row.e]!.pc : -1;
  const sel = state.selected;
  const selC = sel?.startsWith('c') ? Number(sel.slice(1)) : sel?.startsWith('e') && m ? m.owner[Number(sel.slice(1))] ?? -2 : -2;
  const selE = sel?.startsWith('e') ? Number(sel.slice(1)) : -2;
  const table = h('table', { class: 'migration' }, h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'classic (tcpdump -d)'), h('th', null, ''), h('th', null, 'eBPF (bpfspec migrate, print_bpf_insn)'))));
  const body = h('tbody');
  const ebpfList = (from: number, to: number, ownerSel: boolean): HTMLElement => {
    const ul = h('div', { class: 'ebpf-list' });
    for (let pc = from; pc < to; pc++) {
      const insn = m!.insns[pc]!;
      ul.append(
        h(
          'div',
          {
            class: `ebpf${pc === curE ? ' current' : ''}${ownerSel || pc === selE ? ' selected' : ''}`,
            'data-pc': pc,
            title: insn.label ? `${insn.label}: ${insn.semantics}` : '',
          },
          h('span', { class: `bp${bpHas('e', pc) ? ' on' : ''}`, 'data-bp': `e${pc}`, title: 'breakpoint' }, '●'),
          h('span', { class: 'pc' }, String(pc).padStart(4)),
          h('span', { class: 'txt', 'data-sel': `e${pc}` }, insn.text),
        ),
      );
    }
    return ul;
  };
  if (m && m.converted.map[0]! > 0)
    body.append(h('tr', { class: `classic prologue${curC === -1 && curE >= 0 && curE < m.converted.map[0]! ? ' current' : ''}` }, h('td'), h('td', { class: 'muted' }, 'prologue (bpf_convert_filter, F:595)'), h('td'), h('td', null, ebpfList(0, m.converted.map[0]!, false))));
  for (const c of a.classic) {
    const isSel = c.pc === selC;
    body.append(
      h(
        'tr',
        { class: `classic${c.pc === curC ? ' current' : ''}${isSel ? ' selected' : ''}`, 'data-pc': c.pc },
        h('td', null, h('span', { class: `bp${bpHas('c', c.pc) ? ' on' : ''}`, 'data-bp': `c${c.pc}`, title: 'breakpoint' }, '●')),
        h('td', { class: 'txt', 'data-sel': `c${c.pc}`, title: `converted by ${c.convertedBy}` }, c.text),
        h('td', { class: 'arrow' }, c.ebpf ? '→' : ''),
        h('td', null, c.ebpf && m ? ebpfList(c.ebpf[0], c.ebpf[1], isSel) : h('span', { class: 'muted' }, a.attach.accepted || a.check.accepted ? 'not converted' : '')),
      ),
    );
  }
  table.append(body);
  const selInfo = selectionInfo(a, selC, selE);
  fill(box, selInfo, table);
}

function selectionInfo(a: Analysis, selC: number, selE: number): HTMLElement | null {
  if (selE >= 0 && a.migration) {
    const insn = a.migration.insns[selE];
    if (insn === undefined) return null;
    return h(
      'div',
      { id: 'selection', class: 'selection' },
      `eBPF ${selE}: ${insn.text} — from ${insn.owner < 0 ? 'the prologue' : `classic ${insn.owner}`}; interpreter label ${insn.label || '(none)'}: ${insn.semantics} `,
      refLink('EbpfVm.exec'),
    );
  }
  if (selC >= 0) {
    const c = a.classic[selC];
    if (c === undefined) return null;
    return h(
      'div',
      { id: 'selection', class: 'selection' },
      `classic ${selC}: ${c.text.replace(/^\(\d+\)\s*/, '')} — ${c.ebpf ? `eBPF ${c.ebpf[0]}..${c.ebpf[1] - 1}` : 'not converted'}; converted by `,
      refLink(c.convertedBy) ?? h('span', null, c.convertedBy),
    );
  }
  return null;
}

function renderPackets(d: Derived): void {
  const ta = byId<HTMLTextAreaElement>('packet-hex');
  if (document.activeElement !== ta) ta.value = state.packets.kind === 'hex' ? state.packets.text : '';
  ta.disabled = state.packets.kind !== 'hex';
  const info = byId('packet-info');
  if (!d.packets.ok) fill(info, h('span', { class: 'bad' }, `bpfspec: ${d.packets.message}`));
  else fill(info, `${d.packets.packets.length} packet${d.packets.packets.length === 1 ? '' : 's'}`, ...d.packets.notes.slice(0, 5).map((n) => h('div', { class: 'muted small' }, n)));
  renderSkbForm(d);
  const box = byId('results');
  if (!d.packets.ok || d.analysis === null) {
    fill(box);
    return;
  }
  const table = h(
    'table',
    { class: 'results' },
    h('thead', null, h('tr', null, ...['#', 'packet', 'len', 'classic', 'kernel path', '', 'divergence', 'socket'].map((t) => h('th', null, t)))),
  );
  const tb = h('tbody');
  d.results.forEach((r, i) => {
    const p = d.packets.ok ? d.packets.packets[i]! : null;
    if (r.run === null) {
      tb.append(h('tr', { 'data-index': i, class: i === state.packet ? 'current' : '' }, h('td', null, i + 1), h('td', null, p?.label ?? ''), h('td', { colspan: 6, class: 'bad' }, r.error ?? '')));
      return;
    }
    const x = r.run;
    const agree = x.classic !== null && x.kernel !== null ? (x.classic === x.kernel ? 'agree' : 'DIFFER') : '';
    tb.append(
      h(
        'tr',
        { 'data-index': i, class: `${i === state.packet ? 'current' : ''}${agree === 'DIFFER' ? ' differ' : ''}` },
        h('td', null, i + 1),
        h('td', { class: 'label' }, p?.label ?? ''),
        h('td', { class: 'len' }, x.len),
        h('td', { class: 'classic', 'data-value': x.classic ?? '' }, x.classic === null ? '—' : String(x.classic)),
        h('td', { class: 'kernel', 'data-value': x.kernel ?? '' }, x.kernel === null ? '—' : String(x.kernel)),
        h('td', { class: 'agree' }, agree),
        h('td', { class: 'div' }, x.divergences.map((v) => v.id).join(', ')),
        h('td', { class: 'disp' }, x.fault ? `model fault: ${x.fault.kind}` : x.disposition),
      ),
    );
  });
  table.append(tb);
  const total = d.packets.packets.length;
  fill(box, table, total > MAX_TABLE_ROWS ? h('div', { class: 'muted' }, `first ${MAX_TABLE_ROWS} of ${total} packets shown`) : null);
}

function renderSkbForm(d: Derived): void {
  const form = byId('skb-form');
  const sel = d.packets.ok ? d.packets.packets[state.packet] : undefined;
  const base = sel?.skb ?? {};
  if (form.childElementCount === 0) {
    for (const [name, desc] of SKB_FIELDS) {
      const input =
        name === 'preset'
          ? h('select', { 'data-field': name }, h('option', { value: '' }, '(packet default)'), h('option', { value: 'af_unix' }, 'af_unix'), h('option', { value: 'ethernet' }, 'ethernet'))
          : h('input', { 'data-field': name, type: 'text', spellcheck: false, size: 12 });
      form.append(h('label', { title: desc }, h('span', null, name), input));
    }
    form.append(h('button', { id: 'skb-reset', type: 'button' }, 'clear overrides'));
  }
  for (const el of Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-field]'))) {
    const name = el.dataset.field!;
    const over = Object.prototype.hasOwnProperty.call(state.skb, name);
    const v = over ? state.skb[name] : base[name];
    if (document.activeElement !== el) el.value = v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    el.classList.toggle('override', over);
    if (!over && v === undefined) el.setAttribute('placeholder', 'preset');
  }
}

function hexBytes(b: Uint8Array, from = 0, to = b.length): string {
  let s = '';
  for (let i = from; i < to; i++) s += b[i]!.toString(16).padStart(2, '0') + (i + 1 < to ? ' ' : '');
  return s;
}

function renderStepper(d: Derived): void {
  const box = byId('stepper');
  const t = d.trace;
  const a = d.analysis;
  if (a === null || t === null) {
    fill(box, d.traceError ? h('div', { class: 'bad' }, `bpfspec: ${d.traceError}`) : h('div', { class: 'muted' }, 'no packet selected'));
    return;
  }
  const nRows = t.rows.length;
  const r = Math.min(state.row, nRows - 1);
  const row = t.rows[r]!;
  const cs = row.c >= 0 ? t.classicTrace[row.c]! : null;
  const es = row.e >= 0 ? t.ebpfTrace[row.e]! : null;
  const pkt = d.packets.ok ? d.packets.packets[state.packet] : undefined;
  const pos = h(
    'div',
    { id: 'step-pos', 'data-row': r, 'data-rows': nRows, 'data-tick': row.tick, 'data-classic-step': row.c, 'data-ebpf-step': row.e },
    `${pkt?.label ?? ''}: row ${r + 1} of ${nRows} · tick ${row.tick} · classic step ${row.c >= 0 ? `${row.c + 1} of ${t.classicTrace.length}` : '—'} · eBPF step ${row.e >= 0 ? `${row.e + 1} of ${t.ebpfTrace.length}` : '—'}`,
  );
  // classic side
  const classicDone = cs === null && row.tick > 0 && t.classicTrace.length > 0 && (t.rows.findIndex((x) => x.c === t.classicTrace.length - 1) < r);
  const cBox = h('div', { id: 'state-classic', class: 'side' }, h('h3', null, 'classic evaluator (sk_run_filter semantics)'));
  if (!a.check.accepted) cBox.append(h('div', { class: 'muted' }, 'rejected by bpf_check_classic: nothing runs'));
  else if (cs === null)
    cBox.append(h('div', { class: 'muted', id: 'classic-note' }, classicDone ? `returned ${t.run.classic} (${hex32(t.run.classic ?? 0)}) at pc ${t.classicExit?.pc}` : 'before pc 0: A = 0, X = 0 (the kernel path runs its prologue first)'));
  else {
    const insn = a.classic[cs.pc]!;
    cBox.append(
      h('div', { class: 'insn' }, h('span', { id: 'classic-pc', 'data-value': cs.pc }, `pc ${cs.pc}`), '  ', insn.text.replace(/^\(\d+\)\s*/, '')),
      h(
        'table',
        { class: 'regs' },
        h('tr', null, h('th', null, 'A'), h('td', { id: 'classic-A', 'data-value': cs.A >>> 0 }, hex32(cs.A)), h('td', { class: 'muted' }, String(cs.A >>> 0))),
        h('tr', null, h('th', null, 'X'), h('td', { id: 'classic-X', 'data-value': cs.X >>> 0 }, hex32(cs.X)), h('td', { class: 'muted' }, String(cs.X >>> 0))),
      ),
      h(
        'table',
        { class: 'mem' },
        ...Array.from({ length: 8 }, (_, q) =>
          h('tr', null, ...[q, q + 8].flatMap((k) => [h('th', null, `M[${k}]`), h('td', { 'data-m': k, 'data-value': cs.M[k]! >>> 0 }, hex32(cs.M[k]!))])),
        ),
      ),
    );
  }
  // eBPF side
  const eBox = h('div', { id: 'state-ebpf', class: 'side' }, h('h3', null, 'kernel path (___bpf_prog_run on the migrated program)'));
  if (a.attached === null) eBox.append(h('div', { class: 'muted' }, `not attached: ${a.attach.text}`));
  else if (es === null) eBox.append(h('div', { class: 'muted', id: 'ebpf-note' }, t.ebpfTrace.length > 0 ? `returned ${t.run.kernel} (${hex32(t.run.kernel ?? 0)})${t.run.fault ? `; model fault ${t.run.fault.kind}: ${t.run.fault.detail}` : ''}` : 'no steps'));
  else {
    const insn = a.migration!.insns[es.pc]!;
    const skbB = pkt ? packetSkb(pkt, state.skb) : null;
    const stack = skbB && skbB.ok ? stackBefore(a, skbB.skb, skbB.env, row.e) : null;
    eBox.append(
      h('div', { class: 'insn' }, h('span', { id: 'ebpf-pc', 'data-value': es.pc }, `pc ${es.pc}`), '  ', insn.text, h('span', { class: 'muted small' }, `  ${insn.label}: ${insn.semantics}`)),
      h(
        'table',
        { class: 'regs' },
        ...Array.from({ length: 12 }, (_, rr) =>
          h(
            'tr',
            null,
            h('th', null, rr === 11 ? 'ax' : `r${rr}`),
            h('td', { id: `ebpf-r${rr}`, 'data-value': reg64(es, rr) }, reg64(es, rr)),
            h('td', { class: 'muted small' }, rr === 0 ? 'A' : rr === 7 ? 'X' : rr === 10 ? 'FP' : rr === 1 ? 'ctx' : rr === 6 ? 'ctx (saved)' : rr === 8 ? 'skb->data' : rr === 9 ? 'headlen' : ''),
          ),
        ),
      ),
      stack ? stackTable(stack.bytes, es.regs, stack.regs) : '',
    );
  }
  // where the runs part
  const part = t.parting;
  const partBox = h('div', { id: 'parting', class: `parting${part ? '' : ' none'}`, 'data-tick': part?.tick ?? '', 'data-row': part?.row ?? '' });
  if (part === null) partBox.append(a.check.accepted && a.attached ? 'The two runs agree at every tick and in their result.' : 'Only one run exists for this program.');
  else {
    partBox.append(h('div', null, h('b', null, `The runs part at tick ${part.tick}`), `: ${part.why}`));
    if (t.run.divergences.length > 0) {
      for (const dv of t.run.divergences) partBox.append(divergenceBox(dv));
      if (t.run.predicted !== null)
        partBox.append(
          h(
            'div',
            { class: 'small', id: 'prediction' },
            `The catalogue predicts the kernel path's result by re-running the classic evaluator with the v6.6 decisions: ${t.run.predicted} — the kernel path gave ${t.run.kernel}${t.run.predicted === t.run.kernel ? ' (exact)' : ' (MISMATCH: a finding)'}.`,
          ),
        );
    } else
      partBox.append(
        h(
          'div',
          { class: 'divergence none', id: 'no-divergence' },
          a.config.variant
            ? `No catalogued divergence applies: this is the historical bug ${a.config.variant} (model/variants.ts) at work.`
            : 'No catalogued divergence applies: a difference here would be a finding (bpfspec fuzz reports these).',
        ),
      );
  }
  fill(box, pos, h('div', { class: 'sides' }, cBox, eBox), partBox);
}

function stackTable(bytes: Uint8Array, traceRegs: Uint32Array, stopRegs: Uint32Array): HTMLElement {
  const size = bytes.length;
  const same = traceRegs.every((v, i) => v === stopRegs[i]);
  const t = h('table', { class: 'stack', id: 'stack' }, h('caption', null, `stack: ${size} bytes below FP (read from the model's memory before this step; 0xcc is the model's poison for bytes not yet written)`));
  for (let off = 0; off < size; off += 8) {
    const fpOff = off - size;
    const slots: string[] = [];
    for (let w = 0; w < 2; w++) {
      const o = fpOff + 4 * w;
      const k = (-o - 4) / 4;
      if (Number.isInteger(k) && k >= 0 && k < 16 && memSlotOffset(k) === o) slots.push(`M[${k}]`);
    }
    t.append(h('tr', null, h('th', null, `fp${fpOff}`), h('td', null, hexBytes(bytes, off, Math.min(off + 8, size))), h('td', { class: 'muted small' }, slots.join(' '))));
  }
  if (!same) t.append(h('tr', null, h('td', { colspan: 3, class: 'bad' }, 'the stopped run disagrees with the trace: a model bug')));
  return t;
}

function renderReference(): void {
  const box = byId('reference');
  const filterInput = byId<HTMLInputElement>('reference-filter');
  const f = filterInput.value.trim().toLowerCase();
  const rows = data.reference.rows.filter((r) => f === '' || `${r.kernelName} ${r.kernelPath} ${r.modelName} ${r.modelFile} ${r.note}`.toLowerCase().includes(f));
  const table = h(
    'table',
    { class: 'reference' },
    h('thead', null, h('tr', null, ...['kernel', 'kernel file:line', 'model', 'model file:line', 'kind', 'note'].map((x) => h('th', null, x)))),
  );
  const tb = h('tbody');
  for (const r of rows) {
    const url = rowUrl(r);
    tb.append(
      h(
        'tr',
        { class: r.kind },
        h('td', { class: 'kname' }, r.kernelName),
        h('td', null, kernelLink(`${r.kernelTree === '3.14' ? 'v3.14 ' : ''}${r.kernelPath}:${r.kernelLineAs}`, url)),
        h('td', { class: 'mname' }, r.modelName),
        h('td', null, `${r.modelFile}:${r.modelLine}`),
        h('td', { class: 'muted' }, r.kind),
        h('td', { class: 'muted small' }, r.note),
      ),
    );
  }
  table.append(tb);
  const fns = data.reference.rows.filter((r) => r.kind === 'function' || r.kind === 'method').length;
  fill(
    box,
    h(
      'p',
      null,
      `${data.reference.rows.length} citations heading a declaration (${fns} functions and methods) in ${data.reference.modelFiles} model files, plus ${data.reference.inline} inside code. Kernel lines link to `,
      h('a', { href: `https://github.com/${TREE_REPO}/tree/${TREE_COMMIT}`, target: '_blank', rel: 'noopener' }, `${TREE_REPO} @ ${TREE_COMMIT.slice(0, 12)}`),
      '. Generated at build time from the model\'s comments; the build fails on a citation that names no function or a file the model does not know.',
    ),
    h('p', { class: 'muted' }, `${rows.length} shown`),
    table,
  );
}

function render(forceText = false): void {
  document.body.dataset.view = state.view;
  byId('tab-page').classList.toggle('on', state.view === 'page');
  byId('tab-reference').classList.toggle('on', state.view === 'reference');
  if (state.view === 'reference') {
    renderReference();
    return;
  }
  const d = derive(state);
  renderSources();
  renderParams();
  renderProgramText(d, forceText);
  renderVerdicts(d);
  renderPackets(d);
  renderStepper(d);
  renderMigration(d);
  byId<HTMLInputElement>('link').value = location.href;
  byId('notes').hidden = true;
}

// ---------------------------------------------------------------------------------------------
// Stepping

function rowsOf(): Lockstep | null {
  return derive(state).trace;
}

function stepTo(row: number): void {
  const t = rowsOf();
  if (t === null) return;
  setState({ row: Math.max(0, Math.min(row, t.rows.length - 1)) });
}

function tickStep(dir: 1 | -1): void {
  const t = rowsOf();
  if (t === null) return;
  const cur = t.rows[Math.min(state.row, t.rows.length - 1)]!;
  if (dir === 1) stepTo(t.tickStart[cur.tick + 1] ?? t.rows.length - 1);
  else stepTo(state.row > t.tickStart[cur.tick]! ? t.tickStart[cur.tick]! : (t.tickStart[cur.tick - 1] ?? 0));
}

function hitsBreakpoint(t: Lockstep, r: number): boolean {
  const row = t.rows[r]!;
  if (row.e >= 0 && bpHas('e', t.ebpfTrace[row.e]!.pc)) return true;
  // a classic breakpoint stops at the first row of the tick
  if (row.c >= 0 && t.tickStart[row.tick] === r && bpHas('c', t.classicTrace[row.c]!.pc)) return true;
  return false;
}

function continueTo(dir: 1 | -1): void {
  const t = rowsOf();
  if (t === null) return;
  for (let r = state.row + dir; r >= 0 && r < t.rows.length; r += dir)
    if (hitsBreakpoint(t, r)) {
      stepTo(r);
      return;
    }
  stepTo(dir === 1 ? t.rows.length - 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Wiring

function programFromSelect(v: string): void {
  if (v === 't') {
    const text = byId<HTMLTextAreaElement>('program-text').value;
    setState({ program: { kind: 'text', text, format: null }, row: 0, selected: null });
    return;
  }
  const program = v.startsWith('x:') ? ({ kind: 'example', name: v.slice(2) } as const) : ({ kind: 'entry', id: v.slice(2) } as const);
  const packets: PacketsRef = program.kind === 'entry' ? { kind: 'entry' } : state.packets.kind === 'entry' ? { kind: 'capture', name: data.captures[0]?.name ?? 'http.pcap' } : state.packets;
  setState({ program, packets, packet: 0, row: 0, selected: null, breakpoints: [], arch: null, optmemMax: null, loadHelpers: null, variant: null, skb: {} }, { replace: false });
  render(true);
}

function loadDropped(name: string, bytes: Uint8Array): void {
  const r = packetsFromCapture(bytes, name);
  const err = byId('packet-info');
  if (!r.ok) {
    fill(err, h('span', { class: 'bad', id: 'drop-error' }, `bpfspec: ${r.message}`));
    return;
  }
  dropped = { name, packets: r.packets, notes: r.notes };
  // Into the URL as hex when small enough to share; else only in this page.
  const total = r.packets.reduce((n, p) => n + p.data.length, 0);
  const presets = new Set(r.packets.map((p) => String(p.skb.preset)));
  if (total <= 16384 && presets.size <= 1) {
    const text = r.packets.map((p) => hexBytes(p.data).replace(/ /g, '')).join('\n');
    dropped = null;
    setState({ packets: { kind: 'hex', text, preset: [...presets][0] ?? 'af_unix' }, packet: 0, row: 0 }, { replace: false });
  } else setState({ packets: { kind: 'capture', name: `dropped:${name}` }, packet: 0, row: 0 }, { replace: false });
}

function wire(): void {
  byId<HTMLSelectElement>('program-source').addEventListener('change', (e) => programFromSelect((e.target as HTMLSelectElement).value));
  const ta = byId<HTMLTextAreaElement>('program-text');
  ta.addEventListener('input', () => {
    const format = state.program.kind === 'text' ? state.program.format : null;
    setState({ program: { kind: 'text', text: ta.value, format }, row: 0, selected: null });
  });
  byId<HTMLSelectElement>('program-format').addEventListener('change', (e) => {
    const v = (e.target as HTMLSelectElement).value;
    const text = byId<HTMLTextAreaElement>('program-text').value;
    setState({ program: { kind: 'text', text, format: v === '' ? null : v }, row: 0 });
  });
  byId<HTMLSelectElement>('param-arch').addEventListener('change', (e) => setState({ arch: (e.target as HTMLSelectElement).value, row: 0 }));
  byId<HTMLInputElement>('param-optmem').addEventListener('change', (e) => {
    const v = (e.target as HTMLInputElement).value.trim();
    if (/^\d{1,10}$/.test(v) && Number(v) <= 2 ** 31 - 1) setState({ optmemMax: Number(v), row: 0 });
    else {
      fill(byId('notes'), `bpfspec: optmem_max ${v}: expected a byte count`);
      byId('notes').hidden = false;
    }
  });
  byId<HTMLSelectElement>('param-helpers').addEventListener('change', (e) => setState({ loadHelpers: (e.target as HTMLSelectElement).value as 'v6.6.0' | 'backport', row: 0 }));
  byId<HTMLSelectElement>('param-variant').addEventListener('change', (e) => setState({ variant: (e.target as HTMLSelectElement).value, row: 0 }));
  byId<HTMLSelectElement>('packet-source').addEventListener('change', (e) => {
    const v = (e.target as HTMLSelectElement).value;
    if (v === 'e') setState({ packets: { kind: 'entry' }, packet: 0, row: 0 });
    else if (v === 'h') setState({ packets: { kind: 'hex', text: byId<HTMLTextAreaElement>('packet-hex').value, preset: 'af_unix' }, packet: 0, row: 0 });
    else if (v.startsWith('x:')) setState({ packets: { kind: 'capture', name: v.slice(2) }, packet: 0, row: 0 });
  });
  const pk = byId<HTMLTextAreaElement>('packet-hex');
  pk.addEventListener('input', () => setState({ packets: { kind: 'hex', text: pk.value, preset: state.packets.kind === 'hex' ? state.packets.preset : 'af_unix' }, packet: 0, row: 0 }));
  const form = byId('skb-form');
  form.addEventListener('change', (e) => {
    const el = e.target as HTMLInputElement | HTMLSelectElement;
    const name = el.dataset.field;
    if (name === undefined) return;
    const skb: Record<string, unknown> = { ...state.skb };
    const raw = el.value.trim();
    if (raw === '') delete skb[name];
    else if (name === 'preset' || name === 'headroom') skb[name] = raw;
    else {
      try {
        skb[name] = JSON.parse(raw) as unknown;
      } catch {
        skb[name] = raw; // buildSkb names the field and what is wrong with it
      }
    }
    setState({ skb, row: 0 });
  });
  form.addEventListener('click', (e) => {
    if ((e.target as HTMLElement).id === 'skb-reset') setState({ skb: {}, row: 0 });
  });
  byId('results').addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest('tr[data-index]');
    if (tr) setState({ packet: Number((tr as HTMLElement).dataset.index), row: 0 });
  });
  byId('migration').addEventListener('click', (e) => {
    const el = e.target as HTMLElement;
    const bp = el.closest('[data-bp]') as HTMLElement | null;
    if (bp) {
      const id = bp.dataset.bp!;
      toggleBp(id[0] as 'c' | 'e', Number(id.slice(1)));
      return;
    }
    const s = el.closest('[data-sel]') as HTMLElement | null;
    if (s) setState({ selected: state.selected === s.dataset.sel ? null : s.dataset.sel! });
  });
  const drop = byId('drop-zone');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  const readFile = (f: File): void => {
    void f.arrayBuffer().then((buf) => loadDropped(f.name, new Uint8Array(buf)));
  };
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) readFile(f);
  });
  byId<HTMLInputElement>('capture-file').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) readFile(f);
  });
  const act: [string, () => void][] = [
    ['step-first', () => stepTo(0)],
    ['step-back-tick', () => tickStep(-1)],
    ['step-back', () => stepTo(state.row - 1)],
    ['step-fwd', () => stepTo(state.row + 1)],
    ['step-fwd-tick', () => tickStep(1)],
    ['step-last', () => stepTo(1e9)],
    ['step-reverse-continue', () => continueTo(-1)],
    ['step-continue', () => continueTo(1)],
    ['step-parting', () => {
      const t = rowsOf();
      if (t?.parting) stepTo(t.parting.row);
    }],
  ];
  for (const [id, f] of act) byId(id).addEventListener('click', f);
  document.addEventListener('keydown', (e) => {
    const tag = (e.target as HTMLElement).tagName;
    if (tag === 'TEXTAREA' || tag === 'INPUT' || tag === 'SELECT' || state.view !== 'page') return;
    if (e.key === 'ArrowRight' || e.key === 'n') stepTo(state.row + 1);
    else if (e.key === 'ArrowLeft' || e.key === 'p') stepTo(state.row - 1);
    else if (e.key === 'ArrowDown' || e.key === 'N') tickStep(1);
    else if (e.key === 'ArrowUp' || e.key === 'P') tickStep(-1);
    else if (e.key === 'c') continueTo(1);
    else if (e.key === 'C') continueTo(-1);
    else return;
    e.preventDefault();
  });
  byId('tab-page').addEventListener('click', () => setState({ view: 'page' }, { replace: false }));
  byId('tab-reference').addEventListener('click', () => setState({ view: 'reference' }, { replace: false }));
  byId('reference-filter').addEventListener('input', () => renderReference());
  byId('copy-link').addEventListener('click', () => {
    const l = byId<HTMLInputElement>('link');
    l.select();
    void navigator.clipboard?.writeText(l.value).catch(() => undefined);
  });
  window.addEventListener('hashchange', () => {
    loadFromHash();
  });
}

function loadFromHash(): void {
  const { state: s, notes } = parseState(location.hash);
  state = s;
  render(true);
  if (notes.length > 0) {
    fill(byId('notes'), ...notes.map((n) => h('div', null, `bpfspec: ${n}`)));
    byId('notes').hidden = false;
  }
}

wire();
loadFromHash();
document.body.dataset.ready = 'true';

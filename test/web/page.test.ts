// The page in a real browser (Debian's chromium, driven by playwright-core): what it shows is checked
// against what the bpfspec command prints for the same case. Screenshots of each test go under
// reports/web-screenshots/ (printed at the end of the run).
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { buildPage } from '../../web/build/build.js';
import { projectRoot } from '../_shared.js';
import { requiresSerial } from '../_skip.js';
import { chromiumMissing, launch, SCREENSHOT_DIR, screenshotPath } from './_browser.js';
import { analyse, parseProgramText } from '../../web/app/spec.js';
import { X86_64 } from '../../model/config.js';

const cli = resolve(projectRoot, 'dist/cli/main.js');
const ex = (f: string): string => resolve(projectRoot, 'examples', f);

function bpfspec(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const scratch = mkdtempSync(join(tmpdir(), 'bpfspec-web-'));
const pageDir = join(scratch, 'page');
const built = chromiumMissing === null ? await buildPage({ root: projectRoot, outDir: pageDir }) : null;
const pageUrl = built ? pathToFileURL(built.html).href : '';

let browser: { ctx: BrowserContext; close: () => Promise<void> } | null = null;
async function ctx(): Promise<BrowserContext> {
  browser ??= await launch();
  return browser.ctx;
}

test.after.always(async () => {
  if (browser) await browser.close();
  if (built) console.log(`web page tests: screenshots in ${SCREENSHOT_DIR}`);
});

const pageErrors = new WeakMap<Page, string[]>();

/** Open the page at a fragment; uncaught errors in the page are collected for done(). */
async function open(t: ExecutionContext, fragment: string, base = pageUrl): Promise<Page> {
  const page = await (await ctx()).newPage();
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${base}${fragment === '' ? '' : `#${fragment}`}`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 20_000 });
  return page;
}

/** An attribute of the first element that matches, '' when there is none (never waits). */
/** Close a page, failing the test if the page threw anything uncaught. */
async function done(t: ExecutionContext, page: Page): Promise<void> {
  t.deepEqual(pageErrors.get(page) ?? [], [], 'no uncaught error in the page');
  await page.close();
}

const attr = async (page: Page, sel: string, name: string): Promise<string> => (await (await page.$(sel))?.getAttribute(name)) ?? '';

requiresSerial(chromiumMissing, 'web: paste the tcpdump -dd example; the verdict is what bpfspec check says', async (t) => {
  const page = await open(t, 'p=t');
  const text = readFileSync(ex('tcp-port-80.dd'), 'utf8');
  await page.fill('#program-text', text);
  await page.waitForFunction(() => document.querySelector('#program-info')?.textContent?.includes('tcpdump-dd'));
  const c = bpfspec(['check', ex('tcp-port-80.dd')]);
  t.is(c.code, 0, c.stderr);
  const want = c.stdout.trim().slice(`${ex('tcp-port-80.dd')}: `.length);
  t.is((await page.textContent('#verdict-check'))?.trim(), want);
  t.is(await attr(page, '#verdict-check', 'data-accepted'), 'true');
  t.is((await page.textContent('#verdict-attach'))?.trim(), want);
  // the attach verdict shows the x86-64 JIT's passes as the model ran them (web/app/spec.ts analyse, in Node)
  const progText = parseProgramText(text, null);
  if (!progText.ok) return t.fail(progText.message);
  const jit = analyse(progText.prog, X86_64).runtime?.jit;
  if (!jit) return t.fail('the model shows no JIT for x86_64');
  t.is(await attr(page, '#jit', 'data-jited'), 'true');
  t.is(await attr(page, '#jit', 'data-passes'), String(jit.passes));
  t.true((await page.textContent('#jit'))?.includes(`image ${jit.proglen} bytes`));
  // the migration beside it: every eBPF line as `bpfspec migrate` prints it
  const mig = bpfspec(['migrate', ex('tcp-port-80.dd')]).stdout.split('\n');
  const cliEbpf = mig.filter((l) => /^\s{7}\s*\d+: \(/.test(l)).map((l) => l.trim().replace(/^\d+: /, ''));
  const pageEbpf = await page.$$eval('#migration .ebpf .txt', (els) => els.map((e) => e.textContent ?? ''));
  t.true(cliEbpf.length > 20);
  t.deepEqual(pageEbpf, cliEbpf);
  await page.screenshot({ path: screenshotPath('1-paste-verdict') });

  // a program the checker rejects: the same words, and the kernel line linked
  const bad = join(scratch, 'bad.dd');
  writeFileSync(bad, '{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 5, 0x00000800 },\n{ 0x6, 0, 0, 0x0000ffff },\n');
  const cb = bpfspec(['check', bad]);
  t.is(cb.code, 1, cb.stderr);
  await page.fill('#program-text', readFileSync(bad, 'utf8'));
  await page.waitForFunction(() => document.querySelector('#verdict-check')?.getAttribute('data-accepted') === 'false');
  t.is((await page.textContent('#verdict-check'))?.trim(), cb.stdout.trim().slice(`${bad}: `.length));
  const link = await page.getAttribute('#verdicts .verdict.bad a.kref', 'href');
  t.regex(link ?? '', /^https:\/\/github\.com\/eclipse-oniro-mirrors\/kernel_linux_6\.6\/blob\/79226fb0ba80[0-9a-f]{28}\/net\/core\/filter\.c#L\d+$/);
  await page.screenshot({ path: screenshotPath('1-paste-rejected') });
  await done(t, page);
});

interface TraceJson {
  packets: { classic: number; kernel: number; trace: { pc: number; A: number; X: number; M: number[] }[]; kernelTrace: { pc: number; regs: number[] }[] }[];
}

const u64 = (regs: number[], r: number): string => `0x${regs[2 * r + 1]!.toString(16).padStart(8, '0')}${regs[2 * r]!.toString(16).padStart(8, '0')}`;

/** The entry's skb as `bpfspec run --set` arguments. */
function setArgs(skb: Record<string, unknown>): string[] {
  return Object.entries(skb).flatMap(([k, v]) => ['--set', `${k}=${v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`]);
}

requiresSerial(chromiumMissing, 'web: step to where the runs part on corpus entries; the registers are what bpfspec run --trace says', async (t) => {
  for (const [id, divergence] of [
    ['divergences/dev-null-exit-a', 'dev-null-exit-a'],
    ['divergences/vlan-tag-dei', 'vlan-tag-dei'],
    ['divergences/nlattr-guard-continue', 'nlattr-guard-continue'],
  ] as const) {
    const entry = JSON.parse(readFileSync(join(projectRoot, 'corpus', `${id}.json`), 'utf8')) as {
      program: { hex: string };
      config: { load_helpers: string; optmem_max: number };
      inputs: { packet: string; skb: Record<string, unknown> }[];
    };
    const prog = join(scratch, `${id.replace('/', '-')}.hex`);
    writeFileSync(prog, entry.program.hex);
    const input = entry.inputs[0]!;
    const r = bpfspec(['run', prog, '--format', 'hex', '--packet', input.packet, ...setArgs(input.skb), '--load-helpers', entry.config.load_helpers, '--optmem-max', String(entry.config.optmem_max), '--trace', '--json']);
    t.is(r.code, 0, r.stderr);
    const j = (JSON.parse(r.stdout) as TraceJson).packets[0]!;
    t.not(j.classic, j.kernel, `${id}: the entry shows a divergence`);

    const page = await open(t, `p=e:${id}`);
    await page.click('#step-parting');
    await page.waitForSelector('#parting[data-row]:not([data-row=""])');
    t.is(await attr(page, '#step-pos', 'data-row'), await attr(page, '#parting', 'data-row'));
    t.is(await attr(page, '#parting .divergence', 'data-divergence'), divergence);
    const cs = Number(await attr(page, '#step-pos', 'data-classic-step'));
    const es = Number(await attr(page, '#step-pos', 'data-ebpf-step'));
    t.true(es >= 0, `${id}: the kernel path has a step where they part`);
    if (cs >= 0) {
      const c = j.trace[cs]!;
      t.is(Number(await attr(page, '#classic-pc', 'data-value')), c.pc, `${id}: classic pc`);
      t.is(Number(await attr(page, '#classic-A', 'data-value')), c.A >>> 0, `${id}: A`);
      t.is(Number(await attr(page, '#classic-X', 'data-value')), c.X >>> 0, `${id}: X`);
      for (let m = 0; m < 16; m++) t.is(Number(await attr(page, `#state-classic [data-m="${m}"]`, 'data-value')), c.M[m]! >>> 0, `${id}: M[${m}]`);
    } else {
      // the classic run has ended (returned) while the kernel path goes on
      t.regex((await page.textContent('#classic-note')) ?? '', new RegExp(`^returned ${j.classic} `), `${id}: classic ended`);
      t.is(cs, -1);
    }
    const k = j.kernelTrace[es]!;
    t.is(Number(await attr(page, '#ebpf-pc', 'data-value')), k.pc, `${id}: eBPF pc`);
    for (let reg = 0; reg <= 10; reg++) t.is(await attr(page, `#ebpf-r${reg}`, 'data-value'), u64(k.regs, reg), `${id}: r${reg}`);
    // and every step the other way: walk back to the start, the classic pc follows the trace
    await page.screenshot({ path: screenshotPath(`2-parting-${divergence}`), fullPage: true });
    await done(t, page);
  }
});

requiresSerial(chromiumMissing, 'web: drop the example capture; the results table is what bpfspec run --pcap --json says', async (t) => {
  for (const capture of ['http.pcap', 'http.pcapng']) {
    const r = bpfspec(['run', ex('tcp-port-80.dd'), '--pcap', ex(capture), '--json']);
    t.is(r.code, 0, r.stderr);
    const want = (JSON.parse(r.stdout) as { packets: { len: number; classic: number; kernel: number; agree: boolean }[] }).packets;
    t.is(want.length, 5);
    const page = await open(t, 'p=x:tcp-port-80.dd&k=h');
    t.is(await page.$$eval('#results tbody tr', (rows) => rows.length), 0, 'no packets before the drop');
    const b64 = readFileSync(ex(capture)).toString('base64');
    const dt = await page.evaluateHandle(
      ({ b64, name }) => {
        const bin = atob(b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const d = new DataTransfer();
        d.items.add(new File([bytes], name));
        return d;
      },
      { b64, name: capture },
    );
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: dt });
    await page.waitForFunction((n) => document.querySelectorAll('#results tbody tr').length === n, want.length);
    const rows = await page.$$eval('#results tbody tr', (trs) =>
      trs.map((tr) => ({
        len: Number(tr.querySelector('.len')?.textContent),
        classic: Number(tr.querySelector('.classic')?.getAttribute('data-value')),
        kernel: Number(tr.querySelector('.kernel')?.getAttribute('data-value')),
        agree: tr.querySelector('.agree')?.textContent === 'agree',
      })),
    );
    t.deepEqual(
      rows,
      want.map((p) => ({ len: p.len, classic: p.classic, kernel: p.kernel, agree: p.agree })),
      capture,
    );
    await page.screenshot({ path: screenshotPath(`3-dropped-${capture.replace('.', '-')}`) });
    // a file that is no capture: one line naming the problem, and the page goes on
    const junk = await page.evaluateHandle(() => {
      const d = new DataTransfer();
      d.items.add(new File([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])], 'junk.pcap'));
      return d;
    });
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: junk });
    await page.waitForSelector('#drop-error');
    t.regex((await page.textContent('#drop-error')) ?? '', /^bpfspec: junk\.pcap: not a pcap or pcapng file/);
    await done(t, page);
  }
});

requiresSerial(chromiumMissing, 'web: a deep link restores the exact step, packet, breakpoints and selection', async (t) => {
  const page = await open(t, 'p=e:divergences/dev-null-exit-a');
  // the second input, three steps in, a breakpoint on classic pc 1, eBPF pc 3 selected
  await page.click('#results tbody tr[data-index="1"]');
  for (let i = 0; i < 3; i++) await page.click('#step-fwd');
  await page.click('#migration [data-bp="c1"]');
  await page.click('#migration [data-sel="e3"]');
  const link = await page.inputValue('#link');
  t.regex(link, /#.*r=3/);
  t.regex(link, /i=1/);
  const snapshot = async (p: Page): Promise<string[]> =>
    Promise.all([
      attr(p, '#step-pos', 'data-row'),
      attr(p, '#step-pos', 'data-classic-step'),
      attr(p, '#step-pos', 'data-ebpf-step'),
      attr(p, '#ebpf-pc', 'data-value'),
      attr(p, '#ebpf-r0', 'data-value'),
      attr(p, '#ebpf-r2', 'data-value'),
      attr(p, '#results tr.current', 'data-index'),
      attr(p, '#migration [data-bp="c1"]', 'class'),
      attr(p, '#migration .ebpf.selected', 'data-pc'),
      p.textContent('#step-pos').then((s) => s ?? ''),
    ]);
  const before = await snapshot(page);
  t.is(before[0], '3');
  t.is(before[6], '1');
  t.is(before[7], 'bp on');
  t.is(before[8], '3');
  const again = await open(t, link.slice(link.indexOf('#') + 1));
  t.deepEqual(await snapshot(again), before);
  await again.screenshot({ path: screenshotPath('4-deep-link') });
  // continue to the breakpoint from the start: it stops on classic pc 1
  await again.click('#step-first');
  await again.click('#step-continue');
  t.is(await attr(again, '#classic-pc', 'data-value'), '1');
  await done(t, page);
  await done(t, again);
});

requiresSerial(chromiumMissing, 'web: bpfspec web serves the page on localhost; the reference view lists the model citations', async (t) => {
  const child = spawn(process.execPath, [cli, 'web', '--port', '0', '--dir', pageDir], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((res, rej) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) res(m[1]!);
      });
      child.on('exit', (code) => rej(new Error(`bpfspec web exited ${code}`)));
      setTimeout(() => rej(new Error(`no URL printed: ${out}`)), 20_000);
    });
    const missing = await fetch(`${url}nope`);
    t.is(missing.status, 404);
    const page = await open(t, 'view=reference', url);
    const rows = await page.$$eval('#reference tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
    t.is(rows.length, built!.citations.entries.length);
    const check = rows.find((r) => r[2] === 'bpfCheckClassic');
    t.truthy(check);
    t.is(check![0], 'bpf_check_classic');
    t.regex(check![1]!, /^net\/core\/filter\.c:\d+$/);
    t.regex(check![3]!, /^model\/cbpf\/check\.ts:\d+$/);
    await page.screenshot({ path: screenshotPath('5-reference') });
    await done(t, page);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await new Promise<number | null>((res) => (child.exitCode !== null ? res(child.exitCode) : child.on('exit', (c) => res(c))));
  t.is(code, 0, 'bpfspec web stops cleanly on SIGTERM');
});

requiresSerial(chromiumMissing, 'web: every shipped example and corpus entry opens, and where its runs part the page names the cause', async (t) => {
  const data = JSON.parse(
    (readFileSync(built!.html, 'utf8').match(/<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/) ?? ['', '{}'])[1]!,
  ) as { examples: { name: string }[]; entries: { id: string; variant: string | null; divergence: string | null }[] };
  t.true(data.entries.length >= 15);
  const page = await open(t, '');
  const fragments = [...data.examples.map((e) => ({ frag: `p=x:${encodeURIComponent(e.name)}`, variant: null, divergence: null, id: e.name })), ...data.entries.map((e) => ({ frag: `p=e:${encodeURIComponent(e.id)}`, ...e }))];
  let parted = 0;
  for (const f of fragments) {
    await page.evaluate((frag) => {
      location.hash = frag;
    }, f.frag);
    await page.waitForFunction((id) => (document.querySelector('#program-info')?.textContent ?? '').includes(id), f.id);
    t.regex((await page.textContent('#verdict-check')) ?? '', /^(accepted|rejected)/, f.id);
    const row = await attr(page, '#parting', 'data-row');
    if (row === '') continue;
    parted++;
    await page.click('#step-parting');
    t.is(await attr(page, '#step-pos', 'data-row'), row, f.id);
    if (f.divergence !== null) t.truthy(await page.$(`#parting [data-divergence="${f.divergence}"]`), `${f.id}: names ${f.divergence}`);
    else if (f.variant !== null) t.regex((await page.textContent('#no-divergence')) ?? '', new RegExp(`historical bug ${f.variant}`), f.id);
  }
  t.true(parted >= 8, `${parted} entries part`);
  await done(t, page);
});

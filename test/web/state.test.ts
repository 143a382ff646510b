// The URL fragment that holds the page's whole state.
import test from 'ava';
import { DEFAULT_STATE, parseState, printState, type PageState } from '../../web/app/state.js';

test('state: print then parse gives the same state back', (t) => {
  const states: PageState[] = [
    DEFAULT_STATE,
    { ...DEFAULT_STATE, program: { kind: 'entry', id: 'divergences/vlan-tag-dei' }, packets: { kind: 'entry' }, row: 4, packet: 1, breakpoints: ['c1', 'e12'], selected: 'e3' },
    { ...DEFAULT_STATE, program: { kind: 'text', text: 'ld [12]\n& ret #0 = ?#', format: 'bpf_asm' }, packets: { kind: 'hex', text: '00 11\n2233', preset: 'ethernet' }, skb: { mark: 7, dev: null } },
    { ...DEFAULT_STATE, arch: 'riscv64', optmemMax: 100, loadHelpers: 'backport', variant: 'reciprocal-divide', view: 'reference' },
    { ...DEFAULT_STATE, program: { kind: 'entry', id: 'historical/reciprocal-divide' }, packets: { kind: 'entry' }, variant: 'none' },
  ];
  for (const s of states) {
    const frag = printState(s);
    const back = parseState(`#${frag}`);
    t.deepEqual(back.notes, [], frag);
    t.deepEqual(back.state, s, frag);
  }
  t.is(printState(DEFAULT_STATE), 'p=x%3Atcp-port-80.dd&k=x%3Ahttp.pcap');
});

test('state: hostile fragments give defaults and notes, never an exception', (t) => {
  for (const frag of ['#p=zz', '#k=%', '#s={', '#s=[1]', '#o=-1', '#l=v5', '#r=1e9x', '#b=c1,x;alert(1)', '#i=-3', '#__proto__=1&constructor=2', '#%E0%A4%A', '#sel=<img>']) {
    const r = parseState(frag);
    t.truthy(r.state, frag);
    t.is(typeof r.state.row, 'number');
    t.true(r.state.breakpoints.every((b) => /^[ce]\d+$/.test(b)), frag);
    t.true(r.state.selected === null || /^[ce]\d+$/.test(r.state.selected), frag);
  }
  t.deepEqual(parseState('#b=c1,x;alert(1)').state.breakpoints, ['c1']);
  t.true(parseState('#o=-1').notes.some((n) => n.includes('optmem_max')));
  t.is(parseState('#p=e:divergences/x').state.packets.kind, 'entry', "an entry's inputs by default");
});

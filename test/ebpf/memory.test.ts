// The region address space of the interpreter model (model/ebpf/memory.ts).
import test from 'ava';
import {
  MAX_REGIONS,
  MEM_OK,
  MEM_OUT_OF_BOUNDS,
  MEM_READ_ONLY,
  MEM_UNMAPPED,
  Memory,
  REGION_HI_BASE,
  REGION_LO_BASE,
  STACK_END_LO,
  ptr64,
  split64,
} from '../../model/ebpf/memory.js';

test('addresses: region id in the hi word, bytes from REGION_LO_BASE; the stack ends at STACK_END_LO', (t) => {
  const mem = new Memory();
  const a = mem.addRegion('a', 16, true);
  t.is(mem.stack.hi, REGION_HI_BASE);
  t.is(a.hi, REGION_HI_BASE + 1);
  t.is(a.addr(0), ptr64(REGION_HI_BASE + 1, REGION_LO_BASE));
  t.is(a.lo(3), REGION_LO_BASE + 3);
  mem.setStackSize(64);
  t.is(mem.stack.start, STACK_END_LO - 64);
  t.is(mem.stack.endLo(), STACK_END_LO);
  t.is(mem.stack.bytes().length, 64);
  t.deepEqual(split64(-1n), { hi: 0xffffffff, lo: 0xffffffff });
  t.deepEqual(split64(a.addr(5)), { hi: a.hi, lo: REGION_LO_BASE + 5 });
  t.is(mem.region('a'), a);
  t.is(mem.region('b'), undefined);
  t.deepEqual(
    mem.regions().map((r) => r.name),
    ['stack', 'a'],
  );
  t.is(mem.regionOf(a.hi), a);
  t.is(mem.regionOf(0), undefined);
});

test('load/store little-endian of 1, 2, 4, 8 bytes; status codes', (t) => {
  const mem = new Memory();
  const a = mem.addRegion('a', 16, true);
  a.setBytes(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  t.is(mem.load(a.hi, a.lo(0), 8), MEM_OK);
  t.is(mem.valLo, 0x04030201);
  t.is(mem.valHi, 0x08070605);
  t.is(mem.load(a.hi, a.lo(6), 2), MEM_OK);
  t.is(mem.valLo, 0x0807);
  t.is(mem.valHi, 0);
  t.is(mem.store(a.hi, a.lo(0), 4, 0xdeadbeef, 0), MEM_OK);
  t.deepEqual([...a.bytes()], [0xef, 0xbe, 0xad, 0xde, 5, 6, 7, 8]);
  t.is(mem.store(a.hi, a.lo(7), 2, 0, 0), MEM_OUT_OF_BOUNDS);
  t.is(mem.load(a.hi + 5, a.lo(0), 1), MEM_UNMAPPED);
  t.is(mem.load(REGION_HI_BASE + MAX_REGIONS, a.lo(0), 1), MEM_UNMAPPED);
  a.writable = false;
  t.is(mem.store(a.hi, a.lo(0), 1, 0, 0), MEM_READ_ONLY);
  const f = mem.fault(MEM_READ_ONLY, 3, a.hi, a.lo(0), 1, true);
  t.like(f, { kind: 'read-only', pc: 3, size: 1, region: 'a', write: true });
  t.regex(f.detail, /^store of 1 bytes at 0x/);
});

test('API misuse throws', (t) => {
  const mem = new Memory();
  mem.addRegion('a', 8, true);
  t.throws(() => mem.addRegion('a', 8, true), { message: /already exists/ });
  t.throws(() => mem.addRegion('huge', 0x40000001, true), { message: /capacity/ });
  t.throws(() => mem.region('a')!.resize(9), { message: /size/ });
  t.throws(() => mem.setStackSize(513));
  for (let i = 2; i < MAX_REGIONS; i++) mem.addRegion(`r${i}`, 0, false);
  t.throws(() => mem.addRegion('one-too-many', 0, false), { message: /too many/ });
});

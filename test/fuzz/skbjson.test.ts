import test from 'ava';
import { buildSkb, parseIntLiteral, parseSetting, SkbSpecError, skbToJson } from '../../fuzz/skbjson.js';
import { ARPHRD_ETHER, ETH_P_IP, PACKET_BROADCAST } from '../../model/skb.js';

const frame = Uint8Array.from(Buffer.from('ffffffffffff0200000000020800450000140000000040060000', 'hex'));

test('af_unix is the default preset: no dev, mac unset, network header 0, metadata 0', (t) => {
  const { skb, env } = buildSkb(Uint8Array.of(1, 2, 3));
  t.is(skb.dev, null);
  t.is(skb.macHeader, null);
  t.is(skb.networkHeader, 0);
  t.is(skb.headlen, 3);
  t.deepEqual([skb.protocol, skb.pktType, skb.mark, skb.queueMapping, skb.hash, skb.vlanTci, skb.vlanProto], [0, 0, 0, 0, 0, 0, 0]);
  t.deepEqual(env, { cpu: 0, randomSeed: 1 });
});

test('ethernet preset derives protocol and pkt_type as eth_type_trans does', (t) => {
  const { skb } = buildSkb(frame, { preset: 'ethernet' });
  t.is(skb.protocol, ETH_P_IP);
  t.is(skb.pktType, PACKET_BROADCAST);
  t.deepEqual(skb.dev, { ifindex: 2, type: ARPHRD_ETHER });
  t.is(skb.macHeader, 0);
  t.is(skb.networkHeader, 14);
});

test('fields override the preset', (t) => {
  const { skb, env } = buildSkb(frame, {
    preset: 'ethernet',
    dev: null,
    mark: 0xffffffff,
    vlan_tci: 0x1001,
    vlan_proto: 0x8100,
    vlan_present: true,
    headlen: 10,
    headroom: 'aabb',
    mac_header: -2,
    cpu: 3,
    random_seed: 9,
  });
  t.is(skb.dev, null);
  t.is(skb.mark, 0xffffffff);
  t.is(skb.headlen, 10);
  t.is(skb.macHeader, -2);
  t.deepEqual([...skb.headroom], [0xaa, 0xbb]);
  t.deepEqual(env, { cpu: 3, randomSeed: 9 });
});

test('bad fields give one message naming the field', (t) => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ colour: 1 }, /unknown skb field 'colour'/],
    [{ preset: 'wifi' }, /preset/],
    [{ mark: -1 }, /mark.*u32/],
    [{ pkt_type: 8 }, /pkt_type/],
    [{ headlen: 99 }, /headlen/],
    [{ mac_header: -1 }, /mac_header/],
    [{ dev: { ifindex: 1, kind: 2 } }, /dev: unknown member 'kind'/],
    [{ dev: 5 }, /dev/],
    [{ vlan_present: 1 }, /vlan_present/],
    [{ headroom: 'xyz' }, /headroom/],
  ];
  for (const [spec, re] of bad) t.throws(() => buildSkb(frame, spec), { instanceOf: SkbSpecError, message: re });
});

test('--set parses numbers, null, booleans and dev forms', (t) => {
  t.deepEqual(parseSetting('mark=0x10'), ['mark', 16]);
  t.deepEqual(parseSetting('dev=null'), ['dev', null]);
  t.deepEqual(parseSetting('dev=3:772'), ['dev', { ifindex: 3, type: 772 }]);
  t.deepEqual(parseSetting('dev={"ifindex":4,"type":1}'), ['dev', { ifindex: 4, type: 1 }]);
  t.deepEqual(parseSetting('vlan_present=true'), ['vlan_present', true]);
  t.deepEqual(parseSetting('preset=ethernet'), ['preset', 'ethernet']);
  t.deepEqual(parseSetting('mac_header=-14'), ['mac_header', -14]);
  t.throws(() => parseSetting('mark'), { message: /field=value/ });
  t.throws(() => parseSetting('nope=1'), { message: /unknown skb field 'nope'/ });
  t.throws(() => parseSetting('mark=ten'), { message: /not a number/ });
  t.throws(() => parseSetting('dev=eth0'), { message: /IFINDEX:TYPE/ });
  t.true(Number.isNaN(parseIntLiteral('1e3')));
  t.is(parseIntLiteral('-0x10'), -16);
});

test('skbToJson writes every field so that buildSkb rebuilds the same skb', (t) => {
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const { skb, env } = buildSkb(data, {
    preset: 'ethernet',
    dev: { ifindex: -3, type: 0xffff },
    mark: 7,
    queue_mapping: 9,
    hash: 11,
    vlan_tci: 0x1fff,
    vlan_proto: 0x88a8,
    vlan_present: true,
    headroom: '0a0b0c',
    mac_header: -3,
    network_header: 2,
    headlen: 4,
    cpu: 5,
    random_seed: 42,
  });
  const back = buildSkb(data, JSON.parse(JSON.stringify(skbToJson(skb, env))) as Record<string, unknown>);
  t.deepEqual(back.env, env);
  t.deepEqual({ ...back.skb, data: [...back.skb.data], headroom: [...back.skb.headroom] }, { ...skb, data: [...skb.data], headroom: [...skb.headroom] });
});

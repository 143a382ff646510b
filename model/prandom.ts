// The kernel's Tausworthe generator behind SKF_AD_RANDOM (bpf_user_rnd_u32 -> prandom_u32_state).
// lib/random32.c prandom_u32_state, include/linux/prandom.h prandom_seed_state (text checked against
// 6.x copies; line numbers below are approximate).
// The kernel seeds a per-CPU state at random; the model seeds it from the environment so that runs replay.

/** struct rnd_state { __u32 s1, s2, s3, s4; } */
export type RndState = Uint32Array;

// include/linux/prandom.h ~36 __seed
const seedOne = (x: number, m: number): number => (x >>> 0 < m ? (x + m) >>> 0 : x >>> 0);

/** include/linux/prandom.h ~41 prandom_seed_state (seed taken as a u32 here, the high word 0) */
export function prandomSeedState(state: RndState, seed: number): void {
  const s = seed >>> 0;
  const i = ((s << 10) ^ s) >>> 0; // ((seed >> 32) ^ (seed << 10) ^ seed) & 0xffffffff with seed < 2^32
  state[0] = seedOne(i, 2);
  state[1] = seedOne(i, 8);
  state[2] = seedOne(i, 16);
  state[3] = seedOne(i, 128);
}

// lib/random32.c ~52 TAUSWORTHE(s, a, b, c, d)
const taus = (s: number, a: number, b: number, c: number, d: number): number =>
  (((s & c) << d) ^ (((s << a) ^ s) >>> b)) >>> 0;

/** lib/random32.c ~50 prandom_u32_state */
export function prandomU32State(state: RndState): number {
  state[0] = taus(state[0]!, 6, 13, 4294967294, 18);
  state[1] = taus(state[1]!, 2, 27, 4294967288, 2);
  state[2] = taus(state[2]!, 13, 21, 4294967280, 7);
  state[3] = taus(state[3]!, 3, 12, 4294967168, 13);
  return (state[0]! ^ state[1]! ^ state[2]! ^ state[3]!) >>> 0;
}

export const newRndState = (seed: number): RndState => {
  const st = new Uint32Array(4);
  prandomSeedState(st, seed);
  return st;
};

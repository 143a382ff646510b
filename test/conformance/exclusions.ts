// The ONE place that lists the conformance cases the classic runners do not hold to the vectors'
// literal expectations: cases excluded (with the reason), and cases whose expectation is adjusted to
// the documented Linux behaviour (with the reason and where the Linux value comes from).

export type Suite = 'test_bpf' | 'test_bpf/classic' | 'freebsd' | 'netbsd' | 'go';

export interface Exclusion {
  readonly suite: Suite;
  /** The case name as the vector file spells it. */
  readonly name: string;
  /**
   * 'skip': not run at all (it cannot be expressed in this model).
   * 'differs': run, and the runner checks that the result really differs from the vector (so the
   * entry goes stale loudly when it stops differing); `got` is the model's documented value.
   */
  readonly kind: 'skip' | 'differs';
  /** For 'differs': the value the model gives, worked out by hand from the kernel text. */
  readonly got?: number;
  readonly reason: string;
}

export const EXCLUSIONS: readonly Exclusion[] = [
  {
    suite: 'test_bpf',
    name: 'BPF_MAXINSNS: jump over MSH',
    kind: 'skip',
    reason:
      'needs the migrated path: the program passes bpf_check_classic; bpf_convert_filter rejects it (-EINVAL) ' +
      'because the JA over 4094 LDX|B|MSH (about 18 eBPF insns each) overflows the s16 jump offset (F:706-711).',
  },
  {
    suite: 'test_bpf/classic',
    name: 'BPF_MAXINSNS: jump over MSH',
    kind: 'skip',
    reason: 'as in test_bpf: rejected only by bpf_convert_filter, so there is no classic expectation to compare.',
  },
  {
    suite: 'test_bpf/classic',
    name: 'LD_VLAN_TAG',
    kind: 'differs',
    got: 0xefff,
    reason:
      'divergence R5: test_bpf expects the v6.6 full TCI (0xffff, F:331); classic vlan_tx_tag_get clears bit 12 ' +
      '(3.14:344): 0xffff & ~0x1000 = 0xefff.',
  },
  {
    suite: 'freebsd',
    name: 'test0007',
    kind: 'skip',
    reason:
      'LD|W|LEN with wirelen 0xdeadc0de over a 1-byte buffer: Linux has only skb->len (3.14:266), so the BSD ' +
      'wirelen/buflen split cannot be expressed.',
  },
  {
    suite: 'freebsd',
    name: 'test0008',
    kind: 'skip',
    reason: 'as test0007, for LDX|W|LEN.',
  },
];

/** A Linux expectation replacing the vector's own (BSD/Go) one. */
export interface Adjustment {
  readonly suite: Suite;
  readonly name: string;
  /** Index of the run within the case (netbsd); undefined = the whole case. */
  readonly run?: number;
  /** The Linux result, or 'reject' when the Linux attach path rejects the program. */
  readonly linux: number | 'reject';
  readonly reason: string;
}

const FREEBSD_IND_WRAP =
  'BSD bounds-checks X and k separately and returns 0; Linux forms k = X + K (u32 wrap, 3.14:272; 64-bit add ' +
  'truncated to int in 6.6), which is offset 0, and loads the first bytes of 01 23 45 67 89 ab.';

export const ADJUSTMENTS: readonly Adjustment[] = [
  { suite: 'freebsd', name: 'test0056', linux: 0x01234567, reason: `X=1, k=0xffffffff, ld [x+k]: ${FREEBSD_IND_WRAP}` },
  { suite: 'freebsd', name: 'test0057', linux: 0x0123, reason: `X=1, k=0xffffffff, ldh [x+k]: ${FREEBSD_IND_WRAP}` },
  { suite: 'freebsd', name: 'test0058', linux: 0x01, reason: `X=1, k=0xffffffff, ldb [x+k]: ${FREEBSD_IND_WRAP}` },
  { suite: 'freebsd', name: 'test0059', linux: 0x01234567, reason: `X=0xffffffff, k=1, ld [x+k]: ${FREEBSD_IND_WRAP}` },
  { suite: 'freebsd', name: 'test0060', linux: 0x0123, reason: `X=0xffffffff, k=1, ldh [x+k]: ${FREEBSD_IND_WRAP}` },
  { suite: 'freebsd', name: 'test0061', linux: 0x01, reason: `X=0xffffffff, k=1, ldb [x+k]: ${FREEBSD_IND_WRAP}` },
  {
    suite: 'freebsd',
    name: 'test0079',
    linux: 'reject',
    reason: 'empty program: FreeBSD accepts it (returns -1); Linux bpf_check_basics_ok rejects flen 0 with -EINVAL.',
  },
];

/**
 * NetBSD runs whose wirelen differs from buflen: BPF_LEN is wirelen in BSD, skb->len in Linux. Their
 * Linux expectation is the file's linux_model_ret_if_skb_len_eq_buflen_annotation (skb len = buflen),
 * e.g. test_ldx_len2 `ldx len; ld #5; jeq x,+1; ret #7; ret #-1` gives 7 for buflen 1 (X = 1 != 5) and
 * -1 for buflen 5, by hand from 3.14:269 (X = skb->len). NetBSD programs the Linux checker rejects
 * (uninitialised scratch reads, LD|ABS k >= SKF_AD_OFF, DIV|K 0, the empty program) are expected to be
 * rejected; the runner reads both facts from the file and this comment is their reason.
 */
export const NETBSD_WIRELEN_REASON = 'BPF_LEN is wirelen in BSD, skb->len (= buflen here) in Linux';

export const exclusionFor = (suite: Suite, name: string): Exclusion | undefined =>
  EXCLUSIONS.find((e) => e.suite === suite && e.name === name);

export const adjustmentFor = (suite: Suite, name: string, run?: number): Adjustment | undefined =>
  ADJUSTMENTS.find((a) => a.suite === suite && a.name === name && a.run === run);

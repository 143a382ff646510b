import test from 'ava';
import { consistentResults, type JudgeResult } from '../model/judge.js';

test('consistentResults: exact vs exact, exact vs partial (bound and known bits), partial vs partial, none', (t) => {
  const exact = (value: number): JudgeResult => ({ known: 'exact', value });
  const partial: JudgeResult = { known: 'partial', atLeast: 0x100, mask: 0xff, bits: 0x40, reason: 'arrived whole' };
  t.true(consistentResults(exact(5), exact(5)));
  t.false(consistentResults(exact(5), exact(6)));
  t.true(consistentResults(exact(0x140), partial));
  t.true(consistentResults(partial, exact(0xffffff40)));
  t.false(consistentResults(exact(0x40), partial), 'below the bound');
  t.false(consistentResults(partial, exact(0x141)), 'a known bit differs');
  t.true(consistentResults(partial, { known: 'partial', atLeast: 1, mask: 0x0f, bits: 0x00, reason: '' }));
  t.false(consistentResults(partial, { known: 'partial', atLeast: 1, mask: 0xf0, bits: 0x50, reason: '' }));
  t.true(consistentResults({ known: 'none', reason: 'SKF_AD_RANDOM' }, exact(1)));
  t.true(consistentResults(exact(1), { known: 'none', reason: 'send error' }));
});

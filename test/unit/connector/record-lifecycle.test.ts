import { describe, expect, it } from 'vitest';
import { conversionTarget, mergeTarget, wantsLead } from '../../../src/connector/domain/record-lifecycle.js';

describe('when a prospect is handed off to sales as a new Lead', () => {
  const cases: Array<
    [string, Record<string, unknown>, 'assigned' | 'form-success' | 'never', boolean, boolean]
  > = [
    ['assigned, by the assigned rule', { assignedToId: 12 }, 'assigned', false, true],
    ['not assigned, by the assigned rule', {}, 'assigned', false, false],
    ['a form success, by the assigned rule', {}, 'assigned', true, false],
    ['a form success, by the form-success rule', {}, 'form-success', true, true],
    [
      'assigned without a form success, by the form-success rule',
      { assignedToId: 12 },
      'form-success',
      false,
      false,
    ],
    ['assigned and a form success, by the never rule', { assignedToId: 12 }, 'never', true, false],
    ['assigned but in the recycle bin', { assignedToId: 12, isDeleted: true }, 'assigned', false, false],
    ['a form success but in the recycle bin', { isDeleted: true }, 'form-success', true, false],
  ];
  it.each(cases)('%s', (_, prospect, rule, handoff, expected) => {
    expect(wantsLead(prospect, rule, handoff)).toBe(expected);
  });
});

describe('where a merged record’s prospect goes', () => {
  it('moves to the surviving record when that has no prospect, and is unlinked when it has one', () => {
    expect(mergeTarget('00Q000000000002AAA', false)).toBe('00Q000000000002AAA');
    expect(mergeTarget('00Q000000000002AAA', true)).toBeNull();
  });
});

describe('what a Lead conversion moves its prospect to', () => {
  it('is the Contact and its Account, and nothing for a Lead not converted to a Contact', () => {
    expect(
      conversionTarget({ IsConverted: true, ConvertedContactId: '003A', ConvertedAccountId: '001A' }),
    ).toEqual({ contactId: '003A', accountId: '001A' });
    expect(conversionTarget({ IsConverted: true, ConvertedContactId: '003A' })).toEqual({
      contactId: '003A',
      accountId: null,
    });
    expect(conversionTarget({ IsConverted: true, ConvertedContactId: null })).toBeNull();
    expect(conversionTarget({ IsConverted: false, ConvertedContactId: '003A' })).toBeNull();
  });
});

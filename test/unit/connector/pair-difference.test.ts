import { describe, expect, it } from 'vitest';
import type { FieldState } from '../../../src/connector/domain/decide-field.js';
import type { FieldMapping } from '../../../src/connector/domain/field-mapping.js';
import { estimateVerifyCalls } from '../../../src/connector/verify/verify-pairs.js';
import { classifyField, sameValue } from '../../../src/connector/domain/pair-difference.js';

const mapping = (overrides: Partial<FieldMapping> = {}): FieldMapping => ({
  prospectField: 'phone',
  crmField: 'Phone',
  direction: 'both',
  conflict: 'crm',
  ...overrides,
});
const state = (overrides: Partial<FieldState>): FieldState => ({
  lastSynced: 'old',
  crm: 'old',
  marketing: 'old',
  crmUpdatedAt: '2026-12-01T10:00:00.000Z',
  marketingUpdatedAt: '2026-12-01T10:00:00.000Z',
  ...overrides,
});
const settled = { inFlight: false };

describe('classifying a difference between two linked records', () => {
  it('finds none where both sides hold the same value, a number however it is written', () => {
    expect(
      classifyField(mapping(), state({ crm: 'x', marketing: 'x', lastSynced: 'y' }), settled),
    ).toBeNull();
    expect(classifyField(mapping(), state({ crm: '5000000.0', marketing: '5000000' }), settled)).toBeNull();
    expect(sameValue('40', '40.00')).toBe(true);
    expect(sameValue('40', '41')).toBe(false);
    expect(sameValue('0040-A', '40-A')).toBe(false);
    expect(sameValue(null, '')).toBe(false);
  });

  it('calls drift the side that moved from the last synced value, and says which way a repair goes', () => {
    expect(classifyField(mapping(), state({ crm: 'new' }), settled)).toMatchObject({
      class: 'drift',
      changed: 'crm',
      note: expect.stringContaining('the prospect takes the CRM’s value'),
    });
    expect(classifyField(mapping(), state({ marketing: 'new' }), settled)).toMatchObject({
      class: 'drift',
      changed: 'marketing',
      note: expect.stringContaining('the CRM takes the prospect’s value'),
    });
    // A one-way field changed on the side it does not flow from: the other side's value returns.
    expect(
      classifyField(
        mapping({ direction: 'marketing-to-crm', conflict: 'marketing' }),
        state({ crm: 'typed' }),
        settled,
      ),
    ).toMatchObject({ class: 'drift', changed: 'crm', note: expect.stringContaining('the CRM takes') });
  });

  it('calls a change on both sides a conflict, settled by the mapping’s policy', () => {
    expect(classifyField(mapping(), state({ crm: 'a', marketing: 'b' }), settled)).toMatchObject({
      class: 'conflict',
      changed: 'both',
      note: 'changed on both sides; by the crm policy the prospect takes the CRM’s value',
    });
    expect(
      classifyField(mapping({ conflict: 'marketing' }), state({ crm: 'a', marketing: 'b' }), settled),
    ).toMatchObject({
      class: 'conflict',
      note: expect.stringContaining('the CRM takes the prospect’s value'),
    });
    // Never synced: both differ from nothing.
    expect(
      classifyField(mapping(), state({ lastSynced: undefined, crm: 'a', marketing: 'b' }), settled),
    ).toMatchObject({ class: 'conflict' });
  });

  it('puts pending changes, refused values and what the mapping keeps apart from drift', () => {
    expect(classifyField(mapping(), state({ crm: 'new' }), { inFlight: true })).toMatchObject({
      class: 'in flight',
    });
    expect(
      classifyField(mapping(), state({ marketing: 'bad value' }), { inFlight: false, refused: 'bad value' }),
    ).toMatchObject({ class: 'refused' });
    // A blank never overwrites a value, so a one-way field blanked at its source stays different.
    expect(
      classifyField(mapping({ direction: 'crm-to-marketing' }), state({ crm: null }), settled),
    ).toMatchObject({ class: 'kept', changed: 'crm' });
  });
});

describe('the cost of a verify, said before it runs', () => {
  it('grows with result pages and export files, not with records', () => {
    expect(estimateVerifyCalls({ links: { Lead: 10, Contact: 5 }, prospects: 15, years: 1 })).toEqual({
      crm: 8,
      marketing: 5,
    });
    const large = estimateVerifyCalls({
      links: { Lead: 900_000, Contact: 100_000 },
      prospects: 1_000_000,
      years: 1,
    });
    expect(large).toEqual({ crm: 26, marketing: 14 });
  });
});

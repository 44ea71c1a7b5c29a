import { describe, expect, it } from 'vitest';
import { decideField, syncValue, type FieldState } from '../../../src/connector/domain/decide-field.js';
import type { FieldMapping } from '../../../src/connector/domain/field-mapping.js';

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
  crmUpdatedAt: '2026-11-22T10:00:00.000Z',
  marketingUpdatedAt: '2026-11-22T10:00:00.000Z',
  ...overrides,
});

describe('deciding one mapped field of a linked pair', () => {
  it('does nothing when neither side changed, and records agreement without writing', () => {
    expect(decideField(mapping(), state({}))).toBeNull();
    expect(decideField(mapping(), state({ crm: 'new', marketing: 'new' }))).toEqual({
      lastSynced: 'new',
      reason: 'both sides agree',
    });
  });

  it('sends a change from the side that made it to the other', () => {
    expect(decideField(mapping(), state({ crm: 'new' }))).toMatchObject({
      toMarketing: 'new',
      lastSynced: 'new',
    });
    expect(decideField(mapping(), state({ marketing: 'new' }))).toMatchObject({
      toCrm: 'new',
      lastSynced: 'new',
    });
  });

  it('settles a change on both sides by the mapping’s policy', () => {
    const both = { crm: 'from crm', marketing: 'from marketing' };
    expect(decideField(mapping({ conflict: 'crm' }), state(both))).toMatchObject({ toMarketing: 'from crm' });
    expect(decideField(mapping({ conflict: 'marketing' }), state(both))).toMatchObject({
      toCrm: 'from marketing',
    });
    expect(
      decideField(
        mapping({ conflict: 'latest' }),
        state({ ...both, marketingUpdatedAt: '2026-11-22T11:00:00.000Z' }),
      ),
    ).toMatchObject({ toCrm: 'from marketing' });
    expect(
      decideField(
        mapping({ conflict: 'latest' }),
        state({ ...both, crmUpdatedAt: '2026-11-22T11:00:00.000Z' }),
      ),
    ).toMatchObject({ toMarketing: 'from crm' });
    expect(
      decideField(mapping({ conflict: 'crm-unless-blank' }), state({ crm: null, marketing: 'kept' })),
    ).toMatchObject({
      toCrm: 'kept',
    });
  });

  it('never lets an empty value overwrite a non-empty one', () => {
    expect(decideField(mapping(), state({ crm: null }))).toMatchObject({ toCrm: 'old', lastSynced: 'old' });
    expect(decideField(mapping(), state({ lastSynced: undefined, crm: null, marketing: 'x' }))).toMatchObject(
      {
        toCrm: 'x',
      },
    );
  });

  it('keeps one-way fields one way: marketing owns the score, the CRM its one-way fields', () => {
    const score = mapping({
      prospectField: 'score',
      crmField: 'pi__score__c',
      direction: 'marketing-to-crm',
      conflict: 'marketing',
    });
    expect(decideField(score, state({ crm: '99' }))).toMatchObject({ toCrm: 'old' });
    expect(decideField(score, state({ marketing: '42' }))).toMatchObject({ toCrm: '42' });
    const owned = mapping({ direction: 'crm-to-marketing' });
    expect(decideField(owned, state({ marketing: 'edited' }))).toMatchObject({ toMarketing: 'old' });
  });

  it('compares values, not their spelling', () => {
    expect(syncValue(5)).toBe(syncValue('5'));
    expect(syncValue(true)).toBe('true');
    expect(syncValue('')).toBeNull();
    expect(syncValue('2026-11-22T10:00:00+00:00')).toBe(syncValue('2026-11-22T10:00:00.000Z'));
    // Every spelling of an instant becomes the same ISO text, as a Date would write it.
    for (const spelling of [
      '2026-11-22T10:00:00+00:00',
      '2026-11-22T10:00:00Z',
      '2026-11-22T10:00:00.000+0000',
      '2026-11-22T12:00:00+02:00',
      '2026-11-22T02:00:00.000-0800',
    ])
      expect(syncValue(spelling)).toBe('2026-11-22T10:00:00.000Z');
    expect(syncValue('2026-11-22T10:00:00.250+00:00')).toBe('2026-11-22T10:00:00.250Z');
  });
});

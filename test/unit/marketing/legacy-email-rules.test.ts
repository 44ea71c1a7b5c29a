import { describe, expect, it } from 'vitest';
import {
  legacyEmailRuleBroken,
  legacyUpsertPlan,
  legacyVersionOf,
  type LegacyIdField,
  type LegacyVersion,
} from '../../../src/marketing/domain/legacy-email-rules.js';

describe('the legacy API’s email rules', () => {
  it('answers version 3 where an email is unique and version 4 where it is not', () => {
    expect(legacyVersionOf({ allowMultiplePerEmail: false })).toBe(3);
    expect(legacyVersionOf({ allowMultiplePerEmail: true })).toBe(4);
  });

  it('refuses only a version 4 update by email', () => {
    expect(legacyEmailRuleBroken('update', 4, 'email')).toEqual({
      code: 13,
      message: 'Version 4 updates a prospect by id or fid, not by email',
    });
    expect(legacyEmailRuleBroken('update', 3, 'email')).toBeNull();
    expect(legacyEmailRuleBroken('update', 4, 'id')).toBeNull();
    expect(legacyEmailRuleBroken('update', 4, 'fid')).toBeNull();
    expect(legacyEmailRuleBroken('read', 4, 'email')).toBeNull();
    expect(legacyEmailRuleBroken('upsert', 4, 'email')).toBeNull();
  });

  const upserts: Array<[string, LegacyVersion, LegacyIdField, boolean, ReturnType<typeof legacyUpsertPlan>]> =
    [
      [
        'v3 by email: the email finds it, or it is made',
        3,
        'email',
        true,
        { findBy: 'email', whenMissing: 'create' },
      ],
      [
        'v4 by email: always made (an email names no one prospect)',
        4,
        'email',
        true,
        { findBy: null, whenMissing: 'create' },
      ],
      [
        'by fid with an email: found by CRM id, or made',
        3,
        'fid',
        true,
        { findBy: 'fid', whenMissing: 'create' },
      ],
      [
        'by fid without an email: found by CRM id, or refused',
        4,
        'fid',
        false,
        { findBy: 'fid', whenMissing: 'refuse' },
      ],
      ['by id: found, or refused', 4, 'id', true, { findBy: 'id', whenMissing: 'refuse' }],
    ];
  it.each(upserts)('upsert %s', (_, version, by, hasEmail, plan) => {
    expect(legacyUpsertPlan(version, by, hasEmail)).toEqual(plan);
  });
});

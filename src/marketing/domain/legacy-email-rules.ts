import type { MarketingErrorCode } from './marketing-error.js';

/**
 * The legacy (v3/v4) prospect API's email rules. Version 3 is for units where an email is
 * unique: it finds, updates and upserts by email. Version 4 is for units that allow several
 * prospects per email: an email no longer names one prospect, so it updates only by id or fid,
 * and an upsert by email creates. A unit answers only the version its setting gives.
 */

export type LegacyVersion = 3 | 4;
export type LegacyIdField = 'id' | 'email' | 'fid';

/** The version a unit answers. */
export function legacyVersionOf(unit: { allowMultiplePerEmail: boolean }): LegacyVersion {
  return unit.allowMultiplePerEmail ? 4 : 3;
}

/** Why a call is against its version's email rule (code and message), or null when it is not. */
export function legacyEmailRuleBroken(
  op: string,
  version: LegacyVersion,
  by: LegacyIdField | undefined,
): { code: MarketingErrorCode; message: string } | null {
  if (op === 'update' && version === 4 && by === 'email')
    return { code: 13, message: 'Version 4 updates a prospect by id or fid, not by email' };
  return null;
}

/**
 * How an upsert finds its prospect, and what it does when none is found: by email in v3
 * (created when missing); by email in v4, not at all (it creates); by fid (created when
 * missing if an email is given, else refused); by id (refused when missing).
 */
export function legacyUpsertPlan(
  version: LegacyVersion,
  by: LegacyIdField,
  hasEmail: boolean,
): { findBy: LegacyIdField | null; whenMissing: 'create' | 'refuse' } {
  if (by === 'email')
    return version === 3
      ? { findBy: 'email', whenMissing: 'create' }
      : { findBy: null, whenMissing: 'create' };
  if (by === 'fid') return { findBy: 'fid', whenMissing: hasEmail ? 'create' : 'refuse' };
  return { findBy: 'id', whenMissing: 'refuse' };
}

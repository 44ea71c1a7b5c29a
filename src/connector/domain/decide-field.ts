import type { FieldMapping } from './field-mapping.js';

/** A field's value as the sync compares it: text, or null for empty (null, '' and absent alike). */
export type SyncValue = string | null;

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;
/**
 * Already UTC, to the millisecond as Salesforce (`+0000`) or ISO (`Z`) writes it, or to the
 * second as a v5 export does (`+00:00`): made ISO by its text, with no Date (a verify meets one
 * of these in every pair).
 */
const UTC = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{3})?(?:Z|\+0000|\+00:00)$/;

/** Brings either side's value to one comparable form: `5` and `'5'`, `true` and `'true'` agree. */
export function syncValue(raw: unknown): SyncValue {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'string') {
    const trimmed = raw.trim();
    if (trimmed === '') return null;
    // Datetimes compare as instants: `…+00:00` and `….000Z` are the same moment. (Checked by
    // the `T` first: this runs for every field of every record captured.)
    if (trimmed.length >= 19 && trimmed.charCodeAt(10) === 84 /* T */) {
      const utc = UTC.exec(trimmed);
      if (utc) return `${utc[1]}${utc[2] ?? '.000'}Z`;
      if (DATETIME.test(trimmed) && !Number.isNaN(Date.parse(trimmed)))
        return new Date(trimmed).toISOString();
    }
    return trimmed;
  }
  if (typeof raw === 'number') return Number.isFinite(raw) ? String(raw) : null;
  if (typeof raw === 'boolean') return raw ? 'true' : 'false';
  return JSON.stringify(raw);
}

export interface FieldState {
  /** The value both sides had when this field was last synced; undefined before the first sync. */
  lastSynced: SyncValue | undefined;
  crm: SyncValue;
  marketing: SyncValue;
  /** When each record last changed (for the `latest` policy). */
  crmUpdatedAt: string | null;
  marketingUpdatedAt: string | null;
}

export interface FieldDecision {
  /** Write this value to the CRM / the prospect (undefined: leave that side alone). */
  toCrm?: SyncValue;
  toMarketing?: SyncValue;
  /** The new last-synced value. */
  lastSynced: SyncValue;
  /** Why, for the sync log: `crm changed`, `conflict: crm wins` … */
  reason: string;
}

function allowsToMarketing(mapping: FieldMapping): boolean {
  return mapping.direction !== 'marketing-to-crm';
}

function allowsToCrm(mapping: FieldMapping): boolean {
  return mapping.direction !== 'crm-to-marketing';
}

/**
 * What to do with one mapped field of a linked pair. A field changed on one side since it was
 * last synced flows to the other, as the mapping's direction allows; changed on both, the
 * mapping's policy picks the winner. A non-empty value beats an empty one whichever side wins,
 * so a blank never erases data. A side that already holds the value is not written: writes
 * that only echo ours come back equal to the last-synced state and stop there.
 */
export function decideField(mapping: FieldMapping, state: FieldState): FieldDecision | null {
  const { lastSynced, crm, marketing } = state;
  if (crm === marketing) {
    return lastSynced === crm ? null : { lastSynced: crm, reason: 'both sides agree' };
  }
  const crmChanged = lastSynced === undefined || crm !== lastSynced;
  const marketingChanged = lastSynced === undefined || marketing !== lastSynced;

  let winner: 'crm' | 'marketing';
  let reason: string;
  if (crmChanged && !marketingChanged) {
    winner = 'crm';
    reason = 'changed in the CRM';
  } else if (marketingChanged && !crmChanged) {
    winner = 'marketing';
    reason = 'changed in marketing';
  } else {
    switch (mapping.conflict) {
      case 'crm':
        winner = 'crm';
        break;
      case 'marketing':
        winner = 'marketing';
        break;
      case 'crm-unless-blank':
        winner = crm === null ? 'marketing' : 'crm';
        break;
      case 'latest':
        winner = (state.marketingUpdatedAt ?? '') > (state.crmUpdatedAt ?? '') ? 'marketing' : 'crm';
        break;
    }
    reason = `${lastSynced === undefined ? 'first sync' : 'changed on both sides'}: ${mapping.conflict} policy, ${winner} wins`;
  }
  // Only a side the direction lets write can win; the other side's value then stands.
  if (winner === 'crm' && !allowsToMarketing(mapping)) winner = 'marketing';
  else if (winner === 'marketing' && !allowsToCrm(mapping)) winner = 'crm';
  let value = winner === 'crm' ? crm : marketing;
  if (value === null) {
    // A non-empty value beats an empty one.
    value = winner === 'crm' ? marketing : crm;
    winner = winner === 'crm' ? 'marketing' : 'crm';
    reason = `${reason}; the empty value does not overwrite`;
    if (
      (winner === 'crm' && !allowsToMarketing(mapping)) ||
      (winner === 'marketing' && !allowsToCrm(mapping))
    ) {
      return lastSynced === null ? null : { lastSynced: null, reason };
    }
  }
  const decision: FieldDecision = { lastSynced: value, reason };
  if (winner === 'crm' && marketing !== value) decision.toMarketing = value;
  if (winner === 'marketing' && crm !== value) decision.toCrm = value;
  return decision;
}

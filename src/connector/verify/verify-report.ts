import { stringify } from 'csv-stringify/sync';
import type { Difference } from '../domain/pair-difference.js';

const COLUMNS = [
  'class',
  'object',
  'crm_id',
  'prospect_id',
  'field',
  'crm_field',
  'crm_value',
  'marketing_value',
  'last_synced',
  'changed',
  'note',
] as const;

/** The differences as CSV, one row each, with a header (what `handoff sync verify` writes). */
export function differencesCsv(differences: readonly Difference[]): string {
  return stringify([
    [...COLUMNS],
    ...differences.map((d) => [
      d.class,
      d.crmObject,
      d.crmId ?? '',
      d.prospectId ?? '',
      d.field ?? '*',
      d.crmField ?? '',
      d.crmValue ?? '',
      d.marketingValue ?? '',
      d.lastSynced ?? '',
      d.changed ?? '',
      d.note,
    ]),
  ]);
}

import { decideField, type FieldState, type SyncValue } from './decide-field.js';
import type { CrmObject, FieldMapping } from './field-mapping.js';

/**
 * Why two linked records disagree, as a verify reports it:
 * - `in flight`: the sync has the change in hand (queued, or newer than its capture cursor);
 * - `drift`: one side changed outside the sync (a restore, a mass update with events off, a
 *   window the connector never saw);
 * - `conflict`: both sides changed since the field was last synced;
 * - `refused`: the CRM refused this value for good; the sync-error list holds it;
 * - `kept`: the mapping keeps the difference (a blank never overwrites a value);
 * - `orphan`: the link's record is gone on one side, or a converted Lead's;
 * - `unlinked duplicate`: a CRM record and a prospect share an email and no link.
 */
export const DIFFERENCE_CLASSES = [
  'in flight',
  'drift',
  'conflict',
  'refused',
  'kept',
  'orphan',
  'unlinked duplicate',
] as const;
export type DifferenceClass = (typeof DIFFERENCE_CLASSES)[number];

export interface Difference {
  class: DifferenceClass;
  crmObject: CrmObject;
  crmId: string | null;
  prospectId: number | null;
  /** The prospect field and its CRM field (null for a whole-record difference). */
  field: string | null;
  crmField: string | null;
  crmValue: SyncValue;
  marketingValue: SyncValue;
  /** The value when the field was last synced (null: empty, or never synced). */
  lastSynced: SyncValue;
  /** Which side moved away from the last synced value (drift), both (conflict). */
  changed: 'crm' | 'marketing' | 'both' | null;
  /**
   * For an orphan: what became of the link's records — a Lead converted, a record in its
   * recycle bin (deleted: the sync follows it), or gone for good (purged).
   */
  orphan?: 'converted' | 'crm deleted' | 'prospect deleted' | 'crm gone' | 'prospect gone' | 'both gone';
  /** In words, for the report. */
  note: string;
}

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * Whether two synced values are the same: equal text, or the same number however written
 * (a Bulk CSV's `5000.0` and the REST API's `5000`).
 */
export function sameValue(a: SyncValue, b: SyncValue): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return NUMBER.test(a) && NUMBER.test(b) && Number(a) === Number(b);
}

/**
 * The class of one mapped field's difference on a linked pair, or null when both sides agree.
 * A pending change (`inFlight`) explains any difference; a value the CRM refused for good
 * explains its own; otherwise the field's last synced value tells which side moved, and the
 * mapping's direction and policy (decide-field.ts) tell whether a sync would settle it.
 */
export function classifyField(
  mapping: FieldMapping,
  state: FieldState,
  context: { inFlight: boolean; refused?: SyncValue },
): { class: DifferenceClass; changed: Difference['changed']; note: string } | null {
  const { crm, marketing, lastSynced } = state;
  if (sameValue(crm, marketing)) return null;
  if (context.inFlight)
    return { class: 'in flight', changed: null, note: 'a change the sync has queued or not captured yet' };
  if (
    context.refused !== undefined &&
    (sameValue(context.refused, marketing) || sameValue(context.refused, crm))
  )
    return { class: 'refused', changed: null, note: 'the CRM refused this value; see handoff sync errors' };
  const crmChanged = lastSynced === undefined || !sameValue(crm, lastSynced);
  const marketingChanged = lastSynced === undefined || !sameValue(marketing, lastSynced);
  const changed = crmChanged && marketingChanged ? 'both' : crmChanged ? 'crm' : 'marketing';
  // Decided on values written alike: a number that only reads differently has not changed.
  const decision = decideField(mapping, {
    ...state,
    crm: crmChanged ? crm : (lastSynced ?? null),
    marketing: marketingChanged ? marketing : (lastSynced ?? null),
  });
  if (!decision || (decision.toCrm === undefined && decision.toMarketing === undefined))
    return { class: 'kept', changed, note: `kept by the mapping: ${decision?.reason ?? 'nothing to write'}` };
  const settles =
    decision.toCrm !== undefined
      ? 'the CRM takes the prospect’s value'
      : 'the prospect takes the CRM’s value';
  if (changed === 'both')
    return {
      class: 'conflict',
      changed,
      note: `changed on both sides; by the ${mapping.conflict} policy ${settles}`,
    };
  return {
    class: 'drift',
    changed,
    note: `changed ${changed === 'crm' ? 'in the CRM' : 'in marketing'} outside the sync; ${settles}`,
  };
}

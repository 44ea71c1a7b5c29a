import { syncValue, type SyncValue } from './decide-field.js';
import { crmFieldValue } from './derived-fields.js';
import type { CrmObject, FieldMapping } from './field-mapping.js';
import type { SharingRule } from './sync-fields.js';

/** Work item priorities; lower runs first. */
export const PRIORITY = {
  /** Lead conversions and assignments: the hand-offs sales waits for. */
  handoff: 0,
  /** Deletions, and errors someone asked to retry. */
  urgent: 1,
  change: 2,
} as const;

/** What a decision needs of a pair's link. */
export interface LinkView {
  crmObject: CrmObject;
  /** Both records are in their recycle bins (the deletion was synced). */
  deleted?: boolean;
  /** prospect field → its value when last synced. */
  lastSynced: Record<string, SyncValue>;
  /** prospect field → a value the CRM refused for good (not sent again unless it changes). */
  refused?: Record<string, SyncValue>;
}

/** Whether a CRM record is inside the marketing data-sharing rule (always, without one). */
export function isShared(record: Record<string, unknown>, sharing: SharingRule): boolean {
  return !sharing || syncValue(record[sharing.field]) === syncValue(sharing.value);
}

/**
 * Whether every mapped field holds its last-synced value on one side (`valueOf` reads it from
 * the CRM record or the prospect): then that side has no change — mostly our own writes' echo.
 */
export function asLastSynced(
  link: LinkView,
  mappings: readonly FieldMapping[],
  valueOf: (mapping: FieldMapping) => unknown,
): boolean {
  return mappings.every(
    (m) =>
      link.lastSynced[m.prospectField] !== undefined &&
      syncValue(valueOf(m)) === link.lastSynced[m.prospectField],
  );
}

/** The mapped prospect fields whose value is not the last-synced one (`valueOf` reads the prospect). */
export function fieldsChanged(
  link: LinkView,
  mappings: readonly FieldMapping[],
  valueOf: (mapping: FieldMapping) => unknown,
): string[] {
  return mappings
    .filter((m) => syncValue(valueOf(m)) !== link.lastSynced[m.prospectField])
    .map((m) => m.prospectField);
}

/** How urgent a captured CRM record's work is, or null when there is none (echoes of our writes). */
export function crmChangePriority(change: {
  object: CrmObject;
  record: Record<string, unknown>;
  link: LinkView | undefined;
  mappings: readonly FieldMapping[];
  sharing: SharingRule;
}): number | null {
  const { object, record, link } = change;
  if (record.IsDeleted === true) {
    // A deletion matters only to a pair whose deletion is not synced yet.
    return link && !link.deleted && link.crmObject === object ? PRIORITY.urgent : null;
  }
  if (record.IsConverted === true) {
    return link?.crmObject === 'Lead' && typeof record.ConvertedContactId === 'string'
      ? PRIORITY.handoff
      : null;
  }
  if (!isShared(record, change.sharing)) return null;
  // Unlinked: only a record with an email can be matched to, or make, a prospect.
  if (!link) return typeof record.Email === 'string' && record.Email ? PRIORITY.change : null;
  // A Lead whose prospect has moved to its Contact: the Contact speaks for the pair now.
  if (link.crmObject !== object) return null;
  const echo = !link.deleted && asLastSynced(link, change.mappings, (m) => crmFieldValue(record, m.crmField));
  return echo ? null : PRIORITY.change;
}

/** How urgent a captured prospect's work is, or null when there is none. */
export function prospectChangePriority(change: {
  prospect: Record<string, unknown>;
  link: LinkView | undefined;
  mappings: readonly FieldMapping[];
  createLeads: 'assigned' | 'form-success' | 'never';
}): number | null {
  const { prospect, link } = change;
  if (!link) {
    // Unlinked: only an assignment (the hand-off to sales) makes work, a new Lead.
    const assigned =
      change.createLeads === 'assigned' && prospect.isDeleted !== true && Boolean(prospect.assignedToId);
    return assigned ? PRIORITY.handoff : null;
  }
  if (prospect.isDeleted === true) return link.deleted ? null : PRIORITY.urgent;
  // Every mapped value as last synced: no marketing change (mostly our own writes' echo).
  if (!link.deleted && asLastSynced(link, change.mappings, (m) => prospect[m.prospectField])) return null;
  return PRIORITY.change;
}

import { prospectReadFields } from './derived-fields.js';
import type { CrmObject, FieldMapping } from './field-mapping.js';

/** The marketing data-sharing rule: only CRM records whose `field` holds `value` sync. */
export type SharingRule = { field: string; value: string } | null | undefined;

/**
 * Which fields each read asks for, from the mappings and the sharing rule: capture, the
 * work's re-reads and the backfill all read the same lists.
 */
export class SyncFields {
  constructor(
    private readonly mappings: Record<CrmObject, FieldMapping[]>,
    private readonly sharing: SharingRule,
  ) {}

  /**
   * A CRM record's mapped fields, with what every decision needs (id, stamp, email, sharing)
   * and its owner, whom an activity's Task goes to (read with the record, not apart).
   */
  crm(object: CrmObject): string[] {
    const sharing = this.sharing ? [this.sharing.field] : [];
    return [
      ...new Set([
        'Id',
        'SystemModstamp',
        'Email',
        'OwnerId',
        ...sharing,
        ...this.mappings[object].map((m) => m.crmField),
      ]),
    ];
  }

  /** What capture reads: the mapped fields, and what tells deletions, merges and conversions apart. */
  crmCapture(object: CrmObject): string[] {
    const extra =
      object === 'Lead'
        ? ['IsDeleted', 'MasterRecordId', 'IsConverted', 'ConvertedContactId', 'ConvertedAccountId']
        : ['IsDeleted', 'MasterRecordId'];
    return [...new Set([...this.crm(object), ...extra])];
  }

  /** A prospect's mapped fields of both objects, with what every decision needs. */
  prospect(): string[] {
    const names = new Set(['id', 'email', 'updatedAt', 'isDeleted', 'assignedToId', 'salesforceId']);
    for (const object of ['Lead', 'Contact'] as const)
      for (const m of this.mappings[object]) names.add(m.prospectField);
    // Derived fields (the campaign's name, the prospect's URL) are read through their sources.
    return prospectReadFields(names);
  }
}

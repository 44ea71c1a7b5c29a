/**
 * Prospect fields the connector derives rather than reads, as the native connector fills the
 * CRM's package fields: `campaign` is the name of the prospect's campaign (`pi__campaign__c`),
 * `url` its page in the marketing engine (`pi__url__c`). Each is read through its source field.
 */
export const DERIVED_PROSPECT_FIELDS: Readonly<Record<string, string>> = {
  campaign: 'campaignId',
  url: 'id',
};

/** The fields to ask the marketing API for: derived ones replaced by what they come from. */
export function prospectReadFields(names: Iterable<string>): string[] {
  return [...new Set([...names].map((name) => DERIVED_PROSPECT_FIELDS[name] ?? name))];
}

/** What deriving needs: the unit's campaign names, and where a prospect's page is. */
export interface Deriver {
  campaignName: (id: number) => string | null;
  prospectUrl: (id: number) => string;
}

/** A prospect with its derived fields filled in. */
export function withDerivedFields<T extends Record<string, unknown> & { id: number }>(
  prospect: T,
  derive: Deriver,
): T & { campaign: string | null; url: string } {
  return {
    ...prospect,
    campaign: derivedFieldValue('campaign', prospect.campaignId, derive) ?? null,
    url: derivedFieldValue('url', prospect.id, derive) ?? '',
  };
}

/**
 * A derived field's value from its source field's (a number, or its text as an export row has
 * it); undefined for a field that is not derived.
 */
export function derivedFieldValue(
  field: string,
  source: unknown,
  derive: Deriver,
): string | null | undefined {
  const id = source === null || source === undefined || source === '' ? NaN : Number(source);
  if (field === 'campaign') return Number.isInteger(id) ? derive.campaignName(id) : null;
  if (field === 'url') return derive.prospectUrl(id);
  return undefined;
}

/**
 * A CRM record's value of a field, a parent's field included (`Account.Name`): nested as a
 * REST query answers it, or flat as a Bulk API CSV names its column.
 */
export function crmFieldValue(record: Record<string, unknown>, field: string): unknown {
  if (field in record || !field.includes('.')) return record[field];
  let value: unknown = record;
  for (const part of field.split('.')) {
    if (value === null || typeof value !== 'object') return null;
    value = (value as Record<string, unknown>)[part];
  }
  return value ?? null;
}

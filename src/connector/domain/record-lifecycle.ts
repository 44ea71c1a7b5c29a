/**
 * The rules for a record's life beyond field values: when a prospect becomes a Lead, where a
 * merged record's prospect goes, and what a conversion moves.
 */

export type CreateLeadsRule = 'assigned' | 'form-success' | 'never';

/**
 * Whether an unlinked prospect is handed off to sales as a new Lead: once assigned to a user
 * (the `assigned` rule), or on a successful form submission (`form-success`, `handoff` being
 * true when the work came from one). A prospect in the recycle bin never is.
 */
export function wantsLead(
  prospect: Record<string, unknown>,
  rule: CreateLeadsRule,
  handoff: boolean,
): boolean {
  if (prospect.isDeleted === true) return false;
  return (rule === 'assigned' && Boolean(prospect.assignedToId)) || (rule === 'form-success' && handoff);
}

/**
 * A record merged into `masterId`: its prospect moves to the surviving record when that one has
 * no prospect of its own (returns the id to move to); otherwise it is unlinked (null), never
 * deleted, and the survivor keeps its own.
 */
export function mergeTarget(masterId: string, survivorLinked: boolean): string | null {
  return survivorLinked ? null : masterId;
}

/**
 * What a Lead's conversion moves its prospect to: the new Contact (and its Account), or null
 * when the record is not a converted Lead with a Contact.
 */
export function conversionTarget(
  lead: Record<string, unknown>,
): { contactId: string; accountId: string | null } | null {
  if (lead.IsConverted !== true || typeof lead.ConvertedContactId !== 'string') return null;
  return {
    contactId: lead.ConvertedContactId,
    accountId: typeof lead.ConvertedAccountId === 'string' ? lead.ConvertedAccountId : null,
  };
}

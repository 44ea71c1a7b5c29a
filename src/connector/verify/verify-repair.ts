import { PRIORITY } from '../domain/change-priority.js';
import { crmIdField } from '../domain/field-mapping.js';
import type { Difference } from '../domain/pair-difference.js';
import * as store from '../store/link-store.js';
import { appendSyncLog, type SyncLogEntry } from '../store/sync-log.js';
import * as queue from '../store/work-queue.js';
import type { VerifyOptions, VerifyResult } from './verify-pairs.js';

export interface RepairResult {
  /** Records queued for the sync: it settles their fields by direction and policy, or links them. */
  queued: number;
  /** Links dropped because a record was gone for good (each in the sync log). */
  unlinked: number;
  /** Differences a repair leaves to people: in flight, refused, kept by the mapping. */
  reported: number;
}

/**
 * Settles what a verify found through the sync's own queue, so its budgets, batching, retries
 * and sync log apply: a pair that drifted or conflicts is queued and decided again as any
 * change is (domain/decide-field.ts); an unlinked duplicate is queued, and the sync links it by
 * email; a converted Lead's link, or a record in its recycle bin, is queued, and the sync
 * follows the conversion or deletion as it would have. A link whose record is gone for good is
 * dropped, with an entry in the sync log; a prospect whose CRM record was purged forgets its id
 * (so the sync may link it again by email). In flight, refused and kept differences are left as
 * reported.
 */
export async function repairDifferences(
  options: VerifyOptions,
  verified: VerifyResult,
): Promise<RepairResult> {
  const { database, unitId, marketing, now } = options;
  const keys = new Set<string>();
  const log: SyncLogEntry[] = [];
  const result: RepairResult = { queued: 0, unlinked: 0, reported: 0 };
  for (const d of verified.differences) {
    switch (d.class) {
      case 'drift':
      case 'conflict':
      case 'unlinked duplicate':
        keys.add(`${d.crmObject}:${d.crmId}`);
        break;
      case 'orphan':
        await settleOrphan(d);
        break;
      default:
        result.reported += 1;
    }
  }

  async function settleOrphan(d: Difference): Promise<void> {
    const crmId = d.crmId!;
    const prospectId = d.prospectId!;
    // A conversion or a deletion the sync did not see: queued, it follows them as it would have.
    if (d.orphan === 'converted' || d.orphan === 'crm deleted') {
      keys.add(`${d.crmObject}:${crmId}`);
      return;
    }
    if (d.orphan === 'prospect deleted') {
      keys.add(`prospect:${prospectId}`);
      return;
    }
    await store.deleteLink(database.db, unitId, crmId);
    result.unlinked += 1;
    const entry = { crmObject: d.crmObject, crmId, prospectId, crmField: null, previous: crmId };
    if (d.orphan === 'crm gone') {
      // The prospect forgets the purged record, so the sync may link it again by email.
      const prospect = await marketing.updateProspect(
        prospectId,
        { salesforceId: null, [crmIdField(d.crmObject)]: null },
        ['id', 'email'],
      );
      log.push({
        ...entry,
        field: 'salesforceId',
        toSide: 'marketing',
        value: null,
        reason: `verify repair: ${d.crmObject} ${crmId} is gone for good; the prospect is unlinked from it`,
        apiCall: `PATCH /api/v5/objects/prospects/${prospectId}`,
      });
      const sameEmail =
        typeof prospect.email === 'string'
          ? verified.unlinkedCrm.get(prospect.email.toLowerCase())
          : undefined;
      if (sameEmail) keys.add(`${sameEmail.object}:${sameEmail.id}`);
    } else {
      log.push({
        ...entry,
        field: '*',
        toSide: 'crm',
        value: null,
        reason:
          d.orphan === 'both gone'
            ? `verify repair: ${d.crmObject} ${crmId} and prospect ${prospectId} are both gone for good; the link is dropped`
            : `verify repair: prospect ${prospectId} is gone for good; ${d.crmObject} ${crmId} is unlinked from it`,
        apiCall: 'none: the link was dropped',
      });
    }
  }

  const at = now().toISOString();
  await queue.enqueue(
    database,
    unitId,
    [...keys].map((key) => ({ key, priority: PRIORITY.change, payload: null })),
    at,
  );
  result.queued = keys.size;
  if (log.length > 0) await appendSyncLog(database, unitId, log, at);
  return result;
}

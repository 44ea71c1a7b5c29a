import { isDeepStrictEqual } from 'node:util';
import type { ProspectRecord } from '../../clients/account-engagement/ae-client.js';
import { syncValue } from '../domain/decide-field.js';
import { isShared } from '../domain/change-priority.js';
import { refusalFromThrown, type SaveOutcome } from '../domain/crm-outcome.js';
import { newLeadValues } from '../domain/pair-plan.js';
import { wantsLead } from '../domain/record-lifecycle.js';
import type { ActivitySync } from '../activity-sync.js';
import * as store from '../store/link-store.js';
import type { SyncSetup } from '../sync-setup.js';
import type { CrmRecord, PassResult } from '../sync-types.js';
import type { CrmWriter } from '../write/crm-writer.js';
import { personOf, type PairSync } from '../write/pair-sync.js';
import type { ItemRecords } from './item-records.js';
import { soqlString } from '../../clients/salesforce/soql.js';

/**
 * The work a changed prospect makes: the hand-off to sales (a new Lead), its CRM record
 * following it to or from the recycle bin, or reconciling the pair.
 */
export class ProspectWork {
  constructor(
    private readonly setup: SyncSetup,
    private readonly records: ItemRecords,
    private readonly pairs: PairSync,
    private readonly writer: CrmWriter,
    private readonly activities: ActivitySync,
  ) {}

  async work(
    prospect: ProspectRecord,
    link: store.Link | undefined,
    /** The linked CRM records of the batch, read together. */
    linked: ReadonlyMap<string, CrmRecord>,
    result: PassResult,
    item: { key: string; handoff: boolean },
  ): Promise<void> {
    const { database, crm, now } = this.setup.options;
    if (!link) {
      if (wantsLead(prospect, this.setup.rules.createLeads, item.handoff))
        await this.createLead(prospect, result, item.key);
      return;
    }
    const record = linked.get(link.crmId);
    if (prospect.isDeleted === true) {
      if (this.setup.rules.followDeletions === false) return;
      // Deleted in marketing: its CRM record follows to the recycle bin.
      if (record) {
        await crm.sobject(link.crmObject).destroy(link.crmId);
        result.deletions += 1;
      }
      if (!link.deleted) await store.saveLink(database.db, { ...link, deleted: true }, now().toISOString());
      return;
    }
    if (!record) {
      // The CRM record is gone while its prospect lives. Both were deleted and the prospect is
      // back: the CRM record comes back too. Otherwise the CRM deletion is not captured yet.
      if (!link.deleted) return;
      const [restored] = await crm.soap.undelete([link.crmId]);
      if (!restored?.success) return;
      result.undeletions += 1;
      const back = await this.records.one(link.crmObject, link.crmId);
      if (back) await this.pairs.reconcile({ ...link, deleted: false }, back, prospect, result, item.key);
      return;
    }
    if (!isShared(record, this.setup.rules.sharing)) return;
    await this.pairs.reconcile({ ...link, deleted: false }, record, prospect, result, item.key);
  }

  /**
   * A prospect handed off without a CRM record (assigned, or by the form-success rule) becomes a
   * Lead, owned by its assignee's CRM user if it has one. The prospect id in `pi__pardot_id__c`
   * is the create key: a Lead already carrying it (made by a try whose answer was lost) is
   * linked instead of made twice.
   */
  private async createLead(prospect: ProspectRecord, result: PassResult, itemKey: string): Promise<void> {
    const { crm, marketing, database, unitId, now } = this.setup.options;
    const existing = (
      await crm.query<CrmRecord>(
        `SELECT ${this.setup.fields.crm('Lead').join(', ')} FROM Lead WHERE pi__pardot_id__c = ${soqlString(String(prospect.id))} AND IsConverted = false`,
      )
    ).records[0];
    let record = existing;
    if (!record) {
      const values = newLeadValues(
        this.setup.mappings.Lead,
        this.setup.crmTypes.Lead,
        await this.setup.derive(prospect),
        this.setup.rules.sharing,
      );
      // A Lead from a web form says so, as a web-to-lead Lead would, unless marketing knows
      // where the prospect came from.
      if (!prospect.assignedToId && values.LeadSource == null && this.setup.crmTypes.Lead.has('LeadSource'))
        values.LeadSource = 'Web';
      // Owned by the assignee's CRM user; unassigned (a form success), by the connector's user.
      const owner = prospect.assignedToId
        ? await marketing.userSalesforceId(Number(prospect.assignedToId))
        : null;
      if (owner) values.OwnerId = owner;
      // The CRM refused this Lead for good: not sent again until a field it named changes (or
      // someone retries the error), however often the prospect's other fields move.
      const refused = await store.refusedLead(database.db, unitId, prospect.id);
      if (refused && sameRefusedValues(refused, values)) return;
      // An owner set by the hand-off stands: the org's lead assignment rules (which the REST
      // API runs on create unless told not to) decide only for unassigned prospects.
      const saved = await refusalOrResult(
        crm.sobject('Lead').create(values, owner ? { headers: { 'Sforce-Auto-Assign': 'FALSE' } } : {}),
      );
      if (!saved.success || !saved.id) {
        await this.writer.recordRefusal({ crmObject: 'Lead', crmId: null, prospectId: prospect.id }, saved, {
          values,
          person: personOf(values, prospect),
        });
        return;
      }
      record = await this.records.one('Lead', saved.id);
      result.leadsCreated += 1;
      await this.setup.log([
        {
          crmObject: 'Lead',
          crmId: saved.id,
          prospectId: prospect.id,
          field: '*',
          crmField: null,
          toSide: 'crm',
          value: syncValue(prospect.email),
          previous: null,
          reason: prospect.assignedToId
            ? 'Lead made for a prospect assigned to a user'
            : 'Lead made for a prospect on its form success',
          apiCall: `POST /services/data/v${crm.version}/sobjects/Lead`,
        },
      ]);
    }
    if (!record) return;
    await marketing.updateProspect(prospect.id, { salesforceId: record.Id, salesforceLeadId: record.Id });
    const link: store.Link = {
      unitId,
      crmObject: 'Lead',
      crmId: record.Id,
      prospectId: prospect.id,
      lastSynced: {},
    };
    await store.saveLink(database.db, link, now().toISOString());
    // Its activities so far (the form success that made it a Lead …) become the Lead's Tasks.
    await this.activities.queueProspect(prospect.id);
    await this.pairs.reconcile(link, record, prospect, result, itemKey);
  }
}

/**
 * A single-record save: jsforce throws the CRM's refusal (a validation rule, a required field);
 * that becomes a failed outcome to record, while transient trouble is thrown on for a retry.
 */
async function refusalOrResult(save: Promise<unknown>): Promise<SaveOutcome> {
  try {
    return (await save) as SaveOutcome;
  } catch (error) {
    const refusal = refusalFromThrown(error);
    if (!refusal) throw error;
    return refusal;
  }
}

/** Whether a new Lead would carry what the CRM refused: the fields it named (or all) unchanged. */
function sameRefusedValues(
  refused: { values: Record<string, unknown>; fields: string[] },
  values: Record<string, unknown>,
): boolean {
  const named = refused.fields.filter((field) => field in refused.values || field in values);
  if (named.length === 0) return isDeepStrictEqual(refused.values, values);
  return named.every((field) => isDeepStrictEqual(refused.values[field], values[field]));
}

import { isDeepStrictEqual } from 'node:util';
import type { ProspectRecord } from '../../clients/account-engagement/ae-client.js';
import { syncValue } from '../domain/decide-field.js';
import { isShared } from '../domain/change-priority.js';
import { classifyAnswer, refusalSummary, type SaveOutcome } from '../domain/crm-outcome.js';
import { newLeadValues } from '../domain/pair-plan.js';
import type { ActivitySync } from '../activity-sync.js';
import * as store from '../store/link-store.js';
import type { SyncSetup } from '../sync-setup.js';
import pMap from 'p-map';
import { COLLECTION_SIZE, ITEM_CONCURRENCY, type CrmRecord, type PassResult } from '../sync-types.js';
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
    // Not linked: a hand-off's Lead is made with the batch's others (createLeads).
    if (!link) return;
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
   * The batch's hand-offs without a CRM record (assigned, or by the form-success rule) become
   * Leads together: one Lead at a time cost three CRM calls and a burst of form submissions kept
   * sales waiting seconds. One query finds Leads a try whose answer was lost already made (the
   * prospect id in `pi__pardot_id__c` is the create key: such a Lead is linked, never made
   * twice); the new ones go 200 to a Collections call; they are read back 200 ids a query. Each
   * Lead is owned by its assignee's CRM user if it has one. Returns the items whose try failed
   * for now (no answer, a lock, limits), with the reason: they are tried again.
   */
  async createLeads(
    batch: ReadonlyArray<{ prospect: ProspectRecord; itemKey: string }>,
    result: PassResult,
  ): Promise<Map<string, Error>> {
    const failed = new Map<string, Error>();
    const existing = await this.leadsMadeFor(batch.map(({ prospect }) => prospect.id));
    const toMake: Array<{ prospect: ProspectRecord; itemKey: string; values: Record<string, unknown> }> = [];
    const made = new Map<
      string,
      { prospect: ProspectRecord; itemKey: string; leadId: string; created: boolean }
    >();
    // Four at a time, as items are worked: an assignee's CRM user is a marketing call.
    await pMap(
      batch,
      async ({ prospect, itemKey }) => {
        const leadId = existing.get(String(prospect.id));
        if (leadId) made.set(itemKey, { prospect, itemKey, leadId, created: false });
        else {
          try {
            const values = await this.newLead(prospect);
            if (values) toMake.push({ prospect, itemKey, values });
          } catch (error) {
            failed.set(itemKey, error as Error);
          }
        }
      },
      { concurrency: ITEM_CONCURRENCY },
    );
    // An owner set by the hand-off stands: the org's lead assignment rules (which the REST API
    // runs on create unless told not to) decide only for unassigned prospects.
    for (const owned of [true, false]) {
      const group = toMake.filter(({ values }) => Boolean(values.OwnerId) === owned);
      for (let i = 0; i < group.length; i += COLLECTION_SIZE) {
        const chunk = group.slice(i, i + COLLECTION_SIZE);
        let answers: SaveOutcome[];
        try {
          answers = (await this.setup.options.crm.sobject('Lead').create(
            chunk.map(({ values }) => values),
            { allOrNone: false, ...(owned ? { headers: { 'Sforce-Auto-Assign': 'FALSE' } } : {}) },
          )) as SaveOutcome[];
        } catch (error) {
          for (const { itemKey } of chunk) failed.set(itemKey, error as Error);
          continue;
        }
        for (const [k, { prospect, itemKey, values }] of chunk.entries()) {
          const answer = answers[k];
          const outcome = classifyAnswer(answer);
          if (outcome === 'written')
            made.set(itemKey, { prospect, itemKey, leadId: answer!.id!, created: true });
          else if (outcome === 'retry')
            failed.set(
              itemKey,
              new Error(refusalSummary(answer ?? { success: false }).message || 'no answer'),
            );
          else
            await this.writer.recordRefusal(
              { crmObject: 'Lead', crmId: null, prospectId: prospect.id },
              answer!,
              {
                values,
                person: personOf(values, prospect),
              },
            );
        }
      }
    }
    const leads = await this.records.many(
      'Lead',
      [...made.values()].map(({ leadId }) => leadId),
    );
    await pMap(
      [...made.values()],
      async ({ prospect, itemKey, leadId, created }) => {
        const record = leads.get(leadId);
        if (!record) return; // deleted meanwhile: the prospect is worked again when it changes
        try {
          if (created) {
            result.leadsCreated += 1;
            await this.setup.log([
              {
                crmObject: 'Lead',
                crmId: leadId,
                prospectId: prospect.id,
                field: '*',
                crmField: null,
                toSide: 'crm',
                value: syncValue(prospect.email),
                previous: null,
                reason: prospect.assignedToId
                  ? 'Lead made for a prospect assigned to a user'
                  : 'Lead made for a prospect on its form success',
                apiCall: `POST /services/data/v${this.setup.options.crm.version}/composite/sobjects`,
              },
            ]);
          }
          await this.linkLead(prospect, record, result, itemKey);
        } catch (error) {
          failed.set(itemKey, error as Error);
        }
      },
      { concurrency: ITEM_CONCURRENCY },
    );
    return failed;
  }

  /** Prospect id → the unconverted Lead already carrying it in `pi__pardot_id__c`, 200 ids a query. */
  private async leadsMadeFor(prospectIds: number[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let i = 0; i < prospectIds.length; i += COLLECTION_SIZE) {
      const ids = prospectIds.slice(i, i + COLLECTION_SIZE).map((id) => soqlString(String(id)));
      const leads = await this.setup.options.crm.query<CrmRecord>(
        `SELECT Id, pi__pardot_id__c FROM Lead WHERE pi__pardot_id__c IN (${ids.join(', ')}) AND IsConverted = false`,
      );
      for (const lead of leads.records) {
        const key = String(lead.pi__pardot_id__c);
        if (!found.has(key)) found.set(key, lead.Id);
      }
    }
    return found;
  }

  /**
   * A new Lead's values from its prospect, or null when the CRM refused this Lead for good and
   * nothing it named has changed (it is not sent again until then, or until someone retries).
   */
  private async newLead(prospect: ProspectRecord): Promise<Record<string, unknown> | null> {
    const { marketing, database, unitId } = this.setup.options;
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
    const refused = await store.refusedLead(database.db, unitId, prospect.id);
    if (refused && sameRefusedValues(refused, values)) return null;
    return values;
  }

  /** A prospect and its new Lead linked both ways; its activities so far become the Lead's Tasks. */
  private async linkLead(
    prospect: ProspectRecord,
    record: CrmRecord,
    result: PassResult,
    itemKey: string,
  ): Promise<void> {
    const { marketing, database, unitId, now } = this.setup.options;
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

/** Whether a new Lead would carry what the CRM refused: the fields it named (or all) unchanged. */
function sameRefusedValues(
  refused: { values: Record<string, unknown>; fields: string[] },
  values: Record<string, unknown>,
): boolean {
  const named = refused.fields.filter((field) => field in refused.values || field in values);
  if (named.length === 0) return isDeepStrictEqual(refused.values, values);
  return named.every((field) => isDeepStrictEqual(refused.values[field], values[field]));
}

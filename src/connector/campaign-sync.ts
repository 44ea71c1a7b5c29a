import type jsforce from 'jsforce';
import type { AccountEngagementClient } from '../clients/account-engagement/ae-client.js';
import type { Database } from '../store/database.js';
import type { SaveOutcome } from './domain/crm-outcome.js';
import * as members from './store/campaign-member-store.js';
import * as store from './store/link-store.js';
import { soqlString } from '../clients/salesforce/soql.js';

/** The status a CampaignMember made from a list membership gets. */
const MEMBER_STATUS = 'Sent';

export interface CampaignSyncResult {
  toCrm: number;
  toMarketing: number;
  errors: Array<{ record: string; message: string }>;
}

/**
 * List memberships ↔ CampaignMembers, for lists that stand for a CRM Campaign
 * (`salesforceCampaignId`). Each look compares both sides with the members synced last time:
 * a member new on one side is added on the other (prospects only when linked to a Lead or
 * Contact), and a synced member gone from one side is removed from the other.
 */
export class CampaignSync {
  constructor(
    private readonly options: {
      database: Database;
      crm: jsforce.Connection;
      marketing: AccountEngagementClient;
      unitId: string;
    },
  ) {}

  async run(): Promise<CampaignSyncResult> {
    const result: CampaignSyncResult = { toCrm: 0, toMarketing: 0, errors: [] };
    for (const list of await this.options.marketing.campaignLists()) {
      try {
        await this.syncList(list.id, list.salesforceCampaignId, result);
      } catch (error) {
        result.errors.push({ record: `list ${list.id}`, message: (error as Error).message });
      }
    }
    return result;
  }

  private async syncList(listId: number, campaignId: string, result: CampaignSyncResult): Promise<void> {
    const { database, unitId, crm, marketing } = this.options;
    const db = database.db;
    const inMarketing = new Set(await marketing.listMembers(listId));
    const crmMembers = (
      await crm.query<{ Id: string; LeadId: string | null; ContactId: string | null }>(
        `SELECT Id, LeadId, ContactId FROM CampaignMember WHERE CampaignId = ${soqlString(campaignId)}`,
        { autoFetch: true, maxFetch: 1_000_000 },
      )
    ).records;
    // CRM members by the prospect their Lead or Contact is linked to.
    const inCrm = new Map<number, string>();
    for (const member of crmMembers) {
      const recordId = member.ContactId ?? member.LeadId;
      const link = recordId ? await store.selectLinkByCrmId(db, unitId, recordId) : undefined;
      if (link && !link.deleted) inCrm.set(link.prospectId, member.Id);
    }
    const synced = await members.selectSyncedMembers(db, unitId, listId);
    const toCreate: Array<{ prospectId: number; record: Record<string, unknown> }> = [];
    const toDelete: Array<{ prospectId: number; memberId: string }> = [];
    for (const prospectId of new Set([...inMarketing, ...inCrm.keys(), ...synced.keys()])) {
      const m = inMarketing.has(prospectId);
      const memberId = inCrm.get(prospectId);
      const was = synced.get(prospectId);
      if (m && memberId) {
        if (was !== memberId) await members.saveSyncedMember(db, unitId, listId, prospectId, memberId);
      } else if (m && was) {
        // Removed in the CRM since: off the list too.
        await marketing.removeFromList(listId, prospectId);
        await members.deleteSyncedMember(db, unitId, listId, prospectId);
        result.toMarketing += 1;
      } else if (m) {
        const link = await store.selectLinkByProspect(db, unitId, prospectId);
        if (!link || link.deleted) continue; // not in the CRM (yet): a member once it is
        toCreate.push({
          prospectId,
          record: {
            CampaignId: campaignId,
            [link.crmObject === 'Contact' ? 'ContactId' : 'LeadId']: link.crmId,
            Status: MEMBER_STATUS,
          },
        });
      } else if (memberId && was) {
        // Taken off the list since: out of the Campaign too.
        toDelete.push({ prospectId, memberId });
      } else if (memberId) {
        await marketing.addToList(listId, prospectId);
        await members.saveSyncedMember(db, unitId, listId, prospectId, memberId);
        result.toMarketing += 1;
      } else if (was) {
        await members.deleteSyncedMember(db, unitId, listId, prospectId);
      }
    }
    for (let i = 0; i < toCreate.length; i += 200) {
      const batch = toCreate.slice(i, i + 200);
      const answers = (await crm
        .sobject('CampaignMember')
        .create(batch.map((c) => c.record) as never, { allOrNone: false })) as unknown as SaveOutcome[];
      for (const [k, c] of batch.entries()) {
        const answer = answers[k];
        if (answer?.success && answer.id) {
          await members.saveSyncedMember(db, unitId, listId, c.prospectId, answer.id);
          result.toCrm += 1;
        } else {
          result.errors.push({
            record: `CampaignMember of prospect ${c.prospectId}`,
            message: answer?.errors?.map((e) => e.message).join('; ') || 'no answer',
          });
        }
      }
    }
    for (let i = 0; i < toDelete.length; i += 200) {
      const batch = toDelete.slice(i, i + 200);
      const answers = (await crm.sobject('CampaignMember').destroy(
        batch.map((d) => d.memberId),
        { allOrNone: false },
      )) as unknown as SaveOutcome[];
      for (const [k, d] of batch.entries()) {
        const answer = answers[k];
        const gone =
          answer?.success ||
          answer?.errors?.some((e) => (e.errorCode ?? e.statusCode) === 'ENTITY_IS_DELETED');
        if (gone) {
          await members.deleteSyncedMember(db, unitId, listId, d.prospectId);
          result.toCrm += 1;
        } else {
          result.errors.push({
            record: `CampaignMember ${d.memberId}`,
            message: answer?.errors?.[0]?.message ?? 'no answer',
          });
        }
      }
    }
  }
}

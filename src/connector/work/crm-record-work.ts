import type { ProspectRecord } from '../../clients/account-engagement/ae-client.js';
import { PRIORITY } from '../domain/change-priority.js';
import { crmIdField, type CrmObject } from '../domain/field-mapping.js';
import { newProspectValues } from '../domain/pair-plan.js';
import { conversionTarget, mergeTarget } from '../domain/record-lifecycle.js';
import type { ActivitySync } from '../activity-sync.js';
import * as store from '../store/link-store.js';
import * as queue from '../store/work-queue.js';
import type { SyncSetup } from '../sync-setup.js';
import { isShared } from '../domain/change-priority.js';
import type { CrmRecord, PassResult } from '../sync-types.js';
import type { PairSync } from '../write/pair-sync.js';
import { OneAtATime } from './one-at-a-time.js';

/**
 * The work a changed Lead or Contact makes: its prospect follows a conversion, a merge or a
 * deletion; a new record is linked to a prospect with its email, or given a new one; a linked
 * one is reconciled with its prospect.
 */
export class CrmRecordWork {
  /** Records with one email are matched one at a time, or two could take one prospect. */
  private readonly byEmail = new OneAtATime();

  constructor(
    private readonly setup: SyncSetup,
    private readonly pairs: PairSync,
    private readonly activities: ActivitySync,
  ) {}

  async work(object: CrmObject, record: CrmRecord, result: PassResult, itemKey: string): Promise<void> {
    if (record.IsDeleted === true && typeof record.MasterRecordId === 'string')
      await this.followMerge(object, record, record.MasterRecordId, result);
    else if (record.IsDeleted === true) await this.followDeletion(object, record, result);
    else if (record.IsConverted === true) await this.followConversion(record, result);
    else if (isShared(record, this.setup.rules.sharing)) await this.sync(object, record, result, itemKey);
  }

  /** A converted Lead: its prospect moves to the Contact, keeping its history and activities. */
  private async followConversion(lead: CrmRecord, result: PassResult): Promise<void> {
    const { database, unitId, marketing, now } = this.setup.options;
    const link = await store.selectLinkByCrmId(database.db, unitId, lead.Id);
    const target = conversionTarget(lead);
    if (!link || !target || link.crmObject !== 'Lead') return;
    await marketing.updateProspect(link.prospectId, {
      salesforceId: target.contactId,
      salesforceContactId: target.contactId,
      salesforceAccountId: target.accountId,
    });
    await store.saveLink(
      database.db,
      { ...link, crmObject: 'Contact', crmId: target.contactId },
      now().toISOString(),
    );
    await this.setup.log([
      {
        crmObject: 'Contact',
        crmId: target.contactId,
        prospectId: link.prospectId,
        field: 'salesforceContactId',
        crmField: null,
        toSide: 'marketing',
        value: target.contactId,
        previous: null,
        reason: `Lead ${lead.Id} converted: the prospect moves to its Contact`,
        apiCall: `PATCH /api/v5/objects/prospects/${link.prospectId}`,
      },
    ]);
    result.relinked += 1;
  }

  /** A record merged into another (deleted with a MasterRecordId): domain/record-lifecycle.ts decides. */
  private async followMerge(
    object: CrmObject,
    record: CrmRecord,
    masterId: string,
    result: PassResult,
  ): Promise<void> {
    const { database, unitId, marketing, now } = this.setup.options;
    const link = await store.selectLinkByCrmId(database.db, unitId, record.Id);
    if (!link || link.crmObject !== object) return;
    const survivorLinked = Boolean(await store.selectLinkByCrmId(database.db, unitId, masterId));
    const moveTo = mergeTarget(masterId, survivorLinked);
    await marketing.updateProspect(link.prospectId, { salesforceId: moveTo, [crmIdField(object)]: moveTo });
    if (moveTo) {
      await store.saveLink(database.db, { ...link, crmId: moveTo, lastSynced: {} }, now().toISOString());
      // The surviving record and its new prospect are decided afresh.
      await queue.enqueue(
        database,
        unitId,
        [{ key: `${object}:${moveTo}`, priority: PRIORITY.change, payload: null }],
        now().toISOString(),
      );
      result.relinked += 1;
    } else {
      await store.deleteLink(database.db, unitId, record.Id);
    }
    await this.setup.log([
      {
        crmObject: object,
        crmId: moveTo ?? record.Id,
        prospectId: link.prospectId,
        field: 'salesforceId',
        crmField: null,
        toSide: 'marketing',
        value: moveTo,
        previous: record.Id,
        reason: moveTo
          ? `${object} ${record.Id} merged into ${masterId}: the prospect moves to the surviving record`
          : `${object} ${record.Id} merged into ${masterId}, which has its own prospect: this one is unlinked`,
        apiCall: `PATCH /api/v5/objects/prospects/${link.prospectId}`,
      },
    ]);
  }

  /** A record deleted in the CRM sends its prospect to the recycle bin. */
  private async followDeletion(object: CrmObject, record: CrmRecord, result: PassResult): Promise<void> {
    const { database, unitId, marketing, now } = this.setup.options;
    if (this.setup.rules.followDeletions === false) return;
    const link = await store.selectLinkByCrmId(database.db, unitId, record.Id);
    if (!link || link.deleted || link.crmObject !== object) return;
    const prospect = await marketing.readProspect(link.prospectId, ['id', 'isDeleted']);
    if (prospect.isDeleted !== true) {
      await marketing.deleteProspect(link.prospectId);
      result.deletions += 1;
    }
    await store.saveLink(database.db, { ...link, deleted: true }, now().toISOString());
  }

  private async sync(
    object: CrmObject,
    record: CrmRecord,
    result: PassResult,
    itemKey: string,
  ): Promise<void> {
    const { database, unitId, marketing } = this.setup.options;
    let link = await store.selectLinkByCrmId(database.db, unitId, record.Id);
    let prospect: ProspectRecord | undefined;
    if (!link) {
      const email = typeof record.Email === 'string' ? record.Email : null;
      if (!email) return;
      const found = await this.byEmail.run(email.toLowerCase(), () =>
        this.linkNewRecord(object, record, email, result),
      );
      if (!found) return;
      ({ link, prospect } = found);
    } else {
      prospect = await marketing.readProspect(link.prospectId, this.setup.fields.prospect());
      if (prospect.isDeleted === true) {
        // Both went to the bins together and the CRM record is back: so is its prospect. A
        // prospect deleted in marketing alone waits for the marketing side to send the CRM
        // record after it.
        if (!link.deleted) return;
        prospect = await marketing.undeleteProspect(link.prospectId, this.setup.fields.prospect());
        result.undeletions += 1;
        link = { ...link, deleted: false };
      } else if (link.deleted) {
        link = { ...link, deleted: false };
      }
    }
    await this.pairs.reconcile(link, record, prospect, result, itemKey);
  }

  /**
   * A CRM record without a link: linked to an unlinked prospect with its email (by CRM id from
   * then on), or given a new prospect. The link is saved at once, so the next record with the
   * same email sees it.
   */
  private async linkNewRecord(
    object: CrmObject,
    record: CrmRecord,
    email: string,
    result: PassResult,
  ): Promise<{ link: store.Link; prospect: ProspectRecord } | undefined> {
    const { database, unitId, marketing, now } = this.setup.options;
    const prospectFields = this.setup.fields.prospect();
    let prospect: ProspectRecord | undefined;
    for (const candidate of await marketing.prospectsByEmail(email, prospectFields)) {
      // A prospect carrying another CRM record's id belongs to that record.
      if (candidate.salesforceId && candidate.salesforceId !== record.Id) continue;
      const held = await store.selectLinkByProspect(database.db, unitId, candidate.id);
      // Linked to this very record since it was looked up (another process worked it): that pair.
      if (held?.crmId === record.Id) return { link: held, prospect: candidate };
      if (!held) {
        // Found by email: from now on it is linked by CRM id, on both sides.
        await marketing.updateProspect(candidate.id, {
          salesforceId: record.Id,
          [crmIdField(object)]: record.Id,
        });
        prospect = candidate;
        break;
      }
    }
    const entry = { crmObject: object, crmId: record.Id, field: '*', crmField: null, previous: null };
    const created = !prospect;
    if (!prospect) {
      if (!this.setup.rules.createProspects) return undefined;
      prospect = await marketing.createProspect(
        newProspectValues(object, this.setup.mappings[object], record),
        prospectFields,
      );
      result.created += 1;
      await this.setup.log([
        {
          ...entry,
          prospectId: prospect.id,
          toSide: 'marketing',
          value: email,
          reason: `prospect made for a new ${object}`,
          apiCall: 'POST /api/v5/objects/prospects',
        },
      ]);
    } else {
      await this.setup.log([
        {
          ...entry,
          prospectId: prospect.id,
          toSide: 'marketing',
          value: email,
          reason: `${object} linked by email to a prospect without a CRM record`,
          apiCall: `PATCH /api/v5/objects/prospects/${prospect.id}`,
        },
      ]);
    }
    const link: store.Link = {
      unitId,
      crmObject: object,
      crmId: record.Id,
      prospectId: prospect.id,
      lastSynced: {},
    };
    await store.saveLink(database.db, link, now().toISOString());
    // A prospect found by email has a past: its activities become the record's Tasks.
    if (!created) await this.activities.queueProspect(prospect.id);
    return { link, prospect };
  }
}

import { syncValue } from '../domain/decide-field.js';
import {
  crmChangePriority,
  fieldsChanged,
  PRIORITY,
  prospectChangePriority,
} from '../domain/change-priority.js';
import { onlyEngagement, windowEnd } from '../domain/change-window.js';
import type { CrmObject } from '../domain/field-mapping.js';
import * as store from '../store/link-store.js';
import * as queue from '../store/work-queue.js';
import type { ActivitySync } from '../activity-sync.js';
import type { SyncSetup } from '../sync-setup.js';
import type { CrmRecord, PassResult } from '../sync-types.js';
import { soqlDatetime } from '../../clients/salesforce/soql.js';

/** Re-read this far behind a cursor: a transaction in flight at the last read commits with an older stamp. */
const OVERLAP_MS = 5_000;
/** The most CRM records one capture reads an object (2,000 a page); the rest wait for the next. */
const CAPTURE_MAX = 50_000;
/** The visitor activity type of a successful form or form handler submission. */
const FORM_SUCCESS = 4;

/**
 * Capture: what changed on each side since its cursor goes into the work queue, with its
 * priority (domain/change-priority.ts); echoes of the sync's own writes are left out. One
 * process captures at a time (a lease in the store); a cursor moves once what it covers is
 * queued, so a capture that dies is repeated, harmlessly, from the old cursor.
 */
export class ChangeCapture {
  constructor(
    private readonly setup: SyncSetup,
    private readonly activities: ActivitySync,
    /** Who holds the capture lease: this engine. */
    private readonly owner: string,
    /** When a lease taken at a moment runs out. */
    private readonly leaseEnd: (at: Date) => string,
  ) {}

  /** Polls the sides asked for (both by default) for what changed since their cursors. */
  async capture(result: PassResult, poll: { crm?: boolean; marketing?: boolean } = {}): Promise<void> {
    const pollCrm = poll.crm ?? true;
    const pollMarketing = poll.marketing ?? true;
    const { database, unitId, now } = this.setup.options;
    const name = `${unitId}:capture`;
    const at = now();
    if (!(await queue.claimLease(database, name, this.owner, at.toISOString(), this.leaseEnd(at)))) return;
    try {
      // Lead first: a conversion queued before the new Contact is handled before it.
      // What each poll found is what it queued: a record read again inside the overlap window,
      // or an echo of the sync's own write, is no change.
      if (pollCrm) {
        const before = result.queued;
        for (const object of ['Lead', 'Contact'] as const) await this.captureCrm(object, result);
        result.crmChanges += result.queued - before;
      }
      if (pollMarketing) {
        const before = result.queued;
        await this.captureFormSuccesses(result);
        await this.captureMarketing(result);
        result.queued += await this.activities.capture();
        result.marketingChanges += result.queued - before;
      }
    } finally {
      await queue.releaseLease(database, name, this.owner);
    }
  }

  /** Records whose sync errors someone asked to retry are queued, to be read afresh and decided. */
  async queueRetries(): Promise<void> {
    const { database, unitId, now } = this.setup.options;
    const items: queue.NewWorkItem[] = [];
    const retried = await store.selectSyncErrors(database.db, unitId, ['retry']);
    // Asked to try again: what the CRM refused is sent once more, unchanged or not.
    await store.clearRefused(
      database.db,
      unitId,
      retried.flatMap((error) => (error.crmId ? [error.crmId] : [])),
    );
    for (const error of retried) {
      const key = error.crmId
        ? `${error.crmObject}:${error.crmId}`
        : error.prospectId !== null
          ? `prospect:${error.prospectId}`
          : null;
      if (key) items.push({ key, priority: PRIORITY.urgent, payload: null });
    }
    // Already queued (waiting out a backoff, say): left as it is.
    await queue.enqueue(database, unitId, items, now().toISOString(), { ifAbsent: true });
  }

  private cursorName(side: string): string {
    return `${this.setup.options.unitId}:${side}`;
  }

  /** The cursor, or — on the first pass — now: prospects are made for new records only. */
  private async cursor(side: string): Promise<string> {
    const { database, now } = this.setup.options;
    const name = this.cursorName(side);
    const saved = await store.selectCursor(database.db, name);
    if (saved) return saved;
    // Ahead by the overlap, so the first read starts now and not a few seconds before.
    const start = new Date(now().getTime() + OVERLAP_MS).toISOString();
    await store.saveCursor(database.db, name, start);
    return start;
  }

  /**
   * One query an object a pass, followed page by page: `queryAll` on SystemModstamp returns the
   * changed records, the deleted ones (the recycle bin) and, for Leads, the converted ones.
   */
  private async captureCrm(object: CrmObject, result: PassResult): Promise<void> {
    const { database, unitId, crm, now } = this.setup.options;
    const cursor = await this.cursor(object);
    // SOQL datetime literals are to the second; the window starts to the millisecond: what the
    // second's rounding lets in from before it was covered by an earlier pass, or predates the
    // connector.
    const from = new Date(Date.parse(cursor) - OVERLAP_MS).toISOString();
    const soql = `SELECT ${this.setup.fields.crmCapture(object).join(', ')} FROM ${object} WHERE SystemModstamp >= ${soqlDatetime(from)} ORDER BY SystemModstamp`;
    const records = (
      await crm.query<CrmRecord>(soql, { scanAll: true, autoFetch: true, maxFetch: CAPTURE_MAX })
    ).records.filter((record) => (syncValue(record.SystemModstamp) ?? '') >= from);
    let newest = cursor;
    const items: queue.NewWorkItem[] = [];
    const links = await store.selectLinksByCrmIds(
      database.db,
      unitId,
      records.map((r) => r.Id),
    );
    for (const record of records) {
      result.crmRecords += 1;
      const stamp = syncValue(record.SystemModstamp);
      if (stamp && stamp > newest) newest = stamp;
      const priority = crmChangePriority({
        object,
        record,
        link: links.get(record.Id),
        mappings: this.setup.mappings[object],
        sharing: this.setup.rules.sharing,
      });
      if (priority !== null) items.push({ key: `${object}:${record.Id}`, priority, payload: record });
    }
    await queue.enqueue(database, unitId, items, now().toISOString());
    result.queued += items.length;
    await store.saveCursor(database.db, this.cursorName(object), newest);
  }

  /**
   * Form submissions go first: each new Success activity queues its prospect as a hand-off, at
   * the top priority (and, by the `form-success` rule, to become a Lead). The cursor is the last
   * activity id seen; it starts at the newest, so older submissions are left alone.
   */
  private async captureFormSuccesses(result: PassResult): Promise<void> {
    const { database, unitId, marketing, now } = this.setup.options;
    const name = this.cursorName('form-success');
    const saved = await store.selectCursor(database.db, name);
    if (saved === undefined) {
      await store.saveCursor(database.db, name, String(await marketing.newestActivityId()));
      return;
    }
    const activities = await marketing.activitiesAfter(Number(saved), FORM_SUCCESS);
    if (activities.length === 0) return;
    const items = [
      ...new Set(activities.map((a) => a.prospectId).filter((id): id is number => id !== null)),
    ].map((id) => ({ key: `prospect:${id}`, priority: PRIORITY.handoff, payload: null }));
    await queue.enqueue(database, unitId, items, now().toISOString());
    result.queued += items.length;
    await store.saveCursor(database.db, name, String(activities[activities.length - 1]!.id));
  }

  private async captureMarketing(result: PassResult): Promise<void> {
    const { database, unitId, marketing, now } = this.setup.options;
    const cursor = await this.cursor('marketing');
    const since = new Date(Date.parse(cursor) - OVERLAP_MS).toISOString();
    const prospects = await marketing.prospectsUpdatedSince(since, this.setup.fields.prospect(), {
      deleted: true,
    });
    let newest = cursor;
    const items: queue.NewWorkItem[] = [];
    /** Changes to engagement fields alone (an open's score): due when the activity window ends. */
    const engagement: queue.NewWorkItem[] = [];
    const links = await store.selectLinksByProspectIds(
      database.db,
      unitId,
      prospects.map((p) => p.id),
    );
    for (const prospect of prospects) {
      result.prospects += 1;
      const stamp = syncValue(prospect.updatedAt);
      if (stamp && stamp > newest) newest = stamp;
      const link = links.get(prospect.id);
      // With the fields the connector derives (campaign name, URL), or every prospect the
      // sync wrote would look changed against what was last synced.
      const seen = link ? await this.setup.derive(prospect) : prospect;
      const mappings = link ? this.setup.mappings[link.crmObject] : [];
      const priority = prospectChangePriority({
        prospect: seen,
        link,
        mappings,
        createLeads: this.setup.rules.createLeads,
      });
      if (priority === null) continue;
      const item = { key: `prospect:${prospect.id}`, priority, payload: prospect };
      const alone =
        link && !link.deleted && priority === PRIORITY.change
          ? onlyEngagement(fieldsChanged(link, mappings, (m) => seen[m.prospectField]))
          : false;
      (alone ? engagement : items).push(item);
    }
    const at = now().getTime();
    await queue.enqueue(database, unitId, items, new Date(at).toISOString());
    await queue.enqueue(
      database,
      unitId,
      engagement,
      new Date(windowEnd(at, this.activities.windowMs)).toISOString(),
    );
    result.queued += items.length + engagement.length;
    await store.saveCursor(database.db, this.cursorName('marketing'), newest);
  }
}

import type jsforce from 'jsforce';
import type { AccountEngagementClient, MarketingActivity } from '../clients/account-engagement/ae-client.js';
import { SalesforceClient } from '../clients/salesforce/salesforce-client.js';
import type { Database } from '../store/database.js';
import {
  ACTIVITY_ID_FIELD,
  taskFor,
  type ActivityNames,
  type ActivitySettings,
} from './domain/activity-task.js';
import { windowEnd } from './domain/change-window.js';
import { classifyAnswer, refusalSummary, type SaveOutcome } from './domain/crm-outcome.js';
import { categorize } from './domain/sync-error.js';
import type { CrmObject } from './domain/field-mapping.js';
import type { EnlistedCall } from './write/crm-writer.js';
import * as store from './store/link-store.js';
import { appendSyncLog, type SyncLogEntry } from './store/sync-log.js';
import * as queue from './store/work-queue.js';
import { COLLECTION_SIZE } from './sync-types.js';

/** Activities read a pass at most (1,000 a call); the rest wait for the next. */
const CAPTURE_PAGES = 5;
/** From this many Tasks on, they go as one Bulk API 2.0 upsert job. */
const BULK_THRESHOLD = 2_000;
const FORM_SUCCESS = 4;
const OWNER_TTL_MS = 5 * 60_000;

/** Keys of activity work: one activity, or every activity of a prospect just linked. */
export const ACTIVITY_KEY = 'activity:';
export const PROSPECT_ACTIVITIES_KEY = 'prospect-activities:';

export function isActivityItem(key: string): boolean {
  return key.startsWith(ACTIVITY_KEY) || key.startsWith(PROSPECT_ACTIVITIES_KEY);
}

/** An activity's Task, ready to upsert. */
interface PreparedTask {
  itemKey: string;
  activity: MarketingActivity;
  link: store.Link;
  task: Record<string, unknown>;
}

/** Where Collections calls are enlisted to go out with the sync's other CRM writes. */
export interface TaskWriter {
  enlist(call: EnlistedCall): void;
}

export interface ActivitySyncOptions {
  database: Database;
  crm: jsforce.Connection;
  marketing: AccountEngagementClient;
  unitId: string;
  settings: ActivitySettings;
  now: () => Date;
}

/** How a batch's work went, told back to the engine that leased it. */
export interface ActivityWorkOutcome {
  /** Items to try again later, with why. */
  failed: Map<string, string>;
  written: number;
  errors: Array<{ record: string; message: string }>;
}

/**
 * Marketing activities → CRM Tasks on the linked Lead or Contact. Capture follows the unit's
 * activities by id; each becomes a queue item, and a prospect that gets linked later has its
 * earlier activities queued at once. Tasks are upserted on their external id
 * (`Handoff_Activity_Id__c`), 200 a Collections call or as one Bulk API 2.0 job for a backlog,
 * so a try repeated after a lost answer updates the Task it made instead of making a second.
 * A Task goes to whatever the prospect is linked to when it is written: after a conversion,
 * the Contact.
 */
export class ActivitySync {
  private readonly names = new Map<string, string | null>();
  /** Record owners lately read: an owner changes seldom, and a stale one only misfiles a Task. */
  private readonly ownerCache = new Map<string, { ownerId: string; at: number }>();

  private readonly salesforce: SalesforceClient;

  constructor(private readonly options: ActivitySyncOptions) {
    this.salesforce = new SalesforceClient(options.crm);
  }

  /** The activity window (domain/change-window.ts): engagement work waits for its end. */
  get windowMs(): number {
    return this.options.settings.batchMs;
  }

  private get enabled(): boolean {
    return this.options.settings.enabled;
  }

  private syncs(activity: MarketingActivity): boolean {
    return activity.prospectId !== null && this.options.settings.types.includes(activity.type);
  }

  /** Queues the unit's new activities; the cursor starts at the newest, so history is left alone. */
  async capture(): Promise<number> {
    if (!this.enabled) return 0;
    const { database, unitId, marketing, now } = this.options;
    const name = `${unitId}:activities`;
    const saved = await store.selectCursor(database.db, name);
    if (saved === undefined) {
      await store.saveCursor(database.db, name, String(await marketing.newestActivityId()));
      return 0;
    }
    let after = Number(saved);
    let queued = 0;
    for (let page = 0; page < CAPTURE_PAGES; page++) {
      const activities = await marketing.activitiesPage(after);
      if (activities.length === 0) break;
      const items = activities
        .filter((a) => this.syncs(a))
        .map((a) => ({
          key: `${ACTIVITY_KEY}${a.id}`,
          // A form success's Task follows its Lead at the front of the queue.
          priority: a.type === FORM_SUCCESS ? queue.PRIORITY.handoff : queue.PRIORITY.change,
          payload: a,
        }));
      // Due when the activity window ends, with the engagement changes of the same window: a
      // stream of activities goes out as a few Composite calls a window.
      const due = new Date(windowEnd(now().getTime(), this.options.settings.batchMs)).toISOString();
      await queue.enqueue(database, unitId, items, due);
      queued += items.length;
      after = activities[activities.length - 1]!.id;
      await store.saveCursor(database.db, name, String(after));
      if (activities.length < 1000) break;
    }
    return queued;
  }

  /** A prospect was just linked: its activities so far become Tasks too. */
  async queueProspect(prospectId: number): Promise<void> {
    if (!this.enabled) return;
    const { database, unitId, now } = this.options;
    await queue.enqueue(
      database,
      unitId,
      [{ key: `${PROSPECT_ACTIVITIES_KEY}${prospectId}`, priority: queue.PRIORITY.change, payload: null }],
      now().toISOString(),
    );
  }

  /**
   * The Tasks of a leased batch's activity items: a backlog written at once as a Bulk job, the
   * rest enlisted with `writer`, whose flush sends them (and completes the outcome).
   */
  async work(
    items: queue.WorkItem[],
    writer: TaskWriter,
    /** CRM records the batch has read already: their owners need no query. */
    read: ReadonlyMap<string, Record<string, unknown>> = new Map(),
  ): Promise<ActivityWorkOutcome> {
    const outcome: ActivityWorkOutcome = { failed: new Map(), written: 0, errors: [] };
    const { database, unitId, marketing } = this.options;
    // Each item's activities (a prospect's item has many), read where not carried.
    const byItem = new Map<string, MarketingActivity[]>();
    for (const item of items) {
      try {
        if (item.key.startsWith(PROSPECT_ACTIVITIES_KEY)) {
          const id = Number(item.key.slice(PROSPECT_ACTIVITIES_KEY.length));
          byItem.set(
            item.key,
            (await marketing.prospectActivities(id)).filter((a) => this.syncs(a)),
          );
        } else {
          const carried = item.payload as MarketingActivity | null;
          const id = Number(item.key.slice(ACTIVITY_KEY.length));
          const activity = carried ?? (await marketing.activitiesPage(id - 1, 1))[0];
          byItem.set(item.key, activity && activity.id === id && this.syncs(activity) ? [activity] : []);
        }
      } catch (error) {
        outcome.failed.set(item.key, (error as Error).message);
      }
    }
    // The linked record of each prospect; unlinked ones wait for their link (queueProspect).
    const links = new Map<number, store.Link>();
    for (const activity of [...byItem.values()].flat()) {
      const prospectId = activity.prospectId!;
      if (links.has(prospectId)) continue;
      const link = await store.selectLinkByProspect(database.db, unitId, prospectId);
      if (link && !link.deleted) links.set(prospectId, link);
    }
    const owners = await this.owners([...links.values()], read);
    const tasks: PreparedTask[] = [];
    for (const [itemKey, activities] of byItem) {
      for (const activity of activities) {
        const link = links.get(activity.prospectId!);
        if (!link) continue;
        try {
          tasks.push({
            itemKey,
            activity,
            link,
            task: taskFor(activity, {
              unitId,
              whoId: link.crmId,
              ownerId: owners.get(link.crmId) ?? null,
              names: await this.namesOf(activity),
              settings: this.options.settings,
            }),
          });
        } catch (error) {
          outcome.failed.set(itemKey, (error as Error).message);
        }
      }
    }
    if (tasks.length >= BULK_THRESHOLD) {
      let answers: SaveOutcome[] | Error;
      try {
        answers = await this.bulkUpsert(tasks.map((t) => t.task));
      } catch (error) {
        answers = error as Error;
      }
      await this.settle(tasks, answers, true, outcome);
      return outcome;
    }
    // 200 Tasks a Collections call, sent with the writer's updates (five calls to a Composite
    // call): the outcome is complete once the writer has flushed.
    for (let i = 0; i < tasks.length; i += COLLECTION_SIZE) {
      const batch = tasks.slice(i, i + COLLECTION_SIZE);
      writer.enlist({
        part: {
          kind: 'upsert',
          object: 'Task',
          externalIdField: ACTIVITY_ID_FIELD,
          records: batch.map((t) => t.task),
        },
        settle: (answer) =>
          this.settle(batch, answer.ok ? (answer.body as SaveOutcome[]) : answer.error, false, outcome),
      });
    }
    return outcome;
  }

  /** Takes an upsert's answers (or the error it got instead): Tasks logged, refusals listed. */
  private async settle(
    batch: PreparedTask[],
    answers: SaveOutcome[] | Error,
    bulk: boolean,
    outcome: ActivityWorkOutcome,
  ): Promise<void> {
    const { crm, database, unitId, now } = this.options;
    if (answers instanceof Error) {
      // No answer (5xx, a lost answer, limits): the items are tried again; the upsert key
      // makes a Task the CRM did save the same Task then.
      for (const t of batch) outcome.failed.set(t.itemKey, answers.message);
      outcome.errors.push({ record: `Task ×${batch.length}`, message: answers.message });
      return;
    }
    const at = now().toISOString();
    const log: SyncLogEntry[] = [];
    const apiCall = bulk
      ? `Bulk API 2.0 ingest job (upsert Task on ${ACTIVITY_ID_FIELD}, ${batch.length} records)`
      : `PATCH /services/data/v${crm.version}/composite/sobjects/Task/${ACTIVITY_ID_FIELD}`;
    for (const [i, t] of batch.entries()) {
      const answer = answers[i];
      const taken = classifyAnswer(answer);
      if (taken === 'written') {
        outcome.written += 1;
        log.push({
          crmObject: t.link.crmObject,
          crmId: t.link.crmId,
          prospectId: t.link.prospectId,
          field: 'activity',
          crmField: 'Task',
          toSide: 'crm',
          value: String(t.task.Subject),
          previous: null,
          reason: `activity ${t.activity.id} (${t.activity.typeName ?? t.activity.type}) as a Task`,
          apiCall,
        });
        continue;
      }
      const message = answer?.errors?.map((e) => e.message).join('; ') || 'no answer';
      outcome.errors.push({ record: `activity ${t.activity.id}`, message });
      if (taken === 'retry') {
        outcome.failed.set(t.itemKey, message);
      } else {
        // Refused (a missing field, a validation rule): listed, without standing in for the
        // record's own sync errors (no record ids), and not tried again by itself.
        const { code, fields } = refusalSummary(answer!);
        await store.recordSyncError(
          database.db,
          {
            unitId,
            side: 'crm',
            crmObject: t.link.crmObject,
            crmId: null,
            prospectId: null,
            fields,
            category: categorize(code),
            code,
            message: `Task for activity ${t.activity.id} on ${t.link.crmObject} ${t.link.crmId}: ${message}`,
          },
          at,
        );
      }
    }
    await appendSyncLog(database, unitId, log, at);
  }

  private bulkUpsert(tasks: Array<Record<string, unknown>>): Promise<SaveOutcome[]> {
    return this.salesforce.bulkSave(
      { object: 'Task', operation: 'upsert', externalIdFieldName: ACTIVITY_ID_FIELD },
      tasks,
      {
        matchOn: ACTIVITY_ID_FIELD,
        keyOf: (task) => String(task[ACTIVITY_ID_FIELD]),
      },
    );
  }

  /** The owners of the linked records, one query an object: a Task belongs to its record's owner. */
  private async owners(
    links: store.Link[],
    read: ReadonlyMap<string, Record<string, unknown>>,
  ): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const fresh = this.options.now().getTime() - OWNER_TTL_MS;
    for (const link of links) {
      const owner = read.get(link.crmId)?.OwnerId;
      if (typeof owner === 'string') {
        owners.set(link.crmId, owner);
        this.ownerCache.set(link.crmId, { ownerId: owner, at: this.options.now().getTime() });
        continue;
      }
      const cached = this.ownerCache.get(link.crmId);
      if (cached && cached.at >= fresh) owners.set(link.crmId, cached.ownerId);
    }
    for (const object of ['Lead', 'Contact'] as CrmObject[]) {
      const ids = [
        ...new Set(links.filter((l) => l.crmObject === object && !owners.has(l.crmId)).map((l) => l.crmId)),
      ];
      const found = await this.salesforce.recordsById<{ Id: string; OwnerId?: string }>(
        object,
        ['Id', 'OwnerId'],
        ids,
      );
      for (const r of found) {
        if (!r.OwnerId) continue;
        owners.set(r.Id, r.OwnerId);
        this.ownerCache.set(r.Id, { ownerId: r.OwnerId, at: this.options.now().getTime() });
      }
    }
    return owners;
  }

  /** The names an activity's Task subject shows, cached: assets are named once. */
  private async namesOf(activity: MarketingActivity): Promise<ActivityNames> {
    const name = async (
      collection: Parameters<AccountEngagementClient['assetName']>[0],
      id: number | null,
    ) => {
      if (id === null) return null;
      const key = `${collection}:${id}`;
      if (!this.names.has(key)) this.names.set(key, await this.options.marketing.assetName(collection, id));
      return this.names.get(key) ?? null;
    };
    return {
      email: await name('emails', activity.emailId),
      form:
        (await name('forms', activity.formId)) ??
        (await name('form-handlers', activity.formHandlerId)) ??
        (await name('landing-pages', activity.landingPageId)),
      campaign: await name('campaigns', activity.campaignId),
    };
  }
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pMap from 'p-map';
import type { ProspectRecord } from '../clients/account-engagement/ae-client.js';
import { STANDARD_PROSPECT_FIELDS } from '../clients/account-engagement/prospect-fields.js';
import type { SalesforceClient } from '../clients/salesforce/salesforce-client.js';
import { ActivitySync, isActivityItem } from './activity-sync.js';
import { CampaignSync } from './campaign-sync.js';
import { ChangeCapture } from './capture/change-capture.js';
import { activitySettingsSchema } from './domain/activity-task.js';
import { PRIORITY } from './domain/change-priority.js';
import type { CrmObject, FieldMapping, MappingProblem } from './domain/field-mapping.js';
import { wantsLead } from './domain/record-lifecycle.js';
import type { SyncFields } from './domain/sync-fields.js';
import type { Deriver } from './domain/derived-fields.js';
import type { CrmFieldType } from './domain/crm-value.js';
import * as store from './store/link-store.js';
import * as queue from './store/work-queue.js';
import { SyncSetup, type CheckedSettings } from './sync-setup.js';
import {
  emptyPassResult,
  ITEM_CONCURRENCY,
  type CrmRecord,
  type PassResult,
  type SyncEngineOptions,
  type SyncRules,
} from './sync-types.js';
import { CrmBudget } from './work/crm-budget.js';
import { MarketingBudget } from './work/marketing-budget.js';
import { CrmRecordWork } from './work/crm-record-work.js';
import { ItemRecords } from './work/item-records.js';
import { ProspectWork } from './work/prospect-work.js';
import { CrmWriter } from './write/crm-writer.js';
import { PairSync } from './write/pair-sync.js';

/** How long a leased item (or the capture lease) is held before another process may take it. */
const DEFAULT_LEASE_MS = 30_000;
/**
 * Items a worker leases at a time: a Composite call's worth — five Collections calls of 200,
 * or five read queries of 200 ids — so a window of activity work costs a few calls, not one
 * per 200 items.
 */
const WORK_BATCH = 1_000;
/** Batches a pass works before capturing again, so a backlog does not hold back new changes. */
const DRAIN_BATCHES = 25;

/**
 * One pass of the two-way sync, orchestrated: capture what changed on each side since its
 * cursor (capture/), then work the queue a leased batch at a time — load the records
 * (work/item-records.ts), follow each record's life (work/), decide every mapped field of each
 * pair (domain/pair-plan.ts) and write the differences (write/) — the CRM through jsforce,
 * marketing through the Account Engagement API, so the same engine syncs the embedded servers
 * and real orgs. A cursor moves only after what it covers is queued; an item completes only
 * after its writes are in, or waits out a backoff.
 */
export class SyncEngine {
  /** Who holds this engine's leases: unique per process and engine. */
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly budget: CrmBudget;
  private readonly marketingBudget: MarketingBudget;
  private readonly changes: ChangeCapture;
  private readonly records: ItemRecords;
  private readonly writer: CrmWriter;
  private readonly pairs: PairSync;
  private readonly crmWork: CrmRecordWork;
  private readonly prospectWork: ProspectWork;
  /** Marketing activities → CRM Tasks. */
  private readonly activities: ActivitySync;
  /** List memberships ↔ CampaignMembers. */
  private readonly campaigns: CampaignSync;

  private constructor(private readonly setup: SyncSetup) {
    const options = setup.options;
    this.activities = new ActivitySync({
      database: options.database,
      crm: options.crm,
      marketing: options.marketing,
      unitId: options.unitId,
      settings: activitySettingsSchema.parse(options.activities ?? {}),
      now: options.now,
    });
    this.campaigns = new CampaignSync(options);
    this.budget = new CrmBudget(setup);
    this.marketingBudget = new MarketingBudget(setup);
    this.changes = new ChangeCapture(setup, this.activities, this.owner, (at) => this.leaseEnd(at));
    this.records = new ItemRecords(setup);
    this.writer = new CrmWriter(setup);
    this.pairs = new PairSync(setup, this.writer);
    this.crmWork = new CrmRecordWork(setup, this.pairs, this.activities);
    this.prospectWork = new ProspectWork(setup, this.records, this.pairs, this.writer, this.activities);
  }

  /** Checks the mappings against both sides (describe, custom fields) and keeps the usable ones. */
  static async open(options: SyncEngineOptions): Promise<SyncEngine> {
    return new SyncEngine(await SyncSetup.open(options));
  }

  /** The mappings that passed the check against both sides. */
  get mappings(): Record<CrmObject, FieldMapping[]> {
    return this.setup.mappings;
  }

  /** What was wrong with the configured mappings (those are left out). */
  get problems(): MappingProblem[] {
    return this.setup.problems;
  }

  get rules(): SyncRules {
    return this.setup.rules;
  }

  /** The field lists the sync reads (the backfill reads the same). */
  get fields(): SyncFields {
    return this.setup.fields;
  }

  /** The prospect with the fields the connector derives (its campaign's name, its URL). */
  derive<T extends ProspectRecord>(prospect: T): Promise<T & { campaign: string | null; url: string }> {
    return this.setup.derive(prospect);
  }

  /** Mappings and rules checked against both sides, not put in force (a preview's). */
  checkSettings(mappings: Record<CrmObject, FieldMapping[]>, rules: SyncRules): Promise<CheckedSettings> {
    return this.setup.check(mappings, rules);
  }

  /** Each CRM object's fields by type, from describe: how a value goes on the wire. */
  get crmTypes(): Record<CrmObject, Map<string, CrmFieldType>> {
    return this.setup.crmTypes;
  }

  /** Derives for a read of every prospect: campaign names read once (sync-setup.ts). */
  deriver(): Promise<Deriver> {
    return this.setup.deriver();
  }

  /** The CRM's reads and writes (records by id, Bulk jobs, API usage). */
  get salesforce(): SalesforceClient {
    return this.setup.salesforce;
  }

  /** The mappings and rules as configured (before the check dropped unusable mappings). */
  get configured(): { mappings: Record<CrmObject, FieldMapping[]>; rules: SyncRules } {
    return this.setup.configured;
  }

  /**
   * New mappings and rules from the next pass on (the console's edits), checked against both
   * sides first: with a problem nothing changes and the problems are returned.
   */
  reconfigure(
    mappings: Record<CrmObject, FieldMapping[]>,
    rules: SyncRules,
  ): Promise<Array<{ path: string; message: string }>> {
    return this.setup.reconfigure(mappings, rules);
  }

  /** The fields each side has, to map: the CRM's by object (from describe) and the prospect's. */
  async fieldCatalog(): Promise<{ crm: Record<CrmObject, string[]>; prospect: string[] }> {
    const prospect = await this.setup.options.marketing.prospectFieldNames(STANDARD_PROSPECT_FIELDS);
    const types = this.setup.crmTypes;
    return {
      crm: { Lead: [...types.Lead.keys()], Contact: [...types.Contact.keys()] },
      prospect: [...prospect].sort(),
    };
  }

  /**
   * `pollCrm: false` leaves the CRM's changes to its change events this pass (a pass woken by
   * an event, between the safety-net polls).
   */
  async runPass(options: { pollCrm?: boolean; pollMarketing?: boolean } = {}): Promise<PassResult> {
    const { database, unitId } = this.setup.options;
    const result = emptyPassResult();
    // Paused (by `handoff sync pause`, in the store so every connector process sees it): the
    // cursors stay where they are, and resuming picks up every change made meanwhile.
    if (await store.isPaused(database.db, unitId)) {
      result.paused = true;
      return result;
    }
    // Over its API budget on either side the connector waits: nothing is captured, nothing fails.
    if (await this.budget.spent()) {
      result.throttled = 'crm';
      return result;
    }
    if (await this.marketingBudget.spent()) {
      result.throttled = 'marketing';
      return result;
    }
    await this.changes.queueRetries();
    await this.capture(result, { crm: options.pollCrm, marketing: options.pollMarketing });
    await this.drain(result);
    // Campaign members with the polls (a look at both sides of every Campaign-backed list).
    if (options.pollCrm ?? true) {
      const members = await this.campaigns.run();
      result.writesToCrm += members.toCrm;
      result.writesToMarketing += members.toMarketing;
      for (const e of members.errors) result.errors.push({ side: 'crm', ...e });
    }
    result.waiting = await queue.countWaiting(database, unitId);
    return result;
  }

  /** Reads what changed on each side since its cursor into the work queue (capture/). */
  capture(result: PassResult, poll: { crm?: boolean; marketing?: boolean } = {}): Promise<void> {
    return this.changes.capture(result, poll);
  }

  /**
   * Works the queue: leases due items a batch at a time, most urgent first, until none is due
   * or the pass has done its share (capture then gets its turn again).
   */
  async drain(result: PassResult): Promise<void> {
    const { database, unitId, now } = this.setup.options;
    for (let batch = 0; batch < DRAIN_BATCHES; batch++) {
      // Each answer brings the org's usage up to date: the budget is checked before each batch.
      if (await this.budget.spent()) {
        result.throttled = 'crm';
        return;
      }
      const at = now();
      const items = await queue.lease(
        database,
        unitId,
        this.owner,
        WORK_BATCH,
        at.toISOString(),
        this.leaseEnd(at),
      );
      if (items.length === 0) return;
      await this.work(items, result);
    }
  }

  /**
   * Pairs linked in bulk (a backfill): each decided and written as the queue's work would be,
   * the CRM writes held until all are decided so that thousands go out as one bulk job; a CRM
   * call that fails throws, to be tried again as a whole.
   */
  async reconcilePairs(
    pairs: Array<{ link: store.Link; record: CrmRecord; prospect: ProspectRecord }>,
    result: PassResult,
  ): Promise<void> {
    for (const { link, record, prospect } of pairs)
      await this.pairs.reconcile(link, record, prospect, result, null);
    await this.writer.flush(result);
  }

  /** When a lease taken at `at` runs out. */
  private leaseEnd(at: Date): string {
    return new Date(at.getTime() + (this.setup.options.leaseMs ?? DEFAULT_LEASE_MS)).toISOString();
  }

  /**
   * One leased batch. CRM items first (a conversion relinks before its Contact's prospect is
   * looked at), then prospects, then activities; CRM writes go out after each, 200 a call. Each
   * item then completes, or — when a try failed for a reason a later one may get past — waits
   * out a backoff.
   */
  private async work(items: queue.WorkItem[], result: PassResult): Promise<void> {
    const { database, unitId, now, retryBaseMs, retryMaxMs } = this.setup.options;
    /** Items whose try failed for now, with the reason. */
    const failed = new Map<string, string>();
    const fail = (item: queue.WorkItem, error: unknown) => {
      const message = (error as Error).message;
      failed.set(item.key, message);
      result.errors.push({
        side: item.key.startsWith('prospect:') ? 'crm' : 'marketing',
        record: item.key.replace(':', ' '),
        message,
      });
    };
    const attempt = async (item: queue.WorkItem, run: () => Promise<void>) => {
      try {
        await run();
      } catch (error) {
        fail(item, error);
      }
    };
    const flush = async () => {
      for (const [key, message] of await this.writer.flush(result)) failed.set(key, message);
    };

    const activityItems = items.filter((item) => isActivityItem(item.key));
    const crmItems = items.filter((item) => !item.key.startsWith('prospect:') && !isActivityItem(item.key));
    const prospectItems = items.filter((item) => item.key.startsWith('prospect:'));

    const records = await this.records.forCrmItems(crmItems);
    await inPriorityOrder(crmItems, async (item) => {
      const [object, id] = item.key.split(':') as [CrmObject, string];
      const record = records.get(id);
      if (!record) return; // gone for good (purged from the recycle bin)
      await attempt(item, () => this.crmWork.work(object, record, result, item.key));
    });
    await flush();

    const prospects = await this.records.forProspectItems(prospectItems);
    for (const { item, error } of prospects.failed) fail(item, error);
    const links = await store.selectLinksByProspectIds(
      database.db,
      unitId,
      [...prospects.found.values()].map((p) => p.id),
    );
    // The linked CRM records, read 200 ids a query rather than one query a prospect.
    const linked = await this.records.forLinks([...links.values()]);
    // Hand-offs first, their Leads made together.
    const handoffs = prospectItems.flatMap((item) => {
      const prospect = prospects.found.get(item.key);
      return prospect &&
        !links.has(prospect.id) &&
        wantsLead(prospect, this.setup.rules.createLeads, item.priority === PRIORITY.handoff)
        ? [{ prospect, itemKey: item.key }]
        : [];
    });
    if (handoffs.length > 0) {
      const byKey = new Map(prospectItems.map((item) => [item.key, item]));
      try {
        for (const [key, error] of await this.prospectWork.createLeads(handoffs, result))
          fail(byKey.get(key)!, error);
      } catch (error) {
        for (const { itemKey } of handoffs) fail(byKey.get(itemKey)!, error);
      }
    }
    await inPriorityOrder(prospectItems, async (item) => {
      const prospect = prospects.found.get(item.key);
      if (!prospect) return;
      await attempt(item, () =>
        this.prospectWork.work(prospect, links.get(prospect.id), linked, result, {
          key: item.key,
          handoff: item.priority === PRIORITY.handoff,
        }),
      );
    });

    // Last: a Lead made above for a prospect gets its activities' Tasks in the same batch; the
    // Tasks go out with the prospects' CRM updates, in the same Composite calls.
    const tasks =
      activityItems.length > 0
        ? await this.activities.work(activityItems, this.writer, new Map([...records, ...linked]))
        : undefined;
    await flush();
    if (tasks) {
      for (const [key, message] of tasks.failed) failed.set(key, message);
      result.writesToCrm += tasks.written;
      for (const e of tasks.errors) result.errors.push({ side: 'crm', ...e });
    }

    const done = items.filter((item) => !failed.has(item.key));
    await queue.complete(database, unitId, this.owner, done);
    await store.resolveRetriedErrors(
      database.db,
      unitId,
      done.map((item) => item.key.slice(item.key.indexOf(':') + 1)),
      now().toISOString(),
    );
    result.worked += done.length;
    for (const item of items) {
      const error = failed.get(item.key);
      if (error === undefined) continue;
      const due = new Date(
        now().getTime() + queue.backoffMs(item.attempts, retryBaseMs, Math.random, retryMaxMs),
      ).toISOString();
      await queue.retryLater(database, unitId, item, error, due);
    }
  }
}

/**
 * Items of one record each run side by side (the marketing API allows a unit five calls at
 * once); a priority's items all finish before the next priority's start, so a conversion is
 * done before an ordinary change that may depend on it.
 */
async function inPriorityOrder(
  items: readonly queue.WorkItem[],
  work: (item: queue.WorkItem) => Promise<void>,
): Promise<void> {
  const priorities = [...new Set(items.map((item) => item.priority))].sort((a, b) => a - b);
  for (const priority of priorities) {
    await pMap(
      items.filter((item) => item.priority === priority),
      work,
      { concurrency: ITEM_CONCURRENCY },
    );
  }
}

import { parseBulkError } from '../clients/salesforce/bulk-errors.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type jsforce from 'jsforce';
import pMap from 'p-map';
import type { Logger } from 'pino';
import type {
  AccountEngagementClient,
  ProspectRecord,
  ProspectValues,
} from '../clients/account-engagement/ae-client.js';
import { STANDARD_PROSPECT_FIELDS } from '../clients/account-engagement/prospect-fields.js';
import type { Database } from '../store/database.js';
import { decideField, syncValue, type SyncValue } from './domain/decide-field.js';
import {
  checkMappings,
  crmIdField,
  type CrmObject,
  type FieldMapping,
  type MappingProblem,
} from './domain/field-mapping.js';
import { categorize } from './domain/sync-error.js';
import { TRANSIENT_CRM_ERRORS, type SaveOutcome } from './domain/crm-outcome.js';
import * as store from './store/link-store.js';
import { appendSyncLog, type SyncLogEntry } from './store/sync-log.js';
import * as queue from './store/work-queue.js';
import { ActivitySync, isActivityItem } from './activity-sync.js';
import { CampaignSync } from './campaign-sync.js';
import { activitySettingsSchema, type ActivitySettings } from './domain/activity-task.js';

/** Re-read this far behind a cursor: a transaction in flight at the last read commits with an older stamp. */
const OVERLAP_MS = 5_000;
/** The most CRM records one capture reads an object (2,000 a page); the rest wait for the next. */
const CAPTURE_MAX = 50_000;
/** How long a leased item (or the capture lease) is held before another process may take it. */
const DEFAULT_LEASE_MS = 30_000;
/** Items a worker leases at a time: one Collections call and one read query an object. */
const WORK_BATCH = 200;
/** Items worked at once: under the marketing API's five concurrent calls a unit. */
const ITEM_CONCURRENCY = 4;
/** Batches a pass works before capturing again, so a backlog does not hold back new changes. */
const DRAIN_BATCHES = 25;

export interface SyncRules {
  /** Make a prospect for a new Lead or Contact with an email (not for records older than the connector). */
  createProspects: boolean;
  /**
   * Make a CRM Lead for a prospect without one: once it is assigned to a user (the default), once
   * it submits a form or form handler successfully, or never.
   */
  createLeads: 'assigned' | 'form-success' | 'never';
  /**
   * A CRM email change updates the linked prospect's email (the default). Off, the prospect
   * keeps its address; marketing's own email changes still reach the CRM where mapped so.
   */
  followEmailChanges?: boolean;
  /**
   * Marketing data sharing: only CRM records whose field has this value sync (a Lead the
   * connector makes gets it). Records outside it are left alone, linked or not.
   */
  sharing?: { field: string; value: string } | null;
  /**
   * A record sent to the recycle bin on one side sends its pair there too (the default). Off,
   * deletions stay on the side they were made on.
   */
  followDeletions?: boolean;
}

export interface PassResult {
  /** The sync is paused: the pass did nothing. */
  paused?: boolean;
  crmRecords: number;
  prospects: number;
  /** Work items queued by this pass's capture (changes that are not echoes of our writes). */
  queued: number;
  /** Work items this pass completed. */
  worked: number;
  /** Work items left in the queue after the pass (waiting out a retry, or for the next pass). */
  waiting?: number;
  /** The CRM's API budget for the connector is spent: the pass waited and did nothing. */
  throttled?: 'crm';
  /** Prospects made for new CRM records. */
  created: number;
  /** Leads made for assigned prospects. */
  leadsCreated: number;
  /** Prospects moved to a converted Lead's Contact. */
  relinked: number;
  /** Records sent to (or brought back from) a recycle bin to follow the other side. */
  deletions: number;
  undeletions: number;
  writesToCrm: number;
  writesToMarketing: number;
  errors: Array<{ side: 'crm' | 'marketing'; record: string; message: string }>;
}

export type CrmRecord = Record<string, unknown> & { Id: string; SystemModstamp?: string };

export function emptyPassResult(): PassResult {
  return {
    crmRecords: 0,
    prospects: 0,
    queued: 0,
    worked: 0,
    created: 0,
    leadsCreated: 0,
    relinked: 0,
    deletions: 0,
    undeletions: 0,
    writesToCrm: 0,
    writesToMarketing: 0,
    errors: [],
  };
}

/** The visitor activity type of a successful form or form handler submission. */
const FORM_SUCCESS = 4;
/** sObject Collections take at most 200 records a call. */
const COLLECTION_SIZE = 200;
/** From this many pending CRM writes on, they go as one Bulk API 2.0 job. */
const BULK_THRESHOLD = 2_000;

interface PendingCrmWrite {
  /** The work item the write belongs to: it is tried again if the write fails for now. */
  itemKey: string | null;
  link: store.Link;
  values: Record<string, unknown>;
  /** The link's state once the write is in, and if the CRM refuses it. */
  lastSynced: Record<string, SyncValue>;
  failedState: Record<string, SyncValue>;
  /** What the write carries, for the sync log once the CRM has taken it. */
  log: SyncLogEntry[];
}

/** CRM describe types that are not text on the wire. */
type CrmFieldType = 'boolean' | 'number' | 'datetime' | 'text';

export interface SyncEngineOptions {
  database: Database;
  crm: jsforce.Connection;
  marketing: AccountEngagementClient;
  unitId: string;
  mappings: Record<CrmObject, FieldMapping[]>;
  rules: SyncRules;
  now: () => Date;
  log: Logger;
  /** The first retry's delay; each later one doubles it (default 1 s, capped at 5 minutes). */
  retryBaseMs?: number;
  /** The longest wait between tries (default 5 minutes). */
  retryMaxMs?: number;
  /** How long leased work is held before another process may take it over (default 30 s). */
  leaseMs?: number;
  /**
   * The share (0–1) of the org's daily API requests past which the connector waits, leaving the
   * rest to the org's other clients (default 0.8). Read from each answer's Sforce-Limit-Info.
   */
  crmApiShare?: number;
  /** Which activities become CRM Tasks, and their subjects (`connector.activities`). */
  activities?: Partial<ActivitySettings>;
}

/** The mappings both sides can carry, and what is wrong with the rest and with the rules. */
function checkAll(
  configured: Record<CrmObject, FieldMapping[]>,
  rules: SyncRules,
  types: Record<CrmObject, Map<string, CrmFieldType>>,
  prospectFields: ReadonlySet<string>,
): { mappings: Record<CrmObject, FieldMapping[]>; problems: MappingProblem[]; rulesProblem?: string } {
  const mappings = {} as Record<CrmObject, FieldMapping[]>;
  const problems: MappingProblem[] = [];
  for (const object of ['Lead', 'Contact'] as const) {
    const checked = checkMappings(object, configured[object], new Set(types[object].keys()), prospectFields);
    mappings[object] = rules.followEmailChanges === false ? unfollowEmail(checked.usable) : checked.usable;
    problems.push(...checked.problems);
  }
  const sharing = rules.sharing;
  if (sharing) {
    for (const object of ['Lead', 'Contact'] as const) {
      if (!types[object].has(sharing.field)) {
        return {
          mappings,
          problems,
          rulesProblem: `the data-sharing field ${sharing.field} does not exist on ${object} in the CRM`,
        };
      }
    }
  }
  return { mappings, problems };
}

/**
 * One pass of the two-way sync: capture what changed on each side since its cursor, decide
 * every mapped field of each linked pair (domain/decide-field.ts), and write the differences —
 * the CRM through jsforce, marketing through the Account Engagement API — so the same engine
 * syncs the embedded servers and real orgs. A cursor moves only after what it covers is done;
 * a pass that dies is repeated from the old cursors, which is harmless: deciding again finds
 * nothing left to write.
 */
export class SyncEngine {
  /** CRM updates decided in this pass and not yet sent. */
  private readonly pendingCrm: Record<CrmObject, PendingCrmWrite[]> = { Lead: [], Contact: [] };
  /** Who holds this engine's leases: unique per process and engine. */
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Items of the batch being worked whose try failed for now, with the reason. */
  private readonly failed = new Map<string, string>();
  /** The item being worked (items run side by side), so deferred CRM writes know whose they are. */
  private readonly currentItem = new AsyncLocalStorage<string>();
  /** Pending CRM writes of an object are sent once there are this many. */
  private flushAt = COLLECTION_SIZE;
  /** The CRM API usage last written to the store (`used/limit`). */
  private usageSaved: string | null = null;
  /** Work running under a key (an email), for `oneAtATime`. */
  private readonly keyed = new Map<string, Promise<unknown>>();
  /** Marketing activities → CRM Tasks. */
  private readonly activities: ActivitySync;
  /** List memberships ↔ CampaignMembers. */
  private readonly campaigns: CampaignSync;

  private constructor(
    private options: SyncEngineOptions,
    /** The mappings that passed the check against both sides. */
    public mappings: Record<CrmObject, FieldMapping[]>,
    private readonly crmTypes: Record<CrmObject, Map<string, CrmFieldType>>,
    public problems: MappingProblem[],
  ) {
    this.activities = new ActivitySync({
      database: options.database,
      crm: options.crm,
      marketing: options.marketing,
      unitId: options.unitId,
      settings: activitySettingsSchema.parse(options.activities ?? {}),
      now: options.now,
    });
    this.campaigns = new CampaignSync(options);
  }

  get rules(): SyncRules {
    return this.options.rules;
  }

  /** Checks the mappings against both sides (describe, custom fields) and keeps the usable ones. */
  static async open(options: SyncEngineOptions): Promise<SyncEngine> {
    const prospectFields = await options.marketing.prospectFieldNames(STANDARD_PROSPECT_FIELDS);
    const types = {} as Record<CrmObject, Map<string, CrmFieldType>>;
    for (const object of ['Lead', 'Contact'] as const) {
      const describe = await options.crm.sobject(object).describe();
      types[object] = new Map(
        describe.fields.map((f) => [
          f.name,
          f.type === 'boolean'
            ? 'boolean'
            : ['int', 'double', 'currency', 'percent'].includes(f.type)
              ? 'number'
              : f.type === 'datetime'
                ? 'datetime'
                : 'text',
        ]),
      );
    }
    const { mappings, problems, rulesProblem } = checkAll(
      options.mappings,
      options.rules,
      types,
      prospectFields,
    );
    if (rulesProblem) throw new Error(rulesProblem);
    for (const problem of problems) options.log.warn(`mapping skipped: ${problem.message}`);
    return new SyncEngine(options, mappings, types, problems);
  }

  /**
   * New mappings and rules from the next pass on (the console's edits), checked against both
   * sides first: with a problem nothing changes and the problems are returned.
   */
  async reconfigure(mappings: Record<CrmObject, FieldMapping[]>, rules: SyncRules): Promise<string[]> {
    const prospectFields = await this.options.marketing.prospectFieldNames(STANDARD_PROSPECT_FIELDS);
    const checked = checkAll(mappings, rules, this.crmTypes, prospectFields);
    const problems = [
      ...checked.problems.map((p) => p.message),
      ...(checked.rulesProblem ? [checked.rulesProblem] : []),
    ];
    if (problems.length > 0) return problems;
    this.options = { ...this.options, mappings, rules };
    this.mappings = checked.mappings;
    this.problems = [];
    return [];
  }

  /** The fields each side has, to map: the CRM's by object (from describe) and the prospect's. */
  async fieldCatalog(): Promise<{ crm: Record<CrmObject, string[]>; prospect: string[] }> {
    const prospect = await this.options.marketing.prospectFieldNames(STANDARD_PROSPECT_FIELDS);
    return {
      crm: { Lead: [...this.crmTypes.Lead.keys()], Contact: [...this.crmTypes.Contact.keys()] },
      prospect: [...prospect].sort(),
    };
  }

  /** The mappings and rules as configured (before the check dropped unusable mappings). */
  get configured(): { mappings: Record<CrmObject, FieldMapping[]>; rules: SyncRules } {
    return { mappings: this.options.mappings, rules: this.options.rules };
  }

  /**
   * `pollCrm: false` leaves the CRM's changes to its change events this pass (a pass woken by
   * an event, between the safety-net polls).
   */
  async runPass(options: { pollCrm?: boolean } = {}): Promise<PassResult> {
    const result = emptyPassResult();
    // Paused (by `handoff sync pause`, in the store so every connector process sees it): the
    // cursors stay where they are, and resuming picks up every change made meanwhile.
    if (await store.isPaused(this.options.database.db, this.options.unitId)) {
      result.paused = true;
      return result;
    }
    // Over its API budget the connector waits: nothing is captured, nothing fails.
    if (await this.crmBudgetSpent()) {
      result.throttled = 'crm';
      return result;
    }
    await this.queueRetries();
    await this.capture(result, options.pollCrm ?? true);
    await this.drain(result);
    // Campaign members with the polls (a look at both sides of every Campaign-backed list).
    if (options.pollCrm ?? true) {
      const members = await this.campaigns.run();
      result.writesToCrm += members.toCrm;
      result.writesToMarketing += members.toMarketing;
      for (const e of members.errors) result.errors.push({ side: 'crm', ...e });
    }
    result.waiting = await queue.countWaiting(this.options.database, this.options.unitId);
    return result;
  }

  /**
   * Whether the org's API usage has reached the connector's share of the daily limit. The usage
   * comes with every answer (Sforce-Limit-Info, kept by jsforce); before the first, from /limits.
   * It is kept in the store for `handoff sync status`.
   */
  private async crmBudgetSpent(): Promise<boolean> {
    const { crm, database, unitId, now } = this.options;
    let usage = crm.limitInfo?.apiUsage;
    if (!usage) {
      const limits = (await crm.limits()) as unknown as {
        DailyApiRequests: { Max: number; Remaining: number };
      };
      usage = {
        used: limits.DailyApiRequests.Max - limits.DailyApiRequests.Remaining,
        limit: limits.DailyApiRequests.Max,
      };
    }
    const share = this.options.crmApiShare ?? 0.8;
    // Kept for `handoff sync status` when it moved: not a store write every pass and batch.
    const seen = `${usage.used}/${usage.limit}`;
    if (seen !== this.usageSaved) {
      await store.saveApiUsage(database.db, unitId, { ...usage, share, at: now().toISOString() });
      this.usageSaved = seen;
    }
    return usage.used >= share * usage.limit;
  }

  // ---- capture ---------------------------------------------------------------------------------

  /**
   * Reads what changed on each side since its cursor into the work queue. One process captures
   * at a time (a lease in the store, so a dead one's passes to another after a minute); the
   * cursor moves once what it covers is queued.
   */
  async capture(result: PassResult, pollCrm = true): Promise<void> {
    const { database, unitId, now } = this.options;
    const name = `${unitId}:capture`;
    const at = now();
    if (!(await queue.claimLease(database, name, this.owner, at.toISOString(), this.leaseEnd(at)))) return;
    try {
      // Lead first: a conversion queued before the new Contact is handled before it.
      if (pollCrm) for (const object of ['Lead', 'Contact'] as const) await this.captureCrm(object, result);
      await this.captureFormSuccesses(result);
      await this.captureMarketing(result);
      result.queued += await this.activities.capture();
    } finally {
      await queue.releaseLease(database, name, this.owner);
    }
  }

  /** When a lease taken at `at` runs out. */
  private leaseEnd(at: Date): string {
    return new Date(at.getTime() + (this.options.leaseMs ?? DEFAULT_LEASE_MS)).toISOString();
  }

  private cursorName(side: string): string {
    return `${this.options.unitId}:${side}`;
  }

  /** The cursor, or — on the first pass — now: prospects are made for new records only. */
  private async cursor(side: string): Promise<string> {
    const name = this.cursorName(side);
    const saved = await store.selectCursor(this.options.database.db, name);
    if (saved) return saved;
    // Ahead by the overlap, so the first read starts now and not a few seconds before.
    const start = new Date(this.options.now().getTime() + OVERLAP_MS).toISOString();
    await store.saveCursor(this.options.database.db, name, start);
    return start;
  }

  /** SOQL datetime literals are to the second; the overlap re-reads transactions in flight. */
  private since(cursor: string): string {
    return `${new Date(Date.parse(cursor) - OVERLAP_MS).toISOString().slice(0, 19)}Z`;
  }

  /**
   * One query an object a pass, followed page by page: `queryAll` on SystemModstamp returns the
   * changed records, the deleted ones (the recycle bin) and, for Leads, the converted ones.
   */
  private async captureCrm(object: CrmObject, result: PassResult): Promise<void> {
    const cursor = await this.cursor(object);
    const soql = `SELECT ${this.crmCaptureFields(object).join(', ')} FROM ${object} WHERE SystemModstamp >= ${this.since(cursor)} ORDER BY SystemModstamp`;
    // SOQL compares to the second; the window starts to the millisecond: what the second's
    // rounding lets in from before it was covered by an earlier pass, or predates the connector.
    const from = new Date(Date.parse(cursor) - OVERLAP_MS).toISOString();
    const records = (
      await this.options.crm.query<CrmRecord>(soql, {
        scanAll: true,
        autoFetch: true,
        maxFetch: CAPTURE_MAX,
      })
    ).records.filter((record) => (syncValue(record.SystemModstamp) ?? '') >= from);
    let newest = cursor;
    const items: queue.NewWorkItem[] = [];
    for (const record of records) {
      result.crmRecords += 1;
      const stamp = syncValue(record.SystemModstamp);
      if (stamp && stamp > newest) newest = stamp;
      const priority = await this.crmChangePriority(object, record);
      if (priority !== null) items.push({ key: `${object}:${record.Id}`, priority, payload: record });
    }
    await queue.enqueue(this.options.database, this.options.unitId, items, this.options.now().toISOString());
    result.queued += items.length;
    await store.saveCursor(this.options.database.db, this.cursorName(object), newest);
  }

  /** How urgent a captured CRM record's work is, or null when there is none (echoes of our writes). */
  private async crmChangePriority(object: CrmObject, record: CrmRecord): Promise<number | null> {
    const link = await store.selectLinkByCrmId(this.options.database.db, this.options.unitId, record.Id);
    if (record.IsDeleted === true) {
      return link && !link.deleted && link.crmObject === object ? queue.PRIORITY.urgent : null;
    }
    if (record.IsConverted === true) {
      return link?.crmObject === 'Lead' && typeof record.ConvertedContactId === 'string'
        ? queue.PRIORITY.handoff
        : null;
    }
    if (!this.shared(record)) return null;
    if (!link) return typeof record.Email === 'string' && record.Email ? queue.PRIORITY.change : null;
    if (link.crmObject !== object) return null;
    const echo = !link.deleted && this.asLastSynced(link, (m) => record[m.crmField]);
    return echo ? null : queue.PRIORITY.change;
  }

  /**
   * Form submissions go first: each new Success activity queues its prospect as a hand-off, at
   * the top priority (and, by the `form-success` rule, to become a Lead). The cursor is the last
   * activity id seen; it starts at the newest, so older submissions are left alone.
   */
  private async captureFormSuccesses(result: PassResult): Promise<void> {
    const { database, unitId, marketing, now } = this.options;
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
    ].map((id) => ({ key: `prospect:${id}`, priority: queue.PRIORITY.handoff, payload: null }));
    await queue.enqueue(database, unitId, items, now().toISOString());
    result.queued += items.length;
    await store.saveCursor(database.db, name, String(activities[activities.length - 1]!.id));
  }

  private async captureMarketing(result: PassResult): Promise<void> {
    const { database, unitId, rules } = this.options;
    const cursor = await this.cursor('marketing');
    const since = new Date(Date.parse(cursor) - OVERLAP_MS).toISOString();
    const prospects = await this.options.marketing.prospectsUpdatedSince(since, this.prospectFieldList(), {
      deleted: true,
    });
    let newest = cursor;
    const items: queue.NewWorkItem[] = [];
    for (const prospect of prospects) {
      result.prospects += 1;
      const stamp = syncValue(prospect.updatedAt);
      if (stamp && stamp > newest) newest = stamp;
      const link = await store.selectLinkByProspect(database.db, unitId, prospect.id);
      let priority: number | null = queue.PRIORITY.change;
      if (!link) {
        // Unlinked: only an assignment (the hand-off to sales) makes work, a new Lead.
        const assigned =
          rules.createLeads === 'assigned' && prospect.isDeleted !== true && Boolean(prospect.assignedToId);
        priority = assigned ? queue.PRIORITY.handoff : null;
      } else if (prospect.isDeleted === true) {
        priority = link.deleted ? null : queue.PRIORITY.urgent;
      } else if (!link.deleted && this.asLastSynced(link, (m) => prospect[m.prospectField])) {
        // Every mapped value as last synced: no marketing change (mostly our own writes' echo).
        priority = null;
      }
      if (priority !== null) items.push({ key: `prospect:${prospect.id}`, priority, payload: prospect });
    }
    await queue.enqueue(database, unitId, items, this.options.now().toISOString());
    result.queued += items.length;
    await store.saveCursor(database.db, this.cursorName('marketing'), newest);
  }

  /**
   * Whether every mapped field holds its last-synced value on one side (`valueOf` reads it from
   * the CRM record or the prospect): then that side has no change, mostly our own writes' echo.
   */
  private asLastSynced(link: store.Link, valueOf: (mapping: FieldMapping) => unknown): boolean {
    return this.mappings[link.crmObject].every(
      (m) =>
        link.lastSynced[m.prospectField] !== undefined &&
        syncValue(valueOf(m)) === link.lastSynced[m.prospectField],
    );
  }

  /** Records whose sync errors someone asked to retry are queued, to be read afresh and decided. */
  private async queueRetries(): Promise<void> {
    const { database, unitId, now } = this.options;
    const items: queue.NewWorkItem[] = [];
    for (const error of await store.selectSyncErrors(database.db, unitId, ['retry'])) {
      const key = error.crmId
        ? `${error.crmObject}:${error.crmId}`
        : error.prospectId !== null
          ? `prospect:${error.prospectId}`
          : null;
      if (key) items.push({ key, priority: queue.PRIORITY.urgent, payload: null });
    }
    // Already queued (waiting out a backoff, say): left as it is.
    await queue.enqueue(database, unitId, items, now().toISOString(), { ifAbsent: true });
  }

  // ---- work ------------------------------------------------------------------------------------

  /**
   * Works the queue: leases due items a batch at a time, most urgent first, until none is due
   * or the pass has done its share (capture then gets its turn again).
   */
  async drain(result: PassResult): Promise<void> {
    const { database, unitId, now } = this.options;
    for (let batch = 0; batch < DRAIN_BATCHES; batch++) {
      // Each answer brings the org's usage up to date: the budget is checked before each batch.
      if (await this.crmBudgetSpent()) {
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
   * One leased batch. CRM items first (a conversion relinks before its Contact's prospect is
   * looked at), then prospects; CRM writes go out 200 a call. Each item then completes, or —
   * when a try failed for a reason a later one may get past — waits out a backoff.
   */
  private async work(items: queue.WorkItem[], result: PassResult): Promise<void> {
    const { database, unitId, now } = this.options;
    this.failed.clear();
    const activityItems = items.filter((item) => isActivityItem(item.key));
    const crmItems = items.filter((item) => !item.key.startsWith('prospect:') && !isActivityItem(item.key));
    const prospectItems = items.filter((item) => item.key.startsWith('prospect:'));
    const records = await this.crmItemRecords(crmItems);
    await inPriorityOrder(crmItems, async (item) => {
      const [object, id] = item.key.split(':') as [CrmObject, string];
      const record = records.get(id);
      if (!record) return; // gone for good (purged from the recycle bin)
      await this.workItem(item, result, async () => {
        if (record.IsDeleted === true && typeof record.MasterRecordId === 'string')
          await this.followMerge(object, record, record.MasterRecordId, result);
        else if (record.IsDeleted === true) await this.followCrmDeletion(object, record, result);
        else if (record.IsConverted === true) await this.followConversion(record, result);
        else if (this.shared(record)) await this.syncCrmRecord(object, record, result);
      });
    });
    await this.flushAll(result);
    const prospects = await this.prospectItemRecords(prospectItems, result);
    const links = new Map<number, store.Link | undefined>();
    for (const prospect of prospects.values())
      links.set(prospect.id, await store.selectLinkByProspect(database.db, unitId, prospect.id));
    // The linked CRM records, read 200 ids a query rather than one query a prospect.
    const linked = await this.linkedCrmRecords([...links.values()]);
    await inPriorityOrder(prospectItems, async (item) => {
      const prospect = prospects.get(item.key);
      if (!prospect) return;
      await this.workItem(item, result, () =>
        this.syncProspect(
          prospect,
          links.get(prospect.id),
          result,
          linked,
          item.priority === queue.PRIORITY.handoff,
        ),
      );
    });
    await this.flushAll(result);
    // Last: a Lead made above for a prospect gets its activities' Tasks in the same batch.
    if (activityItems.length > 0) {
      const tasks = await this.activities.work(activityItems);
      for (const [key, message] of tasks.failed) this.failed.set(key, message);
      result.writesToCrm += tasks.written;
      for (const e of tasks.errors) result.errors.push({ side: 'crm', ...e });
    }

    const done = items.filter((item) => !this.failed.has(item.key));
    await queue.complete(database, unitId, this.owner, done);
    await store.resolveRetriedErrors(
      database.db,
      unitId,
      done.map((item) => item.key.slice(item.key.indexOf(':') + 1)),
      now().toISOString(),
    );
    result.worked += done.length;
    for (const item of items) {
      const error = this.failed.get(item.key);
      if (error === undefined) continue;
      const due = new Date(
        now().getTime() +
          queue.backoffMs(item.attempts, this.options.retryBaseMs, Math.random, this.options.retryMaxMs),
      ).toISOString();
      await queue.retryLater(database, unitId, item, error, due);
    }
  }

  /** Runs one item's work; a throw marks the item for another try and is reported. */
  private async workItem(
    item: queue.WorkItem,
    result: PassResult,
    run: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await this.currentItem.run(item.key, run);
    } catch (error) {
      const message = (error as Error).message;
      this.failed.set(item.key, message);
      result.errors.push({
        side: item.key.startsWith('prospect:') ? 'crm' : 'marketing',
        record: item.key.replace(':', ' '),
        message,
      });
    }
  }

  /**
   * The CRM records of the items: as captured, unless the item has no copy (a retry) or we
   * saved its pair after the copy was taken — then it may predate our own write, and deciding
   * on it would send an old value back; those are read again, 200 ids a query.
   */
  private async crmItemRecords(items: queue.WorkItem[]): Promise<Map<string, CrmRecord>> {
    const { database, unitId } = this.options;
    const found = new Map<string, CrmRecord>();
    const reread: Record<CrmObject, string[]> = { Lead: [], Contact: [] };
    for (const item of items) {
      const [object, id] = item.key.split(':') as [CrmObject, string];
      const copy = item.payload as CrmRecord | null;
      const link = copy ? await store.selectLinkByCrmId(database.db, unitId, id) : undefined;
      if (copy && !(link?.updatedAt && link.updatedAt > (syncValue(copy.SystemModstamp) ?? ''))) {
        found.set(id, copy);
      } else {
        reread[object].push(id);
      }
    }
    for (const object of ['Lead', 'Contact'] as const) {
      for (const record of await this.readCrmRecords(object, reread[object], true))
        found.set(record.Id, record);
    }
    return found;
  }

  /** The prospects of the items: as captured, or read again on the same grounds as CRM records. */
  private async prospectItemRecords(
    items: queue.WorkItem[],
    result: PassResult,
  ): Promise<Map<string, ProspectRecord>> {
    const { database, unitId, marketing } = this.options;
    const found = new Map<string, ProspectRecord>();
    const reread: queue.WorkItem[] = [];
    for (const item of items) {
      const id = Number(item.key.slice('prospect:'.length));
      const copy = item.payload as ProspectRecord | null;
      const link = copy ? await store.selectLinkByProspect(database.db, unitId, id) : undefined;
      if (copy && !(link?.updatedAt && link.updatedAt > (syncValue(copy.updatedAt) ?? ''))) {
        found.set(item.key, copy);
      } else {
        reread.push(item);
      }
    }
    await pMap(
      reread,
      (item) =>
        this.workItem(item, result, async () => {
          const id = Number(item.key.slice('prospect:'.length));
          found.set(item.key, await marketing.readProspect(id, this.prospectFieldList()));
        }),
      { concurrency: ITEM_CONCURRENCY },
    );
    return found;
  }

  /** A converted Lead: its prospect moves to the Contact, keeping its history and activities. */
  private async followConversion(lead: CrmRecord, result: PassResult): Promise<void> {
    const { database, unitId, marketing, now } = this.options;
    const link = await store.selectLinkByCrmId(database.db, unitId, lead.Id);
    const contactId = typeof lead.ConvertedContactId === 'string' ? lead.ConvertedContactId : null;
    if (!link || !contactId || link.crmObject !== 'Lead') return;
    await marketing.updateProspect(link.prospectId, {
      salesforceId: contactId,
      salesforceContactId: contactId,
      salesforceAccountId: typeof lead.ConvertedAccountId === 'string' ? lead.ConvertedAccountId : null,
    });
    await store.saveLink(
      database.db,
      { ...link, crmObject: 'Contact', crmId: contactId },
      now().toISOString(),
    );
    await this.log([
      {
        crmObject: 'Contact',
        crmId: contactId,
        prospectId: link.prospectId,
        field: 'salesforceContactId',
        crmField: null,
        toSide: 'marketing',
        value: contactId,
        previous: null,
        reason: `Lead ${lead.Id} converted: the prospect moves to its Contact`,
        apiCall: `PATCH /api/v5/objects/prospects/${link.prospectId}`,
      },
    ]);
    result.relinked += 1;
  }

  /**
   * A record merged into another (deleted with a MasterRecordId): its prospect, with its
   * history, moves to the surviving record if that one has no prospect; otherwise the
   * surviving record keeps its own and this prospect is unlinked, never deleted.
   */
  private async followMerge(
    object: CrmObject,
    record: CrmRecord,
    masterId: string,
    result: PassResult,
  ): Promise<void> {
    const { database, unitId, marketing, now } = this.options;
    const link = await store.selectLinkByCrmId(database.db, unitId, record.Id);
    if (!link || link.crmObject !== object) return;
    const idField = crmIdField(object);
    const survivorLinked = await store.selectLinkByCrmId(database.db, unitId, masterId);
    const moveTo = survivorLinked ? null : masterId;
    await marketing.updateProspect(link.prospectId, { salesforceId: moveTo, [idField]: moveTo });
    if (moveTo) {
      await store.saveLink(database.db, { ...link, crmId: moveTo, lastSynced: {} }, now().toISOString());
      // The surviving record and its new prospect are decided afresh.
      await queue.enqueue(
        database,
        unitId,
        [{ key: `${object}:${moveTo}`, priority: queue.PRIORITY.change, payload: null }],
        now().toISOString(),
      );
      result.relinked += 1;
    } else {
      await store.deleteLink(database.db, unitId, record.Id);
    }
    await this.log([
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
  private async followCrmDeletion(object: CrmObject, record: CrmRecord, result: PassResult): Promise<void> {
    const { database, unitId, marketing, now } = this.options;
    if (this.options.rules.followDeletions === false) return;
    const link = await store.selectLinkByCrmId(database.db, unitId, record.Id);
    if (!link || link.deleted || link.crmObject !== object) return;
    const prospect = await marketing.readProspect(link.prospectId, ['id', 'isDeleted']);
    if (prospect.isDeleted !== true) {
      await marketing.deleteProspect(link.prospectId);
      result.deletions += 1;
    }
    await store.saveLink(database.db, { ...link, deleted: true }, now().toISOString());
  }

  // ---- one record --------------------------------------------------------------------------------

  private async crmRecord(link: store.Link): Promise<CrmRecord | undefined> {
    const soql = `SELECT ${this.crmFieldList(link.crmObject).join(', ')} FROM ${link.crmObject} WHERE Id = '${link.crmId}'`;
    return (await this.options.crm.query<CrmRecord>(soql)).records[0];
  }

  private async syncCrmRecord(
    object: CrmObject,
    record: CrmRecord,
    result: PassResult,
  ): Promise<number | undefined> {
    const { database, unitId, marketing } = this.options;
    let link = await store.selectLinkByCrmId(database.db, unitId, record.Id);
    let prospect: ProspectRecord | undefined;
    if (!link) {
      const email = typeof record.Email === 'string' ? record.Email : null;
      if (!email) return undefined;
      // Records with one email are matched one at a time, or two could take one prospect.
      const found = await this.oneAtATime(email.toLowerCase(), () =>
        this.linkNewRecord(object, record, email, result),
      );
      if (!found) return undefined;
      ({ link, prospect } = found);
    } else {
      prospect = await marketing.readProspect(link.prospectId, this.prospectFieldList());
      if (prospect.isDeleted === true) {
        // Both went to the bins together and the CRM record is back: so is its prospect. A
        // prospect deleted in marketing alone waits for the marketing side to send the CRM
        // record after it.
        if (!link.deleted) return undefined;
        prospect = await marketing.undeleteProspect(link.prospectId, this.prospectFieldList());
        result.undeletions += 1;
        link = { ...link, deleted: false };
      } else if (link.deleted) {
        link = { ...link, deleted: false };
      }
    }
    await this.reconcile(link, record, prospect, result);
    return link.prospectId;
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
    const { database, unitId, marketing, now } = this.options;
    let prospect: ProspectRecord | undefined;
    for (const candidate of await marketing.prospectsByEmail(email, this.prospectFieldList())) {
      // A prospect carrying another CRM record's id belongs to that record.
      if (candidate.salesforceId && candidate.salesforceId !== record.Id) continue;
      if (!(await store.selectLinkByProspect(database.db, unitId, candidate.id))) {
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
      if (!this.options.rules.createProspects) return undefined;
      prospect = await this.createProspect(object, record);
      result.created += 1;
      await this.log([
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
      await this.log([
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

  private async log(entries: SyncLogEntry[]): Promise<void> {
    await appendSyncLog(
      this.options.database,
      this.options.unitId,
      entries,
      this.options.now().toISOString(),
    );
  }

  /** Runs `work` after any earlier work under the same key has finished. */
  private async oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.keyed.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.keyed.set(key, settled);
    try {
      return await mine;
    } finally {
      if (this.keyed.get(key) === settled) this.keyed.delete(key);
    }
  }

  /** The CRM records of these links, by id (a record missing from the map is gone). */
  private async linkedCrmRecords(links: Array<store.Link | undefined>): Promise<Map<string, CrmRecord>> {
    const ids: Record<CrmObject, string[]> = { Lead: [], Contact: [] };
    for (const link of links) if (link) ids[link.crmObject].push(link.crmId);
    const found = new Map<string, CrmRecord>();
    for (const object of ['Lead', 'Contact'] as const)
      for (const record of await this.readCrmRecords(object, ids[object], false))
        found.set(record.Id, record);
    return found;
  }

  /**
   * CRM records by id, 200 ids a query; with `recycleBin`, deleted ones too (queryAll) and the
   * fields capture reads, so they can be worked as if captured.
   */
  private async readCrmRecords(object: CrmObject, ids: string[], recycleBin: boolean): Promise<CrmRecord[]> {
    const records: CrmRecord[] = [];
    const fields = recycleBin ? this.crmCaptureFields(object) : this.crmFieldList(object);
    for (let i = 0; i < ids.length; i += COLLECTION_SIZE) {
      const chunk = ids.slice(i, i + COLLECTION_SIZE).map((id) => `'${id}'`);
      const soql = `SELECT ${fields.join(', ')} FROM ${object} WHERE Id IN (${chunk.join(', ')})`;
      const answer = await this.options.crm.query<CrmRecord>(soql, { autoFetch: true, scanAll: recycleBin });
      records.push(...answer.records);
    }
    return records;
  }

  private async syncProspect(
    prospect: ProspectRecord,
    link: store.Link | undefined,
    result: PassResult,
    records: Map<string, CrmRecord>,
    handoff: boolean,
  ): Promise<void> {
    const { database, crm } = this.options;
    if (!link) {
      // The hand-off to sales: an assignment, or — by the rule — a form success (queued as a
      // hand-off by captureFormSuccesses).
      const { createLeads } = this.options.rules;
      const handedOff =
        (createLeads === 'assigned' && Boolean(prospect.assignedToId)) ||
        (createLeads === 'form-success' && handoff);
      if (prospect.isDeleted !== true && handedOff) await this.createLead(prospect, result);
      return;
    }
    const record = records.get(link.crmId);
    if (prospect.isDeleted === true) {
      if (this.options.rules.followDeletions === false) return;
      // Deleted in marketing: its CRM record follows to the recycle bin.
      if (record) {
        await crm.sobject(link.crmObject).destroy(link.crmId);
        result.deletions += 1;
      }
      if (!link.deleted)
        await store.saveLink(database.db, { ...link, deleted: true }, this.options.now().toISOString());
      return;
    }
    if (!record) {
      // The CRM record is gone while its prospect lives. Both were deleted and the prospect is
      // back: the CRM record comes back too. Otherwise the CRM deletion is not captured yet.
      if (!link.deleted) return;
      const [restored] = await crm.soap.undelete([link.crmId]);
      if (!restored?.success) return;
      result.undeletions += 1;
      const back = await this.crmRecord(link);
      if (back) await this.reconcile({ ...link, deleted: false }, back, prospect, result);
      return;
    }
    if (!this.shared(record)) return;
    await this.reconcile({ ...link, deleted: false }, record, prospect, result);
  }

  /**
   * A prospect handed off without a CRM record (assigned, or by the form-success rule) becomes a
   * Lead, owned by its assignee's CRM user if it has one.
   * The prospect id in `pi__pardot_id__c` is the create key: a Lead already carrying it (made by
   * a try whose answer was lost) is linked instead of made twice.
   */
  private async createLead(prospect: ProspectRecord, result: PassResult): Promise<void> {
    const { crm, marketing, database, unitId, now } = this.options;
    const existing = (
      await crm.query<CrmRecord>(
        `SELECT ${this.crmFieldList('Lead').join(', ')} FROM Lead WHERE pi__pardot_id__c = '${prospect.id}' AND IsConverted = false`,
      )
    ).records[0];
    let record = existing;
    if (!record) {
      const types = this.crmTypes.Lead;
      const values: Record<string, unknown> = {};
      for (const mapping of this.mappings.Lead) {
        if (mapping.direction === 'crm-to-marketing') continue;
        const value = syncValue(prospect[mapping.prospectField]);
        if (value !== null) values[mapping.crmField] = crmValue(value, types.get(mapping.crmField));
      }
      // Salesforce requires both; the native connector fills them the same way.
      values.LastName ??= '[not provided]';
      values.Company ??= '[not provided]';
      values.pi__pardot_id__c = String(prospect.id);
      if (this.options.rules.sharing)
        values[this.options.rules.sharing.field] = this.options.rules.sharing.value;
      // Owned by the assignee's CRM user; unassigned (a form success), by the connector's user.
      const owner = prospect.assignedToId
        ? await marketing.userSalesforceId(Number(prospect.assignedToId))
        : null;
      if (owner) values.OwnerId = owner;
      // An owner set by the hand-off stands: the org's lead assignment rules (which the REST
      // API runs on create unless told not to) decide only for unassigned prospects.
      const saved = await refusalOrResult(
        crm.sobject('Lead').create(values, owner ? { headers: { 'Sforce-Auto-Assign': 'FALSE' } } : {}),
      );
      if (!saved.success) {
        await this.recordCrmError({ crmObject: 'Lead', crmId: null, prospectId: prospect.id }, saved);
        return;
      }
      record = await this.crmRecord({
        unitId,
        crmObject: 'Lead',
        crmId: saved.id,
        prospectId: prospect.id,
        lastSynced: {},
      });
      result.leadsCreated += 1;
      await this.log([
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
    await this.reconcile(link, record, prospect, result);
  }

  private async recordCrmError(
    at: { crmObject: CrmObject; crmId: string | null; prospectId: number | null },
    saved: unknown,
    fields: string[] = [],
  ): Promise<string> {
    const errors =
      (
        saved as {
          errors?: Array<{ message?: string; errorCode?: string; statusCode?: string; fields?: string[] }>;
        }
      ).errors ?? [];
    const first = errors[0];
    const code = first?.errorCode ?? first?.statusCode ?? null;
    const message =
      errors
        .map((e) => e.message)
        .filter(Boolean)
        .join('; ') || 'the CRM refused the write';
    await store.recordSyncError(
      this.options.database.db,
      {
        unitId: this.options.unitId,
        side: 'crm',
        ...at,
        fields: first?.fields?.length ? first.fields : fields,
        category: categorize(code),
        code,
        message,
      },
      this.options.now().toISOString(),
    );
    return message;
  }

  private async createProspect(object: CrmObject, record: CrmRecord): Promise<ProspectRecord> {
    const values: ProspectValues = {};
    for (const mapping of this.mappings[object]) {
      if (mapping.direction === 'marketing-to-crm') continue;
      const value = syncValue(record[mapping.crmField]);
      if (value !== null) values[mapping.prospectField] = value;
    }
    // A prospect is made with the record's email, whichever way the email mapping goes.
    values.email ??= syncValue(record.Email);
    values.salesforceId = record.Id;
    values[crmIdField(object)] = record.Id;
    return this.options.marketing.createProspect(values, this.prospectFieldList());
  }

  /**
   * Pairs linked in bulk (a backfill): each decided and written as the queue's work would be,
   * the CRM writes 200 a call; a CRM call that fails throws, to be tried again as a whole.
   */
  async reconcilePairs(
    pairs: Array<{ link: store.Link; record: CrmRecord; prospect: ProspectRecord }>,
    result: PassResult,
  ): Promise<void> {
    // Held back until all are decided, so that thousands go out as one bulk job.
    this.flushAt = Number.POSITIVE_INFINITY;
    try {
      for (const { link, record, prospect } of pairs) await this.reconcile(link, record, prospect, result);
    } finally {
      this.flushAt = COLLECTION_SIZE;
    }
    await this.flushAll(result);
  }

  /** Decides every mapped field of the pair, writes what differs, and remembers the synced state. */
  private async reconcile(
    link: store.Link,
    record: CrmRecord,
    prospect: ProspectRecord,
    result: PassResult,
  ): Promise<void> {
    const toCrm: Record<string, unknown> = {};
    const toMarketing: ProspectValues = {};
    const crmLog: SyncLogEntry[] = [];
    const marketingLog: SyncLogEntry[] = [];
    const lastSynced = { ...link.lastSynced };
    const types = this.crmTypes[link.crmObject];
    for (const mapping of this.mappings[link.crmObject]) {
      const decision = decideField(mapping, {
        lastSynced: link.lastSynced[mapping.prospectField],
        crm: syncValue(record[mapping.crmField]),
        marketing: syncValue(prospect[mapping.prospectField]),
        crmUpdatedAt: syncValue(record.SystemModstamp),
        marketingUpdatedAt: syncValue(prospect.updatedAt),
      });
      if (!decision) continue;
      lastSynced[mapping.prospectField] = decision.lastSynced;
      const entry = {
        crmObject: link.crmObject,
        crmId: link.crmId,
        prospectId: link.prospectId,
        field: mapping.prospectField,
        crmField: mapping.crmField,
        reason: decision.reason,
      };
      if (decision.toCrm !== undefined) {
        toCrm[mapping.crmField] = crmValue(decision.toCrm, types.get(mapping.crmField));
        crmLog.push({
          ...entry,
          toSide: 'crm',
          value: decision.toCrm,
          previous: syncValue(record[mapping.crmField]),
          apiCall: '',
        });
      }
      if (decision.toMarketing !== undefined) {
        toMarketing[mapping.prospectField] = decision.toMarketing;
        marketingLog.push({
          ...entry,
          toSide: 'marketing',
          value: decision.toMarketing,
          previous: syncValue(prospect[mapping.prospectField]),
          apiCall: `PATCH /api/v5/objects/prospects/${link.prospectId}`,
        });
      }
    }
    if (Object.keys(toMarketing).length > 0) {
      await this.options.marketing.updateProspect(link.prospectId, toMarketing);
      result.writesToMarketing += 1;
      await this.log(marketingLog);
    }
    if (Object.keys(toCrm).length > 0) {
      // CRM writes go out in batches (sObject Collections, 200 a call); the link is saved with
      // the batch's answer for this record.
      const failedState = { ...lastSynced };
      for (const mapping of this.mappings[link.crmObject]) {
        if (mapping.crmField in toCrm)
          failedState[mapping.prospectField] = link.lastSynced[mapping.prospectField] ?? null;
      }
      const pending = this.pendingCrm[link.crmObject];
      pending.push({
        itemKey: this.currentItem.getStore() ?? null,
        link,
        values: toCrm,
        lastSynced,
        failedState,
        log: crmLog,
      });
      if (pending.length >= this.flushAt) await this.flushCrm(link.crmObject, result);
      return;
    }
    await store.saveLink(this.options.database.db, { ...link, lastSynced }, this.options.now().toISOString());
  }

  /**
   * Sends the pending CRM updates of an object, 200 a call, and saves each link by its answer;
   * a write that failed for a reason a later try may get past fails its work item.
   */
  private async flushCrm(object: CrmObject, result: PassResult): Promise<void> {
    const pending = this.pendingCrm[object];
    while (pending.length > 0) {
      // A big backlog goes as one Bulk API 2.0 job, fewer calls than 200 records a call.
      const batch = pending.splice(0, pending.length >= BULK_THRESHOLD ? pending.length : COLLECTION_SIZE);
      let answers: SaveOutcome[];
      try {
        answers =
          batch.length > COLLECTION_SIZE
            ? await this.bulkUpdate(object, batch)
            : ((await this.options.crm.sobject(object).update(
                batch.map((w) => ({ Id: w.link.crmId, ...w.values })),
                { allOrNone: false },
              )) as SaveOutcome[]);
      } catch (error) {
        // No answer (5xx, timeout, limits): every item of the call is tried again later, and
        // decided afresh then, so a write the CRM did apply is not sent twice.
        const message = (error as Error).message;
        for (const write of batch) {
          if (write.itemKey) this.failed.set(write.itemKey, message);
          else throw error;
        }
        result.errors.push({ side: 'crm', record: `${object} ×${batch.length}`, message });
        continue;
      }
      const at = this.options.now().toISOString();
      // The links by the answers, saved together (a bulk job answers thousands).
      const saves: store.Link[] = [];
      const written: string[] = [];
      const log: SyncLogEntry[] = [];
      const apiCall =
        batch.length > COLLECTION_SIZE
          ? `Bulk API 2.0 ingest job (update ${object}, ${batch.length} records)`
          : `PATCH /services/data/v${this.options.crm.version}/composite/sobjects`;
      for (const [i, write] of batch.entries()) {
        const answer = answers[i];
        if (answer?.success) {
          result.writesToCrm += 1;
          written.push(write.link.crmId);
          saves.push({ ...write.link, lastSynced: write.lastSynced });
          for (const entry of write.log) log.push({ ...entry, apiCall });
        } else if (
          answer &&
          !(answer.errors ?? []).some((e) => TRANSIENT_CRM_ERRORS.has(e.errorCode ?? e.statusCode ?? ''))
        ) {
          // Refused: those fields stay unsynced, and the refusal goes to the sync-error list
          // until someone retries it.
          const message = await this.recordCrmError(write.link, answer, Object.keys(write.values));
          result.errors.push({ side: 'crm', record: `${object} ${write.link.crmId}`, message });
          saves.push({ ...write.link, lastSynced: write.failedState });
        } else {
          // Locked row, limits: nothing saved, so the item's next try decides and writes again.
          const message = answer?.errors?.[0]?.message ?? 'no answer';
          if (write.itemKey) this.failed.set(write.itemKey, message);
          result.errors.push({ side: 'crm', record: `${object} ${write.link.crmId}`, message });
        }
      }
      await store.resolveSyncErrors(this.options.database.db, this.options.unitId, written, at);
      await store.saveLinks(this.options.database, saves, at);
      await appendSyncLog(this.options.database, this.options.unitId, log, at);
    }
  }

  /**
   * Updates through a Bulk API 2.0 ingest job, answered per record as Collections would be: a
   * record the job did not process counts as a failure for now, to be tried again.
   */
  private async bulkUpdate(object: CrmObject, batch: PendingCrmWrite[]): Promise<SaveOutcome[]> {
    const results = await this.options.crm.bulk2.loadAndWaitForResults({
      object,
      operation: 'update',
      // Bulk reads an empty cell as "leave as it is"; #N/A is how it is told to blank a field.
      input: batch.map((w) => ({
        Id: w.link.crmId,
        ...Object.fromEntries(Object.entries(w.values).map(([k, v]) => [k, v === null ? '#N/A' : v])),
      })),
      pollInterval: 100,
      pollTimeout: 600_000,
    });
    const byId = new Map<string, SaveOutcome>();
    for (const ok of results.successfulResults) byId.set(String(ok.sf__Id), { success: true });
    for (const failed of results.failedResults) {
      byId.set(String(failed.sf__Id), { success: false, errors: [parseBulkError(String(failed.sf__Error))] });
    }
    return batch.map(
      (w) =>
        byId.get(w.link.crmId) ?? {
          success: false,
          errors: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'not processed by the bulk job' }],
        },
    );
  }

  private async flushAll(result: PassResult): Promise<void> {
    for (const object of ['Lead', 'Contact'] as const) await this.flushCrm(object, result);
  }

  /** What capture reads: the mapped fields, and what tells deletions and conversions apart. */
  private crmCaptureFields(object: CrmObject): string[] {
    const extra =
      object === 'Lead'
        ? ['IsDeleted', 'MasterRecordId', 'IsConverted', 'ConvertedContactId', 'ConvertedAccountId']
        : ['IsDeleted', 'MasterRecordId'];
    return [...new Set([...this.crmFieldList(object), ...extra])];
  }

  crmFieldList(object: CrmObject): string[] {
    const sharing = this.options.rules.sharing ? [this.options.rules.sharing.field] : [];
    return [
      ...new Set([
        'Id',
        'SystemModstamp',
        'Email',
        ...sharing,
        ...this.mappings[object].map((m) => m.crmField),
      ]),
    ];
  }

  /** Whether a CRM record is inside the marketing data-sharing rule (always, without one). */
  shared(record: CrmRecord): boolean {
    const sharing = this.options.rules.sharing;
    return !sharing || syncValue(record[sharing.field]) === syncValue(sharing.value);
  }

  prospectFieldList(): string[] {
    const names = new Set(['id', 'email', 'updatedAt', 'isDeleted', 'assignedToId', 'salesforceId']);
    for (const object of ['Lead', 'Contact'] as const)
      for (const m of this.mappings[object]) names.add(m.prospectField);
    return [...names];
  }
}

/** The mappings without the CRM → marketing direction of the email. */
function unfollowEmail(mappings: FieldMapping[]): FieldMapping[] {
  return mappings.flatMap((m) => {
    if (m.prospectField !== 'email') return [m];
    if (m.direction === 'crm-to-marketing') return [];
    return [{ ...m, direction: 'marketing-to-crm' as const }];
  });
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

/** A synced value as the CRM field's type wants it on the wire. */
function crmValue(value: SyncValue, type: CrmFieldType | undefined): unknown {
  if (value === null) return null;
  if (type === 'boolean') return value === 'true';
  if (type === 'number') return Number(value);
  return value;
}

/**
 * A single-record save: jsforce throws the CRM's refusal (a validation rule, a required field);
 * that becomes a failed result to record, while transient trouble is thrown on for a retry.
 */
async function refusalOrResult(save: Promise<unknown>): Promise<SaveOutcome & { id: string }> {
  try {
    return (await save) as SaveOutcome & { id: string };
  } catch (error) {
    const e = error as { errorCode?: string; message?: string; data?: { fields?: string[] } };
    const code = e.errorCode;
    if (!code || TRANSIENT_CRM_ERRORS.has(code) || code.startsWith('ERROR_HTTP_5')) throw error;
    return {
      success: false,
      id: '',
      errors: [{ message: e.message, errorCode: code, fields: e.data?.fields }],
    };
  }
}

import type jsforce from 'jsforce';
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
  type CrmObject,
  type FieldMapping,
  type MappingProblem,
} from './domain/field-mapping.js';
import { categorize } from './domain/sync-error.js';
import * as store from './store/link-store.js';

/** Re-read this far behind a cursor: a transaction in flight at the last read commits with an older stamp. */
const OVERLAP_MS = 5_000;
const CRM_PAGE = 2_000;

export interface SyncRules {
  /** Make a prospect for a new Lead or Contact with an email (not for records older than the connector). */
  createProspects: boolean;
  /** Make a CRM Lead for a prospect without one: once it is assigned to a user (the default), or never. */
  createLeads: 'assigned' | 'never';
  /**
   * Marketing data sharing: only CRM records whose field has this value sync (a Lead the
   * connector makes gets it). Records outside it are left alone, linked or not.
   */
  sharing?: { field: string; value: string } | null;
}

export interface PassResult {
  /** The sync is paused: the pass did nothing. */
  paused?: boolean;
  crmRecords: number;
  prospects: number;
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

type CrmRecord = Record<string, unknown> & { Id: string; SystemModstamp?: string };

/** sObject Collections take at most 200 records a call. */
const COLLECTION_SIZE = 200;

interface PendingCrmWrite {
  link: store.Link;
  values: Record<string, unknown>;
  /** The link's state once the write is in, and if the CRM refuses it. */
  lastSynced: Record<string, SyncValue>;
  failedState: Record<string, SyncValue>;
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

  private constructor(
    private readonly options: SyncEngineOptions,
    private readonly mappings: Record<CrmObject, FieldMapping[]>,
    private readonly crmTypes: Record<CrmObject, Map<string, CrmFieldType>>,
    readonly problems: MappingProblem[],
  ) {}

  /** Checks the mappings against both sides (describe, custom fields) and keeps the usable ones. */
  static async open(options: SyncEngineOptions): Promise<SyncEngine> {
    const prospectFields = await options.marketing.prospectFieldNames(STANDARD_PROSPECT_FIELDS);
    const mappings = {} as Record<CrmObject, FieldMapping[]>;
    const types = {} as Record<CrmObject, Map<string, CrmFieldType>>;
    const problems: MappingProblem[] = [];
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
      const checked = checkMappings(
        object,
        options.mappings[object],
        new Set(types[object].keys()),
        prospectFields,
      );
      mappings[object] = checked.usable;
      problems.push(...checked.problems);
    }
    const sharing = options.rules.sharing;
    if (sharing) {
      for (const object of ['Lead', 'Contact'] as const) {
        if (!types[object].has(sharing.field)) {
          throw new Error(`the data-sharing field ${sharing.field} does not exist on ${object} in the CRM`);
        }
      }
    }
    for (const problem of problems) options.log.warn(`mapping skipped: ${problem.message}`);
    return new SyncEngine(options, mappings, types, problems);
  }

  async runPass(): Promise<PassResult> {
    const result: PassResult = {
      crmRecords: 0,
      prospects: 0,
      created: 0,
      leadsCreated: 0,
      relinked: 0,
      deletions: 0,
      undeletions: 0,
      writesToCrm: 0,
      writesToMarketing: 0,
      errors: [],
    };
    // Paused (by `handoff sync pause`, in the store so every connector process sees it): the
    // cursors stay where they are, and resuming picks up every change made meanwhile.
    if (await store.isPaused(this.options.database.db, this.options.unitId)) {
      result.paused = true;
      return result;
    }
    const touched = new Set<number>();
    await this.retryAsked(result, touched);
    await this.flushAll(result);
    // Lead first: its conversions relink prospects before the new Contacts are looked at.
    for (const object of ['Lead', 'Contact'] as const) await this.captureCrm(object, result, touched);
    await this.captureMarketing(result, touched);
    return result;
  }

  // ---- capture ---------------------------------------------------------------------------------

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
   * One query an object a pass: `queryAll` on SystemModstamp returns the changed records, the
   * deleted ones (the recycle bin) and, for Leads, the converted ones, which each take their turn.
   */
  private async captureCrm(object: CrmObject, result: PassResult, touched: Set<number>): Promise<void> {
    const cursor = await this.cursor(object);
    const extra =
      object === 'Lead'
        ? ['IsDeleted', 'IsConverted', 'ConvertedContactId', 'ConvertedAccountId']
        : ['IsDeleted'];
    const fields = [...new Set([...this.crmFieldList(object), ...extra])];
    const soql = `SELECT ${fields.join(', ')} FROM ${object} WHERE SystemModstamp >= ${this.since(cursor)} ORDER BY SystemModstamp LIMIT ${CRM_PAGE}`;
    // SOQL compares to the second; the window starts to the millisecond: what the second's
    // rounding lets in from before it was covered by an earlier pass, or predates the connector.
    const from = new Date(Date.parse(cursor) - OVERLAP_MS).toISOString();
    const records = (await this.options.crm.query<CrmRecord>(soql, { scanAll: true })).records.filter(
      (record) => (syncValue(record.SystemModstamp) ?? '') >= from,
    );
    let newest = cursor;
    let failed = false;
    for (const record of records) {
      result.crmRecords += 1;
      try {
        if (record.IsDeleted === true) {
          await this.followCrmDeletion(object, record, result);
        } else if (record.IsConverted === true) {
          await this.followConversion(record, result);
        } else if (this.shared(record)) {
          const prospectId = await this.syncCrmRecord(object, record, result);
          if (prospectId !== undefined) touched.add(prospectId);
        }
      } catch (error) {
        // The cursor stops here: this record is read again next pass.
        failed = true;
        result.errors.push({
          side: 'marketing',
          record: `${object} ${record.Id}`,
          message: (error as Error).message,
        });
      }
      const stamp = syncValue(record.SystemModstamp);
      if (!failed && stamp && stamp > newest) newest = stamp;
    }
    // The cursor moves only once what it covers is written.
    if ((await this.flushCrm(object, result)) > 0) return;
    await store.saveCursor(this.options.database.db, this.cursorName(object), newest);
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
    result.relinked += 1;
  }

  /** A record deleted in the CRM sends its prospect to the recycle bin. */
  private async followCrmDeletion(object: CrmObject, record: CrmRecord, result: PassResult): Promise<void> {
    const { database, unitId, marketing, now } = this.options;
    const link = await store.selectLinkByCrmId(database.db, unitId, record.Id);
    if (!link || link.deleted || link.crmObject !== object) return;
    const prospect = await marketing.readProspect(link.prospectId, ['id', 'isDeleted']);
    if (prospect.isDeleted !== true) {
      await marketing.deleteProspect(link.prospectId);
      result.deletions += 1;
    }
    await store.saveLink(database.db, { ...link, deleted: true }, now().toISOString());
  }

  private async captureMarketing(result: PassResult, touched: Set<number>): Promise<void> {
    const cursor = await this.cursor('marketing');
    const since = new Date(Date.parse(cursor) - OVERLAP_MS).toISOString();
    const prospects = await this.options.marketing.prospectsUpdatedSince(since, this.prospectFieldList(), {
      deleted: true,
    });
    // Prospects whose mapped values are all as last synced carry no marketing change (most are
    // the echo of our own writes): the CRM side needs nothing from them.
    // Each prospect's link is read once here, for the filter, the CRM read and the sync.
    const changed = new Map<ProspectRecord, store.Link | undefined>();
    for (const prospect of prospects) {
      if (touched.has(prospect.id)) continue;
      const link = await store.selectLinkByProspect(
        this.options.database.db,
        this.options.unitId,
        prospect.id,
      );
      if (link && !link.deleted && prospect.isDeleted !== true && this.asLastSynced(link, prospect)) continue;
      changed.set(prospect, link);
    }
    // The linked CRM records, read 200 ids a query rather than one query a prospect.
    const records = await this.linkedCrmRecords([...changed.values()]);
    let newest = cursor;
    let failed = false;
    for (const prospect of prospects) {
      result.prospects += 1;
      const stamp = syncValue(prospect.updatedAt);
      // Already reconciled in this pass from the CRM side, or unchanged since the last sync.
      if (changed.has(prospect)) {
        try {
          await this.syncProspect(prospect, changed.get(prospect), result, records);
        } catch (error) {
          failed = true;
          result.errors.push({
            side: 'crm',
            record: `prospect ${prospect.id}`,
            message: (error as Error).message,
          });
        }
      }
      if (!failed && stamp && stamp > newest) newest = stamp;
    }
    if ((await this.flushAll(result)) > 0) return;
    await store.saveCursor(this.options.database.db, this.cursorName('marketing'), newest);
  }

  /** Whether every mapped field of the prospect holds its last-synced value. */
  private asLastSynced(link: store.Link, prospect: ProspectRecord): boolean {
    return this.mappings[link.crmObject].every(
      (m) =>
        link.lastSynced[m.prospectField] !== undefined &&
        syncValue(prospect[m.prospectField]) === link.lastSynced[m.prospectField],
    );
  }

  /** Records whose sync errors someone asked to retry: reconciled again whatever changed. */
  private async retryAsked(result: PassResult, touched: Set<number>): Promise<void> {
    const { database, unitId, marketing } = this.options;
    for (const error of await store.selectSyncErrors(database.db, unitId, ['retry'])) {
      const link = error.crmId
        ? await store.selectLinkByCrmId(database.db, unitId, error.crmId)
        : error.prospectId !== null
          ? await store.selectLinkByProspect(database.db, unitId, error.prospectId)
          : undefined;
      if (!link) continue;
      const record = await this.crmRecord(link);
      if (!record) continue;
      try {
        const prospect = await marketing.readProspect(link.prospectId, this.prospectFieldList());
        await this.reconcile(link, record, prospect, result);
        touched.add(link.prospectId);
      } catch (e) {
        result.errors.push({
          side: error.side,
          record: `${link.crmObject} ${link.crmId}`,
          message: (e as Error).message,
        });
      }
    }
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
      // Linked by CRM id; email is only the way to a first match.
      for (const candidate of await marketing.prospectsByEmail(email, this.prospectFieldList())) {
        if (!(await store.selectLinkByProspect(database.db, unitId, candidate.id))) {
          prospect = candidate;
          break;
        }
      }
      if (!prospect) {
        if (!this.options.rules.createProspects) return undefined;
        prospect = await this.createProspect(object, record);
        result.created += 1;
      }
      link = { unitId, crmObject: object, crmId: record.Id, prospectId: prospect.id, lastSynced: {} };
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

  /** The CRM records of these links, by id (a record missing from the map is gone). */
  private async linkedCrmRecords(links: Array<store.Link | undefined>): Promise<Map<string, CrmRecord>> {
    const { crm } = this.options;
    const ids: Record<CrmObject, string[]> = { Lead: [], Contact: [] };
    for (const link of links) if (link) ids[link.crmObject].push(link.crmId);
    const found = new Map<string, CrmRecord>();
    for (const object of ['Lead', 'Contact'] as const) {
      for (let i = 0; i < ids[object].length; i += COLLECTION_SIZE) {
        const chunk = ids[object].slice(i, i + COLLECTION_SIZE).map((id) => `'${id}'`);
        const soql = `SELECT ${this.crmFieldList(object).join(', ')} FROM ${object} WHERE Id IN (${chunk.join(', ')})`;
        for (const record of (await crm.query<CrmRecord>(soql, { autoFetch: true })).records)
          found.set(record.Id, record);
      }
    }
    return found;
  }

  private async syncProspect(
    prospect: ProspectRecord,
    link: store.Link | undefined,
    result: PassResult,
    records: Map<string, CrmRecord>,
  ): Promise<void> {
    const { database, crm } = this.options;
    if (!link) {
      if (
        prospect.isDeleted !== true &&
        this.options.rules.createLeads === 'assigned' &&
        prospect.assignedToId
      ) {
        await this.createLead(prospect, result);
      }
      return;
    }
    const record = records.get(link.crmId);
    if (prospect.isDeleted === true) {
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
   * An assigned prospect without a CRM record becomes a Lead owned by its assignee's CRM user.
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
      const owner = await marketing.userSalesforceId(Number(prospect.assignedToId));
      if (owner) values.OwnerId = owner;
      const saved = await refusalOrResult(crm.sobject('Lead').create(values));
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
    values.salesforceId = record.Id;
    values[object === 'Lead' ? 'salesforceLeadId' : 'salesforceContactId'] = record.Id;
    return this.options.marketing.createProspect(values, this.prospectFieldList());
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
      if (decision.toCrm !== undefined)
        toCrm[mapping.crmField] = crmValue(decision.toCrm, types.get(mapping.crmField));
      if (decision.toMarketing !== undefined) toMarketing[mapping.prospectField] = decision.toMarketing;
    }
    if (Object.keys(toMarketing).length > 0) {
      await this.options.marketing.updateProspect(link.prospectId, toMarketing);
      result.writesToMarketing += 1;
    }
    if (Object.keys(toCrm).length > 0) {
      // CRM writes go out in batches (sObject Collections, 200 a call); the link is saved with
      // the batch's answer for this record.
      const failedState = { ...lastSynced };
      for (const mapping of this.mappings[link.crmObject]) {
        if (mapping.crmField in toCrm)
          failedState[mapping.prospectField] = link.lastSynced[mapping.prospectField] ?? null;
      }
      const queue = this.pendingCrm[link.crmObject];
      queue.push({ link, values: toCrm, lastSynced, failedState });
      if (queue.length >= COLLECTION_SIZE) await this.flushCrm(link.crmObject, result);
      return;
    }
    await store.saveLink(this.options.database.db, { ...link, lastSynced }, this.options.now().toISOString());
  }

  /**
   * Sends the queued CRM updates of an object, 200 a call, and saves each link by its answer;
   * returns how many failed for a reason a later try may get past.
   */
  private async flushCrm(object: CrmObject, result: PassResult): Promise<number> {
    let transient = 0;
    const queue = this.pendingCrm[object];
    while (queue.length > 0) {
      const batch = queue.splice(0, COLLECTION_SIZE);
      const answers = (await this.options.crm.sobject(object).update(
        batch.map((w) => ({ Id: w.link.crmId, ...w.values })),
        { allOrNone: false },
      )) as SaveOutcome[];
      const at = this.options.now().toISOString();
      for (const [i, write] of batch.entries()) {
        const answer = answers[i];
        if (answer?.success) {
          result.writesToCrm += 1;
          await store.resolveSyncErrors(this.options.database.db, write.link.unitId, write.link.crmId, at);
          await store.saveLink(this.options.database.db, { ...write.link, lastSynced: write.lastSynced }, at);
        } else if (
          answer &&
          !(answer.errors ?? []).some((e) => TRANSIENT_CRM_ERRORS.has(e.errorCode ?? e.statusCode ?? ''))
        ) {
          // Refused: those fields stay unsynced, and the refusal goes to the sync-error list
          // until someone retries it.
          const message = await this.recordCrmError(write.link, answer, Object.keys(write.values));
          result.errors.push({ side: 'crm', record: `${object} ${write.link.crmId}`, message });
          await store.saveLink(
            this.options.database.db,
            { ...write.link, lastSynced: write.failedState },
            at,
          );
        } else {
          // Locked row, limits: nothing saved, so the next pass decides and writes again.
          transient += 1;
          result.errors.push({
            side: 'crm',
            record: `${object} ${write.link.crmId}`,
            message: answer?.errors?.[0]?.message ?? 'no answer',
          });
        }
      }
    }
    return transient;
  }

  private async flushAll(result: PassResult): Promise<number> {
    let transient = 0;
    for (const object of ['Lead', 'Contact'] as const) transient += await this.flushCrm(object, result);
    return transient;
  }

  private crmFieldList(object: CrmObject): string[] {
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
  private shared(record: CrmRecord): boolean {
    const sharing = this.options.rules.sharing;
    return !sharing || syncValue(record[sharing.field]) === syncValue(sharing.value);
  }

  private prospectFieldList(): string[] {
    const names = new Set(['id', 'email', 'updatedAt', 'isDeleted', 'assignedToId']);
    for (const object of ['Lead', 'Contact'] as const)
      for (const m of this.mappings[object]) names.add(m.prospectField);
    return [...names];
  }
}

/** A synced value as the CRM field's type wants it on the wire. */
function crmValue(value: SyncValue, type: CrmFieldType | undefined): unknown {
  if (value === null) return null;
  if (type === 'boolean') return value === 'true';
  if (type === 'number') return Number(value);
  return value;
}

/** Salesforce errors that a later try may get past: they are thrown, not recorded as refusals. */
const TRANSIENT_CRM_ERRORS = new Set([
  'REQUEST_LIMIT_EXCEEDED',
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'INVALID_SESSION_ID',
]);

interface SaveOutcome {
  success: boolean;
  id?: string;
  errors?: Array<{ message?: string; errorCode?: string; statusCode?: string; fields?: string[] }>;
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

import type jsforce from 'jsforce';
import type { Logger } from 'pino';
import type {
  AccountEngagementClient,
  ProspectRecord,
  ProspectValues,
} from '../clients/account-engagement/ae-client.js';
import type { Database } from '../store/database.js';
import { decideField, syncValue, type SyncValue } from './domain/decide-field.js';
import {
  checkMappings,
  type CrmObject,
  type FieldMapping,
  type MappingProblem,
} from './domain/field-mapping.js';
import * as store from './store/link-store.js';

/** Re-read this far behind a cursor: a transaction in flight at the last read commits with an older stamp. */
const OVERLAP_MS = 5_000;
const CRM_PAGE = 2_000;
/** The prospect's v5 standard fields the mappings may name. */
const PROSPECT_STANDARD_FIELDS = [
  'id',
  'email',
  'salutation',
  'firstName',
  'lastName',
  'company',
  'jobTitle',
  'department',
  'phone',
  'fax',
  'website',
  'addressOne',
  'addressTwo',
  'city',
  'state',
  'zip',
  'country',
  'industry',
  'annualRevenue',
  'employees',
  'source',
  'comments',
  'score',
  'grade',
  'campaignId',
  'assignedToId',
  'isDoNotEmail',
  'isDoNotCall',
  'optedOut',
  'createdAt',
  'updatedAt',
  'lastActivityAt',
];

export interface SyncRules {
  /** Make a prospect for a new Lead or Contact with an email (not for records older than the connector). */
  createProspects: boolean;
}

export interface PassResult {
  crmRecords: number;
  prospects: number;
  created: number;
  writesToCrm: number;
  writesToMarketing: number;
  errors: Array<{ side: 'crm' | 'marketing'; record: string; message: string }>;
}

type CrmRecord = Record<string, unknown> & { Id: string; SystemModstamp?: string };

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
  private constructor(
    private readonly options: SyncEngineOptions,
    private readonly mappings: Record<CrmObject, FieldMapping[]>,
    private readonly crmTypes: Record<CrmObject, Map<string, CrmFieldType>>,
    readonly problems: MappingProblem[],
  ) {}

  /** Checks the mappings against both sides (describe, custom fields) and keeps the usable ones. */
  static async open(options: SyncEngineOptions): Promise<SyncEngine> {
    const prospectFields = await options.marketing.prospectFieldNames(PROSPECT_STANDARD_FIELDS);
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
    for (const problem of problems) options.log.warn(`mapping skipped: ${problem.message}`);
    return new SyncEngine(options, mappings, types, problems);
  }

  async runPass(): Promise<PassResult> {
    const result: PassResult = {
      crmRecords: 0,
      prospects: 0,
      created: 0,
      writesToCrm: 0,
      writesToMarketing: 0,
      errors: [],
    };
    const touched = new Set<number>();
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
    const start = this.options.now().toISOString();
    await store.saveCursor(this.options.database.db, name, start);
    return start;
  }

  private async captureCrm(object: CrmObject, result: PassResult, touched: Set<number>): Promise<void> {
    const cursor = await this.cursor(object);
    // SOQL datetime literals are to the second.
    const since = `${new Date(Date.parse(cursor) - OVERLAP_MS).toISOString().slice(0, 19)}Z`;
    const fields = this.crmFieldList(object);
    const converted = object === 'Lead' ? ' AND IsConverted = false' : '';
    const soql = `SELECT ${fields.join(', ')} FROM ${object} WHERE SystemModstamp >= ${since}${converted} ORDER BY SystemModstamp LIMIT ${CRM_PAGE}`;
    const records = (await this.options.crm.query<CrmRecord>(soql)).records;
    let newest = cursor;
    for (const record of records) {
      result.crmRecords += 1;
      try {
        const prospectId = await this.syncCrmRecord(object, record, result);
        if (prospectId !== undefined) touched.add(prospectId);
      } catch (error) {
        result.errors.push({
          side: 'marketing',
          record: `${object} ${record.Id}`,
          message: (error as Error).message,
        });
      }
      const stamp = syncValue(record.SystemModstamp);
      if (stamp && stamp > newest) newest = stamp;
    }
    await store.saveCursor(this.options.database.db, this.cursorName(object), newest);
  }

  private async captureMarketing(result: PassResult, touched: Set<number>): Promise<void> {
    const cursor = await this.cursor('marketing');
    const since = new Date(Date.parse(cursor) - OVERLAP_MS).toISOString();
    const prospects = await this.options.marketing.prospectsUpdatedSince(since, this.prospectFieldList());
    let newest = cursor;
    for (const prospect of prospects) {
      result.prospects += 1;
      const stamp = syncValue(prospect.updatedAt);
      if (stamp && stamp > newest) newest = stamp;
      // Already reconciled in this pass from the CRM side (its update is most likely our own echo).
      if (touched.has(prospect.id)) continue;
      try {
        await this.syncProspect(prospect, result);
      } catch (error) {
        result.errors.push({
          side: 'crm',
          record: `prospect ${prospect.id}`,
          message: (error as Error).message,
        });
      }
    }
    await store.saveCursor(this.options.database.db, this.cursorName('marketing'), newest);
  }

  // ---- one record --------------------------------------------------------------------------------

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
    }
    await this.reconcile(link, record, prospect, result);
    return link.prospectId;
  }

  private async syncProspect(prospect: ProspectRecord, result: PassResult): Promise<void> {
    const { database, unitId, crm } = this.options;
    const link = await store.selectLinkByProspect(database.db, unitId, prospect.id);
    if (!link) return;
    const [record] = (
      await crm.query<CrmRecord>(
        `SELECT ${this.crmFieldList(link.crmObject).join(', ')} FROM ${link.crmObject} WHERE Id = '${link.crmId}'`,
      )
    ).records;
    if (!record) return;
    await this.reconcile(link, record, prospect, result);
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
      const saved = await this.options.crm.sobject(link.crmObject).update({ Id: link.crmId, ...toCrm });
      if (!saved.success) {
        const message = (saved as { errors?: Array<{ message?: string }> }).errors
          ?.map((e) => e.message)
          .join('; ');
        // The CRM refused: those fields stay unsynced, to be tried again on the next change.
        for (const mapping of this.mappings[link.crmObject]) {
          if (mapping.crmField in toCrm)
            lastSynced[mapping.prospectField] = link.lastSynced[mapping.prospectField] ?? null;
        }
        result.errors.push({
          side: 'crm',
          record: `${link.crmObject} ${link.crmId}`,
          message: message ?? 'refused',
        });
      } else {
        result.writesToCrm += 1;
      }
    }
    await store.saveLink(this.options.database.db, { ...link, lastSynced }, this.options.now().toISOString());
  }

  private crmFieldList(object: CrmObject): string[] {
    return [...new Set(['Id', 'SystemModstamp', 'Email', ...this.mappings[object].map((m) => m.crmField)])];
  }

  private prospectFieldList(): string[] {
    const names = new Set(['id', 'email', 'updatedAt']);
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

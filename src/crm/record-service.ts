// Over 400 lines on purpose: every REST write (create, update, upsert, delete, undelete; one and many) runs the same prepare → validate → trigger → history pipeline here; its pure rules are in domain/.
import { checkStreamingRecord } from './domain/push-topic.js';
import { HandoffError, isHandoffError } from '../errors/handoff-error.js';
import type { Database, StoreDb } from '../store/database.js';
import type { UnitOfWork } from '../store/unit-of-work.js';
import type { CrmConfig } from './crm-config.js';
import type { CallContext } from './domain/call-context.js';
import { keyPrefixOf, normalizeId, type IdAllocator } from './domain/record-id.js';
import {
  applyDefaults,
  applyDerivedFields,
  assignAutoNumbers,
  checkRequiredFields,
  checkValidationRules,
  readInput,
} from './domain/record-rules.js';
import { failed, saved, type SaveResult } from './domain/save-result.js';
import type { RecordChange } from './domain/change-event.js';
import type { ChangeRecorder } from './events/change-event-service.js';
import type { FieldDef, FieldValue, ObjectDef, RecordValues } from './domain/schema/field-def.js';
import type { SchemaRegistry } from './domain/schema/schema-registry.js';
import * as records from './store/record-store.js';

/** One record on its way to being written. */
interface Pending {
  def: ObjectDef;
  /** Set for updates: the stored record before the change. */
  existing?: RecordValues;
  /** The full record after the change. */
  record: RecordValues;
  error?: HandoffError;
  id?: string;
}

export interface RecordServiceDeps {
  schema: SchemaRegistry;
  database: Database;
  unitOfWork: UnitOfWork;
  ids: IdAllocator;
  config: CrmConfig;
  /** Where committed changes become change events. */
  events: ChangeRecorder;
  now?: () => Date;
}

export interface UpsertItem {
  value: string;
  input: Record<string, unknown>;
}

const SYSTEM_REFERENCE_FIELDS = new Set(['CreatedById', 'LastModifiedById']);

function notFound(): HandoffError {
  return new HandoffError('NOT_FOUND', 'The requested resource does not exist');
}

function toError(error: unknown): HandoffError {
  if (isHandoffError(error)) return error;
  throw error;
}

/**
 * Record writes and reads with Salesforce's rules: validation, defaults, references,
 * uniqueness, duplicate rules, lead assignment and system fields. Every write runs in one
 * transaction (or the composite request's), and per-record failures are values, not throws.
 */
export class RecordService {
  private readonly schema: SchemaRegistry;
  private readonly database: Database;
  private readonly unitOfWork: UnitOfWork;
  private readonly ids: IdAllocator;
  private readonly config: CrmConfig;
  private readonly events: ChangeRecorder;
  private readonly now: () => Date;
  private activeUsers: string[] | null = null;
  private nextAssignee = 0;

  constructor(deps: RecordServiceDeps) {
    this.schema = deps.schema;
    this.database = deps.database;
    this.unitOfWork = deps.unitOfWork;
    this.ids = deps.ids;
    this.config = deps.config;
    this.events = deps.events;
    this.now = deps.now ?? (() => new Date());
  }

  /** Seeds id counters from the stored records; call once after the tables exist. */
  async start(): Promise<void> {
    for (const def of this.schema.allObjects()) {
      this.ids.seed(def.keyPrefix, await records.selectHighestId(this.database.db, def));
    }
  }

  /** A fresh id, for records the org creates itself (the org and its first admin). */
  allocateId(keyPrefix: string): string {
    return this.ids.allocate(keyPrefix);
  }

  objectDef(type: string): ObjectDef {
    const def = this.schema.object(type);
    if (!def) throw new HandoffError('NOT_FOUND', 'The requested resource does not exist');
    return def;
  }

  /** For Collections and SOQL, where an unknown type is INVALID_TYPE rather than a missing resource. */
  objectDefForType(type: string): ObjectDef {
    const def = this.schema.object(type);
    if (!def) throw new HandoffError('INVALID_TYPE', `sObject type '${type}' is not supported.`);
    return def;
  }

  /**
   * A record that failed before its object was known (bad type, malformed id). It only carries
   * its error: every later step skips failed records, so the object it names is never read.
   */
  private failedBeforeTyped(error: HandoffError, id?: string | null): Pending {
    return { def: this.objectDef('User'), record: {}, error, id: id ?? undefined };
  }

  private db(): StoreDb {
    return this.unitOfWork.current();
  }

  private writable(def: ObjectDef, action: 'create' | 'update' | 'delete'): void {
    const allowed =
      action === 'create' ? def.createable : action === 'update' ? def.updateable : def.deletable;
    if (!allowed) {
      throw new HandoffError('INVALID_TYPE', `sObject type '${def.name}' does not support ${action}.`);
    }
  }

  // ---- create -------------------------------------------------------------------------------

  private prepareCreate(def: ObjectDef, input: Record<string, unknown>): Pending {
    try {
      this.writable(def, 'create');
      if (input.Id !== undefined && input.Id !== null) {
        throw new HandoffError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', {
          fields: ['Id'],
        });
      }
      const record = readInput(this.schema, def, input, 'create');
      applyDefaults(def, record);
      applyDerivedFields(def, record);
      checkRequiredFields(def, record);
      checkStreamingRecord(this.schema, def.name, record, this.now());
      checkValidationRules(def, record, this.config.validationRules);
      return { def, record };
    } catch (error) {
      return { def, record: {}, error: toError(error) };
    }
  }

  async create(ctx: CallContext, type: string, input: Record<string, unknown>): Promise<string> {
    const def = this.objectDef(type);
    const [result] = await this.save(ctx, [this.prepareCreate(def, input)], true);
    return this.unwrap(result);
  }

  async createMany(
    ctx: CallContext,
    items: Array<{ type: string; input: Record<string, unknown> }>,
    allOrNone: boolean,
  ): Promise<SaveResult[]> {
    const pending = items.map(({ type, input }) => {
      try {
        return this.prepareCreate(this.objectDefForType(type), input);
      } catch (error) {
        return this.failedBeforeTyped(toError(error));
      }
    });
    return this.save(ctx, pending, allOrNone);
  }

  // ---- update -------------------------------------------------------------------------------

  private async loadForWrite(def: ObjectDef, ids: string[]): Promise<Map<string, RecordValues>> {
    const rows = await records.selectByIds(this.db(), def, ids);
    return new Map(rows.map((r) => [String(r.Id), r]));
  }

  /**
   * The records an update list names, read 500 ids a query per object rather than one query a
   * record (a Bulk update of 10,000 rows spent most of its time on those lookups). Items whose
   * type or id is wrong are left out: their own checks answer them.
   */
  private async loadManyForWrite(
    items: ReadonlyArray<{ type: string; id: unknown }>,
  ): Promise<Map<string, RecordValues>> {
    const idsByDef = new Map<ObjectDef, string[]>();
    for (const item of items) {
      const id = typeof item.id === 'string' ? normalizeId(item.id) : null;
      if (!id) continue;
      let def: ObjectDef;
      try {
        def = this.objectDefForType(item.type);
      } catch {
        continue;
      }
      if (keyPrefixOf(id) !== def.keyPrefix) continue;
      const ids = idsByDef.get(def) ?? [];
      ids.push(id);
      idsByDef.set(def, ids);
    }
    const found = new Map<string, RecordValues>();
    for (const [def, ids] of idsByDef)
      for (let i = 0; i < ids.length; i += 500)
        for (const [id, record] of await this.loadForWrite(def, ids.slice(i, i + 500))) found.set(id, record);
    return found;
  }

  private existingCheck(def: ObjectDef, existing: RecordValues | undefined): RecordValues {
    if (!existing) throw notFound();
    if (existing.IsDeleted === true) throw new HandoffError('ENTITY_IS_DELETED', 'entity is deleted');
    if (def.name === 'Lead' && existing.IsConverted === true) {
      throw new HandoffError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead');
    }
    return existing;
  }

  private prepareUpdate(def: ObjectDef, existing: RecordValues, input: Record<string, unknown>): Pending {
    try {
      this.writable(def, 'update');
      const changes = readInput(this.schema, def, input, 'update');
      const record = { ...existing, ...changes };
      applyDerivedFields(def, record);
      checkRequiredFields(def, record);
      checkStreamingRecord(this.schema, def.name, record, this.now());
      checkValidationRules(def, record, this.config.validationRules);
      return { def, existing, record, id: String(existing.Id) };
    } catch (error) {
      return { def, existing, record: existing, error: toError(error), id: String(existing.Id) };
    }
  }

  async update(ctx: CallContext, type: string, rawId: string, input: Record<string, unknown>): Promise<void> {
    const def = this.objectDef(type);
    const id = this.requireId(def, rawId);
    const [result] = await this.unitOfWork.run(async () => {
      const existing = this.existingCheck(def, (await this.loadForWrite(def, [id])).get(id));
      return this.save(ctx, [this.prepareUpdate(def, existing, input)], true);
    });
    this.unwrap(result);
  }

  async updateMany(
    ctx: CallContext,
    items: Array<{ type: string; id: unknown; input: Record<string, unknown> }>,
    allOrNone: boolean,
  ): Promise<SaveResult[]> {
    return this.unitOfWork.run(async () => {
      const existing = await this.loadManyForWrite(items);
      const pending: Pending[] = [];
      for (const item of items) {
        const id = typeof item.id === 'string' ? normalizeId(item.id) : null;
        try {
          if (!id) {
            throw new HandoffError(
              'MALFORMED_ID',
              `record id is missing or malformed: ${String(item.id ?? '')}`,
              {
                fields: ['Id'],
              },
            );
          }
          const def = this.objectDefForType(item.type);
          if (keyPrefixOf(id) !== def.keyPrefix) throw notFound();
          pending.push(this.prepareUpdate(def, this.existingCheck(def, existing.get(id)), item.input));
        } catch (error) {
          pending.push(this.failedBeforeTyped(toError(error), id));
        }
      }
      return this.save(ctx, pending, allOrNone);
    });
  }

  // ---- upsert -------------------------------------------------------------------------------

  private externalIdField(def: ObjectDef, name: string): FieldDef {
    const f = this.schema.field(def, name);
    if (!f || !(f.externalId || f.name === 'Id')) {
      throw new HandoffError(
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${name}`,
      );
    }
    return f;
  }

  async upsertMany(
    ctx: CallContext,
    type: string,
    externalField: string,
    items: UpsertItem[],
    allOrNone: boolean,
    options: { updateOnly?: boolean } = {},
  ): Promise<SaveResult[]> {
    const def = this.objectDefForType(type);
    const f = this.externalIdField(def, externalField);
    return this.unitOfWork.run(async () => {
      const values = [...new Set(items.map((i) => i.value).filter((v) => v !== ''))];
      const matches = await records.selectByFieldValues(this.db(), this.database.dialect, def, f, values);
      const byValue = new Map<string, string[]>();
      for (const m of matches) {
        const key = String(m.value).toLowerCase();
        const list = byValue.get(key);
        if (list) list.push(m.id);
        else byValue.set(key, [m.id]);
      }
      const existing = await this.loadForWrite(
        def,
        matches.map((m) => m.id),
      );
      const pending: Pending[] = [];
      const created: boolean[] = [];
      for (const item of items) {
        const ids = byValue.get(item.value.toLowerCase()) ?? [];
        created.push(ids.length === 0);
        try {
          // An upsert keyed on Id inserts the rows that have none, as Salesforce's does.
          if (item.value === '' && f.name === 'Id' && !options.updateOnly) {
            const { Id: _none, ...input } = item.input;
            created[created.length - 1] = true;
            pending.push(this.prepareCreate(def, input));
            continue;
          }
          if (item.value === '') {
            throw new HandoffError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${f.name}]`, {
              fields: [f.name],
            });
          }
          if (ids.length > 1) {
            throw new HandoffError(
              'DUPLICATE_EXTERNAL_ID',
              `${f.label}: more than one record found for external id field: [${ids.join(', ')}]`,
              { fields: [f.name], extra: { matchingIds: ids } },
            );
          }
          const { [f.name]: _ignored, ...input } = item.input;
          if (ids.length === 1) {
            pending.push(this.prepareUpdate(def, this.existingCheck(def, existing.get(ids[0] ?? '')), input));
          } else if (options.updateOnly) {
            throw notFound();
          } else {
            pending.push(this.prepareCreate(def, { ...input, [f.name]: item.value }));
          }
        } catch (error) {
          pending.push({ def, record: {}, error: toError(error) });
        }
      }
      const results = await this.save(ctx, pending, allOrNone);
      // Each result says whether its row would make a record, refused or rolled back too (as
      // Salesforce's upsert results do).
      return results.map((r, i) => ({ ...r, created: created[i] ?? false }));
    });
  }

  async upsert(
    ctx: CallContext,
    type: string,
    externalField: string,
    value: string,
    input: Record<string, unknown>,
    options: { updateOnly?: boolean } = {},
  ): Promise<{ id: string; created: boolean }> {
    this.externalIdField(this.objectDef(type), externalField);
    const [result] = await this.upsertMany(ctx, type, externalField, [{ value, input }], true, options);
    const id = this.unwrap(result);
    return { id, created: result?.created ?? false };
  }

  // ---- delete -------------------------------------------------------------------------------

  /**
   * Deletes to the recycle bin, or with `hard` (Bulk API's hardDelete) removes the records for
   * good: they are then neither in queryAll nor in the deleted window. With `masterRecordId`
   * (a merge), the deleted records point at the record that absorbed them.
   */
  async deleteMany(
    ctx: CallContext,
    rawIds: string[],
    allOrNone: boolean,
    options: { hard?: boolean; masterRecordId?: string } = {},
  ): Promise<SaveResult[]> {
    return this.unitOfWork.run(async () => {
      const now = this.now().toISOString();
      const results: SaveResult[] = [];
      const toDelete = new Map<ObjectDef, string[]>();
      for (const raw of rawIds) {
        const id = normalizeId(raw);
        const def = id ? this.schema.objectForPrefix(keyPrefixOf(id)) : undefined;
        try {
          if (!id || !def) throw new HandoffError('MALFORMED_ID', `malformed id ${raw}`);
          this.writable(def, 'delete');
          const existing = (await this.loadForWrite(def, [id])).get(id);
          if (!existing) throw new HandoffError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
          if (existing.IsDeleted === true) throw new HandoffError('ENTITY_IS_DELETED', 'entity is deleted');
          const list = toDelete.get(def);
          if (list) list.push(id);
          else toDelete.set(def, [id]);
          results.push(saved(id));
        } catch (error) {
          results.push(failed(toError(error), id));
        }
      }
      if (allOrNone && results.some((r) => !r.success)) return this.rolledBack(results);
      const changes: RecordChange[] = [];
      for (const [def, ids] of toDelete) {
        if (options.hard) await records.purgeRecords(this.db(), def, ids);
        else {
          // A merge's losers remember the record they were merged into.
          if (options.masterRecordId)
            for (const id of ids)
              await records.updateRecord(this.db(), def, id, { MasterRecordId: options.masterRecordId });
          await records.markDeleted(this.db(), def, ids, now, ctx.userId);
        }
        for (const id of ids) changes.push({ def, changeType: 'DELETE', recordId: id, values: {} });
      }
      await this.events.record(ctx, changes);
      if ([...toDelete.keys()].some((d) => d.name === 'User')) this.activeUsers = null;
      return results;
    });
  }

  async delete(ctx: CallContext, type: string, rawId: string): Promise<void> {
    const def = this.objectDef(type);
    const id = this.requireId(def, rawId);
    const [result] = await this.deleteMany(ctx, [id], true);
    // A missing record is a missing resource here (404), where Collections calls it a bad reference.
    if (result?.errors[0]?.code === 'INVALID_CROSS_REFERENCE_KEY') throw notFound();
    this.unwrap(result);
  }

  /**
   * Writes fields the server maintains (conversion fields, a member's contact …), which API
   * callers may not set, through the same checks and system-field upkeep as any update.
   */
  async systemUpdate(ctx: CallContext, type: string, id: string, changes: RecordValues): Promise<void> {
    const def = this.objectDef(type);
    const [result] = await this.unitOfWork.run(async () => {
      const existing = (await this.loadForWrite(def, [id])).get(id);
      if (!existing || existing.IsDeleted === true) throw notFound();
      const record = { ...existing, ...changes };
      applyDerivedFields(def, record);
      return this.save(ctx, [{ def, existing, record, id }], true);
    });
    this.unwrap(result);
  }

  /** Brings records back from the recycle bin. */
  async undelete(ctx: CallContext, rawIds: string[]): Promise<SaveResult[]> {
    return this.unitOfWork.run(async (db) => {
      const now = this.now().toISOString();
      const results: SaveResult[] = [];
      const changes: RecordChange[] = [];
      for (const raw of rawIds) {
        const id = normalizeId(raw);
        const def = id ? this.schema.objectForPrefix(keyPrefixOf(id)) : undefined;
        try {
          if (!id || !def) throw new HandoffError('MALFORMED_ID', `malformed id ${raw}`);
          const existing = (await this.loadForWrite(def, [id])).get(id);
          if (!existing) throw new HandoffError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
          if (existing.IsDeleted !== true)
            throw new HandoffError('UNDELETE_FAILED', 'Entity is not in the recycle bin');
          await this.checkUniqueOnUndelete(db, def, existing);
          await records.markUndeleted(db, def, id, now, ctx.userId);
          if (def.name === 'User') this.activeUsers = null;
          const restored = {
            ...existing,
            IsDeleted: false,
            LastModifiedDate: now,
            LastModifiedById: ctx.userId,
          };
          changes.push({ def, changeType: 'UNDELETE', recordId: id, values: restored });
          results.push(saved(id));
        } catch (error) {
          results.push(failed(toError(error), id));
        }
      }
      await this.events.record(ctx, changes);
      return results;
    });
  }

  /** A record back from the recycle bin may not take a unique value a live record has since taken. */
  private async checkUniqueOnUndelete(db: StoreDb, def: ObjectDef, existing: RecordValues): Promise<void> {
    for (const f of def.fields.filter((x) => x.unique)) {
      const value = existing[f.name];
      if (typeof value !== 'string') continue;
      const holder = (await records.selectByFieldValues(db, this.database.dialect, def, f, [value]))[0];
      if (holder && holder.id !== existing.Id) throw duplicateValue(f, holder.id);
    }
  }

  /** Empties the recycle bin of records deleted more than `days` ago (Salesforce keeps them 15 days). */
  async purgeRecycleBin(days = 15): Promise<number> {
    const before = new Date(this.now().getTime() - days * 86_400_000).toISOString();
    let purged = 0;
    for (const def of this.schema.allObjects())
      purged += await records.purgeDeletedBefore(this.db(), def, before);
    return purged;
  }

  /** Live ids of `type` whose reference field `field` points at `id`. */
  async idsReferencing(type: string, field: string, id: string): Promise<string[]> {
    const def = this.objectDef(type);
    const f = this.schema.field(def, field);
    if (!f)
      throw new HandoffError('INVALID_FIELD', `No such column '${field}' on sobject of type ${def.name}`);
    const matches = await records.selectByFieldValues(this.db(), this.database.dialect, def, f, [id]);
    return matches.map((m) => m.id);
  }

  // ---- read ---------------------------------------------------------------------------------

  requireId(def: ObjectDef, raw: string): string {
    const id = normalizeId(raw);
    if (!id || keyPrefixOf(id) !== def.keyPrefix) {
      throw new HandoffError('MALFORMED_ID', `${def.label} ID: id value of incorrect type: ${raw}`);
    }
    return id;
  }

  async retrieve(type: string, rawId: string): Promise<RecordValues> {
    const def = this.objectDef(type);
    const id = this.requireId(def, rawId);
    const [record] = await records.selectByIds(this.db(), def, [id]);
    if (!record) throw notFound();
    if (record.IsDeleted === true) throw new HandoffError('ENTITY_IS_DELETED', 'entity is deleted');
    return record;
  }

  async retrieveByExternalId(type: string, field: string, value: string): Promise<RecordValues> {
    const def = this.objectDef(type);
    const f = this.externalIdField(def, field);
    const matches = await records.selectByFieldValues(this.db(), this.database.dialect, def, f, [value]);
    if (matches.length === 0) throw notFound();
    if (matches.length > 1) {
      throw new HandoffError('DUPLICATE_EXTERNAL_ID', `more than one record found for external id field`, {
        extra: { matchingIds: matches.map((m) => m.id) },
      });
    }
    return this.retrieve(type, matches[0]?.id ?? '');
  }

  /** Live records in the order asked; null where an id is unknown, malformed or deleted. */
  async retrieveMany(type: string, rawIds: string[]): Promise<Array<RecordValues | null>> {
    const def = this.objectDefForType(type);
    const ids = rawIds.map((raw) => {
      const id = normalizeId(raw);
      return id && keyPrefixOf(id) === def.keyPrefix ? id : null;
    });
    const found = await records.selectByIds(
      this.db(),
      def,
      ids.filter((id): id is string => id !== null),
    );
    const byId = new Map(found.filter((r) => r.IsDeleted !== true).map((r) => [String(r.Id), r]));
    return ids.map((id) => (id ? (byId.get(id) ?? null) : null));
  }

  // ---- the shared write path ----------------------------------------------------------------

  private unwrap(result: SaveResult | undefined): string {
    if (!result) throw new HandoffError('UNKNOWN_EXCEPTION', 'no result');
    if (!result.success || !result.id) {
      throw result.errors[0] ?? new HandoffError('UNKNOWN_EXCEPTION', 'write failed');
    }
    return result.id;
  }

  private rolledBack(results: SaveResult[]): SaveResult[] {
    return results.map((r) =>
      r.success
        ? failed(
            new HandoffError(
              'ALL_OR_NONE_OPERATION_ROLLED_BACK',
              'Record rolled back because not all records were valid and the request was using AllOrNone header',
            ),
          )
        : { ...r, id: null },
    );
  }

  private async save(ctx: CallContext, pending: Pending[], allOrNone: boolean): Promise<SaveResult[]> {
    return this.unitOfWork.run(async (db) => {
      await this.assignOwners(ctx, pending);
      await this.checkReferences(db, pending);
      await this.checkUniqueFields(db, pending);
      await this.checkDuplicateRules(db, pending);
      const results = pending.map((p) => (p.error ? failed(p.error, p.id ?? null) : null));
      if (allOrNone && results.some((r) => r !== null)) {
        return this.rolledBack(results.map((r) => r ?? saved('')));
      }
      const now = this.now().toISOString();
      const inserts = new Map<ObjectDef, RecordValues[]>();
      const events: RecordChange[] = [];
      const out: SaveResult[] = [];
      for (const p of pending) {
        if (p.error) {
          out.push(failed(p.error, p.id ?? null));
          continue;
        }
        const system = { LastModifiedDate: now, LastModifiedById: ctx.userId, SystemModstamp: now };
        if (p.existing) {
          const changes: RecordValues = { ...system };
          for (const [name, value] of Object.entries(p.record)) {
            if (p.existing[name] !== value) changes[name] = value;
          }
          await records.updateRecord(db, p.def, String(p.existing.Id), changes);
          events.push({ def: p.def, changeType: 'UPDATE', recordId: String(p.existing.Id), values: changes });
          out.push(saved(String(p.existing.Id)));
        } else {
          const id = this.ids.allocate(p.def.keyPrefix);
          Object.assign(p.record, system, {
            Id: id,
            IsDeleted: false,
            CreatedDate: now,
            CreatedById: ctx.userId,
          });
          assignAutoNumbers(p.def, p.record);
          const list = inserts.get(p.def);
          if (list) list.push(p.record);
          else inserts.set(p.def, [p.record]);
          events.push({ def: p.def, changeType: 'CREATE', recordId: id, values: p.record });
          out.push(saved(id));
        }
        if (p.def.name === 'User') this.activeUsers = null;
      }
      for (const [def, rows] of inserts) await records.insertRecords(db, def, rows);
      await this.events.record(ctx, events);
      return out;
    });
  }

  /** Default owner is the caller; new Leads go round robin over active users unless the caller opts out. */
  private async assignOwners(ctx: CallContext, pending: Pending[]): Promise<void> {
    const assigning = this.config.leadAssignment === 'round-robin';
    for (const p of pending) {
      if (p.error || !p.def.fields.some((f) => f.name === 'OwnerId')) continue;
      const isLead = p.def.name === 'Lead';
      const ruleApplies =
        isLead && assigning && (p.existing ? ctx.autoAssign === true : ctx.autoAssign !== false);
      if (ruleApplies) {
        const users = await this.activeUserIds();
        if (users.length > 0) {
          p.record.OwnerId = users[this.nextAssignee++ % users.length] ?? ctx.userId;
          continue;
        }
      }
      if (!p.existing && (p.record.OwnerId === null || p.record.OwnerId === undefined)) {
        p.record.OwnerId = ctx.userId;
      }
    }
  }

  private async activeUserIds(): Promise<string[]> {
    if (!this.activeUsers) {
      const userDef = this.objectDef('User');
      this.activeUsers = await records.selectActiveUserIds(this.db(), userDef.table);
    }
    return this.activeUsers;
  }

  private changedValue(p: Pending, name: string): FieldValue | undefined {
    const value = p.record[name];
    if (value === null || value === undefined) return undefined;
    if (p.existing && p.existing[name] === value) return undefined;
    return value;
  }

  /** Every reference written must point at a live record of an allowed type (owners: active users). */
  private async checkReferences(db: StoreDb, pending: Pending[]): Promise<void> {
    const wanted = new Map<ObjectDef, Set<string>>();
    const uses: Array<{ p: Pending; f: FieldDef; id: string; target: ObjectDef }> = [];
    for (const p of pending) {
      if (p.error) continue;
      for (const f of p.def.fields) {
        if (f.type !== 'reference' || SYSTEM_REFERENCE_FIELDS.has(f.name)) continue;
        const id = this.changedValue(p, f.name);
        if (typeof id !== 'string') continue;
        const target = this.schema.objectForPrefix(keyPrefixOf(id));
        if (!target) continue;
        // Owners are checked against the cached active users below, not with a query.
        if (f.name !== 'OwnerId') wanted.set(target, (wanted.get(target) ?? new Set()).add(id));
        uses.push({ p, f, id, target });
      }
    }
    const found = new Map<ObjectDef, Set<string>>();
    for (const [target, ids] of wanted)
      found.set(target, await records.selectExistingIds(db, target, [...ids]));
    const activeUsers = uses.some((u) => u.f.name === 'OwnerId') ? new Set(await this.activeUserIds()) : null;
    for (const { p, f, id, target } of uses) {
      if (p.error) continue;
      const ok = f.name === 'OwnerId' ? activeUsers?.has(id) : found.get(target)?.has(id);
      if (!ok) {
        p.error = new HandoffError(
          'INVALID_CROSS_REFERENCE_KEY',
          f.name === 'OwnerId' ? 'operation performed with inactive user' : `invalid cross reference id`,
          { fields: [f.name] },
        );
      }
    }
  }

  /**
   * The values pending records write to `f` (text only), and the live records that already hold
   * any of them: the common ground of unique fields and duplicate rules.
   */
  private async holders(
    db: StoreDb,
    pending: Pending[],
    def: ObjectDef,
    f: FieldDef,
  ): Promise<{
    claims: Array<{ p: Pending; value: string }>;
    stored: Array<{ id: string; value: FieldValue }>;
  }> {
    const claims = pending
      .filter((p) => !p.error && p.def === def)
      .map((p) => ({ p, value: this.changedValue(p, f.name) }))
      .filter((c): c is { p: Pending; value: string } => typeof c.value === 'string');
    if (claims.length === 0) return { claims, stored: [] };
    const values = claims.map((c) => c.value);
    return { claims, stored: await records.selectByFieldValues(db, this.database.dialect, def, f, values) };
  }

  private async checkUniqueFields(db: StoreDb, pending: Pending[]): Promise<void> {
    const defs = new Set(pending.filter((p) => !p.error).map((p) => p.def));
    for (const def of defs) {
      for (const f of def.fields.filter((x) => x.unique)) {
        const { claims, stored } = await this.holders(db, pending, def, f);
        const owner = new Map(stored.map((s) => [String(s.value).toLowerCase(), s.id]));
        for (const { p, value } of claims) {
          const key = value.toLowerCase();
          const holder = owner.get(key);
          if (holder && holder !== p.id) {
            p.error = duplicateValue(f, holder);
          } else {
            // Later records in the same batch may not take the value either.
            owner.set(key, p.id ?? 'this batch');
          }
        }
      }
    }
  }

  private async checkDuplicateRules(db: StoreDb, pending: Pending[]): Promise<void> {
    for (const rule of this.config.duplicateRules) {
      if (rule.action !== 'block') continue;
      const def = this.objectDef(rule.object);
      const f = this.schema.field(def, rule.field);
      if (!f) continue;
      const { claims, stored } = await this.holders(db, pending, def, f);
      for (const { p, value } of claims) {
        const matches = stored.filter(
          (s) => String(s.value).toLowerCase() === value.toLowerCase() && s.id !== p.id,
        );
        if (matches.length === 0) continue;
        p.error = new HandoffError('DUPLICATES_DETECTED', 'Use one of these records?', {
          extra: {
            duplicateResult: this.duplicateResult(
              def,
              matches.map((m) => m.id),
            ),
          },
        });
      }
    }
  }

  private duplicateResult(def: ObjectDef, ids: string[]): Record<string, unknown> {
    return {
      allowSave: false,
      duplicateRule: `Standard_${def.name}_Duplicate_Rule`,
      duplicateRuleEntityType: def.name,
      errorMessage: 'Use one of these records?',
      matchResults: [
        {
          entityType: def.name,
          errors: [],
          matchEngine: 'ExactMatchEngine',
          matchRecords: ids.map((id) => ({
            additionalInformation: [],
            fieldDiffs: [],
            matchConfidence: 100,
            record: {
              attributes: { type: def.name, url: `/services/data/v60.0/sobjects/${def.name}/${id}` },
              Id: id,
            },
          })),
          rule: `Standard_${def.name}_Match_Rule_v1_0`,
          size: ids.length,
          success: true,
        },
      ],
    };
  }

  // ---- change windows -----------------------------------------------------------------------

  async updatedIds(type: string, start: string, end: string, limit: number): Promise<string[]> {
    return records.selectUpdatedIds(this.db(), this.objectDef(type), start, end, limit);
  }

  async deletedRecords(type: string, start: string, end: string, limit: number) {
    const def = this.objectDef(type);
    return {
      deleted: await records.selectDeleted(this.db(), def, start, end, limit),
      earliest: await records.selectEarliestDeletion(this.db(), def),
    };
  }
}

/** A unique field's value already held by another live record, as Salesforce words it. */
function duplicateValue(f: FieldDef, holderId: string): HandoffError {
  return new HandoffError(
    'DUPLICATE_VALUE',
    `duplicate value found: ${f.name} duplicates value on record with id: ${holderId}`,
    { fields: [f.name] },
  );
}

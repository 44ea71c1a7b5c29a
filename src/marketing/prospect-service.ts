// Over 400 lines on purpose: every prospect write (v5, legacy, forms, imports, ingest) shares this one create/update pipeline with its email locks, grading and history.
import { createHash } from 'node:crypto';
import type { Database, StoreDb } from '../store/database.js';
import type { UnitOfWork } from '../store/unit-of-work.js';
import { customFieldKey, type BusinessUnit, type CustomField } from './domain/business-unit.js';
import { MarketingError } from './domain/marketing-error.js';
import { gradeFor, type GradingProfile } from './domain/grading.js';
import {
  creationChange,
  diffValues,
  historyChanges,
  type Actor,
  type FieldChange,
  type Prospect,
} from './domain/prospect.js';
import {
  coerceProspectValue,
  FIELD_BY_LEGACY,
  FIELD_BY_NAME,
  PROSPECT_FIELDS,
  type ProspectFieldType,
  type ProspectValue,
} from './domain/prospect-fields.js';
import * as prospects from './store/prospect-store.js';
import * as units from './store/unit-store.js';

export interface ProspectServiceDeps {
  database: Database;
  unitOfWork: UnitOfWork;
  now: () => Date;
  /** The grading profile: with one, every write regrades the prospect (unless it sets the grade). */
  grading?: GradingProfile | null;
}

/** A committed-to-be write, told to observers inside its transaction (webhooks, automation). */
export interface ProspectWrite {
  unit: BusinessUnit;
  prospectId: number;
  kind: 'created' | 'updated' | 'deleted' | 'undeleted';
  /** The fields given on create, or changed on update. */
  fields: string[];
  actor: Actor;
}

export type ProspectObserver = (write: ProspectWrite) => Promise<void>;

/** How a request names fields: v5's camelCase or v3/v4's snake_case. */
export type FieldNaming = 'v5' | 'legacy';

interface ResolvedField {
  name: string;
  type: ProspectFieldType;
  maxLength?: number;
  readOnly: boolean;
  syncOnly: boolean;
}

const CUSTOM_TYPES: Record<CustomField['type'], ProspectFieldType> = {
  Text: 'string',
  Textarea: 'string',
  Dropdown: 'string',
  'Radio Button': 'string',
  'Multi-Select': 'string',
  Number: 'number',
  Date: 'datetime',
  Checkbox: 'boolean',
};

/** The values a new prospect starts with unless given. */
const CREATE_DEFAULTS: Readonly<Record<string, ProspectValue>> = {
  optedOut: false,
  isDoNotEmail: false,
  isDoNotCall: false,
  isReviewed: false,
  isStarred: false,
  score: 0,
};

/** A lock key per (unit, email): concurrent creates of one email take turns on PostgreSQL. */
function emailLockKey(unitId: string, email: string): number {
  return createHash('sha256').update(`${unitId}:${email.toLowerCase()}`).digest().readInt32BE(0);
}

/**
 * Prospects of a business unit with Account Engagement's rules: email matching without regard
 * to case, one prospect per email unless the unit allows several (v4), a recycle bin, and a
 * field-level history of every change with its actor.
 */
export class ProspectService {
  private readonly customCache = new Map<string, CustomField[]>();
  private readonly observers: ProspectObserver[] = [];

  constructor(private readonly deps: ProspectServiceDeps) {}

  /**
   * Tells `observer` of every write, inside the write's transaction: what it writes (a webhook
   * in the outbox) commits or rolls back with the change itself.
   */
  observe(observer: ProspectObserver): void {
    this.observers.push(observer);
  }

  private async told(write: ProspectWrite): Promise<void> {
    for (const observer of this.observers) await observer(write);
  }

  private db(): StoreDb {
    return this.deps.unitOfWork.current();
  }

  /** The values with the grade they earn, where grading is on and the write does not set one. */
  private graded(
    before: Record<string, ProspectValue>,
    values: Record<string, ProspectValue>,
  ): Record<string, ProspectValue> {
    const profile = this.deps.grading;
    if (!profile || 'grade' in values) return values;
    const grade = gradeFor(profile, { ...before, ...values });
    return grade === before.grade ? values : { ...values, grade };
  }

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  // ---- custom fields ------------------------------------------------------------------------

  async customFields(unitId: string): Promise<CustomField[]> {
    let list = this.customCache.get(unitId);
    if (!list) {
      list = await units.selectCustomFields(this.deps.database.db, unitId);
      this.customCache.set(unitId, list);
    }
    return list;
  }

  async createCustomField(
    unitId: string,
    input: { name: string; fieldId: string; type: CustomField['type'] },
  ): Promise<CustomField> {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(input.fieldId) || input.fieldId.includes('__')) {
      throw new MarketingError(62, `Invalid value for field fieldId: ${input.fieldId}`);
    }
    if (FIELD_BY_NAME.has(input.fieldId) || FIELD_BY_LEGACY.has(input.fieldId)) {
      throw new MarketingError(62, `Invalid value for field fieldId: ${input.fieldId} is a standard field`);
    }
    const existing = await units.selectCustomFieldByFieldId(
      this.deps.database.db,
      this.deps.database.dialect,
      unitId,
      input.fieldId,
    );
    if (existing) throw new MarketingError(62, `A custom field with fieldId ${input.fieldId} already exists`);
    const at = this.nowIso();
    const field = { ...input, createdAt: at, updatedAt: at };
    const id = await units.insertCustomField(this.deps.database.db, unitId, field);
    this.customCache.delete(unitId);
    return { id, ...field };
  }

  /** A field by the name a request uses, standard or custom; undefined when the unit has none. */
  async resolveField(unitId: string, name: string, naming: FieldNaming): Promise<ResolvedField | undefined> {
    const standard = naming === 'v5' ? FIELD_BY_NAME.get(name) : FIELD_BY_LEGACY.get(name);
    if (standard) {
      return {
        name: standard.name,
        type: standard.type,
        maxLength: standard.maxLength,
        readOnly: standard.readOnly,
        syncOnly: standard.syncOnly === true,
      };
    }
    const bare = name.endsWith('__c') ? name.slice(0, -3) : naming === 'legacy' ? name : null;
    if (bare === null) return undefined;
    const custom = (await this.customFields(unitId)).find(
      (c) => c.fieldId.toLowerCase() === bare.toLowerCase(),
    );
    if (!custom) return undefined;
    return {
      name: customFieldKey(custom.fieldId),
      type: CUSTOM_TYPES[custom.type],
      readOnly: false,
      syncOnly: false,
    };
  }

  /**
   * Reads a request's field values into stored values. Unknown and read-only fields are
   * errors; the CRM link fields are writable only by the sync (`allowSyncFields`: a call that says
   * `X-Handoff-Actor: sync`, as Handoff's connector does).
   */
  async readInput(
    unit: Pick<BusinessUnit, 'id' | 'timeZone'>,
    input: Record<string, unknown>,
    naming: FieldNaming,
    allowSyncFields = false,
  ): Promise<Record<string, ProspectValue>> {
    const values: Record<string, ProspectValue> = {};
    for (const [name, raw] of Object.entries(input)) {
      const field = await this.resolveField(unit.id, name, naming);
      if (!field) throw new MarketingError(62, `Invalid field: ${name}`);
      if (field.readOnly || (field.syncOnly && !allowSyncFields)) {
        throw new MarketingError(62, `The field ${name} is read-only`);
      }
      values[field.name] = coerceProspectValue(field, raw, unit.timeZone);
    }
    return values;
  }

  // ---- reads --------------------------------------------------------------------------------

  async read(unitId: string, id: number): Promise<Prospect> {
    const found = await prospects.selectProspect(this.db(), unitId, id);
    if (!found) throw new MarketingError(3);
    return found;
  }

  byEmail(unitId: string, email: string, deleted: prospects.DeletedFilter = 'false'): Promise<Prospect[]> {
    return prospects.selectByEmail(this.db(), this.deps.database.dialect, unitId, email, deleted);
  }

  /** The latest live prospect for each of these emails, keyed by lowercased email. */
  async latestByEmails(unitId: string, emails: readonly string[]): Promise<Map<string, Prospect>> {
    const found = await prospects.selectByEmails(this.db(), this.deps.database.dialect, unitId, emails);
    const latest = new Map<string, Prospect>();
    for (const p of found) {
      const key = String(p.values.email).toLowerCase();
      if (!latest.has(key)) latest.set(key, p);
    }
    return latest;
  }

  /** CRM id → the most recently updated live prospect carrying it (as CRM, Lead or Contact id). */
  async latestByCrmIds(unitId: string, crmIds: readonly string[]): Promise<Map<string, Prospect>> {
    const latest = new Map<string, Prospect>();
    if (crmIds.length === 0) return latest;
    const wanted = new Set(crmIds);
    for (const p of await prospects.selectByCrmIds(this.db(), unitId, [...wanted])) {
      for (const field of ['salesforceId', 'salesforceLeadId', 'salesforceContactId']) {
        const id = p.values[field];
        if (typeof id === 'string' && wanted.has(id) && !latest.has(id)) latest.set(id, p);
      }
    }
    return latest;
  }

  byCrmId(unitId: string, crmId: string): Promise<Prospect[]> {
    return prospects.selectByCrmId(this.db(), unitId, crmId);
  }

  query(q: prospects.ProspectQuery): Promise<Prospect[]> {
    return prospects.queryProspects(this.deps.database.db, this.deps.database.dialect, q);
  }

  count(q: Omit<prospects.ProspectQuery, 'orderColumn' | 'descending' | 'limit'>): Promise<number> {
    return prospects.countProspects(this.deps.database.db, this.deps.database.dialect, q);
  }

  history(unitId: string, id: number): Promise<prospects.StoredChange[]> {
    return prospects.selectChanges(this.deps.database.db, unitId, id);
  }

  // ---- writes -------------------------------------------------------------------------------

  /** Creates a prospect; an email another live prospect has is refused unless the unit allows several. */
  async create(unit: BusinessUnit, actor: Actor, values: Record<string, ProspectValue>): Promise<Prospect> {
    const email = values.email;
    if (typeof email !== 'string' || email === '') throw new MarketingError(4);
    return this.deps.unitOfWork.run(async () => {
      if (!unit.allowMultiplePerEmail) {
        await this.lockEmail(unit.id, email);
        if ((await this.byEmail(unit.id, email)).length > 0) throw new MarketingError(9);
      }
      const at = this.nowIso();
      values = this.graded({}, values);
      const stored: Record<string, ProspectValue> = {
        ...CREATE_DEFAULTS,
        ...values,
        createdAt: at,
        updatedAt: at,
      };
      const id = await prospects.insertProspect(this.db(), unit.id, stored);
      // History keeps what the writer gave; the defaults are not changes anyone made.
      const created = creationChange(id, values, at, actor);
      if (created) await prospects.insertChanges(this.db(), unit.id, [created]);
      await this.told({ unit, prospectId: id, kind: 'created', fields: Object.keys(values), actor });
      return this.written(unit.id, id, stored);
    });
  }

  /**
   * Creates many prospects in one transaction (imports): the same rules as `create`, checked for
   * the whole batch at once, with each row's outcome — the prospect, or its error — in order.
   */
  async createMany(
    unit: BusinessUnit,
    actor: Actor,
    rows: Array<Record<string, ProspectValue>>,
  ): Promise<Array<Prospect | MarketingError>> {
    return this.deps.unitOfWork.run(async () => {
      const emails = rows.map((r) => (typeof r.email === 'string' ? r.email : ''));
      const taken = new Set<string>();
      if (!unit.allowMultiplePerEmail) {
        const distinct = [...new Set(emails.filter(Boolean).map((e) => e.toLowerCase()))].sort();
        for (const email of distinct) await this.lockEmail(unit.id, email);
        for (const p of await prospects.selectByEmails(
          this.db(),
          this.deps.database.dialect,
          unit.id,
          distinct,
        )) {
          taken.add(String(p.values.email).toLowerCase());
        }
      }
      const at = this.nowIso();
      const out: Array<Prospect | MarketingError | null> = [];
      const accepted: Array<{ index: number; values: Record<string, ProspectValue> }> = [];
      for (const [i, values] of rows.entries()) {
        const email = emails[i]!;
        if (email === '') {
          out.push(new MarketingError(4));
          continue;
        }
        if (!unit.allowMultiplePerEmail) {
          if (taken.has(email.toLowerCase())) {
            out.push(new MarketingError(9));
            continue;
          }
          taken.add(email.toLowerCase());
        }
        out.push(null);
        accepted.push({ index: i, values: this.graded({}, values) });
      }
      const stored = accepted.map(({ values }) => ({
        ...CREATE_DEFAULTS,
        ...values,
        createdAt: at,
        updatedAt: at,
      }));
      const ids = await prospects.insertProspects(this.db(), unit.id, stored);
      const history: FieldChange[] = [];
      accepted.forEach(({ index, values }, k) => {
        const id = ids[k]!;
        const created = creationChange(id, values, at, actor);
        if (created) history.push(created);
        out[index] = { id, unitId: unit.id, isDeleted: false, values: { ...stored[k]!, id } };
      });
      await prospects.insertChanges(this.db(), unit.id, history);
      if (this.observers.length > 0)
        for (const [k, { values }] of accepted.entries())
          await this.told({ unit, prospectId: ids[k]!, kind: 'created', fields: Object.keys(values), actor });
      return out as Array<Prospect | MarketingError>;
    });
  }

  /** What was stored, without reading it back: every standard field, null unless given. */
  private written(unitId: string, id: number, stored: Record<string, ProspectValue>): Prospect {
    const values: Record<string, ProspectValue> = { id };
    for (const field of PROSPECT_FIELDS)
      if (field.name !== 'id') values[field.name] = stored[field.name] ?? null;
    for (const [name, value] of Object.entries(stored)) if (name.endsWith('__c')) values[name] = value;
    return { id, unitId, isDeleted: false, values };
  }

  /** Updates the given fields; a deleted prospect can't be updated (219). */
  async update(
    unit: BusinessUnit,
    actor: Actor,
    id: number,
    values: Record<string, ProspectValue>,
  ): Promise<Prospect> {
    return this.deps.unitOfWork.run(async () => {
      const before = await this.read(unit.id, id);
      if (before.isDeleted) throw new MarketingError(219);
      const email = values.email;
      if (email === null) throw new MarketingError(4);
      if (
        typeof email === 'string' &&
        email.toLowerCase() !== String(before.values.email ?? '').toLowerCase()
      ) {
        if (!unit.allowMultiplePerEmail) {
          await this.lockEmail(unit.id, email);
          if ((await this.byEmail(unit.id, email)).some((p) => p.id !== id)) throw new MarketingError(9);
        }
      }
      values = this.graded(before.values, values);
      const changes = diffValues(before.values, values);
      if (changes.length === 0) return before;
      const at = this.nowIso();
      const changed: Record<string, ProspectValue> = { updatedAt: at };
      for (const c of changes) changed[c.field] = c.newValue;
      const custom = Object.keys(changed).some((k) => k.endsWith('__c'))
        ? Object.fromEntries(
            Object.entries({ ...before.values, ...changed }).filter(([k]) => k.endsWith('__c')),
          )
        : null;
      await prospects.updateProspect(this.db(), id, changed, custom);
      await this.record(unit.id, id, before.values, values, actor, at);
      await this.told({ unit, prospectId: id, kind: 'updated', fields: changes.map((c) => c.field), actor });
      return { ...before, values: { ...before.values, ...changed } };
    });
  }

  async remove(unit: BusinessUnit, actor: Actor, id: number): Promise<void> {
    await this.deps.unitOfWork.run(async () => {
      const before = await this.read(unit.id, id);
      if (before.isDeleted) throw new MarketingError(3);
      const at = this.nowIso();
      await prospects.setDeleted(this.db(), id, true, at);
      await prospects.insertChanges(this.db(), unit.id, [
        { prospectId: id, field: 'isDeleted', oldValue: false, newValue: true, changedAt: at, actor },
      ]);
      await this.told({ unit, prospectId: id, kind: 'deleted', fields: ['isDeleted'], actor });
    });
  }

  async undelete(unit: BusinessUnit, actor: Actor, id: number): Promise<Prospect> {
    return this.deps.unitOfWork.run(async () => {
      const before = await this.read(unit.id, id);
      if (!before.isDeleted) return before;
      const email = before.values.email;
      if (!unit.allowMultiplePerEmail && typeof email === 'string') {
        await this.lockEmail(unit.id, email);
        if ((await this.byEmail(unit.id, email)).length > 0) throw new MarketingError(9);
      }
      const at = this.nowIso();
      await prospects.setDeleted(this.db(), id, false, at);
      await prospects.insertChanges(this.db(), unit.id, [
        { prospectId: id, field: 'isDeleted', oldValue: true, newValue: false, changedAt: at, actor },
      ]);
      await this.told({ unit, prospectId: id, kind: 'undeleted', fields: ['isDeleted'], actor });
      return this.read(unit.id, id);
    });
  }

  /**
   * v5 `upsertLatestByEmail`: updates the most recently updated live prospect with the email;
   * with `secondaryDeletedSearch`, brings back the latest deleted one; otherwise creates.
   */
  async upsertLatestByEmail(
    unit: BusinessUnit,
    actor: Actor,
    email: string,
    values: Record<string, ProspectValue>,
    secondaryDeletedSearch: boolean,
  ): Promise<{ prospect: Prospect; created: boolean }> {
    return this.deps.unitOfWork.run(async () => {
      await this.lockEmail(unit.id, email);
      const [live] = await this.byEmail(unit.id, email);
      if (live) return { prospect: await this.update(unit, actor, live.id, values), created: false };
      if (secondaryDeletedSearch) {
        const [deleted] = await this.byEmail(unit.id, email, 'true');
        if (deleted) {
          await this.undelete(unit, actor, deleted.id);
          return { prospect: await this.update(unit, actor, deleted.id, values), created: false };
        }
      }
      return { prospect: await this.create(unit, actor, { email, ...values }), created: true };
    });
  }

  private async lockEmail(unitId: string, email: string): Promise<void> {
    const { dialect } = this.deps.database;
    // SQLite serialises writers already (no lock statement): skip hashing the key there.
    if (!dialect.transactionLock(0)) return;
    const lock = dialect.transactionLock(emailLockKey(unitId, email));
    if (lock) await lock.execute(this.db());
  }

  private async record(
    unitId: string,
    prospectId: number,
    before: Record<string, ProspectValue>,
    after: Record<string, ProspectValue>,
    actor: Actor,
    at: string,
  ): Promise<void> {
    const changes: FieldChange[] = historyChanges(before, after).map((c) => ({
      prospectId,
      ...c,
      changedAt: at,
      actor,
    }));
    await prospects.insertChanges(this.db(), unitId, changes);
  }
}

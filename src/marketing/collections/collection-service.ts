import type { Database, StoreDb } from '../../store/database.js';
import type { UnitOfWork } from '../../store/unit-of-work.js';
import { MarketingError } from '../domain/marketing-error.js';
import { coerceProspectValue, type ProspectValue } from '../domain/prospect-fields.js';
import type { ProspectService } from '../prospect-service.js';
import { COLLECTIONS, TAGGABLE, TAGGED_OBJECTS, type CollectionDef } from './collection-defs.js';
import * as store from './collection-store.js';
import { ownValue } from '../../own-value.js';

export type { CollectionRecord, CollectionQuery } from './collection-store.js';

/**
 * Create, read, update, delete and query for the simple v5 collections (campaigns, lists,
 * list memberships, tags): each field checked by type, references to live records of the same
 * unit, and uniqueness among live records where the definition asks for it.
 */
export class CollectionService {
  constructor(
    private readonly deps: {
      database: Database;
      unitOfWork: UnitOfWork;
      prospects: ProspectService;
      now: () => Date;
    },
  ) {}

  private db(): StoreDb {
    return this.deps.unitOfWork.current();
  }

  definition(name: string): CollectionDef | undefined {
    return COLLECTIONS.find((c) => c.name === name);
  }

  private byName(name: string): CollectionDef {
    const def = this.definition(name);
    if (!def) throw new Error(`no collection ${name}`);
    return def;
  }

  /** Request values → stored values, refusing unknown, read-only and (on update) create-only fields. */
  readInput(
    def: CollectionDef,
    input: Record<string, unknown>,
    mode: 'create' | 'update',
    timeZone = 'UTC',
  ): Record<string, ProspectValue> {
    const values: Record<string, ProspectValue> = {};
    for (const [name, raw] of Object.entries(input)) {
      const field = def.fields.find((f) => f.name === name);
      if (!field) throw new MarketingError(62, `Invalid field: ${name}`);
      if (field.readOnly || (mode === 'update' && field.createOnly)) {
        throw new MarketingError(62, `The field ${name} is read-only`);
      }
      values[name] = coerceProspectValue(
        { name, type: field.type, maxLength: field.maxLength ?? 255 },
        raw,
        timeZone,
      );
    }
    if (mode === 'create') {
      for (const field of def.fields) {
        if (field.required && (values[field.name] === null || values[field.name] === undefined)) {
          throw new MarketingError(13, `Required field is missing: ${field.name}`);
        }
      }
    }
    return values;
  }

  async read(def: CollectionDef, unitId: string, id: number): Promise<store.CollectionRecord> {
    const found = await store.selectRecord(this.db(), def, unitId, id);
    if (!found) throw new MarketingError(404, `Invalid ${def.label} ID: ${id}`);
    return found;
  }

  async create(
    def: CollectionDef,
    unitId: string,
    values: Record<string, ProspectValue>,
  ): Promise<store.CollectionRecord> {
    return this.deps.unitOfWork.run(async () => {
      def.validate?.(values);
      await this.checkReferences(def, unitId, values);
      await this.checkUnique(def, unitId, values, null);
      const at = this.deps.now().toISOString();
      const id = await store.insertRecord(this.db(), def, unitId, {
        ...values,
        createdAt: at,
        updatedAt: at,
      });
      return this.read(def, unitId, id);
    });
  }

  /** A record the engine itself writes (an activity, a visitor): no API-side field rules. */
  async createAsEngine(
    def: CollectionDef,
    unitId: string,
    values: Record<string, ProspectValue | undefined>,
  ): Promise<store.CollectionRecord> {
    const defined = Object.fromEntries(
      Object.entries(values).filter((entry): entry is [string, ProspectValue] => entry[1] !== undefined),
    );
    return this.deps.unitOfWork.run(async () => {
      const at = this.deps.now().toISOString();
      const stored: Record<string, ProspectValue> = { ...defined, createdAt: at, updatedAt: at };
      const id = await store.insertRecord(this.db(), def, unitId, stored);
      // What was stored, without reading it back (tracking writes thousands a second).
      const values: Record<string, ProspectValue> = {};
      for (const field of def.fields) values[field.name] = stored[field.name] ?? null;
      values.id = id;
      return { id, isDeleted: false, values };
    });
  }

  async update(
    def: CollectionDef,
    unitId: string,
    id: number,
    values: Record<string, ProspectValue>,
  ): Promise<store.CollectionRecord> {
    return this.deps.unitOfWork.run(async () => {
      const before = await this.read(def, unitId, id);
      if (before.isDeleted) throw new MarketingError(219);
      def.validate?.({ ...before.values, ...values });
      await this.checkReferences(def, unitId, values);
      await this.checkUnique(def, unitId, { ...before.values, ...values }, id);
      await store.updateRecord(this.db(), def, id, { ...values, updatedAt: this.deps.now().toISOString() });
      return this.read(def, unitId, id);
    });
  }

  async remove(def: CollectionDef, unitId: string, id: number): Promise<void> {
    await this.deps.unitOfWork.run(async () => {
      const before = await this.read(def, unitId, id);
      if (before.isDeleted) throw new MarketingError(404, `Invalid ${def.label} ID: ${id}`);
      await store.setDeleted(this.db(), def, id, this.deps.now().toISOString());
    });
  }

  count(
    def: CollectionDef,
    q: Omit<store.CollectionQuery, 'descending' | 'limit' | 'afterId'>,
  ): Promise<number> {
    return store.countRecords(this.deps.database.db, def, q);
  }

  query(def: CollectionDef, q: store.CollectionQuery): Promise<store.CollectionRecord[]> {
    return store.queryRecords(this.deps.database.db, def, q);
  }

  /**
   * Puts a tag on an object (idempotent: a tag already there is answered with its record).
   * The tag is named by id, or by name — created when the unit has no tag of that name.
   */
  async addTag(
    unitId: string,
    object: { collection: string; id: number },
    tag: { id?: number; name?: string },
  ): Promise<store.CollectionRecord> {
    return this.deps.unitOfWork.run(async () => {
      const objectType = await this.taggableObject(unitId, object);
      const tagId = await this.tagId(unitId, tag, true);
      const match = { tagId, objectType, objectId: object.id };
      const [existing] = await store.selectMatching(this.db(), TAGGED_OBJECTS, unitId, match);
      if (existing) return existing;
      return this.createAsEngine(TAGGED_OBJECTS, unitId, match);
    });
  }

  /** Takes a tag off an object; nothing to do when it was not there. */
  async removeTag(
    unitId: string,
    object: { collection: string; id: number },
    tag: { id?: number; name?: string },
  ): Promise<void> {
    await this.deps.unitOfWork.run(async () => {
      const objectType = await this.taggableObject(unitId, object);
      const tagId = await this.tagId(unitId, tag, false);
      if (tagId === null) return;
      const match = { tagId, objectType, objectId: object.id };
      for (const record of await store.selectMatching(this.db(), TAGGED_OBJECTS, unitId, match)) {
        await store.setDeleted(this.db(), TAGGED_OBJECTS, record.id, this.deps.now().toISOString());
      }
    });
  }

  /** The object type name of a live taggable object, or the error for a missing one. */
  private async taggableObject(unitId: string, object: { collection: string; id: number }): Promise<string> {
    const objectType = ownValue(TAGGABLE, object.collection);
    if (!objectType) throw new MarketingError(404, `Objects of ${object.collection} cannot be tagged`);
    if (object.collection === 'prospects') {
      const prospect = await this.deps.prospects.read(unitId, object.id);
      if (prospect.isDeleted) throw new MarketingError(3);
    } else {
      const def = this.byName(object.collection);
      const record = await this.read(def, unitId, object.id);
      if (record.isDeleted) throw new MarketingError(404, `Invalid ${def.label} ID: ${object.id}`);
    }
    return objectType;
  }

  private async tagId(unitId: string, tag: { id?: number; name?: string }, create: true): Promise<number>;
  private async tagId(
    unitId: string,
    tag: { id?: number; name?: string },
    create: false,
  ): Promise<number | null>;
  private async tagId(
    unitId: string,
    tag: { id?: number; name?: string },
    create: boolean,
  ): Promise<number | null> {
    const tags = this.byName('tags');
    if (tag.id !== undefined) {
      const found = await store.selectRecord(this.db(), tags, unitId, tag.id);
      if (!found || found.isDeleted)
        throw new MarketingError(62, `Invalid value for field tagId: no such tag ${tag.id}`);
      return found.id;
    }
    const name = tag.name?.trim() ?? '';
    if (name === '') throw new MarketingError(13, 'Required parameter is missing: tagId');
    const [found] = await store.selectMatching(this.db(), tags, unitId, { name });
    if (found) return found.id;
    if (!create) return null;
    return (await this.create(tags, unitId, this.readInput(tags, { name }, 'create'))).id;
  }

  /** The live memberships of a list or a prospect (for the ingest's audiences and the connector). */
  memberships(
    unitId: string,
    match: { listId?: number; prospectId?: number },
  ): Promise<store.CollectionRecord[]> {
    return store.selectMatching(this.db(), this.byName('list-memberships'), unitId, match);
  }

  private async checkReferences(
    def: CollectionDef,
    unitId: string,
    values: Record<string, ProspectValue>,
  ): Promise<void> {
    for (const field of def.fields) {
      const value = values[field.name];
      if (!field.references || value === null || value === undefined) continue;
      const id = Number(value);
      const live =
        field.references === 'prospects'
          ? await this.deps.prospects.read(unitId, id).then(
              (p) => !p.isDeleted,
              () => false,
            )
          : await store
              .selectRecord(this.db(), this.byName(field.references), unitId, id)
              .then((r) => r !== undefined && !r.isDeleted);
      if (!live) throw new MarketingError(62, `Invalid value for field ${field.name}: no such record ${id}`);
    }
  }

  private async checkUnique(
    def: CollectionDef,
    unitId: string,
    values: Record<string, ProspectValue>,
    selfId: number | null,
  ): Promise<void> {
    if (!def.unique) return;
    const match = Object.fromEntries(def.unique.map((name) => [name, values[name] ?? null]));
    const clashes = (await store.selectMatching(this.db(), def, unitId, match)).filter(
      (r) => r.id !== selfId,
    );
    if (clashes.length > 0) {
      throw new MarketingError(
        62,
        `A ${def.label} with this ${def.unique.join(' and ')} already exists (id ${clashes[0]!.id})`,
      );
    }
  }
}

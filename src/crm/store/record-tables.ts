import { sql } from 'kysely';
import { currentSchema, type Database } from '../../store/database.js';
import type { ColumnKind } from '../../store/store-dialect.js';
import type { FieldDef, ObjectDef } from '../domain/schema/field-def.js';
import { isTextType } from '../domain/schema/field-def.js';
import type { SchemaRegistry } from '../domain/schema/schema-registry.js';
import { syncSearchIndexes } from './search-index.js';

/** When a record went to the recycle bin; not a Salesforce field, so never on the wire. */
export const DELETED_AT_COLUMN = '_deleted_at';

function columnKind(f: FieldDef): ColumnKind {
  if (f.type === 'id' || f.type === 'reference') return 'id';
  if (f.type === 'boolean') return 'boolean';
  if (f.type === 'int') return 'integer';
  if (f.type === 'double' || f.type === 'currency' || f.type === 'percent') return 'real';
  if (f.type === 'datetime' || f.type === 'date') return 'timestamp';
  return isTextType(f.type) ? 'ci-text' : 'text';
}

async function existingColumns(database: Database): Promise<Map<string, Set<string>>> {
  const tables = new Map<string, Set<string>>();
  const schema = await currentSchema(database);
  for (const table of await database.db.introspection.getTables()) {
    if (schema !== undefined && table.schema !== schema) continue;
    tables.set(table.name, new Set(table.columns.map((c) => c.name)));
  }
  return tables;
}

async function createIndexes(database: Database, def: ObjectDef, fields: FieldDef[]): Promise<void> {
  const { db, dialect } = database;
  const table = def.table;
  // The connector's delta reads: SystemModstamp windows paged by Id, and the recycle bin by date.
  await sql`create index if not exists ${sql.id(`${table}_modstamp`)} on ${sql.table(table)} ("SystemModstamp", "Id")`.execute(
    db,
  );
  // Partial: only recycle-bin records are ever looked up by deletion time, and live records would
  // otherwise cost every insert a write to this index.
  await sql`create index if not exists ${sql.id(`${table}_deleted_at`)} on ${sql.table(table)} (${sql.ref(DELETED_AT_COLUMN)})
    where ${sql.ref(DELETED_AT_COLUMN)} is not null`.execute(db);
  for (const f of fields) {
    // Lookups a parent's children are found by (Contact.AccountId for Account's Contacts): the
    // subqueries and semi-joins that follow them read by these.
    const wantsIndex =
      f.externalId ||
      f.unique ||
      f.name === 'Email' ||
      f.name === 'Username' ||
      (f.type === 'reference' && f.childRelationshipName !== null);
    if (!wantsIndex) continue;
    const expression = isTextType(f.type) ? dialect.ciIndexExpression(f.name) : sql.ref(f.name);
    const name = `${table}_${f.name.toLowerCase()}`;
    if (!f.unique) {
      await sql`create index if not exists ${sql.id(name)} on ${sql.table(table)} (${expression})`.execute(
        db,
      );
      continue;
    }
    // A unique value is held by live records only: one in the recycle bin frees it (and its
    // undelete is refused while another holds it), as Salesforce does. Stores made before this
    // had the index over every row, under the plain name.
    await sql`drop index if exists ${sql.id(name)}`.execute(db);
    await sql`create unique index if not exists ${sql.id(`${name}_live`)} on ${sql.table(table)} (${expression})
      where ${sql.ref(DELETED_AT_COLUMN)} is null`.execute(db);
  }
}

/**
 * Makes each object's table match the schema: creates missing tables, adds columns for fields
 * declared since (custom fields in config), and the indexes the connector's reads need.
 * Columns are never dropped: removing a field from config leaves its data in place.
 */
export async function syncRecordTables(database: Database, schema: SchemaRegistry): Promise<void> {
  const { db, dialect } = database;
  const existing = await existingColumns(database);
  for (const def of schema.allObjects()) {
    const columns = existing.get(def.table);
    if (!columns) {
      let create = db.schema.createTable(def.table);
      for (const f of def.fields) {
        create = create.addColumn(f.name, dialect.columnType(columnKind(f)), (col) =>
          f.name === 'Id' ? col.primaryKey() : col,
        );
      }
      create = create.addColumn(DELETED_AT_COLUMN, dialect.columnType('timestamp'));
      await create.execute();
    } else {
      for (const f of def.fields.filter((x) => !columns.has(x.name))) {
        await db.schema
          .alterTable(def.table)
          .addColumn(f.name, dialect.columnType(columnKind(f)))
          .execute();
        // Checkboxes are never null: the rows already there get false.
        if (f.type === 'boolean')
          await sql`update ${sql.table(def.table)} set ${sql.ref(f.name)} = 0`.execute(db);
      }
    }
    await createIndexes(database, def, def.fields);
  }
  await syncSearchIndexes(database, schema);
}

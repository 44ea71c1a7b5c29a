import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../store/database.js';
import type { FieldDef, ObjectDef } from '../domain/schema/field-def.js';
import type { SchemaRegistry } from '../domain/schema/schema-registry.js';
import { searchableFields } from '../domain/sosl/searchable.js';
import type { SearchExpression, SearchTerm } from '../domain/sosl/sosl.js';

type Sql = RawBuilder<unknown>;

/**
 * The text index SOSL searches, one per searchable object, kept by the database itself:
 *
 * - SQLite: an FTS5 table over the object's table (external content), kept by triggers — only
 *   updates of its text fields touch it;
 * - PostgreSQL: a GIN index on the text fields' tsvector.
 *
 * Both split text into lower-case runs of letters and digits, so `ann@example.com` is the tokens
 * ann, example, com on either store, and a search for it is the phrase of those tokens.
 */
export function ftsTable(def: ObjectDef): string {
  return `${def.table}_search`;
}

/**
 * PostgreSQL: the fields' text (of the table aliased `alias`, or unqualified in the index) as
 * one tsvector: lower case, Latin accents folded (as SQLite's remove_diacritics does), split on
 * whatever is not a letter or digit. Every function here is immutable, so an index can hold it;
 * a query must use this very expression to use the index.
 */
function pgVector(alias: string | null, fields: FieldDef[]): Sql {
  const text = sql.join(
    fields.map((f) => sql`coalesce(${sql.ref(alias ? `${alias}.${f.name}` : f.name)}::text, '')`),
    sql` || ' ' || `,
  );
  const folded = sql`translate(lower(${text}), ${sql.lit(ACCENTED)}, ${sql.lit(PLAIN)})`;
  return sql`to_tsvector('simple'::regconfig, regexp_replace(${folded}, '[^[:alnum:]]+', ' ', 'g'))`;
}

const ACCENTED = 'àáâãäåāăąçćčďèéêëēėęěìíîïīįłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżž';
const PLAIN = 'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz';

function fingerprint(fields: FieldDef[]): string {
  return createHash('sha256')
    .update(`${fields.map((f) => f.name).join(',')}|${ACCENTED}`)
    .digest('hex')
    .slice(0, 10);
}

async function syncSqliteIndex(database: Database, def: ObjectDef, fields: FieldDef[]): Promise<void> {
  const { db } = database;
  const table = ftsTable(def);
  const columns = fields.map((f) => `"${f.name}"`).join(', ');
  const wanted = `CREATE VIRTUAL TABLE "${table}" USING fts5(${columns}, content='${def.table}', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')`;
  const existing = await sql<{
    sql: string;
  }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  if (existing.rows[0]?.sql === wanted) return;
  // New, or the searchable fields changed (a custom field): made again and filled from the table.
  for (const suffix of ['ai', 'ad', 'au'])
    await sql.raw(`drop trigger if exists "${table}_${suffix}"`).execute(db);
  await sql.raw(`drop table if exists "${table}"`).execute(db);
  await sql.raw(wanted).execute(db);
  const values = (prefix: string) => fields.map((f) => `${prefix}."${f.name}"`).join(', ');
  await sql
    .raw(
      `create trigger "${table}_ai" after insert on "${def.table}" begin
      insert into "${table}"(rowid, ${columns}) values (new.rowid, ${values('new')});
    end`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger "${table}_ad" after delete on "${def.table}" begin
      insert into "${table}"("${table}", rowid, ${columns}) values ('delete', old.rowid, ${values('old')});
    end`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger "${table}_au" after update of ${columns} on "${def.table}" begin
      insert into "${table}"("${table}", rowid, ${columns}) values ('delete', old.rowid, ${values('old')});
      insert into "${table}"(rowid, ${columns}) values (new.rowid, ${values('new')});
    end`,
    )
    .execute(db);
  await sql.raw(`insert into "${table}"("${table}") values ('rebuild')`).execute(db);
}

async function syncPostgresIndex(database: Database, def: ObjectDef, fields: FieldDef[]): Promise<void> {
  const { db } = database;
  const name = `${def.table}_search_${fingerprint(fields)}`;
  const stale = await sql<{ indexname: string }>`select indexname from pg_indexes
    where tablename = ${def.table} and indexname like ${`${def.table}_search_%`} and indexname <> ${name}`.execute(
    db,
  );
  for (const row of stale.rows) await sql`drop index if exists ${sql.id(row.indexname)}`.execute(db);
  await sql`create index if not exists ${sql.id(name)} on ${sql.table(def.table)} using gin (${pgVector(null, fields)})`.execute(
    db,
  );
}

/** Makes every searchable object's text index match its fields (called with the tables' own sync). */
export async function syncSearchIndexes(database: Database, schema: SchemaRegistry): Promise<void> {
  for (const def of schema.allObjects()) {
    const fields = searchableFields(def);
    if (fields.length === 0) continue;
    if (database.dialect.name === 'sqlite') await syncSqliteIndex(database, def, fields);
    else await syncPostgresIndex(database, def, fields);
  }
}

// ---- the match ---------------------------------------------------------------------------------

/** FTS5's query language: quoted tokens (only letters and digits, so nothing to escape). */
function ftsTerm(term: SearchTerm): string {
  return `"${term.tokens.join(' ')}"${term.prefix ? '*' : ''}`;
}

function ftsQuery(expression: SearchExpression, columns: string[] | null): string {
  const groups = expression.any.map((group) => {
    const positive = group.all.filter((t) => !t.negate).map(ftsTerm);
    const negative = group.all.filter((t) => t.negate).map(ftsTerm);
    const must = positive.join(' AND ');
    return `(${negative.length > 0 ? `(${must}) NOT (${negative.join(' OR ')})` : must})`;
  });
  const query = groups.join(' OR ');
  return columns ? `{${columns.join(' ')}} : (${query})` : query;
}

/** PostgreSQL's tsquery: the tokens of a phrase follow one another (<->); a prefix is `:*`. */
function tsTerm(term: SearchTerm): string {
  const tokens = term.tokens.map(
    (t, i) => `'${t}'${term.prefix && i === term.tokens.length - 1 ? ':*' : ''}`,
  );
  const phrase = tokens.length > 1 ? `(${tokens.join(' <-> ')})` : tokens[0]!;
  return term.negate ? `!${phrase}` : phrase;
}

function tsQuery(expression: SearchExpression): string {
  return expression.any.map((group) => `(${group.all.map(tsTerm).join(' & ')})`).join(' | ');
}

/**
 * SQLite, with the FTS table joined to the record table on rowid (see SoqlSql): the join's own
 * condition. The index then drives the query, so a common word with a LIMIT reads only the
 * rows it returns, instead of collecting every match first.
 */
export function sqliteJoinedMatch(def: ObjectDef, fields: FieldDef[], expression: SearchExpression): Sql {
  const scoped = fields.length < searchableFields(def).length;
  const table = ftsTable(def);
  return sql`${sql.table(table)} match ${ftsQuery(expression, scoped ? fields.map((f) => f.name) : null)}`;
}

/**
 * PostgreSQL: the condition that a record (alias `alias` of the object's table) matches the
 * search in `fields` — all of the object's searchable fields, or a scope's subset of them.
 */
export function postgresMatch(
  def: ObjectDef,
  alias: string,
  fields: FieldDef[],
  expression: SearchExpression,
): Sql {
  const all = searchableFields(def);
  const query = tsQuery(expression);
  // The whole-record vector is what the index holds; a scope checks its own fields after it.
  const indexed = sql`${pgVector(alias, all)} @@ to_tsquery('simple'::regconfig, ${query})`;
  return fields.length < all.length
    ? sql`(${indexed} and ${pgVector(alias, fields)} @@ to_tsquery('simple'::regconfig, ${query}))`
    : indexed;
}

import type SqliteDatabase from 'better-sqlite3';
import type { RawBuilder } from 'kysely';
import type { StoreDb } from './database.js';

/** Each SQLite database's connection, by its Kysely adapter (which its transactions share). */
const sqliteConnections = new WeakMap<object, SqliteDatabase.Database>();
/** Raw-mode statements by connection and SQL text: apart from Kysely's, whose rows are objects. */
const rawStatements = new WeakMap<SqliteDatabase.Database, Map<string, SqliteDatabase.Statement>>();
const RAW_STATEMENTS_KEPT = 64;

/** Makes `arrayRows` read this SQLite database's rows as arrays (openDatabase does it). */
export function readArraysThrough(db: StoreDb, connection: SqliteDatabase.Database): void {
  sqliteConnections.set(db.getExecutor().adapter, connection);
}

/** Rows as arrays, under their column names (the select list's aliases). */
export interface ArrayRows {
  columns: string[];
  rows: unknown[][];
}

/**
 * A read's rows as arrays of values in select-list order. For reads of many rows at a time (a
 * Bulk API result page, an export): better-sqlite3 builds an object per row for Kysely, and on a
 * wide row that costs more than SQLite's own reading of it. On SQLite the statement runs in raw
 * mode on the database's connection, taken from Kysely for the read so no other query's
 * transaction is open on it meanwhile; inside a transaction, and on PostgreSQL (where the wire
 * costs more than the objects), Kysely's rows are turned into arrays.
 */
export async function arrayRows(db: StoreDb, query: RawBuilder<unknown>): Promise<ArrayRows> {
  const connection = sqliteConnections.get(db.getExecutor().adapter);
  if (connection && !db.isTransaction) {
    const compiled = query.compile(db);
    return db.connection().execute(() => {
      const statement = rawStatement(connection, compiled.sql);
      return Promise.resolve({
        columns: statement.columns().map((c) => c.name),
        rows: statement.all(...compiled.parameters) as unknown[][],
      });
    });
  }
  const rows = (await query.execute(db)).rows as Array<Record<string, unknown>>;
  return { columns: rows[0] ? Object.keys(rows[0]) : [], rows: rows.map((row) => Object.values(row)) };
}

function rawStatement(connection: SqliteDatabase.Database, text: string): SqliteDatabase.Statement {
  let kept = rawStatements.get(connection);
  if (!kept) rawStatements.set(connection, (kept = new Map()));
  let statement = kept.get(text);
  if (!statement) {
    if (kept.size >= RAW_STATEMENTS_KEPT) kept.clear();
    statement = connection.prepare(text).raw(true);
    kept.set(text, statement);
  }
  return statement;
}

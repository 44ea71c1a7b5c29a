import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, sql, SqliteDialect, type Driver } from 'kysely';
import pg from 'pg';
import { readArraysThrough } from './array-rows.js';
import { touchPrivateFile } from './private-files.js';
import { postgresDialect, sqliteDialect, type StoreDialect } from './store-dialect.js';

/** Every area's queries run on this; areas describe their own tables in raw SQL or typed views. */
export type StoreDb = Kysely<object>;

export type DatabaseConfig =
  | { kind: 'sqlite'; filename: string; busyTimeoutMs?: number }
  | { kind: 'postgres'; url: string; schema?: string; maxConnections?: number };

export interface Database {
  readonly db: StoreDb;
  readonly dialect: StoreDialect;
  close(): Promise<void>;
}

const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely's SQLite driver prepares every query anew; preparing is a tenth of a simple write's
 * cost. Statements are reusable, so keep the recent ones, keyed by their SQL text.
 */
function withStatementCache(connection: SqliteDatabase.Database): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = connection.prepare.bind(connection);
  return new Proxy(connection, {
    get(target, property, receiver) {
      if (property !== 'prepare') return Reflect.get(target, property, receiver) as unknown;
      return (source: string) => {
        let statement = cache.get(source);
        if (statement) {
          // Move to the back: the map's order is least recently used first.
          cache.delete(source);
        } else {
          statement = prepare(source);
          if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        }
        cache.set(source, statement);
        return statement;
      };
    },
  });
}

/**
 * SQLite transactions that take the write lock as they begin (`BEGIN IMMEDIATE`). A deferred
 * transaction reads first and asks for the lock at its first write; if another process (a
 * `handoff sync` beside the servers of one data dir) committed meanwhile, that write fails at
 * once with SQLITE_BUSY_SNAPSHOT, whatever the busy timeout, and the request with it. Taking the
 * lock first makes the second writer wait its turn instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

function openSqlite(filename: string, busyTimeoutMs: number): Database {
  // SQLite gives its -wal and -shm files the database file's mode: owner-only, like the file.
  if (filename !== ':memory:') touchPrivateFile(filename);
  const connection = new SqliteDatabase(filename);
  // WAL lets readers run beside the writer; NORMAL sync is durable across process crashes
  // (only a power loss can drop the last transactions), the usual embedded trade-off.
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  // How long a write waits for another connection's lock before failing (UNABLE_TO_LOCK_ROW).
  connection.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  connection.pragma('cache_size = -65536');
  const db = new Kysely<object>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(connection) }),
  });
  readArraysThrough(db, connection);
  return { db, dialect: sqliteDialect, close: () => db.destroy() };
}

// COUNT(*) and bigint columns come back as strings by default; our values fit in a double.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number.parseInt(value, 10);
    return pg.types.getTypeParser(oid, format);
  },
};

function openPostgres(url: string, schema: string | undefined, maxConnections: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    types: pgTypes as pg.CustomTypesConfig,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: postgresDialect, close: () => db.destroy() };
}

export function openDatabase(config: DatabaseConfig): Database {
  return config.kind === 'sqlite'
    ? openSqlite(config.filename, config.busyTimeoutMs ?? 5000)
    : openPostgres(config.url, config.schema, config.maxConnections ?? 10);
}

/**
 * The PostgreSQL schema this connection works in (from its search_path), or undefined on SQLite.
 * Introspection sees every schema, so lookups of our own tables must name this one.
 */
export async function currentSchema(database: Database): Promise<string | undefined> {
  if (database.dialect.name !== 'postgres') return undefined;
  const r = await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db);
  return r.rows[0]?.schema;
}

import { sql, type RawBuilder } from 'kysely';

/** What a column holds; each dialect picks its storage type. */
export type ColumnKind =
  | 'id' // record ids: case-sensitive, byte-ordered
  | 'text' // case-sensitive text
  | 'ci-text' // text compared case-insensitively (names, emails)
  | 'integer'
  | 'real'
  | 'boolean' // stored as 0/1 on both dialects so queries read the same
  | 'timestamp' // ISO-8601 UTC text, fixed width, so it sorts as it reads
  | 'serial-key'; // a 64-bit primary key the database numbers in insertion order

export type StoreErrorKind = 'unique-violation' | 'lock-timeout' | 'other';

/**
 * The differences between the databases we run on, as capabilities rather than
 * `if (postgres)` scattered through the areas (Kysely's own dialect design).
 */
export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres';
  /** `FOR UPDATE SKIP LOCKED` for queue claims across processes. */
  readonly supportsSkipLocked: boolean;
  columnType(kind: ColumnKind): RawBuilder<unknown>;
  /** Case-insensitive equality that can use the column's index. */
  ciEquals(column: RawBuilder<unknown>, value: string): RawBuilder<boolean>;
  /** Case-insensitive membership. */
  ciIn(column: RawBuilder<unknown>, values: readonly string[]): RawBuilder<boolean>;
  /** Case-insensitive LIKE with `\` as the escape character. */
  ciLike(column: RawBuilder<unknown>, pattern: string): RawBuilder<boolean>;
  /** What to sort case-insensitive text by, so `Bravo` sits beside `bravo` on both dialects. */
  ciSortKey(column: RawBuilder<unknown>): RawBuilder<unknown>;
  /** The expression a case-insensitive index must be built on to serve `ciEquals`. */
  ciIndexExpression(column: string): RawBuilder<unknown>;
  classifyError(error: unknown): StoreErrorKind;
  /**
   * A statement that makes transactions taking the same key run one after another from that
   * point to their end: numbers drawn from a sequence become visible in order, and a
   * check-then-insert (one prospect per email) cannot race. Null where writers are serialised
   * anyway (SQLite).
   */
  transactionLock(key: number): RawBuilder<unknown> | null;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export const sqliteDialect: StoreDialect = {
  name: 'sqlite',
  supportsSkipLocked: false,
  columnType(kind) {
    switch (kind) {
      case 'ci-text':
        return sql`text collate nocase`;
      case 'integer':
      case 'boolean':
        return sql`integer`;
      case 'real':
        return sql`real`;
      // AUTOINCREMENT: a number is never reused, even after the newest row is deleted.
      case 'serial-key':
        return sql`integer primary key autoincrement`;
      default:
        return sql`text`;
    }
  },
  // The column is declared NOCASE, so plain `=` is case-insensitive and uses its index.
  ciEquals: (column, value) => sql<boolean>`${column} = ${value}`,
  ciIn: (column, values) => sql<boolean>`${column} in (${sql.join(values.map((v) => sql`${v}`))})`,
  ciLike: (column, pattern) => sql<boolean>`${column} like ${pattern} escape '\\'`,
  ciSortKey: (column) => column,
  ciIndexExpression: (column) => sql.ref(column),
  classifyError(error) {
    const code = errorCode(error);
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return 'unique-violation';
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'lock-timeout';
    return 'other';
  },
  transactionLock: () => null,
};

export const postgresDialect: StoreDialect = {
  name: 'postgres',
  supportsSkipLocked: true,
  columnType(kind) {
    switch (kind) {
      case 'id':
      case 'timestamp':
        return sql`text collate "C"`;
      case 'integer':
      case 'boolean':
        return sql`bigint`;
      case 'real':
        return sql`double precision`;
      case 'serial-key':
        return sql`bigserial primary key`;
      default:
        return sql`text`;
    }
  },
  ciEquals: (column, value) => sql<boolean>`lower(${column}) = lower(${value})`,
  ciIn: (column, values) =>
    sql<boolean>`lower(${column}) in (${sql.join(values.map((v) => sql`lower(${v})`))})`,
  ciLike: (column, pattern) => sql<boolean>`${column} ilike ${pattern} escape '\\'`,
  ciSortKey: (column) => sql`lower(${column})`,
  ciIndexExpression: (column) => sql`lower(${sql.ref(column)})`,
  classifyError(error) {
    const code = errorCode(error);
    if (code === '23505') return 'unique-violation';
    if (code === '55P03' || code === '40001' || code === '40P01') return 'lock-timeout';
    return 'other';
  },
  transactionLock: (key) => sql`select pg_advisory_xact_lock(${key})`,
};

import type { RawBuilder } from 'kysely';
import type { StoreDb } from './database.js';

/**
 * Statement texts compiled once per database adapter (the placeholders differ by dialect), for
 * hot multi-row statements whose Kysely compile would otherwise cost more than running them.
 */
const compiled = new WeakMap<object, Map<string, string>>();

export function cachedSql(db: StoreDb, key: string, build: () => RawBuilder<unknown>): string {
  const adapter = db.getExecutor().adapter;
  let cache = compiled.get(adapter);
  if (!cache) {
    cache = new Map();
    compiled.set(adapter, cache);
  }
  let text = cache.get(key);
  if (text === undefined) {
    text = build().compile(db).sql;
    cache.set(key, text);
  }
  return text;
}

/**
 * Splits rows into statements of a few fixed sizes (the largest, then 100, 10, 1): each size is
 * one compiled and prepared statement, where a statement per remainder length would fill the
 * statement caches with hundreds of large one-off statements.
 */
export function statementChunks<T>(rows: readonly T[], largest: number): T[][] {
  const sizes = [largest, 100, 10, 1].filter((size) => size <= largest);
  const out: T[][] = [];
  let start = 0;
  for (const size of sizes) {
    while (rows.length - start >= size) {
      out.push(rows.slice(start, start + size));
      start += size;
    }
  }
  return out;
}

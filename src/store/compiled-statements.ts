import type { RawBuilder } from 'kysely';
import type { StoreDb } from './database.js';

/**
 * Statement texts compiled once per database adapter (the placeholders differ by dialect), for
 * hot statements whose Kysely compile would otherwise cost more than running them. Transactions
 * share their database's adapter, so the cache serves them too. The most recently used texts are
 * kept: a key may follow its caller's data (the columns an update sets, a remainder's row count).
 */
const compiled = new WeakMap<object, Map<string, string>>();
const TEXTS_KEPT = 512;

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
    if (cache.size >= TEXTS_KEPT) cache.delete(cache.keys().next().value as string);
  } else {
    // Moved to the back: the map's order is least recently used first.
    cache.delete(key);
  }
  cache.set(key, text);
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

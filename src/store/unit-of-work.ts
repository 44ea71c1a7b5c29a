import { AsyncLocalStorage } from 'node:async_hooks';
import type { StoreDb } from './database.js';

/**
 * An ambient transaction: code inside `run` (however deep, and across awaits) reads and
 * writes through `current()`, so a composite request can wrap many record operations in one
 * all-or-nothing transaction without threading a handle through every call.
 */
export class UnitOfWork {
  private readonly ambient = new AsyncLocalStorage<StoreDb>();

  constructor(private readonly db: StoreDb) {}

  current(): StoreDb {
    return this.ambient.getStore() ?? this.db;
  }

  /** Runs `work` in a transaction, or inside the one already open. */
  async run<T>(work: (db: StoreDb) => Promise<T>): Promise<T> {
    const open = this.ambient.getStore();
    if (open) return work(open);
    return this.db.transaction().execute((trx) => this.ambient.run(trx, () => work(trx)));
  }
}

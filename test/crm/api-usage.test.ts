import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiUsageStore } from '../../src/crm/auth/auth-store.js';
import { DailyCounter } from '../../src/store/daily-counter.js';
import { migrateArea } from '../../src/store/migrations.js';
import { crmMigrations } from '../../src/crm/store/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

describe('the daily API request count', () => {
  let database: TestDatabase;
  let now: Date;

  beforeEach(async () => {
    database = await createTestDatabase('sqlite');
    await migrateArea(database, 'crm', crmMigrations);
    now = new Date('2026-11-22T23:59:59.000Z');
  });

  afterEach(async () => {
    await database.destroy();
  });

  it('refuses requests past the limit, and starts again at 00:00 UTC', async () => {
    const usage = new DailyCounter(apiUsageStore(database.db), 2, () => now);
    await usage.start();
    expect([usage.consume(), usage.consume(), usage.consume()]).toEqual([true, true, false]);
    expect(usage.snapshot()).toEqual({ used: 2, max: 2 });
    now = new Date('2026-11-23T00:00:00.000Z');
    expect(usage.consume()).toBe(true);
    expect(usage.snapshot()).toEqual({ used: 1, max: 2 });
    await usage.stop();
  });

  it('keeps the day’s count across a restart', async () => {
    const first = new DailyCounter(apiUsageStore(database.db), 10, () => now);
    await first.start();
    first.consume();
    first.consume();
    await first.stop();
    const second = new DailyCounter(apiUsageStore(database.db), 10, () => now);
    await second.start();
    expect(second.snapshot().used).toBe(2);
    await second.stop();
  });

  it('keeps a count its store refused (busy, say) and writes it on a later flush, without failing the server', async () => {
    let busy = true;
    const errors: unknown[] = [];
    let onSaved: (used: number) => void = () => {};
    const saved = new Promise<number>((resolve) => (onSaved = resolve));
    const store = {
      load: () => Promise.resolve(0),
      save: (_day: string, used: number) => {
        if (busy) {
          busy = false;
          return Promise.reject(new Error('database is locked'));
        }
        onSaved(used);
        return Promise.resolve();
      },
    };
    const counter = new DailyCounter(
      store,
      10,
      () => now,
      (error) => errors.push(error),
    );
    await counter.start(5);
    counter.consume();
    counter.consume();
    expect(await saved).toBe(2);
    await counter.stop();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('database is locked');
  });
});

import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectApiUsage } from '../../src/connector/store/link-store.js';
import { openTestConnector } from '../support/connector.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

const DAILY_LIMIT = 300;

describe('the connector’s CRM API budget', () => {
  let m: TestMarketing;
  let conn: jsforce.Connection;

  beforeAll(async () => {
    m = await startTestMarketing({ crmConfig: { dailyApiLimit: DAILY_LIMIT } });
    conn = await m.crm.connect();
  });

  afterAll(() => m.close());

  it('waits once the org has used its share of the daily limit, loses nothing, and goes on when allowed more', async () => {
    const half = await openTestConnector(m, m.v3Unit.id, undefined, undefined, undefined, {
      crmApiShare: 0.5,
    });
    expect((await half.runOnce()).throttled).toBeUndefined();
    // The org's other clients use the calls up to half the limit.
    for (;;) {
      const limits = (await conn.limits()) as unknown as { DailyApiRequests: { Remaining: number } };
      if (DAILY_LIMIT - limits.DailyApiRequests.Remaining >= DAILY_LIMIT / 2) break;
      await conn.query('SELECT Id FROM User LIMIT 1');
    }
    await conn.sobject('Lead').create({ LastName: 'Budget', Company: 'B Co', Email: 'budget@example.com' });
    // Its last answer told it the usage: the change is queued, and worked only within budget.
    const waiting = await half.runOnce();
    expect(waiting).toMatchObject({ throttled: 'crm', worked: 0, errors: [] });
    expect(await half.runOnce()).toMatchObject({
      throttled: 'crm',
      queued: 0,
      worked: 0,
    });
    expect(await m.services.prospects.byEmail(m.v3Unit.id, 'budget@example.com')).toEqual([]);
    const usage = await selectApiUsage(m.crm.database.db, m.v3Unit.id);
    expect(usage).toMatchObject({ limit: DAILY_LIMIT, share: 0.5 });
    expect(usage!.used).toBeGreaterThanOrEqual(DAILY_LIMIT / 2);

    // Allowed the whole limit, it syncs what came meanwhile.
    const all = await openTestConnector(m, m.v3Unit.id, undefined, undefined, undefined, { crmApiShare: 1 });
    const pass = await all.runOnce();
    expect(pass.throttled).toBeUndefined();
    expect(pass.created).toBe(1);
    expect(await m.services.prospects.byEmail(m.v3Unit.id, 'budget@example.com')).toHaveLength(1);
  });
});

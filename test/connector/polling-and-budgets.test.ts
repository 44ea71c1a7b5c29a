import type jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { openTestConnector } from '../support/connector.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

const WAIT = { timeout: 20_000, interval: 20 };

describe('polling that adapts, within each side’s budget', () => {
  let m: TestMarketing;
  let conn: jsforce.Connection;
  const connectors: Connector[] = [];

  beforeAll(async () => {
    m = await startTestMarketing();
    conn = await m.crm.connect();
  });

  afterAll(async () => {
    for (const c of connectors) await c.stop();
    await m.close();
  });

  /** A started connector without change events or webhooks: polling is all it has. */
  const polling = async (more: Parameters<typeof openTestConnector>[5]) => {
    const connector = await openTestConnector(m, m.v3Unit.id, undefined, undefined, undefined, {
      changeEvents: false,
      ...more,
    });
    connectors.push(connector);
    return connector;
  };

  it('polls marketing fast while changes flow, backs off to the bound when idle, and a change still crosses', async () => {
    // A large allowance: the latency bound, not the budget, decides how long idle polls wait.
    const connector = await polling({ idlePollBoundMs: 400, marketingApi: { dailyLimit: 100_000_000 } });
    await connector.runOnce();
    const lead = (await conn
      .sobject('Lead')
      .create({ LastName: 'Poll', Company: 'Poll Co', Email: 'poll@adapt.example' })) as { id: string };
    await connector.runOnce();
    const [p] = await m.services.prospects.byEmail(m.v3Unit.id, 'poll@adapt.example');
    await connector.runOnce();

    connector.start(20);
    const marketingPolling = async () => (await connector.status()).polling!.marketing;
    await expect.poll(async () => (await marketingPolling()).intervalMs, WAIT).toBe(400);
    expect((await marketingPolling()).quietPolls).toBeGreaterThanOrEqual(5);

    // Idle at the bound; a marketing change (no webhook) is found by the next poll and crosses.
    await m.call(`/api/v5/objects/prospects/${p!.id}?fields=id`, {
      method: 'PATCH',
      body: JSON.stringify({ jobTitle: 'Found by polling' }),
    });
    await expect
      .poll(
        async () => ((await conn.sobject('Lead').retrieve(lead.id)) as unknown as { Title: string }).Title,
        WAIT,
      )
      .toBe('Found by polling');
    // … and the polls after it start fast again, backing off anew.
    await expect.poll(async () => (await marketingPolling()).intervalMs, WAIT).toBe(400);
  });

  it('keeps idle polling within 5 % of the unit’s daily limit, whatever the bound says', async () => {
    // Growth: 25,000 calls a day, the connector's share 20 % (the defaults). A 400 ms bound
    // would spend far more than 5 %.
    const connector = await polling({
      idlePollBoundMs: 400,
      marketingApi: { dailyLimit: 25_000, share: 0.2 },
    });
    connector.start(20);
    const marketingPolling = async () => (await connector.status()).polling!.marketing;
    await expect.poll(async () => (await marketingPolling()).intervalMs, WAIT).toBeGreaterThan(60_000);
    // A poll's cost as measured (prospects, form successes, activities).
    const { intervalMs, callsPerPoll } = await marketingPolling();
    expect(callsPerPoll).toBeGreaterThanOrEqual(3);
    expect((86_400_000 / intervalMs) * callsPerPoll).toBeLessThanOrEqual(25_000 * 0.05);
    const status = await connector.status();
    expect(status.budgets.marketing).toMatchObject({ limit: 25_000, share: 0.2 });
    expect(status.budgets.marketing.forecast).toBeGreaterThanOrEqual(status.budgets.marketing.used);
  });

  it('shares one marketing budget between connector processes: past it, each waits without calling', async () => {
    // 20 calls for the connector today (20 % of 100); the earlier tests' calls count too.
    const tight = { marketingApi: { dailyLimit: 100, share: 0.2 } };
    const first = await polling(tight);
    let pass = await first.runOnce();
    for (let i = 0; i < 20 && pass.throttled !== 'marketing'; i++) pass = await first.runOnce();
    expect(pass.throttled).toBe('marketing');
    expect(pass.calls?.marketing).toBe(0);

    // Another process on the same store sees the same day's calls, and waits too.
    const second = await polling(tight);
    const waited = await second.runOnce();
    expect(waited.throttled).toBe('marketing');
    expect(waited.calls).toEqual({ crm: expect.any(Number) as unknown, marketing: 0 });
    expect((await second.status()).budgets.marketing.used).toBeGreaterThanOrEqual(20);
  });
});

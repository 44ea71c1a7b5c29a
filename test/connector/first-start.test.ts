import type jsforce from 'jsforce';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connector/connector-services.js';
import { openTestConnector } from '../support/connector.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

const WAIT = { timeout: 20_000, interval: 50 };

describe('the connector’s first start', () => {
  let m: TestMarketing;
  let conn: jsforce.Connection;
  let connector: Connector | undefined;

  beforeEach(async () => {
    m = await startTestMarketing();
    conn = await m.crm.connect();
  });

  afterEach(async () => {
    await connector?.stop();
    await m.close();
  });

  const prospectOf = async (email: string) => (await m.services.prospects.byEmail(m.v3Unit.id, email))[0];

  it('links what both sides hold before its first pass when told to (the demo), and misses nothing made meanwhile', async () => {
    await conn.sobject('Lead').create({ LastName: 'Early', Company: 'Cold Co', Email: 'early@cold.example' });
    await conn.sobject('Contact').create({ LastName: 'Earlier', Email: 'earlier@cold.example' });
    connector = await openTestConnector(m, m.v3Unit.id, undefined, undefined, undefined, {
      backfillOnFirstStart: true,
      changeEvents: false,
    });
    connector.start(100);
    // Made while the first start runs: the passes after it see it.
    await conn
      .sobject('Lead')
      .create({ LastName: 'During', Company: 'Cold Co', Email: 'during@cold.example' });
    for (const email of ['early@cold.example', 'earlier@cold.example', 'during@cold.example'])
      await expect
        .poll(async () => (await prospectOf(email))?.values.salesforceId ?? null, WAIT)
        .not.toBeNull();
    await expect.poll(async () => (await connector!.status()).backfill.doneAt, WAIT).not.toBeNull();
    expect((await connector.status()).backfill.needed).toBe(false);
    await expect.poll(async () => (await connector!.status()).linked.total, WAIT).toBe(3);
  });

  it('says a backfill is needed when not told to run one, and a backfill then links the older records', async () => {
    await conn.sobject('Lead').create({ LastName: 'Old', Company: 'Cold Co', Email: 'old@cold.example' });
    connector = await openTestConnector(m, m.v3Unit.id, undefined, undefined, undefined, {
      changeEvents: false,
    });
    connector.start(100);
    await expect.poll(async () => (await connector!.status()).backfill.needed, WAIT).toBe(true);
    await expect.poll(async () => (await connector!.status()).lastPass?.ok ?? false, WAIT).toBe(true);
    expect(await prospectOf('old@cold.example')).toBeUndefined();

    const result = await connector.backfill();
    expect(result.linked).toBe(1);
    expect((await prospectOf('old@cold.example'))?.values.salesforceId).toBeTruthy();
    expect((await connector.status()).backfill.needed).toBe(false);
  });
});

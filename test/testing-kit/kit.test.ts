import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCrm,
  startHandoff,
  startMarketing,
  TestClock,
  type RunningHandoff,
} from '../../src/testing/index.js';

/** What another project's suite does with the kit: start, seed, fault, move time, reset, stop. */
describe('the testing kit (handoff/testing)', { timeout: 60_000 }, () => {
  let h: RunningHandoff;
  beforeAll(async () => {
    h = await startHandoff({
      crm: {
        customFields: [
          { object: 'Lead', name: 'Tier__c', type: 'picklist', picklistValues: ['Gold', 'Silver'] },
        ],
        validationRules: [
          {
            object: 'Lead',
            name: 'Industry_Required_For_Gold',
            when: [
              { field: 'Tier__c', op: 'equals', value: 'Gold' },
              { field: 'Industry', op: 'blank' },
            ],
            message: 'Gold Leads need an industry',
          },
        ],
      },
    });
  });
  afterAll(() => h.stop());

  it('serves each wire API with its credentials on free ports of 127.0.0.1', async () => {
    expect(h.crm.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const conn = await h.crm.connect();
    const org = await conn.query<{ Name: string }>('SELECT Name FROM Organization');
    expect(org.records[0]?.Name).toBe('Handoff Test Org');
    const prospects = await fetch(`${h.marketing.url}/api/v5/objects/prospects?fields=id,email`, {
      headers: await h.marketing.headers(),
    });
    expect(prospects.status).toBe(200);
    const identify = await fetch(`${h.ingest.url}/v1/identify`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${h.ingest.writeKey}:`).toString('base64')}`,
      },
      body: JSON.stringify({ userId: 'kit-1', traits: { email: 'kit@example.com', firstName: 'Kit' } }),
    });
    expect(identify.status).toBe(200);
    await h.ingest.settled();
    const found = await fetch(
      `${h.marketing.url}/api/v5/objects/prospects?fields=firstName&email=kit@example.com`,
      {
        headers: await h.marketing.headers(),
      },
    );
    expect(((await found.json()) as { values: unknown[] }).values).toEqual([{ firstName: 'Kit' }]);
  });

  it('seeds records, users, prospects and custom fields; enforces the configured rules', async () => {
    const [leadId] = await h.crm.insert('Lead', [
      { LastName: 'Seeded', Company: 'Seed Co', Tier__c: 'Silver' },
    ]);
    const conn = await h.crm.connect();
    expect((await conn.sobject('Lead').retrieve(leadId!)) as unknown).toMatchObject({ Tier__c: 'Silver' });
    await expect(
      conn.sobject('Lead').create({ LastName: 'Gold', Company: 'G', Tier__c: 'Gold' }),
    ).rejects.toMatchObject({
      errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      data: { message: 'Gold Leads need an industry' },
    });

    const userId = await h.crm.addUser({
      username: 'rep@kit.test',
      password: 'rep password',
      lastName: 'Rep',
    });
    const login = await fetch(`${h.crm.url}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: h.crm.credentials.clientId,
        client_secret: h.crm.credentials.clientSecret,
        username: 'rep@kit.test',
        password: 'rep password',
      }),
    });
    expect(login.status).toBe(200);
    expect(userId).toMatch(/^005/);

    await h.marketing.addCustomField({ name: 'Favorite color', fieldId: 'Favorite_Color' });
    const [prospectId] = await h.marketing.addProspects([
      { email: 'seed@example.com', Favorite_Color__c: 'teal' },
    ]);
    const read = await fetch(
      `${h.marketing.url}/api/v5/objects/prospects/${prospectId}?fields=email,Favorite_Color__c`,
      {
        headers: await h.marketing.headers(),
      },
    );
    expect(await read.json()).toMatchObject({ email: 'seed@example.com', Favorite_Color__c: 'teal' });
  });

  it('syncs on demand: a Lead made through the API becomes a prospect after one pass', async () => {
    const conn = await h.crm.connect();
    await conn.sobject('Lead').create({ LastName: 'Synced', Company: 'Kit Co', Email: 'synced@kit.test' });
    await h.sync();
    const found = await fetch(
      `${h.marketing.url}/api/v5/objects/prospects?fields=lastName,company&email=synced@kit.test`,
      {
        headers: await h.marketing.headers(),
      },
    );
    expect(((await found.json()) as { values: unknown[] }).values).toEqual([
      { lastName: 'Synced', company: 'Kit Co' },
    ]);
  });

  it('injects faults into either side, in the service’s own error shape', async () => {
    const conn = await h.crm.connect();
    const id = h.crm.faults.add({
      route: 'POST /services/data/*/sobjects/Lead',
      fault: 'unavailable-503',
      times: 1,
    });
    expect(id).toBeGreaterThan(0);
    await expect(conn.sobject('Lead').create({ LastName: 'Faulted', Company: 'F' })).rejects.toMatchObject({
      errorCode: 'SERVER_UNAVAILABLE',
    });
    await expect(conn.sobject('Lead').create({ LastName: 'Faulted', Company: 'F' })).resolves.toMatchObject({
      success: true,
    });
    h.marketing.faults.add({ route: 'GET /api/v5/objects/prospects', fault: 'error-500' });
    const failing = await fetch(`${h.marketing.url}/api/v5/objects/prospects?fields=id`, {
      headers: await h.marketing.headers(),
    });
    expect(failing.status).toBe(500);
    h.marketing.faults.clear();
    const healthy = await fetch(`${h.marketing.url}/api/v5/objects/prospects?fields=id`, {
      headers: await h.marketing.headers(),
    });
    expect(healthy.status).toBe(200);
  });

  it('resets to a fresh org with the same credentials', async () => {
    await h.reset();
    const conn = await h.crm.connect();
    expect((await conn.query('SELECT Id FROM Lead')).totalSize).toBe(0);
    const prospects = await fetch(`${h.marketing.url}/api/v5/objects/prospects?fields=id`, {
      headers: await h.marketing.headers(),
    });
    expect(((await prospects.json()) as { values: unknown[] }).values).toEqual([]);
  });
});

describe('the kit’s clock', { timeout: 60_000 }, () => {
  it('expires tokens and empties the recycle bin as time passes, without waiting', async () => {
    const clock = new TestClock();
    const crm = await startCrm({ clock, crm: { accessTokenTtlSeconds: 3600 } });
    try {
      const token = await crm.token();
      const limits = () =>
        fetch(`${crm.url}/services/data/v60.0/limits`, { headers: { authorization: `Bearer ${token}` } });
      expect((await limits()).status).toBe(200);
      const [id] = await crm.insert('Lead', [{ LastName: 'Binned', Company: 'B' }]);
      const conn = await crm.connect();
      await conn.sobject('Lead').destroy(id!);
      const inBin = () =>
        conn.query<{ Id: string }>(`SELECT Id FROM Lead WHERE Id = '${id}'`, { scanAll: true });
      expect((await inBin()).totalSize).toBe(1);

      await clock.advance(2 * 3600 * 1000);
      expect((await limits()).status).toBe(401);

      await clock.advance(16 * 86_400_000); // past the recycle bin's 15 days: purged
      const fresh = await crm.connect();
      expect((await fresh.query(`SELECT Id FROM Lead WHERE Id = '${id}'`, { scanAll: true })).totalSize).toBe(
        0,
      );
      await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    } finally {
      await crm.stop();
    }
  });

  it('expires v5 page tokens as time passes', async () => {
    const m = await startMarketing();
    try {
      await m.marketing.addProspects([{ email: 'a@example.com' }, { email: 'b@example.com' }]);
      const first = await fetch(`${m.marketing.url}/api/v5/objects/prospects?fields=id&limit=1`, {
        headers: await m.marketing.headers(),
      });
      const { nextPageUrl } = (await first.json()) as { nextPageUrl: string };
      const page = async () => fetch(nextPageUrl, { headers: await m.marketing.headers() });
      expect((await page()).status).toBe(200);
      await m.clock.advance(5 * 3_600_000); // page tokens live four hours
      const expired = await page();
      expect(expired.status).toBe(400);
      expect(await expired.json()).toMatchObject({ code: 210 });
    } finally {
      await m.stop();
    }
  });

  it('starts the marketing engine alone with the CRM behind its logins', async () => {
    const m = await startMarketing({ marketing: { allowMultiplePerEmail: true } });
    try {
      await m.marketing.addProspects([{ email: 'twice@example.com' }, { email: 'twice@example.com' }]);
      const answer = await fetch(
        `${m.marketing.url}/api/v5/objects/prospects?fields=id&email=twice@example.com`,
        {
          headers: await m.marketing.headers(),
        },
      );
      expect(((await answer.json()) as { values: unknown[] }).values).toHaveLength(2);
      // A second unit is a tenant of its own: the prospects of the first are not in it.
      const other = await m.marketing.addUnit({ name: 'Second unit' });
      const elsewhere = await fetch(`${m.marketing.url}/api/v5/objects/prospects?fields=id`, {
        headers: { ...(await m.marketing.headers()), 'pardot-business-unit-id': other },
      });
      expect(elsewhere.status).toBe(200);
      expect(((await elsewhere.json()) as { values: unknown[] }).values).toEqual([]);
    } finally {
      await m.stop();
    }
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { crmFaultRuleSchema } from '../../src/crm/faults/crm-faults.js';
import { FaultInjector } from '../../src/faults/fault-rules.js';
import { startTestCrm, TEST_CREDENTIALS, type TestCrm } from '../support/crm-server.js';
import { buildLead } from '../support/factories.js';

describe('fault rules', () => {
  it('match a method and a path pattern, * within a segment and ** across segments', () => {
    const faults = new FaultInjector(crmFaultRuleSchema, () => 0);
    faults.add({ route: 'POST /services/data/*/sobjects/Lead', fault: 'error-500' });
    faults.add({ route: '* /services/data/**', fault: 'latency', latencyMs: 5 });
    expect(faults.pick('POST', '/services/data/v60.0/sobjects/Lead')?.fault).toBe('error-500');
    expect(faults.pick('PATCH', '/services/data/v60.0/sobjects/Lead/00Q')?.fault).toBe('latency');
    expect(faults.pick('GET', '/services/oauth2/userinfo')).toBeNull();
  });

  it('fire with their probability and no more than `times`', () => {
    const rolls = [0.9, 0.1, 0.1, 0.1];
    const faults = new FaultInjector(crmFaultRuleSchema, () => rolls.shift() ?? 0);
    faults.add({ route: 'GET /x', fault: 'error-500', probability: 0.5, times: 2 });
    expect(
      [
        faults.pick('GET', '/x'),
        faults.pick('GET', '/x'),
        faults.pick('GET', '/x'),
        faults.pick('GET', '/x'),
      ].map((f) => f?.fault ?? null),
    ).toEqual([null, 'error-500', 'error-500', null]);
  });
});

describe('fault injection on the CRM', () => {
  let crm: TestCrm;

  beforeAll(async () => {
    crm = await startTestCrm({
      config: {
        faultInjection: true,
        faults: [
          {
            route: 'GET /services/data/*/sobjects/Campaign/describe',
            fault: 'unavailable-503',
            probability: 1,
            latencyMs: 0,
          },
        ],
      },
    });
  });

  afterAll(async () => {
    await crm.close();
  });

  afterEach(async () => {
    await fetch(`${crm.url}/_handoff/faults`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await crm.token()}` },
    });
  });

  const addFault = async (rule: Record<string, unknown>, token?: string) =>
    fetch(`${crm.url}/_handoff/faults`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token ?? (await crm.token())}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(rule),
    });
  const leadCount = async (lastName: string) => {
    const r = await crm.api(
      `/query?q=${encodeURIComponent(`SELECT COUNT() FROM Lead WHERE LastName = '${lastName}'`)}`,
    );
    return ((await r.json()) as { totalSize: number }).totalSize;
  };

  it('applies faults declared in config from the start', async () => {
    const r = await crm.api('/sobjects/Campaign/describe');
    expect(r.status).toBe(503);
    expect(((await r.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('SERVER_UNAVAILABLE');
  });

  it('answers injected errors in the REST error format and applies nothing', async () => {
    for (const [fault, status, code] of [
      ['error-500', 500, 'UNKNOWN_EXCEPTION'],
      ['request-limit', 403, 'REQUEST_LIMIT_EXCEEDED'],
      ['lock', 400, 'UNABLE_TO_LOCK_ROW'],
    ] as const) {
      expect((await addFault({ route: 'POST /services/data/*/sobjects/Lead', fault, times: 1 })).status).toBe(
        201,
      );
      const r = await crm.api('/sobjects/Lead', {
        method: 'POST',
        body: JSON.stringify(buildLead({ LastName: `Faulted-${fault}` })),
      });
      expect(r.status).toBe(status);
      expect(((await r.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe(code);
      expect(await leadCount(`Faulted-${fault}`)).toBe(0);
    }
  });

  it('drops the connection before applying anything', async () => {
    await addFault({ route: 'POST /services/data/*/sobjects/Lead', fault: 'drop', times: 1 });
    await expect(
      crm.api('/sobjects/Lead', { method: 'POST', body: JSON.stringify(buildLead({ LastName: 'Dropped' })) }),
    ).rejects.toThrow();
    expect(await leadCount('Dropped')).toBe(0);
  });

  it('loses the answer of a write that was applied', async () => {
    await addFault({ route: 'POST /services/data/*/sobjects/Lead', fault: 'lost-answer', times: 1 });
    await expect(
      crm.api('/sobjects/Lead', { method: 'POST', body: JSON.stringify(buildLead({ LastName: 'Applied' })) }),
    ).rejects.toThrow();
    expect(await leadCount('Applied')).toBe(1);
  });

  it('adds latency and then serves the request', async () => {
    await addFault({ route: 'GET /services/data/*/limits', fault: 'latency', latencyMs: 150, times: 1 });
    const started = Date.now();
    const r = await crm.api('/limits');
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('lists and removes rules, and counts how often each fired', async () => {
    const added = (await (
      await addFault({ route: 'GET /services/data/*/limits', fault: 'error-500' })
    ).json()) as { id: number };
    await crm.api('/limits');
    const list = await fetch(`${crm.url}/_handoff/faults`, {
      headers: { authorization: `Bearer ${await crm.token()}` },
    });
    expect((await list.json()) as { faults: unknown[] }).toMatchObject({
      faults: [{ id: added.id, fired: 1, fault: 'error-500' }],
    });
    const removed = await fetch(`${crm.url}/_handoff/faults/${added.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await crm.token()}` },
    });
    expect(removed.status).toBe(204);
    expect((await crm.api('/limits')).status).toBe(200);
  });

  it('lets only the org administrator change faults, and rejects a malformed rule', async () => {
    expect((await fetch(`${crm.url}/_handoff/faults`)).status).toBe(401);
    const user = await crm.api('/sobjects/User', {
      method: 'POST',
      body: JSON.stringify({ LastName: 'Rep', Username: 'rep@test.handoff', Email: 'rep@test.handoff' }),
    });
    const { id } = (await user.json()) as { id: string };
    await crm.services.oauth.setPassword(id, 'rep-password');
    const token = await fetch(`${crm.url}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: TEST_CREDENTIALS.clientId,
        client_secret: TEST_CREDENTIALS.clientSecret,
        username: 'rep@test.handoff',
        password: 'rep-password',
      }),
    });
    const repToken = ((await token.json()) as { access_token: string }).access_token;
    const refused = await addFault({ route: 'GET /x', fault: 'error-500' }, repToken);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe(
      'INSUFFICIENT_ACCESS',
    );
    const malformed = await addFault({ route: 'nonsense', fault: 'explode' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe('INVALID_INPUT');
  });
});

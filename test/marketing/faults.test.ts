import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { passwordGrant, startTestCrm, TEST_CREDENTIALS } from '../support/crm-server.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

type Json = Record<string, unknown>;

describe('fault injection on the marketing engine', () => {
  let m: TestMarketing;

  beforeAll(async () => {
    m = await startTestMarketing({ faultInjection: true });
  });

  afterEach(() => {
    m.services.faults.clear();
  });

  afterAll(async () => {
    await m.close();
  });

  const addFault = (rule: Json) => m.call('/_handoff/faults', { method: 'POST', body: JSON.stringify(rule) });
  const createProspect = (email: string) =>
    m.call('/api/v5/objects/prospects?fields=id', { method: 'POST', body: JSON.stringify({ email }) });
  const countByEmail = async (email: string) =>
    ((await m.call(`/api/v5/objects/prospects?fields=id&email=${email}`)).body as { values: unknown[] })
      .values.length;

  it('answers rate-limit and auth faults in each API family’s format, applying nothing', async () => {
    expect(
      (await addFault({ route: 'POST /api/v5/objects/prospects', fault: 'concurrency-66', times: 1 })).status,
    ).toBe(201);
    expect(await createProspect('limited@example.com')).toMatchObject({ status: 429, body: { code: 66 } });
    expect(await countByEmail('limited@example.com')).toBe(0);

    await addFault({ route: 'POST /api/prospect/version/3/do/**', fault: 'daily-limit-122', times: 1 });
    const legacy = await m.call('/api/prospect/version/3/do/create/email/limited@example.com?format=json', {
      method: 'POST',
    });
    expect(legacy.body).toMatchObject({ '@attributes': { stat: 'fail', err_code: 122 } });

    await addFault({ route: 'GET /api/v5/**', fault: 'error-500', times: 1 });
    expect(await m.call('/api/v5/objects/prospects?fields=id')).toMatchObject({
      status: 500,
      body: { code: 500 },
    });
    await addFault({ route: '* /api/v5/**', fault: 'token-184', times: 1 });
    expect(await m.call('/api/v5/objects/prospects?fields=id')).toMatchObject({
      status: 401,
      body: { code: 184 },
    });
  });

  it('drops the connection before applying, or loses the answer after applying', async () => {
    await addFault({ route: 'POST /api/v5/objects/prospects', fault: 'drop', times: 1 });
    await expect(createProspect('dropped@example.com')).rejects.toThrow();
    expect(await countByEmail('dropped@example.com')).toBe(0);

    await addFault({ route: 'POST /api/v5/objects/prospects', fault: 'lost-answer', times: 1 });
    await expect(createProspect('applied@example.com')).rejects.toThrow();
    expect(await countByEmail('applied@example.com')).toBe(1);

    await addFault({ route: 'POST /api/v5/objects/prospects', fault: 'latency', latencyMs: 50, times: 1 });
    expect((await createProspect('slow@example.com')).status).toBe(201);
    const listed = await m.call('/_handoff/faults');
    expect((listed.body as { faults: Json[] }).faults.map((f) => f.fired)).toEqual([1, 1, 1]);
  });

  it('gives back the concurrent-request slot of an answer it lost', async () => {
    // More lost answers than the unit's five slots: had they kept their slots, the next call would get 66.
    await addFault({ route: 'POST /api/v5/objects/prospects', fault: 'lost-answer', times: 7 });
    for (let i = 0; i < 7; i++) await createProspect(`lost-slot${i}@example.com`).catch(() => undefined);
    const after = await createProspect('after-lost@example.com');
    expect(after.status).toBe(201);
    expect(await countByEmail('lost-slot6@example.com')).toBe(1);
  });

  it('lets only Account Engagement administrators steer faults, and refuses a malformed rule', async () => {
    expect(await addFault({ route: 'GET /x', fault: 'explode' })).toMatchObject({
      status: 400,
      body: { code: 62 },
    });
    const anonymous = await m.call('/_handoff/faults', { token: 'nope', unit: null });
    expect(anonymous).toMatchObject({ status: 401, body: { code: 184 } });

    // A CRM user with no business unit of their own.
    const ctx = { userId: m.crm.adminUserId, autoAssign: undefined };
    const userId = await m.crm.services.records.create(ctx, 'User', {
      Username: 'outsider@test.handoff',
      LastName: 'Outsider',
      Email: 'outsider@test.handoff',
    });
    await m.crm.services.oauth.setPassword(userId, 'outsider password');
    const token = (await (
      await fetch(`${m.crm.url}/services/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: TEST_CREDENTIALS.clientId,
          client_secret: TEST_CREDENTIALS.clientSecret,
          username: 'outsider@test.handoff',
          password: 'outsider password',
        }),
      })
    ).json()) as { access_token: string };
    const outsider = await m.call('/_handoff/faults', { token: token.access_token });
    expect(outsider).toMatchObject({ status: 400, body: { code: 201 } });
    expect(await m.call('/_handoff/faults', { unit: null })).toMatchObject({ body: { code: 181 } });
    expect(await m.call('/api/v5/objects/prospects?fields=id', { token: token.access_token })).toMatchObject({
      body: { code: 201 },
    });
  });
});

describe('fault injection across business units', () => {
  let m: TestMarketing;

  beforeAll(async () => {
    m = await startTestMarketing({ faultInjection: true });
  });

  afterAll(async () => {
    await m.close();
  });

  /** A CRM user who administers only `unitId`, and their access token. */
  async function adminOf(unitId: string, username: string): Promise<string> {
    const ctx = { userId: m.crm.adminUserId, autoAssign: undefined };
    const userId = await m.crm.services.records.create(ctx, 'User', {
      Username: username,
      LastName: 'Admin',
      Email: username,
    });
    await m.crm.services.oauth.setPassword(userId, 'unit admin password');
    const unit = m.services.units.get(unitId)!;
    await m.services.units.ensure({ name: unit.name, grants: [{ crmUserId: userId, email: username }] });
    return String((await passwordGrant(m.crm.url, username, 'unit admin password')).body.access_token);
  }

  it("lets one unit's administrator fault only that unit, and see and remove only its rules", async () => {
    const other = await adminOf(m.otherUnit.id, 'other-admin@test.handoff');
    const added = await m.call('/_handoff/faults', {
      method: 'POST',
      token: other,
      unit: m.otherUnit.id,
      body: JSON.stringify({ route: '* /api/**', fault: 'unavailable-503' }),
    });
    expect(added.status).toBe(201);
    // Unit A (the test admin's) answers as ever; unit B, whose admin added the rule, fails.
    expect((await m.call('/api/v5/objects/prospects?fields=id')).status).toBe(200);
    expect(
      (await m.call('/api/v5/objects/prospects?fields=id', { token: other, unit: m.otherUnit.id })).status,
    ).toBe(503);
    // B's admin cannot name unit A to reach it, and A's admin neither sees nor removes B's rule.
    const intoA = await m.call('/_handoff/faults', {
      method: 'POST',
      token: other,
      body: JSON.stringify({ route: '* /api/**', fault: 'unavailable-503' }),
    });
    expect(intoA).toMatchObject({ status: 400, body: { code: 201 } });
    expect(((await m.call('/_handoff/faults')).body as { faults: unknown[] }).faults).toEqual([]);
    const id = (added.body as { id: number }).id;
    expect((await m.call(`/_handoff/faults/${id}`, { method: 'DELETE' })).status).toBe(404);
    await m.call('/_handoff/faults', { method: 'DELETE' });
    expect(m.services.faults.list()).toHaveLength(1);
    expect(
      (await m.call(`/_handoff/faults/${id}`, { method: 'DELETE', token: other, unit: m.otherUnit.id }))
        .status,
    ).toBe(204);
  });
});

describe('fault injection left off', () => {
  it('has no /_handoff/faults unless the operator turns it on, and refuses configured faults', async () => {
    const m = await startTestMarketing();
    try {
      expect((await m.call('/_handoff/faults')).status).toBe(404);
      expect(
        (
          await m.call('/_handoff/faults', {
            method: 'POST',
            body: JSON.stringify({ route: '* /api/**', fault: 'unavailable-503' }),
          })
        ).status,
      ).toBe(404);
      expect((await m.call('/api/v5/objects/prospects?fields=id')).status).toBe(200);
    } finally {
      await m.close();
    }
    await expect(
      startTestCrm({ config: { faults: [{ route: '* /**', fault: 'lock', probability: 1, latencyMs: 0 }] } }),
    ).rejects.toThrow(/fault injection is off/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';
import { buildLead } from '../support/factories.js';

const DAY = 86_400_000;

describe('the recycle bin', () => {
  let crm: TestCrm;
  let now = new Date('2026-11-01T12:00:00.000Z');

  beforeAll(async () => {
    // Tokens outlive the test's clock jumps; their own expiry is tested elsewhere.
    crm = await startTestCrm({ now: () => now, config: { accessTokenTtlSeconds: 60 * 86_400 } });
  });

  afterAll(async () => {
    await crm.close();
  });

  const createAndDelete = async (lastName: string) => {
    const r = await crm.api('/sobjects/Lead', {
      method: 'POST',
      body: JSON.stringify(buildLead({ LastName: lastName })),
    });
    const { id } = (await r.json()) as { id: string };
    expect((await crm.api(`/sobjects/Lead/${id}`, { method: 'DELETE' })).status).toBe(204);
    return id;
  };
  const inQueryAll = async (id: string) => {
    const r = await crm.api(`/queryAll?q=${encodeURIComponent(`SELECT Id FROM Lead WHERE Id = '${id}'`)}`);
    return ((await r.json()) as { totalSize: number }).totalSize === 1;
  };

  it('keeps deleted records 15 days, then purges them for good', async () => {
    const old = await createAndDelete('Old');
    now = new Date(now.getTime() + 14 * DAY);
    const recent = await createAndDelete('Recent');
    now = new Date(now.getTime() + 2 * DAY); // Old was deleted 16 days ago, Recent 2 days ago

    expect(await crm.services.records.purgeRecycleBin()).toBe(1);
    expect(await inQueryAll(old)).toBe(false);
    expect(await inQueryAll(recent)).toBe(true);
    const [restored] = await crm.services.records.undelete(
      { userId: crm.adminUserId, autoAssign: undefined },
      [recent],
    );
    expect(restored?.success).toBe(true);
  });
});

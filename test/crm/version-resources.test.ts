import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, type TestCrm } from '../support/crm-server.js';

describe('the version root and /limits, as clients read them', () => {
  let crm: TestCrm;

  beforeAll(async () => {
    crm = await startTestCrm();
  });

  afterAll(async () => {
    await crm.close();
  });

  it('lists a version’s resources with the caller’s identity URL, which jsforce’s identity() follows', async () => {
    const root = (await crm.call('', 'GET')).body as Record<string, string>;
    expect(root).toMatchObject({
      sobjects: '/services/data/v60.0/sobjects',
      query: '/services/data/v60.0/query',
      search: '/services/data/v60.0/search',
      identity: `${crm.url}/id/${crm.services.orgId()}/${crm.adminUserId}`,
    });
    const conn = await crm.connect();
    const identity = await conn.identity();
    expect(identity).toMatchObject({ user_id: crm.adminUserId, organization_id: crm.services.orgId() });
  });

  it('answers the standard limits by name', async () => {
    const limits = (await crm.call('/limits', 'GET')).body as Record<
      string,
      { Max: number; Remaining: number }
    >;
    for (const name of [
      'DailyApiRequests',
      'FileStorageMB',
      'DataStorageMB',
      'DailyBulkApiBatches',
      'SingleEmail',
    ])
      expect(limits[name], name).toEqual({ Max: expect.any(Number), Remaining: expect.any(Number) });
  });
});

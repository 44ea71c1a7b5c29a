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

  it('answers /tabs and /theme from the schema, in the shape jsforce’s tabs() and theme() read', async () => {
    const conn = await crm.connect();
    const tabs = (await conn.tabs()) as unknown as Array<Record<string, unknown>>;
    const lead = tabs.find((t) => t.sobjectName === 'Lead');
    expect(lead).toMatchObject({
      label: 'Leads',
      name: 'standard-Lead',
      url: `${crm.url}/00Q/o`,
      custom: false,
    });
    for (const tab of tabs)
      expect(tab).toMatchObject({
        label: expect.any(String),
        name: expect.any(String),
        url: expect.any(String),
      });
    const theme = (await conn.theme()) as unknown as {
      themeItems: Array<{
        name: string;
        colors: Array<Record<string, unknown>>;
        icons: Array<Record<string, unknown>>;
      }>;
    };
    expect(theme.themeItems.map((t) => t.name)).toContain('Account');
    for (const item of theme.themeItems) {
      for (const c of item.colors)
        expect(c).toEqual({
          color: expect.any(String),
          context: expect.any(String),
          theme: expect.any(String),
        });
      for (const i of item.icons)
        expect(i).toMatchObject({
          url: expect.any(String),
          width: expect.any(Number),
          height: expect.any(Number),
          contentType: expect.any(String),
        });
    }
    const root = (await crm.call('', 'GET')).body as Record<string, string>;
    expect(root).toMatchObject({
      tabs: '/services/data/v60.0/tabs',
      theme: '/services/data/v60.0/theme',
      recent: '/services/data/v60.0/recent',
    });
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

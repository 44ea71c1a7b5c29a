import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startTestMarketing, type TestMarketing } from '../support/marketing-server.js';

interface Page {
  nextPageToken: string | null;
  nextPageUrl: string | null;
  values: Array<{ id: number; email: string; updatedAt: string }>;
}

const PROSPECTS = 10_000;

for (const dialect of DIALECTS) {
  describe(`v5 query paging (${dialect})`, () => {
    let m: TestMarketing;
    let clock = Date.parse('2026-11-22T08:00:00Z');

    beforeAll(async () => {
      // Each prospect a millisecond apart, with runs of equal updatedAt to test tie-breaking.
      // Tokens outlive the clock's jump past the page-token lifetime.
      m = await startTestMarketing({
        dialect,
        now: () => new Date(clock),
        crmConfig: { accessTokenTtlSeconds: 86_400 },
      });
      for (let i = 0; i < PROSPECTS; i++) {
        if (i % 3 === 0) clock += 1;
        await m.services.prospects.create(m.v4Unit, { type: 'import' }, { email: `p${i}@example.com` });
      }
    }, 120_000);

    afterAll(async () => {
      await m.close();
    });

    const get = async (path: string) => {
      const r = await m.call(path, { unit: m.v4Unit.id });
      expect(r.status).toBe(200);
      return r.body as Page;
    };

    /** Follows nextPageUrl to the end, as a client would. */
    const pageAll = async (first: string) => {
      const pages: Page[] = [await get(first)];
      while (pages.at(-1)!.nextPageUrl) {
        const next = new URL(pages.at(-1)!.nextPageUrl!);
        pages.push(await get(`${next.pathname}${next.search}`));
      }
      return pages;
    };

    it('pages 10,000 prospects by updatedAt with page tokens, each exactly once and in order', async () => {
      const pages = await pageAll(
        '/api/v5/objects/prospects?fields=id,email,updatedAt&orderBy=updatedAt%20ASC&limit=1000',
      );
      expect(pages).toHaveLength(10);
      const rows = pages.flatMap((p) => p.values);
      expect(rows).toHaveLength(PROSPECTS);
      expect(new Set(rows.map((r) => r.id)).size).toBe(PROSPECTS);
      const keys = rows.map((r) => `${r.updatedAt}:${String(r.id).padStart(10, '0')}`);
      expect([...keys].sort()).toEqual(keys);
      expect(pages.at(-1)!.nextPageToken).toBeNull();
    });

    it('keeps a query’s own updatedAt bound over every page, strict or not', async () => {
      // In creation order (updatedAt, then id), the i-th prospect was made at the start plus
      // ⌊i/3⌋ + 1 ms (v5 answers in whole seconds, so the instants come from the setup).
      const all = (
        await pageAll('/api/v5/objects/prospects?fields=id&orderBy=updatedAt%20ASC&limit=1000')
      ).flatMap((p) => p.values.map((v) => v.id));
      const madeAt = (i: number) => Math.floor(i / 3) + 1;
      // 1,500 ms in: the middle of a run of three prospects made at the same instant.
      const bound = new Date(Date.parse('2026-11-22T08:00:00Z') + 1_500).toISOString();
      for (const [filter, keep] of [
        ['updatedAtAfter', (ms: number) => ms > 1_500],
        ['updatedAtAfterOrEqualTo', (ms: number) => ms >= 1_500],
      ] as const) {
        const rows = (
          await pageAll(
            `/api/v5/objects/prospects?fields=id&orderBy=updatedAt%20ASC&limit=500&${filter}=${encodeURIComponent(bound)}`,
          )
        ).flatMap((p) => p.values.map((v) => v.id));
        expect(rows).toEqual(all.filter((_, i) => keep(madeAt(i))));
      }
    });

    it('pages by id descending with the default page size, and filters by updatedAt', async () => {
      const pages = await pageAll('/api/v5/objects/prospects?fields=id&orderBy=id%20DESC');
      expect(pages[0]!.values).toHaveLength(200);
      const ids = pages.flatMap((p) => p.values.map((v) => v.id));
      expect(ids).toHaveLength(PROSPECTS);
      expect([...ids].sort((a, b) => b - a)).toEqual(ids);

      const cutoff = pages.flatMap((p) => p.values)[0]!.id - 30;
      const recent = await pageAll(`/api/v5/objects/prospects?fields=id&idGreaterThan=${cutoff}&limit=7`);
      expect(recent.flatMap((p) => p.values)).toHaveLength(30);
    });

    it('refuses a page token with other parameters, a forged one, an expired one, and a fourth filtered field', async () => {
      const first = await get('/api/v5/objects/prospects?fields=id&limit=10');
      const token = first.nextPageToken!;
      const mixed = await m.call(`/api/v5/objects/prospects?nextPageToken=${token}&limit=5`, {
        unit: m.v4Unit.id,
      });
      expect(mixed).toMatchObject({ status: 400, body: { code: 5 } });
      const forged = await m.call(`/api/v5/objects/prospects?nextPageToken=${token.slice(0, -2)}xx`, {
        unit: m.v4Unit.id,
      });
      expect(forged).toMatchObject({ status: 400, body: { code: 5 } });
      // A signature of the right length in characters but not in bytes is as forged.
      const wide = await m.call(
        `/api/v5/objects/prospects?nextPageToken=${token.slice(0, -1)}${encodeURIComponent('é')}`,
        { unit: m.v4Unit.id },
      );
      expect(wide).toMatchObject({ status: 400, body: { code: 5 } });
      const otherUnit = await m.call(`/api/v5/objects/prospects?nextPageToken=${token}`, {
        unit: m.v3Unit.id,
      });
      expect(otherUnit).toMatchObject({ status: 400, body: { code: 5 } });
      clock += 4 * 3_600_000 + 1_000;
      const expired = await m.call(`/api/v5/objects/prospects?nextPageToken=${token}`, { unit: m.v4Unit.id });
      expect(expired, JSON.stringify(expired.body)).toMatchObject({ status: 400, body: { code: 210 } });

      const tooMany = await m.call(
        '/api/v5/objects/prospects?fields=id&idGreaterThan=1&createdAtAfter=2020-01-01T00:00:00Z&updatedAtAfter=2020-01-01T00:00:00Z&email=p1@example.com',
        { unit: m.v4Unit.id },
      );
      expect(tooMany).toMatchObject({ status: 400, body: { code: 209 } });
      const three = await m.call(
        '/api/v5/objects/prospects?fields=id&idGreaterThan=1&createdAtAfter=2020-01-01T00:00:00Z&updatedAtBefore=2099-01-01T00:00:00Z&updatedAtAfter=2020-01-01T00:00:00Z',
        { unit: m.v4Unit.id },
      );
      expect(three.status).toBe(200);
    });
  });
}

describe('the end of a page-token sequence', () => {
  let m: TestMarketing;

  beforeAll(async () => {
    // A cap of 25 records a sequence stands in for Account Engagement's 100,000.
    m = await startTestMarketing({ pageSequenceMax: 25 });
    for (let i = 0; i < 30; i++) {
      await m.services.prospects.create(m.v3Unit, { type: 'import' }, { email: `cap${i}@example.com` });
      const list = await m.call('/api/v5/objects/lists?fields=id', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `List ${i}` }),
      });
      expect(list.status).toBe(201);
    }
  });

  afterAll(async () => {
    await m.close();
  });

  for (const collection of ['prospects', 'lists']) {
    it(`stops ${collection} at the cap with Pardot-Warning 203 and no token, on every collection`, async () => {
      const pages: Array<{ page: Page; warning: string | null }> = [];
      let path: string | null = `/api/v5/objects/${collection}?fields=id&limit=10`;
      while (path) {
        const r = await m.call(path);
        expect(r.status).toBe(200);
        const page = r.body as Page;
        pages.push({ page, warning: r.headers.get('pardot-warning') });
        path = page.nextPageUrl
          ? `${new URL(page.nextPageUrl).pathname}${new URL(page.nextPageUrl).search}`
          : null;
      }
      expect(pages.map((p) => p.page.values.length)).toEqual([10, 10, 5]);
      expect(pages.map((p) => p.warning)).toEqual([null, null, '203']);
      expect(pages.at(-1)!.page.nextPageToken).toBeNull();
      expect(new Set(pages.flatMap((p) => p.page.values.map((v) => v.id))).size).toBe(25);
    });
  }

  it('ends a sequence without a warning when the records run out before the cap', async () => {
    const first = (await m.call('/api/v5/objects/lists?fields=id&limit=10')).body as Page;
    const tenth = first.values[9]!.id;
    // 20 lists are left past the tenth: under the cap.
    const rest = await m.call(`/api/v5/objects/lists?fields=id&limit=20&idGreaterThan=${tenth}`);
    expect(rest.status).toBe(200);
    expect((rest.body as Page).values).toHaveLength(20);
    expect((rest.body as Page).nextPageToken).toBeNull();
    expect(rest.headers.get('pardot-warning')).toBeNull();
  });
});

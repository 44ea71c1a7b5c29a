import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIngestApp } from '../../src/ingest/app.js';
import { openIngest } from '../../src/ingest/ingest-services.js';
import { buildMarketingApp } from '../../src/marketing/app.js';
import { openMarketing } from '../../src/marketing/marketing-services.js';
import { HttpTokenVerifier } from '../../src/marketing/token-verifier.js';
import { TEST_CREDENTIALS } from '../support/crm-server.js';
import { createTestDatabase } from '../support/databases.js';
import { startSurfaces, type Surfaces } from '../support/surfaces.js';

/** Scrapes `/metrics` as Prometheus would, and parses the text with a Prometheus text parser. */
async function scrape(app: FastifyInstance, headers: Record<string, string> = {}) {
  const answer = await app.inject({ method: 'GET', url: '/metrics', headers });
  expect(answer.statusCode).toBe(200);
  expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(answer.body);
}

type Families = Awaited<ReturnType<typeof scrape>>;

/** The value of one sample of a family whose labels include `labels`, or undefined. */
function sample(families: Families, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name);
  const found = family?.metrics.find((m) =>
    Object.entries(labels).every(([key, value]) => m.labels?.[key] === value),
  );
  return found?.value === undefined
    ? found?.count === undefined
      ? undefined
      : Number(found.count)
    : Number(found.value);
}

/** A port on this machine that nothing listens on (one just closed). */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('every server: /metrics, /healthz and /readyz', { timeout: 60_000 }, () => {
  let s: Surfaces;
  let servers: Array<[string, FastifyInstance]>;

  beforeAll(async () => {
    s = await startSurfaces();
    servers = [
      ['crm', s.crmApp],
      ['marketing', s.marketingApp],
      ['ingest', s.ingestApp],
      ['console', s.console.app],
    ];
  });
  afterAll(() => s.close());

  it('counts each request by route pattern and status, with its latency, beside the process metrics', async () => {
    for (const [server, app] of servers) {
      await app.inject({ method: 'GET', url: '/healthz' });
      await app.inject({ method: 'GET', url: '/no/such/path/for-anyone' });
      const families = await scrape(app);
      const requests = { server, method: 'GET', route: '/healthz', status: '200' };
      expect(sample(families, 'handoff_http_requests_total', requests), server).toBeGreaterThanOrEqual(1);
      // A path no route matched is one label, never the path itself (ids and emails stay out).
      expect(
        sample(families, 'handoff_http_requests_total', { server, route: 'unmatched' }),
      ).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(families)).not.toContain('for-anyone');
      const latency = families.find((f) => f.name === 'handoff_http_request_duration_seconds');
      expect(latency?.type).toBe('HISTOGRAM');
      // (The parser folds a labelled histogram's series together: its count is read off the text.)
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(
        new RegExp(
          `^handoff_http_request_duration_seconds_count\\{server="${server}",method="GET",route="/healthz"\\} [1-9]`,
          'm',
        ),
      );
      expect(sample(families, 'process_resident_memory_bytes', { server })).toBeGreaterThan(0);
    }
  });

  it('says it is alive, and ready when its store and the servers it needs answer', async () => {
    for (const [server, app] of servers) {
      const alive = await app.inject({ method: 'GET', url: '/healthz' });
      expect(alive.statusCode, server).toBe(200);
      expect(alive.json()).toEqual({ status: 'ok' });
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode, `${server}: ${ready.body}`).toBe(200);
      const body = ready.json<{ status: string; checks: Record<string, string> }>();
      expect(body.status).toBe('ok');
      expect(body.checks.store).toBe('ok');
    }
    // The console's connector needs both sides; the ingest its marketing engine.
    expect((await s.console.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
      checks: { store: 'ok', crm: 'ok', marketing: 'ok' },
    });
    expect((await s.ingestApp.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
      checks: { store: 'ok', marketing: 'ok' },
    });
  });

  it('reports each area’s figures: CRM API use and Bulk backlog, import backlog, ingest events, the sync queue', async () => {
    const crm = s.ingest.m.crm;
    const job = await crm.call('/jobs/ingest', 'POST', { object: 'Lead', operation: 'insert' });
    expect(job.status).toBe(200);
    let families = await scrape(s.crmApp);
    expect(sample(families, 'handoff_jobs_backlog', { runner: 'bulk-v2ingest', state: 'Open' })).toBe(1);
    expect(sample(families, 'handoff_crm_api_requests_today', { kind: 'limit' })).toBe(
      crm.services.usage.snapshot().max,
    );
    expect(sample(families, 'handoff_crm_api_requests_today', { kind: 'used' })).toBeGreaterThanOrEqual(1);

    const form = new FormData();
    form.set('input', new Blob([JSON.stringify({ operation: 'Upsert' })], { type: 'application/json' }));
    const importJob = await s.ingest.m.call('/api/v5/imports', { method: 'POST', body: form });
    expect(importJob.status, importJob.text).toBeLessThan(300);
    families = await scrape(s.marketingApp);
    expect(sample(families, 'handoff_jobs_backlog', { runner: 'import', state: 'Open' })).toBe(1);
    const unit = s.ingest.m.v3Unit;
    expect(sample(families, 'handoff_marketing_api_requests_today', { unit: unit.id, kind: 'limit' })).toBe(
      unit.dailyApiLimit,
    );
    expect(
      sample(families, 'handoff_marketing_api_requests_today', { unit: unit.id, kind: 'used' }),
    ).toBeGreaterThanOrEqual(1);

    const sent = await s.ingest.post(
      '/v1/identify',
      { userId: 'u-metrics', traits: { email: 'metrics@example.com' } },
      s.ingest.v3.writeKey,
    );
    expect(sent.status).toBe(200);
    await s.ingest.settled();
    families = await scrape(s.ingestApp);
    expect(sample(families, 'handoff_ingest_events_accepted_total')).toBe(1);
    expect(sample(families, 'handoff_ingest_events', { status: 'delivered' })).toBe(1);

    await s.connector.runOnce(); // the first pass sets the cursors: changes from here on are seen
    families = await scrape(s.console.app);
    expect(sample(families, 'handoff_connector_linked_pairs', { object: 'Lead' })).toBe(0);
    await crm.create('Lead', { LastName: 'Gauge', Company: 'Metrics Inc', Email: 'gauge@example.com' });
    await s.connector.runOnce();
    families = await scrape(s.console.app);
    expect(sample(families, 'handoff_connector_linked_pairs', { object: 'Lead' })).toBe(1);
    expect(sample(families, 'handoff_connector_lag_seconds')).toBe(0);
    expect(sample(families, 'handoff_connector_api_calls_today', { side: 'marketing' })).toBeGreaterThan(0);
  });

  it('asks for the bearer token on /metrics when HANDOFF_METRICS_TOKEN is set, and only there', async () => {
    process.env.HANDOFF_METRICS_TOKEN = 'a scrape token';
    try {
      for (const [server, app] of servers) {
        expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, server).toBe(401);
        const wrong = await app.inject({
          method: 'GET',
          url: '/metrics',
          headers: { authorization: 'Bearer nope' },
        });
        expect(wrong.statusCode).toBe(401);
        await scrape(app, { authorization: 'Bearer a scrape token' });
        expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      }
    } finally {
      delete process.env.HANDOFF_METRICS_TOKEN;
    }
  });
});

describe('/readyz when a server it needs does not answer', () => {
  it('answers 503 naming the failing check, and nothing of why', async () => {
    const NOBODY = await closedPort();
    const database = await createTestDatabase('sqlite');
    const marketing = await openMarketing({ database, tokens: new HttpTokenVerifier(NOBODY) });
    const ingest = await openIngest({
      database,
      deliver: false,
      marketing: {
        baseUrl: NOBODY,
        businessUnitId: '0Uv000000000001',
        login: { flow: 'password', loginUrl: NOBODY, ...TEST_CREDENTIALS },
      },
    });
    const apps = { marketing: buildMarketingApp(marketing), ingest: buildIngestApp(ingest) };
    try {
      const engine = await apps.marketing.inject({ method: 'GET', url: '/readyz' });
      expect(engine.statusCode).toBe(503);
      expect(engine.json()).toEqual({ status: 'unavailable', checks: { store: 'ok', crm: 'failing' } });
      const front = await apps.ingest.inject({ method: 'GET', url: '/readyz' });
      expect(front.statusCode).toBe(503);
      expect(front.json()).toEqual({ status: 'unavailable', checks: { store: 'ok', marketing: 'failing' } });
      expect(front.body).not.toContain('127.0.0.1');
      // Alive all the same: a restart would not help.
      expect((await apps.ingest.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await apps.marketing.close();
      await apps.ingest.close();
      await ingest.close();
      await marketing.close();
      await database.destroy();
    }
  });
});

import type { FastifyInstance } from 'fastify';
import { buildIngestApp } from '../../src/ingest/app.js';
import type { DestinationSettings, Source } from '../../src/ingest/domain/source.js';
import { openIngest, type IngestServices } from '../../src/ingest/ingest-services.js';
import { untilDelivered } from '../../src/testing/stack.js';
import type { DialectName } from './databases.js';
import { TEST_CREDENTIALS } from './crm-server.js';
import { startTestMarketing, type TestMarketing } from './marketing-server.js';

export interface TestIngest {
  url: string;
  m: TestMarketing;
  services: IngestServices;
  app: FastifyInstance;
  /** A source delivering to the v3 unit, and one to the v4 unit. */
  v3: { source: Source; writeKey: string };
  v4: { source: Source; writeKey: string };
  /** Another source on either unit, with its own settings. */
  addSource(
    name: string,
    settings: Partial<DestinationSettings>,
  ): Promise<{ source: Source; writeKey: string }>;
  /** POST a JSON body with Basic auth for the write key. */
  post(
    path: string,
    body: unknown,
    writeKey: string | null,
  ): Promise<{ status: number; body: unknown; headers: Headers }>;
  /** Waits until nothing is pending delivery (waiting events are parked, not pending). */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A CRM, a marketing engine and the ingest on 127.0.0.1:0 sharing one database. The ingest
 * reaches the marketing engine over HTTP with the CRM's OAuth password grant, as it would a real
 * business unit.
 */
export async function startTestIngest(
  options: { dialect?: DialectName; rateLimit?: number; faultInjection?: boolean; now?: () => Date } = {},
): Promise<TestIngest> {
  const m = await startTestMarketing({
    dialect: options.dialect,
    faultInjection: options.faultInjection,
    crmConfig: options.faultInjection ? { faultInjection: true } : undefined,
  });
  const services = await openIngest({
    database: m.crm.database,
    rateLimit: options.rateLimit,
    now: options.now,
    marketing: {
      baseUrl: m.url,
      businessUnitId: m.v3Unit.id,
      login: { flow: 'password', loginUrl: m.crm.url, ...TEST_CREDENTIALS },
    },
  });
  const app = buildIngestApp(services);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const v3 = await services.sources.create('web v3', { apiVersion: 3, businessUnitId: m.v3Unit.id });
  const v4 = await services.sources.create('web v4', { apiVersion: 4, businessUnitId: m.v4Unit.id });

  return {
    url,
    m,
    services,
    app,
    v3,
    v4,
    addSource: (name, settings) => services.sources.create(name, settings),
    async post(path, body, writeKey) {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(writeKey ? { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` } : {}),
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
    },
    settled: (timeoutMs) => untilDelivered(services, timeoutMs),
    async close() {
      await app.close();
      await services.close();
      await m.close();
    },
  };
}

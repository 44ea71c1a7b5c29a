import type { FastifyInstance } from 'fastify';
import { buildMarketingApp } from '../../src/marketing/app.js';
import { VISITOR_ACTIVITIES } from '../../src/marketing/collections/collection-defs.js';
import type { CrmConfig } from '../../src/crm/crm-config.js';
import type { BusinessUnit } from '../../src/marketing/domain/business-unit.js';
import type { GradingProfile } from '../../src/marketing/domain/grading.js';
import type { WebhookSubscription } from '../../src/marketing/webhooks/webhook-service.js';
import { openMarketing, type MarketingServices } from '../../src/marketing/marketing-services.js';
import type { DialectName } from './databases.js';
import { startTestCrm, type TestCrm } from './crm-server.js';

export interface TestMarketing {
  url: string;
  crm: TestCrm;
  services: MarketingServices;
  app: FastifyInstance;
  /** Email unique (v3 behaviour). */
  v3Unit: BusinessUnit;
  /** Several prospects per email (v4 behaviour). */
  v4Unit: BusinessUnit;
  /** A unit the test user has no access to. */
  otherUnit: BusinessUnit;
  /** fetch() with the CRM token and the given unit (v3Unit unless said). */
  call(
    path: string,
    init?: RequestInit & { unit?: string | null; token?: string | null },
  ): Promise<{ status: number; body: unknown; text: string; headers: Headers }>;
  close(): Promise<void>;
}

/**
 * A CRM (for its OAuth server) and a marketing engine on 127.0.0.1:0 sharing one database, with
 * three business units: a v3 one and a v4 one granted to the CRM admin, and one not granted.
 */
export async function startTestMarketing(
  options: {
    dialect?: DialectName;
    now?: () => Date;
    crmConfig?: Partial<CrmConfig>;
    scoring?: Record<number, number>;
    grading?: GradingProfile;
    webhooks?: WebhookSubscription[];
    automationIntervalMs?: number;
    smtp?: { url: string; from?: string };
    /** Fault injection turned on (`/_handoff/faults`), as `--faults` does. */
    faultInjection?: boolean;
    /** Records a v5 page-token sequence hands out before warning 203 (default 100,000). */
    pageSequenceMax?: number;
  } = {},
): Promise<TestMarketing> {
  const crm = await startTestCrm({ dialect: options.dialect, now: options.now, config: options.crmConfig });
  const services = await openMarketing({
    database: crm.database,
    tokens: { verify: async (token) => crm.services.oauth.verify(token) },
    now: options.now,
    scoring: options.scoring,
    grading: options.grading,
    webhooks: options.webhooks,
    automationIntervalMs: options.automationIntervalMs,
    webhookFirstRetryMs: 50,
    smtp: options.smtp,
    faultInjection: options.faultInjection,
    pageSequenceMax: options.pageSequenceMax,
  });
  const admin = { crmUserId: crm.adminUserId, email: 'admin@test.handoff' };
  const v3Unit = await services.units.ensure({ name: 'Unit v3', grants: [admin] });
  const v4Unit = await services.units.ensure({
    name: 'Unit v4',
    allowMultiplePerEmail: true,
    grants: [admin],
  });
  const otherUnit = await services.units.ensure({ name: 'Someone else’s unit', grants: [] });
  const app = buildMarketingApp(services);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  return {
    url,
    crm,
    services,
    app,
    v3Unit,
    v4Unit,
    otherUnit,
    async call(path, init = {}) {
      const { unit, token, headers, ...rest } = init;
      const bearer = token === undefined ? await crm.token() : token;
      const unitId = unit === undefined ? v3Unit.id : unit;
      const response = await fetch(`${url}${path}`, {
        ...rest,
        headers: {
          ...(typeof rest.body === 'string' && rest.body.startsWith('{')
            ? { 'content-type': 'application/json' }
            : {}),
          ...(rest.body instanceof URLSearchParams
            ? { 'content-type': 'application/x-www-form-urlencoded' }
            : {}),
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          ...(unitId ? { 'pardot-business-unit-id': unitId } : {}),
          ...(headers as Record<string, string> | undefined),
        },
      });
      const text = await response.text();
      let body: unknown = null;
      if (text && (response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
      return { status: response.status, body, text, headers: response.headers };
    },
    async close() {
      await app.close();
      await services.close();
      await crm.close();
    },
  };
}

/** A prospect's visitor activities, oldest first, as the engine recorded them. */
export async function visitorActivities(
  m: TestMarketing,
  unitId: string,
  prospectId: number,
): Promise<Array<Record<string, unknown>>> {
  const records = await m.services.collections.query(VISITOR_ACTIVITIES, {
    unitId,
    deleted: 'false',
    where: [['prospect_id', '=', prospectId]],
    afterId: 0,
    descending: false,
    limit: 1000,
  });
  return records.map((r) => r.values);
}

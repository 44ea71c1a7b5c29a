import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredRoute } from '../../src/http/route-registry.js';
import { consoleSession, startSurfaces, type Surfaces } from '../support/surfaces.js';

/**
 * Property-based fuzzing of every surface: each request is built from a route the app
 * registered, with hostile path values, query strings (repeated keys included), headers and
 * bodies of every content type. For every input: no 5xx, the error in the surface's own wire
 * shape, and the process still answering. In CI it runs a fixed number of runs with a fixed
 * seed; `npm run fuzz -- --runs N --seed S` runs it longer.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
/** SQLite in CI; `--dialect postgres` (with HANDOFF_TEST_PG_URL) runs the same inputs on PostgreSQL. */
const DIALECT = process.env.FUZZ_DIALECT === 'postgres' ? 'postgres' : 'sqlite';

/** Strings that broke servers somewhere: prototype names, NULs, huge numbers, bad dates, SQL. */
const NASTY = [
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  '99999999999999999999',
  'NaN',
  'null',
  'true',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\u0000',
  'a\u0000b',
  "'",
  '"',
  '\\',
  "' OR 1=1 --",
  '%',
  '%00',
  '%ZZ',
  'LAST_N_DAYS:999999999',
  'NEXT_N_DAYS:2147483648',
  '9999-99-99',
  '2026-13-45T25:61:61Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00Z',
  '99999-01-01T00:00:00Z',
  '{}',
  '[]',
  '<x/>',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  'javascript:alert(1)',
  '../../etc/passwd',
  '😀',
  '\uD800',
  'x'.repeat(3000),
  '00Q000000000000AAA',
  '003000000000001',
  'SELECT Id FROM Lead',
  'SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:999999999',
  "SELECT Id FROM Lead WHERE Email = 'a\u0000b'",
  'SELECT COUNT() FROM Lead GROUP BY Name',
  'SELECT Id, (SELECT Id FROM Contacts) FROM Account',
  'FIND {x} RETURNING Lead',
];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);

/** Deep nesting, the kind that overflows a recursive walker: JSON text, built as text. */
const deepJson = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom('traits', 'properties', 'records', 'prospect'))
  .map(([depth, key]) => `${`{"${key}":[`.repeat(depth)}"x"${']}'.repeat(depth)}`);

function jsonValueFor(keys: readonly string[]) {
  const leaf = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: text });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.dictionary(
        key,
        fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(key, leaf, { maxKeys: 3 })),
        { maxKeys: 6 },
      ),
    },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.array(fc.dictionary(key, leaf, { maxKeys: 4 }), { maxLength: 4 }) },
  );
}

interface Surface {
  name: string;
  app: () => FastifyInstance;
  /** The routes of this surface among the app's registered routes. */
  routes: (route: RegisteredRoute) => boolean;
  /** Parameter and body keys the surface reads, so inputs reach past the first check. */
  keys: readonly string[];
  /** Values each path parameter may take besides the nasty ones (real ids, names), by name. */
  params: () => Record<string, readonly string[]>;
  headers: () => Record<string, string>;
  /** Whether an error answer has the surface's wire shape. */
  wireShape: (response: LightMyRequestResponse, route: RegisteredRoute) => boolean;
  /** A 5xx this surface's protocol requires (a SOAP fault), or false. */
  allowed5xx?: (response: LightMyRequestResponse) => boolean;
}

function json(response: LightMyRequestResponse): unknown {
  try {
    return JSON.parse(response.body);
  } catch {
    return undefined;
  }
}

const isSalesforceErrors = (body: unknown) =>
  Array.isArray(body) &&
  body.length > 0 &&
  body.every(
    (e) =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as { message?: unknown }).message === 'string' &&
      typeof ((e as { errorCode?: unknown }).errorCode ?? (e as { statusCode?: unknown }).statusCode) ===
        'string',
  );
const isOAuthError = (body: unknown) =>
  typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
const isSoapFault = (r: LightMyRequestResponse) =>
  /<soapenv:Fault>/.test(r.body) && /<faultcode>sf:/.test(r.body);
const isV5Error = (body: unknown) =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as { code?: unknown }).code === 'number' &&
  typeof (body as { message?: unknown }).message === 'string';
const isLegacyError = (r: LightMyRequestResponse) => {
  const body = json(r) as { '@attributes'?: { stat?: string } } | undefined;
  return body?.['@attributes']?.stat === 'fail' || /<rsp stat="fail"/.test(r.body);
};

const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'text/xml',
  'text/csv',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/soap+xml',
  'nonsense',
];

function bodyFor(surface: Surface) {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: jsonValueFor(surface.keys).map((v) => ({
        type: 'application/json',
        body: JSON.stringify(v),
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .dictionary(fc.constantFrom(...surface.keys), text, { maxKeys: 5 })
        .map((v) => ({ type: 'application/x-www-form-urlencoded', body: new URLSearchParams(v).toString() })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...CONTENT_TYPES), fc.oneof(text, fc.json()))
        .map(([type, body]) => ({ type, body })),
    },
    {
      weight: 1,
      arbitrary: fc.array(fc.array(text, { maxLength: 4 }), { maxLength: 4 }).map((rows) => ({
        type: 'text/csv',
        body: [
          'Email,LastName,Company',
          ...rows.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(',')),
        ].join('\n'),
      })),
    },
    { weight: 1, arbitrary: deepJson.map((body) => ({ type: 'application/json', body })) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Text as it can travel in a URL (a lone surrogate cannot): well-formed, otherwise as given. */
const wellFormed = (v: string) => Buffer.from(v, 'utf8').toString('utf8');

/** A path segment: percent-encoded, or sent raw when it is printable ASCII (a bad `%ZZ` included). */
function segment(value: string, raw: boolean): string {
  return raw &&
    /^[\x21-\x7e]*$/.test(value) &&
    !value.includes('/') &&
    !value.includes('?') &&
    !value.includes('#')
    ? value
    : encodeURIComponent(wellFormed(value));
}

function requestFor(surface: Surface, routes: RegisteredRoute[]) {
  const known = surface.params();
  const pool = [...new Set(Object.values(known).flat())];
  // Each value drawn three ways: one the parameter takes, any known one, or a nasty one.
  const paramValue = fc.tuple(
    fc.oneof(
      { weight: 5, arbitrary: fc.nat() },
      { weight: 1, arbitrary: fc.constantFrom(...pool) },
      { weight: 2, arbitrary: text },
    ),
    fc.boolean(),
  );
  const query = fc.dictionary(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...surface.keys) }, { weight: 1, arbitrary: text }),
    fc.oneof(
      { weight: 3, arbitrary: text },
      { weight: 1, arbitrary: fc.array(text, { minLength: 2, maxLength: 3 }) },
    ),
    { maxKeys: 4 },
  );
  return fc
    .record({
      route: fc.constantFrom(...routes),
      values: fc.array(paramValue, { minLength: 6, maxLength: 6 }),
      query,
      body: bodyFor(surface),
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant<string | null>(null) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
      ),
      extraHeaders: fc.dictionary(
        fc.constantFrom(
          'accept',
          'x-handoff-actor',
          'sforce-call-options',
          'content-encoding',
          'pardot-business-unit-id',
          'authorization',
          'cookie',
        ),
        // What a header can carry: printable ASCII.
        text.filter((v) => [...v].every((c) => c >= ' ' && c <= '~')),
        { maxKeys: 2 },
      ),
    })
    .map(({ route, values, query, body, method, extraHeaders }) => {
      let i = 0;
      const next = (name: string) => {
        const [drawn, raw] = values[i++ % values.length] ?? [0, false];
        const own = known[name] ?? known['*'] ?? pool;
        const value = typeof drawn === 'number' ? (own[drawn % own.length] ?? 'x') : drawn;
        return segment(value, raw);
      };
      const path = route.url
        .replace(/:([A-Za-z]+)/g, (_m, name: string) => next(name))
        .replace(/\*/g, () => next('*'));
      const wellQuery = Object.fromEntries(
        Object.entries(query).map(([k, v]) => [
          wellFormed(k),
          Array.isArray(v) ? v.map(wellFormed) : wellFormed(v),
        ]),
      );
      const options: InjectOptions = {
        method: (method ?? route.method) as InjectOptions['method'],
        url: path,
        query: wellQuery,
        headers: { ...surface.headers(), ...(body ? { 'content-type': body.type } : {}), ...extraHeaders },
        ...(body && (method ?? route.method) !== 'GET' ? { payload: body.body } : {}),
      };
      return { route, options };
    });
}

describe('fuzzing every surface with malformed input', { timeout: 600_000 }, () => {
  let s: Surfaces;
  let leadId = '';
  let prospectId = '';
  let session = { cookie: '', csrf: '' };

  beforeAll(async () => {
    s = await startSurfaces({ dialect: DIALECT });
    const lead = await s.ingest.m.crm.call('/sobjects/Lead', 'POST', {
      LastName: 'Fuzz',
      Company: 'F',
      Email: 'fuzz@example.com',
    });
    leadId = (lead.body as { id: string }).id;
    const prospect = await s.ingest.m.call('/api/v5/objects/prospects?fields=id', {
      method: 'POST',
      body: JSON.stringify({ email: 'fuzz@example.com' }),
    });
    prospectId = String((prospect.body as { id: number }).id);
    session = await consoleSession(s.console.app, s.console.login);
  });

  afterAll(async () => {
    await s?.close();
  });

  const surfaces: Surface[] = [
    {
      name: 'CRM REST, SOQL, Composite, Bulk',
      app: () => s.crmApp,
      routes: (r) => r.url.startsWith('/services/data'),
      keys: [
        'q',
        'ids',
        'fields',
        'start',
        'end',
        'allOrNone',
        'records',
        'compositeRequest',
        'object',
        'operation',
        'externalIdFieldName',
        'contentType',
        'lineEnding',
        'columnDelimiter',
        'state',
        'query',
        'LastName',
        'Company',
        'Email',
        'attributes',
        'type',
        'url',
        'method',
        'body',
        'referenceId',
        'batchRequests',
        'locator',
        'maxRecords',
        'Id',
        'CreatedDate',
      ],
      params: () => ({
        version: ['v60.0', 'v60.0', 'v60.0', 'v59.0', 'v20.0', 'v99.0'],
        sobject: ['Lead', 'Contact', 'Account', 'User', 'Task', 'Campaign'],
        type: ['Lead', 'Contact', 'Account', 'User', 'Task'],
        id: [leadId, '00Q000000000000AAA', 'abc'],
        jobId: ['750000000000001AAA', leadId],
        field: ['Email', 'Id', 'Handoff_Activity_Id__c'],
        value: ['fuzz@example.com', leadId],
        '*': [
          'describe',
          'updated',
          'deleted',
          'Lead',
          leadId,
          'results',
          'successfulResults',
          'failedResults',
        ],
      }),
      headers: () => ({ authorization: `Bearer ${s.adminToken}` }),
      wireShape: (r) => isSalesforceErrors(json(r)),
    },
    {
      name: 'CRM OAuth and identity',
      app: () => s.crmApp,
      routes: (r) =>
        (r.url.startsWith('/services/oauth2') && r.url !== '/services/oauth2/authorize') ||
        r.url.startsWith('/id/'),
      keys: [
        'grant_type',
        'client_id',
        'client_secret',
        'username',
        'password',
        'refresh_token',
        'assertion',
        'token',
        'format',
        'oauth_token',
        'redirect_uri',
        'code',
      ],
      params: () => ({ '*': ['00D000000000001', leadId] }),
      headers: () => ({}),
      wireShape: (r) => isOAuthError(json(r)),
    },
    {
      // The web-server flow's pages (authorize, login, approval): their refusals are the page
      // itself, with the reason.
      name: 'CRM OAuth authorization page',
      app: () => s.crmApp,
      routes: (r) =>
        r.url === '/services/oauth2/authorize' ||
        r.url === '/' ||
        r.url === '/setup/secur/RemoteAccessAuthorizationPage.apexp',
      keys: [
        'response_type',
        'client_id',
        'redirect_uri',
        'state',
        'prompt',
        'code_challenge',
        'code_challenge_method',
        'username',
        'pw',
        'startURL',
        'source',
        '_CONFIRMATIONTOKEN',
        'oaapprove',
        'oadeny',
      ],
      params: () => ({ '*': ['x'] }),
      headers: () => ({}),
      // (A method a page does not take is answered outside it: under /services/oauth2 in the
      // OAuth endpoints' JSON shape, elsewhere in the CRM's own.)
      wireShape: (r) =>
        (String(r.headers['content-type']).startsWith('text/html') && r.body.includes('class="error"')) ||
        isOAuthError(json(r)) ||
        isSalesforceErrors(json(r)),
    },
    {
      name: 'CRM SOAP',
      app: () => s.crmApp,
      routes: (r) => r.url.startsWith('/services/Soap'),
      keys: ['username', 'password', 'leadConverts', 'ids'],
      params: () => ({ version: ['60.0', '20.0', '99.0'], '*': ['00D000000000001'] }),
      headers: () => ({ authorization: `Bearer ${s.adminToken}`, soapaction: 'login' }),
      wireShape: (r) => isSoapFault(r),
      // SOAP has every fault answered 500, as Salesforce does for a refused login or session; a
      // malformed call gets 400, and a server failure (UNKNOWN_EXCEPTION) is never allowed.
      allowed5xx: (r) =>
        r.statusCode === 500 &&
        isSoapFault(r) &&
        /sf:(INVALID_LOGIN|INVALID_SESSION_ID|REQUEST_LIMIT_EXCEEDED)</.test(r.body),
    },
    {
      name: 'marketing v5',
      app: () => s.marketingApp,
      routes: (r) => r.url.startsWith('/api/v5'),
      keys: [
        'fields',
        'limit',
        'orderBy',
        'deleted',
        'nextPageToken',
        'email',
        'id',
        'idGreaterThan',
        'idLessThan',
        'createdAtAfter',
        'updatedAtAfter',
        'updatedAtBefore',
        'matchEmail',
        'prospect',
        'secondaryDeletedSearch',
        'firstName',
        'lastName',
        'score',
        'grade',
        'listId',
        'prospectId',
        'name',
        'operation',
        'object',
        'status',
        'fieldId',
        'type',
        'campaignId',
        'salesforceId',
      ],
      params: () => ({
        id: [prospectId, '1', '0'],
        collection: [
          'prospects',
          'lists',
          'campaigns',
          'tags',
          'list-memberships',
          'visitors',
          'visitor-activities',
          'visits',
          'opportunities',
        ],
        '*': [prospectId, '1'],
      }),
      headers: () => ({
        authorization: `Bearer ${s.adminToken}`,
        'pardot-business-unit-id': s.ingest.m.v3Unit.id,
      }),
      wireShape: (r) => isV5Error(json(r)),
    },
    {
      name: 'marketing v3/v4',
      app: () => s.marketingApp,
      routes: (r) => r.url.startsWith('/api/') && !r.url.startsWith('/api/v5'),
      keys: [
        'format',
        'email',
        'id',
        'fid',
        'first_name',
        'last_name',
        'score',
        'output',
        'limit',
        'offset',
        'sort_by',
        'sort_order',
        'created_after',
        'updated_after',
        'id_greater_than',
        'list_',
        'user_id',
        'user_email',
        'campaign_id',
        'prospect_id',
      ],
      params: () => ({
        object: ['prospect', 'visitorActivity', 'list', 'campaign', 'user', 'constructor', '__proto__'],
        version: ['3', '4'],
        op: ['query', 'read', 'create', 'update', 'upsert', 'assign', 'delete', 'unassign'],
        by: ['email', 'id', 'fid'],
        key: ['fuzz@example.com', prospectId, 'none@example.com'],
        '*': ['query', 'read', 'email', 'fuzz@example.com', prospectId],
      }),
      headers: () => ({
        authorization: `Bearer ${s.adminToken}`,
        'pardot-business-unit-id': s.ingest.m.v3Unit.id,
      }),
      wireShape: (r) => isLegacyError(r),
    },
    {
      name: 'marketing forms, form handlers, email and tracking',
      app: () => s.marketingApp,
      routes: (r) => !r.url.startsWith('/api/') && !r.url.startsWith('/_handoff'),
      keys: [
        'email',
        'first_name',
        'last_name',
        'url',
        'title',
        'ref',
        'visitor_id',
        'pi_opt_in',
        'success_location',
        'error_location',
        'company',
        'account_id',
        'campaign_id',
        'pi_ad_Id',
      ],
      params: () => ({ unitId: [s.ingest.m.v3Unit.id], '*': ['1', '0', 'x'] }),
      headers: () => ({}),
      // Hosted pages answer people: an error page, a redirect, or the v5 JSON; never a server error.
      wireShape: (r) =>
        typeof r.headers['content-type'] === 'string' || r.statusCode === 302 || r.statusCode === 303,
    },
    {
      name: 'the Tracking API',
      app: () => s.ingestApp,
      routes: () => true,
      keys: [
        'userId',
        'anonymousId',
        'traits',
        'event',
        'properties',
        'timestamp',
        'sentAt',
        'messageId',
        'context',
        'integrations',
        'batch',
        'type',
        'writeKey',
        'groupId',
        'previousId',
        'name',
        'email',
      ],
      params: () => ({ '*': ['identify', 'track'] }),
      headers: () => ({
        authorization: `Basic ${Buffer.from(`${s.ingest.v3.writeKey}:`).toString('base64')}`,
      }),
      wireShape: (r) => {
        const body = json(r) as { success?: unknown; code?: unknown; message?: unknown } | undefined;
        return body?.success === false && typeof body.code === 'string' && typeof body.message === 'string';
      },
    },
    {
      name: 'the console',
      app: () => s.console.app,
      // Logout would end the session the rest of the run drives.
      routes: (r) => r.url.startsWith('/console/api') && r.url !== '/console/api/logout',
      keys: [
        'username',
        'password',
        'q',
        'object',
        'fields',
        'ids',
        'all',
        'mappings',
        'rules',
        'paused',
        'name',
        'settings',
        'LastName',
        'email',
        'userId',
        'apiVersion',
        'businessUnitId',
        'ids',
      ],
      params: () => ({ object: ['Lead', 'Contact'], id: [leadId, prospectId, '1'], '*': ['1'] }),
      headers: () => ({ cookie: session.cookie, 'x-csrf-token': session.csrf }),
      wireShape: (r) => {
        const body = json(r) as { error?: { code?: unknown; message?: unknown } } | undefined;
        return typeof body?.error?.code === 'string' && typeof body.error.message === 'string';
      },
    },
  ];

  for (const surface of surfaces) {
    it(`answers ${surface.name} with 4xx in its own format, never 5xx`, async () => {
      const app = surface.app();
      const routes = app.registeredRoutes.filter(surface.routes);
      expect(routes.length).toBeGreaterThan(0);
      let tried = 0;
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(requestFor(surface, routes), async ({ route, options }) => {
          tried += 1;
          const response = await app.inject(options);
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          if (process.env.FUZZ_TRACE === String(response.statusCode))
            console.log(
              `trace ${String(options.method)} ${String(options.url)} → ${response.body.slice(0, 160)}`,
            );
          const described = `${String(options.method)} ${String(options.url)} → ${response.statusCode} ${response.body.slice(0, 300)}`;
          if (response.statusCode >= 500)
            expect(surface.allowed5xx?.(response) ?? false, described).toBe(true);
          if (response.statusCode >= 400 && response.statusCode !== 404 && response.statusCode !== 405)
            expect(surface.wireShape(response, route), described).toBe(true);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      // Still alive: an ordinary request after the storm.
      const alive = await app.inject({ method: 'GET', url: '/__alive__' });
      expect(alive.statusCode).toBeLessThan(500);
      console.log(
        `fuzz ${surface.name}: ${tried} inputs over ${routes.length} routes; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
      );
    });
  }
});

import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredRoute } from '../../src/http/route-registry.js';
import { passwordGrant, TEST_CREDENTIALS } from '../support/crm-server.js';
import { consoleSession, startSurfaces, type Surfaces } from '../support/surfaces.js';

/**
 * Every registered route of every app, against every way in that must fail. The routes come
 * from the apps themselves (`registeredRoutes`), so a route added tomorrow is in the matrix
 * tomorrow; what is public on purpose is listed here, and nothing else may answer.
 */

/**
 * Routes open by design: logins, the public pages a browser or an email reader loads, and every
 * server's probes (`/healthz`, `/readyz`; `/metrics` unless HANDOFF_METRICS_TOKEN is set), which
 * say nothing of anyone's data.
 */
const PROBES = /^\/(healthz|readyz|metrics)$/;
const PUBLIC: Record<string, RegExp> = {
  // The login and approval pages of the web-server flow are where a user logs in.
  crm: /^(\/$|\/setup\/secur\/RemoteAccessAuthorizationPage\.apexp$|\/services\/data$|\/services\/oauth2\/(token|revoke|authorize)$|\/services\/Soap\/u\/:version(\/:orgId)?$)/,
  marketing: /^\/(pd\.js|analytics|l\/|form\/|lp\/|e\/)/,
  // The browser SDK's own script and chunks, the device-mode integration it loads, its metrics
  // sink and CORS preflights (the settings route needs a live write key in its path, so it is
  // checked like the rest).
  ingest:
    /^(\/analytics\.js\/v1\/|\/analytics-next\/bundles\/|\/next-integrations\/integrations\/pardot\/|\/v1\/m$|\/v1\/\*$)/,
  console: /^(\/console\/api\/(session|login)$|\/$|\/index\.html$|\/assets\/)/,
};

function isPublic(surface: string, url: string): boolean {
  return PROBES.test(url) || (PUBLIC[surface]?.test(url) ?? false);
}

/** A concrete path for a route pattern: plausible values, so only the guard can refuse it. */
function concrete(url: string, values: Record<string, string>): string {
  return url.replace(/:([A-Za-z]+)/g, (_m, name: string) => values[name] ?? '1').replace(/\*/g, '1');
}

/**
 * The ways one path can be spelled that a router may still match: percent-encoding, case,
 * doubled slashes, a `;` parameter, double encoding, and the absolute form of the request target.
 */
function spellings(path: string): string[] {
  const segments = path.split('/');
  const i = segments.findIndex((s, n) => n > 1 && /^[a-z]/i.test(s));
  const at = i > 0 ? i : 1;
  const segment = segments[at] ?? '';
  const withSegment = (replacement: string) =>
    [...segments.slice(0, at), replacement, ...segments.slice(at + 1)].join('/');
  const first = segment.charAt(0);
  const hex = `%${first.charCodeAt(0).toString(16)}`;
  return [
    withSegment(`${hex}${segment.slice(1)}`),
    withSegment(`${hex.toUpperCase()}${segment.slice(1)}`),
    withSegment(`%25${first.charCodeAt(0).toString(16)}${segment.slice(1)}`),
    withSegment(segment.toUpperCase()),
    withSegment(`${segment};x`),
    path.replace(/^\//, '//'),
    withSegment(`/${segment}`),
    `${path}/`,
    `${path}?`,
    `http://127.0.0.1${path}`,
  ];
}

/** One raw HTTP/1.1 request, exactly as given (fetch would normalise the path). */
function rawRequest(
  url: string,
  method: string,
  target: string,
  headers: Record<string, string>,
): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = Object.entries({ host: `${hostname}:${port}`, connection: 'close', ...headers })
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n');
      const body = method === 'GET' || method === 'DELETE' ? '' : '{}';
      socket.end(
        `${method} ${target} HTTP/1.1\r\n${lines}\r\n${body ? `content-type: application/json\r\ncontent-length: ${body.length}\r\n` : ''}\r\n${body}`,
      );
    });
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

function urlOf(app: FastifyInstance): string {
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** Refused: a 4xx. Not 2xx or 3xx (it got in), not 5xx (it reached something it should not). */
const refused = (status: number) => status >= 400 && status < 500;

describe('the authorization matrix: every route × every way in that must fail', { timeout: 300_000 }, () => {
  let s: Surfaces;
  const tokens: Record<string, string> = {};
  let pairs = 0;
  const failures: string[] = [];

  async function passwordToken(username: string, password: string) {
    const answer = await passwordGrant(s.ingest.m.crm.url, username, password);
    expect(answer.status).toBe(200);
    return answer.body as { access_token: string; refresh_token: string };
  }

  async function newUser(username: string): Promise<string> {
    const ctx = { userId: s.ingest.m.crm.adminUserId, autoAssign: undefined };
    const userId = await s.ingest.m.crm.services.records.create(ctx, 'User', {
      Username: username,
      LastName: 'U',
      Email: username,
    });
    await s.ingest.m.crm.services.oauth.setPassword(userId, 'a password');
    return userId;
  }

  async function check(label: string, attempt: () => Promise<number>): Promise<void> {
    pairs += 1;
    const status = await attempt();
    if (!refused(status)) failures.push(`${label} → ${status}`);
  }

  /** One route against each case (headers, by name), then each spelling of its path over a socket. */
  async function checkRoute(
    surface: string,
    app: FastifyInstance,
    route: RegisteredRoute,
    path: string,
    cases: Record<string, Record<string, string>>,
    spelledHeaders: Record<string, string> = {},
  ): Promise<void> {
    const withBody = route.method !== 'GET' && route.method !== 'DELETE';
    for (const [name, headers] of Object.entries(cases))
      await check(`${surface} ${route.method} ${path} [${name}]`, async () => {
        const answer = await app.inject({
          method: route.method as 'GET',
          url: path,
          headers: withBody ? { ...headers, 'content-type': 'application/json' } : headers,
          payload: withBody ? '{}' : undefined,
        });
        return answer.statusCode;
      });
    for (const spelled of spellings(path))
      await check(`${surface} ${route.method} ${spelled} [spelled]`, () =>
        rawRequest(urlOf(app), route.method, spelled, spelledHeaders),
      );
  }

  beforeAll(async () => {
    s = await startSurfaces({ faultInjection: true });
    await s.crmApp.ready();
    // A revoked token: its refresh token revoked (which ends its access tokens too).
    const revoked = await passwordToken(TEST_CREDENTIALS.username, TEST_CREDENTIALS.password);
    await fetch(`${s.ingest.m.crm.url}/services/oauth2/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ token: revoked.refresh_token }),
    });
    tokens.revoked = revoked.access_token;
    // A deactivated user's token, taken while the user was active.
    const leaverId = await newUser('leaver@test.handoff');
    await s.ingest.m.services.units.grant(s.ingest.m.v3Unit.id, {
      crmUserId: leaverId,
      email: 'leaver@test.handoff',
    });
    tokens.deactivated = (await passwordToken('leaver@test.handoff', 'a password')).access_token;
    await s.ingest.m.crm.services.records.update(
      { userId: s.ingest.m.crm.adminUserId, autoAssign: undefined },
      'User',
      leaverId,
      { IsActive: false },
    );
    // A CRM user with no business unit (and no administrator rights in the CRM).
    await newUser('outsider@test.handoff');
    tokens.outsider = (await passwordToken('outsider@test.handoff', 'a password')).access_token;
  });

  afterAll(async () => {
    await s?.close();
  });

  it('refuses the CRM’s data API, identity, streaming and fault routes without a live, rightful token', async () => {
    const app = s.crmApp;
    const values = {
      version: 'v60.0',
      type: 'Lead',
      sobject: 'Lead',
      id: '00Q000000000001AAA',
      orgId: 'x',
      userId: 'x',
    };
    const guarded = app.registeredRoutes.filter((r) => !isPublic('crm', r.url));
    expect(guarded.length).toBeGreaterThan(30);
    for (const route of guarded) {
      // Bulk API 1.0 names its version without the v (/services/async/60.0/job).
      const bulk1 = route.url.startsWith('/services/async/');
      const path = concrete(route.url, bulk1 ? { ...values, version: '60.0' } : values);
      const cases: Record<string, Record<string, string>> = {
        'no credentials': {},
        'wrong token': { authorization: 'Bearer 00Dxx!not-a-token' },
        'revoked token': { authorization: `Bearer ${tokens.revoked}` },
        'deactivated user': { authorization: `Bearer ${tokens.deactivated}` },
      };
      // Bulk API 1.0's own session header.
      if (bulk1) {
        cases['wrong session header'] = { 'x-sfdc-session': '00Dxx!not-a-token' };
        cases['revoked session header'] = { 'x-sfdc-session': tokens.revoked ?? '' };
        cases['deactivated user’s session header'] = { 'x-sfdc-session': tokens.deactivated ?? '' };
      }
      // Fault injection: the instance's administrator only.
      if (route.url.startsWith('/_handoff/'))
        cases['not the administrator'] = { authorization: `Bearer ${tokens.outsider}` };
      await checkRoute('crm', app, route, path, cases, {});
    }
  });

  it('refuses the marketing engine’s API without a live token for a unit the caller holds', async () => {
    const app = s.marketingApp;
    const unit = s.ingest.m.v3Unit.id;
    const values = {
      object: 'prospect',
      version: '4',
      op: 'query',
      id: '1',
      collection: 'lists',
      fieldId: '1',
    };
    const guarded = app.registeredRoutes.filter((r) => !isPublic('marketing', r.url));
    expect(guarded.length).toBeGreaterThan(30);
    for (const route of guarded) {
      const path = concrete(route.url, values);
      const cases: Record<string, Record<string, string>> = {
        'no credentials': { 'pardot-business-unit-id': unit },
        'wrong token': { authorization: 'Bearer nope', 'pardot-business-unit-id': unit },
        'revoked token': { authorization: `Bearer ${tokens.revoked}`, 'pardot-business-unit-id': unit },
        'deactivated user': {
          authorization: `Bearer ${tokens.deactivated}`,
          'pardot-business-unit-id': unit,
        },
        'a user without the unit': {
          authorization: `Bearer ${tokens.outsider}`,
          'pardot-business-unit-id': unit,
        },
        'another unit’s id': {
          authorization: `Bearer ${s.adminToken}`,
          'pardot-business-unit-id': s.ingest.m.otherUnit.id,
        },
      };
      await checkRoute('marketing', app, route, path, cases, { 'pardot-business-unit-id': unit });
    }
  });

  it('refuses the Tracking API without a write key of a live source', async () => {
    const app = s.ingestApp;
    for (const route of app.registeredRoutes.filter((r) => !isPublic('ingest', r.url))) {
      const cases: Record<string, Record<string, string>> = {
        'no credentials': {},
        'wrong write key': { authorization: `Basic ${Buffer.from('not-a-key:').toString('base64')}` },
      };
      await checkRoute('ingest', app, route, route.url, cases, {});
    }
  });

  it('refuses the console’s API without a live session, and every change without its CSRF token', async () => {
    const app = s.console.app;
    const live = await consoleSession(app, s.console.login);
    // A copy of a cookie taken before its session logged out.
    const before = await consoleSession(app, s.console.login);
    const out = await app.inject({
      method: 'POST',
      url: '/console/api/logout',
      headers: { cookie: before.cookie, 'x-csrf-token': before.csrf },
    });
    expect(out.statusCode).toBe(200);
    const values = { object: 'Lead', id: '1' };
    const guarded = app.registeredRoutes.filter((r) => !isPublic('console', r.url));
    expect(guarded.length).toBeGreaterThan(20);
    for (const route of guarded) {
      const path = concrete(route.url, values);
      const change = route.method !== 'GET';
      const cases: Record<string, Record<string, string>> = {
        'no console session': change ? { 'x-csrf-token': live.csrf } : {},
        'a logged-out session': { cookie: before.cookie, 'x-csrf-token': before.csrf },
      };
      if (change) cases['no CSRF token'] = { cookie: live.cookie };
      if (change)
        cases['another session’s CSRF token'] = { cookie: live.cookie, 'x-csrf-token': before.csrf };
      await checkRoute('console', app, route, path, cases, {});
    }
    // The live session still works: the refusals were the guard's, not a broken console.
    expect(
      (await app.inject({ method: 'GET', url: '/console/api/overview', headers: { cookie: live.cookie } }))
        .statusCode,
    ).toBe(200);
  });

  it('has refused every pair', () => {
    console.log(`authorization matrix: ${pairs} route × case pairs, ${failures.length} let in`);
    expect(failures).toEqual([]);
    expect(pairs).toBeGreaterThan(1000);
  });
});

export type { RegisteredRoute };

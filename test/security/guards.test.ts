import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/cli/config.js';
import { startServers } from '../../src/cli/servers.js';
import { buildCrmApp } from '../../src/crm/app.js';
import { encodePageToken } from '../../src/marketing/http/page-token.js';
import { HttpTokenVerifier, TOKEN_CACHE_MS } from '../../src/marketing/token-verifier.js';
import { passwordGrant, TEST_CREDENTIALS } from '../support/crm-server.js';
import { DIALECTS } from '../support/databases.js';
import { startSurfaces, type Surfaces } from '../support/surfaces.js';

type Json = Record<string, unknown>;

for (const dialect of DIALECTS) {
  describe(`guards on ${dialect}`, { timeout: 120_000 }, () => {
    let s: Surfaces;
    const m = () => s.ingest.m;

    const tokenFor = (username: string, password: string) => passwordGrant(m().crm.url, username, password);

    const newUser = async (username: string) => {
      const ctx = { userId: m().crm.adminUserId, autoAssign: undefined };
      const userId = await m().crm.services.records.create(ctx, 'User', {
        Username: username,
        LastName: 'U',
        Email: username,
      });
      await m().crm.services.oauth.setPassword(userId, 'right password');
      return userId;
    };

    beforeAll(async () => {
      s = await startSurfaces({ dialect });
    });

    afterAll(async () => {
      await s?.close();
    });

    it('refuses a page token that carries anything but typed values, even signed with the secret', async () => {
      const secret = m().services.pageTokenSecret;
      const unit = m().v3Unit.id;
      const base = {
        unitId: unit,
        fields: ['id', 'email'],
        query: { deleted: 'false', where: [], orderColumn: 'id', descending: false, limit: 10 },
        after: { key: null, id: 0 },
        served: 1,
        issuedAt: Date.now(),
      };
      const forged = [
        // An operator that is SQL, not a comparison.
        { ...base, query: { ...base.query, where: [['id', '> 0 or 1=1 --', 0]] } },
        // A column that is not a prospect field.
        { ...base, query: { ...base.query, where: [['unit_id', '=', m().otherUnit.id]] } },
        { ...base, query: { ...base.query, orderColumn: 'id; drop table marketing_prospect' } },
        // Another unit's query.
        { ...base, unitId: m().otherUnit.id },
        // Extra keys, wrong types.
        { ...base, query: { ...base.query, limit: '10 union select' } },
      ];
      for (const state of forged) {
        const token = encodePageToken(secret, state as never);
        const answer = await m().call(`/api/v5/objects/prospects?nextPageToken=${encodeURIComponent(token)}`);
        expect(answer, JSON.stringify(state.query)).toMatchObject({ status: 400, body: { code: 5 } });
      }
    });

    it('ends a revoked refresh token’s access tokens, and a deactivated user’s, at once on both APIs', async () => {
      const userId = await newUser(`leaver-${dialect}@test.handoff`);
      await m().services.units.grant(m().v3Unit.id, { crmUserId: userId, email: 'leaver@test.handoff' });
      const first = await tokenFor(`leaver-${dialect}@test.handoff`, 'right password');
      const access = String(first.body.access_token);
      const crmLimits = () =>
        fetch(`${m().crm.url}/services/data/v60.0/limits`, {
          headers: { authorization: `Bearer ${access}` },
        });
      const v5 = () => m().call('/api/v5/objects/prospects?fields=id', { token: access });
      expect((await crmLimits()).status).toBe(200);
      expect((await v5()).status).toBe(200);
      const revoked = await fetch(`${m().crm.url}/services/oauth2/revoke`, {
        method: 'POST',
        body: new URLSearchParams({ token: String(first.body.refresh_token) }),
      });
      expect(revoked.status).toBe(200);
      expect((await crmLimits()).status).toBe(401);
      expect(await v5()).toMatchObject({ status: 401, body: { code: 184 } });

      const second = String(
        (await tokenFor(`leaver-${dialect}@test.handoff`, 'right password')).body.access_token,
      );
      expect((await m().call('/api/v5/objects/prospects?fields=id', { token: second })).status).toBe(200);
      await m().crm.services.records.update(
        { userId: m().crm.adminUserId, autoAssign: undefined },
        'User',
        userId,
        {
          IsActive: false,
        },
      );
      const after = await fetch(`${m().crm.url}/services/data/v60.0/limits`, {
        headers: { authorization: `Bearer ${second}` },
      });
      expect(after.status).toBe(401);
      expect(await m().call('/api/v5/objects/prospects?fields=id', { token: second })).toMatchObject({
        status: 401,
      });
    });

    it('lets the engine running alone honour a revocation within its stated bound', async () => {
      let clock = 1_000_000;
      const verifier = new HttpTokenVerifier(m().crm.url, undefined, () => clock);
      const token = await m().crm.token();
      const fresh = String(
        (await tokenFor(TEST_CREDENTIALS.username, TEST_CREDENTIALS.password)).body.access_token,
      );
      expect(await verifier.verify(fresh)).toMatchObject({ userId: m().crm.adminUserId });
      await fetch(`${m().crm.url}/services/oauth2/revoke`, {
        method: 'POST',
        body: new URLSearchParams({ token: fresh }),
      });
      clock += TOKEN_CACHE_MS + 1;
      expect(await verifier.verify(fresh)).toBeNull();
      expect(TOKEN_CACHE_MS).toBeLessThanOrEqual(2_000);
      expect(await verifier.verify(token)).not.toBeNull();
    });

    it('locks a username after ten wrong passwords on the OAuth and SOAP logins, saying until when', async () => {
      const username = `target-${dialect}@test.handoff`;
      await newUser(username);
      for (let i = 0; i < 10; i++) {
        const wrong = await tokenFor(username, `wrong ${i}`);
        expect(wrong.body).toMatchObject({
          error: 'invalid_grant',
          error_description: 'authentication failure',
        });
      }
      const locked = await tokenFor(username, 'right password');
      expect(locked.status).toBe(400);
      expect(String(locked.body.error_description)).toMatch(/try again after \d{4}-\d\d-\d\dT/);
      const soap = await fetch(`${m().crm.url}/services/Soap/u/60.0`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml', soapaction: 'login' },
        body: `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Body><urn:login><urn:username>${username}</urn:username><urn:password>right password</urn:password></urn:login></soapenv:Body></soapenv:Envelope>`,
      });
      expect(await soap.text()).toMatch(/INVALID_LOGIN.*try again after/);
      // Another user is not locked by it.
      expect((await tokenFor(TEST_CREDENTIALS.username, TEST_CREDENTIALS.password)).status).toBe(200);
    });

    it('locks the console’s login per username, whatever the address, and says until when', async () => {
      const app = s.console.app;
      const first = await app.inject({ method: 'GET', url: '/console/api/session' });
      const cookie = String(first.headers['set-cookie']).split(';')[0]!;
      const csrf = String((first.json() as Json).csrfToken);
      const login = (password: string, ip: string) =>
        app.inject({
          method: 'POST',
          url: '/console/api/login',
          remoteAddress: ip,
          headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
          payload: JSON.stringify({ username: s.console.login.username, password }),
        });
      for (let i = 0; i < 10; i++) expect((await login('wrong', `10.0.0.${i}`)).statusCode).toBe(401);
      const locked = await login(s.console.login.password, '10.0.1.1');
      expect(locked.statusCode).toBe(429);
      expect(locked.json()).toMatchObject({
        error: { code: 'TOO_MANY_ATTEMPTS', message: expect.stringMatching(/try again after/) },
      });
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('takes the sync label only from a unit administrator', async () => {
      const rep = await newUser(`rep-${dialect}@test.handoff`);
      await m().services.units.grant(m().v3Unit.id, {
        crmUserId: rep,
        email: 'rep@test.handoff',
        role: 'Marketing',
      });
      const repToken = String(
        (await tokenFor(`rep-${dialect}@test.handoff`, 'right password')).body.access_token,
      );
      const created = await m().call('/api/v5/objects/prospects?fields=id', {
        method: 'POST',
        body: JSON.stringify({ email: `actor-${dialect}@example.com` }),
      });
      const id = (created.body as { id: number }).id;
      const claim = (token: string, lead: string) =>
        m().call(`/api/v5/objects/prospects/${id}?fields=id,salesforceLeadId`, {
          method: 'PATCH',
          token,
          headers: { 'x-handoff-actor': 'sync' },
          body: JSON.stringify({ salesforceLeadId: lead }),
        });
      // The rep's claim is an ordinary call: the CRM link is not theirs to write.
      expect((await claim(repToken, '00Q000000000001AAA')).status).toBe(400);
      expect((await claim(s.adminToken, '00Q000000000001AAA')).status).toBe(200);
    });

    it('builds page URLs from the engine’s own address, never the Host header', async () => {
      for (let i = 0; i < 3; i++)
        await m().call('/api/v5/objects/prospects?fields=id', {
          method: 'POST',
          body: JSON.stringify({ email: `page-${dialect}-${i}@example.com` }),
        });
      const answer = await m().call('/api/v5/objects/prospects?fields=id&limit=1', {
        headers: { host: 'evil.example' },
      });
      const next = String((answer.body as Json).nextPageUrl);
      expect(next.startsWith(m().url)).toBe(true);
      expect(next).not.toContain('evil.example');
    });

    it('refuses redirect locations that are not absolute http(s) URLs', async () => {
      const campaign = await m().call('/api/v5/objects/campaigns?fields=id', {
        method: 'POST',
        body: JSON.stringify({ name: `Guarded ${dialect}` }),
      });
      const campaignId = (campaign.body as { id: number }).id;
      for (const [field, location] of [
        ['successLocation', 'javascript:alert(document.cookie)'],
        ['errorLocation', '/thanks'],
        ['successLocation', 'data:text/html,x'],
      ] as const) {
        const answer = await m().call('/api/v5/objects/form-handlers?fields=id', {
          method: 'POST',
          body: JSON.stringify({ name: `Handler ${field} ${location}`, campaignId, [field]: location }),
        });
        expect(answer, location).toMatchObject({ status: 400, body: { code: 62 } });
      }
      const fine = await m().call('/api/v5/objects/form-handlers?fields=id', {
        method: 'POST',
        body: JSON.stringify({
          name: 'Good handler',
          campaignId,
          successLocation: 'https://example.com/thanks',
        }),
      });
      expect(fine.status).toBe(201);
    });

    it('lets only the unit’s tracker domains read /analytics with credentials', async () => {
      const unit = m().v3Unit;
      await m().services.units.updateSettings(unit.id, { trackerDomains: ['example.com'] });
      const hit = (origin: string) =>
        fetch(
          `${m().url}/analytics?account_id=${unit.trackingId}&url=${encodeURIComponent('https://www.example.com/')}`,
          {
            headers: { origin },
          },
        );
      const own = await hit('https://www.example.com');
      expect(own.headers.get('access-control-allow-origin')).toBe('https://www.example.com');
      expect(own.headers.get('access-control-allow-credentials')).toBe('true');
      const stranger = await hit('https://evil.example');
      expect(stranger.headers.get('access-control-allow-origin')).toBe('*');
      expect(stranger.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('sends security headers from the console, and from hosted pages (which stay frameable)', async () => {
      const answer = await s.console.app.inject({ method: 'GET', url: '/console/api/session' });
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(String(answer.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
      const form = await fetch(`${m().url}/form/${m().v3Unit.id}/999999`);
      expect(form.headers.get('x-content-type-options')).toBe('nosniff');
      expect(form.headers.get('x-frame-options')).toBeNull();
      expect(form.headers.get('content-security-policy') ?? '').not.toContain('frame-ancestors');
    });
  });
}

describe('every 5xx is logged with its request id, route and stack, and the answer names the id', () => {
  it('logs an unexpected failure once, without the request body', async () => {
    const lines: Json[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Json);
        done();
      },
    });
    const s = await startSurfaces();
    try {
      const app = buildCrmApp(s.ingest.m.crm.services, { loggerInstance: pino(sink) } as never);
      app.post('/boom', async () => {
        throw new Error('the database went away');
      });
      const answer = await app.inject({
        method: 'POST',
        url: '/boom',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ password: 'hunter2' }),
      });
      expect(answer.statusCode).toBe(500);
      const id = String(answer.headers['x-request-id']);
      expect(answer.body).toContain(id);
      expect(answer.body).not.toContain('the database went away');
      const logged = lines.filter((l) => l.level === 50);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ reqId: id, route: '/boom', method: 'POST' });
      expect(JSON.stringify(logged[0])).toContain('the database went away');
      expect((logged[0]!.err as Json).stack).toEqual(
        expect.stringContaining('Error: the database went away'),
      );
      expect(JSON.stringify(logged)).not.toContain('hunter2');
      await app.close();
    } finally {
      await s.close();
    }
  });
});

describe('the data directory', () => {
  it('is private, with every file in it owner-only', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'handoff-private-'));
    const servers = await startServers(
      resolveConfig(
        { dataDir, host: '127.0.0.1', crmPort: '0', marketingPort: '0', ingestPort: '0', consolePort: '0' },
        {},
        dataDir,
      ),
      { set: 'demo', sampleData: false, log: () => undefined },
    );
    try {
      // A console login, so its sessions file is there too.
      const first = await fetch(`${servers.consoleUrl}/console/api/session`);
      const cookie = String(first.headers.get('set-cookie')).split(';')[0]!;
      const { csrfToken } = (await first.json()) as { csrfToken: string };
      const { username, password } = servers.credentials.crm;
      const login = await fetch(`${servers.consoleUrl}/console/api/login`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(login.status).toBe(200);
      const mode = (path: string) => statSync(path).mode & 0o777;
      expect(mode(dataDir)).toBe(0o700);
      const files = readdirSync(dataDir);
      expect(files).toEqual(
        expect.arrayContaining(['credentials.json', 'handoff.db', 'secret.key', 'console-sessions.json']),
      );
      for (const file of files) expect(mode(join(dataDir, file)), file).toBe(0o600);
    } finally {
      await servers.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../support/databases.js';
import { startSurfaces, type Surfaces } from '../support/surfaces.js';

/** Sends raw bytes and reads the whole answer: for what fetch and inject refuse to send. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

for (const dialect of DIALECTS) {
  describe(
    `bad input on ${dialect}: a 4xx in the service's own format, never a 500`,
    { timeout: 120_000 },
    () => {
      let s: Surfaces;
      const crm = (path: string, init: RequestInit = {}) =>
        fetch(`${s.ingest.m.crm.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${s.adminToken}`, ...(init.headers as Record<string, string>) },
        });
      const marketing = (path: string, init: RequestInit = {}) =>
        fetch(`${s.ingest.m.url}${path}`, {
          ...init,
          headers: {
            authorization: `Bearer ${s.adminToken}`,
            'pardot-business-unit-id': s.ingest.m.v3Unit.id,
            ...(init.headers as Record<string, string>),
          },
        });

      beforeAll(async () => {
        s = await startSurfaces({ dialect });
      });

      afterAll(async () => {
        await s?.close();
      });

      it('takes a repeated query parameter as the caller’s mistake', async () => {
        const soql = encodeURIComponent('SELECT Id FROM Lead');
        const query = await crm(`/services/data/v60.0/query?q=${soql}&q=${soql}`);
        expect(query.status).toBe(400);
        expect(await query.json()).toEqual([expect.objectContaining({ errorCode: expect.any(String) })]);
        const collections = await crm('/services/data/v60.0/composite/sobjects/Lead?ids=a&ids=b&fields=Id');
        expect(collections.status).toBeLessThan(500);
        expect(collections.status).toBeGreaterThanOrEqual(400);
        const v5 = await marketing('/api/v5/objects/prospects?fields=id&fields=email');
        expect(v5.status).toBeGreaterThanOrEqual(400);
        expect(v5.status).toBeLessThan(500);
        expect(await v5.json()).toMatchObject({ code: expect.any(Number) });
        const legacy = await marketing('/api/prospect/version/4/do/query?format=json&limit=1&limit=2');
        expect(legacy.status).toBeLessThan(500);
      });

      it('refuses a date literal or timestamp out of range', async () => {
        for (const literal of ['LAST_N_DAYS:999999999', 'NEXT_N_DAYS:2147483648', 'LAST_N_MONTHS:99999999']) {
          const answer = await crm(
            `/services/data/v60.0/query?q=${encodeURIComponent(`SELECT Id FROM Lead WHERE CreatedDate = ${literal}`)}`,
          );
          expect(answer.status, literal).toBe(400);
          expect(await answer.json()).toEqual([expect.objectContaining({ errorCode: 'MALFORMED_QUERY' })]);
        }
        const far = await crm(
          `/services/data/v60.0/query?q=${encodeURIComponent('SELECT Id FROM Lead WHERE CreatedDate > 99999-01-01T00:00:00Z')}`,
        );
        expect(far.status).toBe(400);
        const created = await crm('/services/data/v60.0/sobjects/Task', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ Subject: 'x', ActivityDate: '99999-99-99' }),
        });
        expect(created.status).toBe(400);
        const updated = await marketing(
          '/api/v5/objects/prospects?fields=id&updatedAtAfter=99999-01-01T00:00:00Z',
        );
        expect(updated.status).toBe(400);
        // An event whose time cannot be stored is refused now, not accepted and retried for ever.
        const event = await s.ingest.post(
          '/v1/track',
          { userId: 'u1', event: 'x', timestamp: '+275760-09-14T00:00:00.000Z' },
          s.ingest.v3.writeKey,
        );
        expect(event).toMatchObject({ status: 400, body: { success: false, code: 'invalid_request' } });
      });

      it('stores or refuses NUL characters, never fails on them', async () => {
        const soql = await crm(
          `/services/data/v60.0/query?q=${encodeURIComponent("SELECT Id FROM Lead WHERE Email = 'a\u0000b'")}`,
        );
        expect(soql.status).toBeLessThan(500);
        const lead = await crm('/services/data/v60.0/sobjects/Lead', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ LastName: 'Nul\u0000Name', Company: 'C' }),
        });
        expect(lead.status).toBeLessThan(500);
        const job = (await (
          await crm('/services/data/v60.0/jobs/ingest', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ object: 'Lead', operation: 'insert' }),
          })
        ).json()) as { id: string };
        const upload = await crm(`/services/data/v60.0/jobs/ingest/${job.id}/batches`, {
          method: 'PUT',
          headers: { 'content-type': 'text/csv' },
          body: 'LastName,Company\nA\u0000B,C\n',
        });
        expect(upload.status).toBeLessThan(500);
        const prospect = await marketing('/api/v5/objects/prospects?fields=id', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'nul@example.com', firstName: 'A\u0000B' }),
        });
        expect(prospect.status).toBeLessThan(500);
        const event = await s.ingest.post(
          '/v1/identify',
          { userId: 'a\u0000b', traits: { email: 'n@example.com' } },
          s.ingest.v3.writeKey,
        );
        expect(event.status).toBeLessThan(500);
        const analytics = await fetch(
          `${s.ingest.m.url}/analytics?url=${encodeURIComponent('https://x.example/\u0000')}`,
        );
        expect(analytics.status).toBeLessThan(500);
      });

      it('finds nothing under a prototype name', async () => {
        for (const path of [
          '/api/constructor/version/4/do/query?format=json',
          '/api/__proto__/version/4/do/query?format=json',
          '/api/prospect/version/4/do/query?format=json&constructor=0&__proto__=1',
          '/api/v5/objects/constructor?fields=id',
          '/api/v5/objects/prospects?fields=id&constructor=0',
        ]) {
          const answer = await marketing(path);
          expect(answer.status, path).toBeGreaterThanOrEqual(400);
          expect(answer.status, path).toBeLessThan(500);
        }
        const crmAnswer = await crm('/services/data/v60.0/sobjects/constructor/describe');
        expect(crmAnswer.status).toBe(404);
      });

      it('answers malformed OAuth requests and odd content types in each wire', async () => {
        const token = await fetch(`${s.ingest.m.crm.url}/services/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"grant_type":',
        });
        expect(token.status).toBe(400);
        expect(await token.json()).toMatchObject({ error: 'invalid_request' });
        const xml = await fetch(`${s.ingest.m.crm.url}/services/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'text/xml' },
          body: '<x/>',
        });
        expect(xml.status).toBe(415);
        expect(await xml.json()).toMatchObject({ error: 'invalid_request' });
        for (const type of ['text/xml', 'multipart/form-data; boundary=x']) {
          const legacy = await marketing('/api/prospect/version/4/do/query?format=json', {
            method: 'POST',
            headers: { 'content-type': type },
            body: '<x/>',
          });
          expect(legacy.status, type).toBeGreaterThanOrEqual(400);
          expect(legacy.status, type).toBeLessThan(500);
          expect(await legacy.json()).toMatchObject({ '@attributes': { stat: 'fail' } });
        }
      });

      it('refuses a body nested thousands deep', async () => {
        const deep = `${'{"a":['.repeat(5000)}1${']}'.repeat(5000)}`;
        const rest = await crm('/services/data/v60.0/sobjects/Lead', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: deep,
        });
        expect(rest.status).toBe(400);
        expect(await rest.json()).toEqual([expect.objectContaining({ errorCode: 'JSON_PARSER_ERROR' })]);
        const traits = `{"userId":"u","traits":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
        const ingest = await s.ingest.post('/v1/identify', traits, s.ingest.v3.writeKey);
        expect(ingest).toMatchObject({ status: 400, body: { success: false } });
      });

      it('answers oversized URLs and headers in the service’s format', async () => {
        const long = await raw(
          s.ingest.m.crm.url,
          `GET /services/data/v60.0/query?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
        );
        expect([414, 431]).toContain(statusOf(long));
        expect(JSON.parse(bodyOf(long))).toEqual([
          expect.objectContaining({ errorCode: expect.any(String) }),
        ]);
        const header = await raw(
          s.ingest.url,
          `POST /v1/track HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`,
        );
        expect(statusOf(header)).toBe(431);
        expect(JSON.parse(bodyOf(header))).toMatchObject({ success: false });
        const big = await s.ingest.post(
          '/v1/batch',
          { batch: [{ type: 'track', userId: 'u', event: 'x'.repeat(600_000) }] },
          s.ingest.v3.writeKey,
        );
        expect(big.status).toBe(400);
      });
    },
  );
}

import { generateKeyPairSync } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import jsforce from 'jsforce';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCrm, TEST_CREDENTIALS, type TestCrm } from '../support/crm-server.js';

const form = (params: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(params),
});

describe('OAuth 2.0', () => {
  let crm: TestCrm;
  let privateKey: string;
  // A controllable clock: tokens expire when the test says so, not after real time.
  let now = new Date('2026-11-22T12:00:00.000Z');

  beforeAll(async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'handoff-test' }], {
      keySize: 2048,
    });
    privateKey = pems.private;
    crm = await startTestCrm({
      certificate: pems.cert,
      now: () => now,
      config: { accessTokenTtlSeconds: 3600 },
    });
  });

  afterAll(async () => {
    await crm.close();
  });

  const token = async (params: Record<string, string>) => {
    const r = await fetch(`${crm.url}/services/oauth2/token`, form(params));
    return { status: r.status, body: (await r.json()) as Record<string, string> };
  };
  const passwordGrant = () =>
    token({
      grant_type: 'password',
      client_id: TEST_CREDENTIALS.clientId,
      client_secret: TEST_CREDENTIALS.clientSecret,
      username: TEST_CREDENTIALS.username,
      password: TEST_CREDENTIALS.password,
    });
  const assertion = async (claims: { sub?: string; aud?: string; expiresIn?: number; key?: string }) => {
    const key = await importPKCS8(claims.key ?? privateKey, 'RS256');
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(TEST_CREDENTIALS.clientId)
      .setSubject(claims.sub ?? TEST_CREDENTIALS.username)
      .setAudience(claims.aud ?? crm.url)
      .setExpirationTime(Math.floor(now.getTime() / 1000) + (claims.expiresIn ?? 180))
      .sign(key);
  };

  it('issues tokens in Salesforce’s response shape for the password grant', async () => {
    const { status, body } = await passwordGrant();
    expect(status).toBe(200);
    expect(body).toMatchObject({
      token_type: 'Bearer',
      instance_url: crm.url,
      id: `${crm.url}/id/${crm.services.orgId()}/${crm.adminUserId}`,
      issued_at: String(now.getTime()),
    });
    expect(body.access_token).toMatch(/^00D[0-9A-Za-z]{12}!/);
    expect(body.refresh_token).toBeTruthy();
    expect(body.signature).toBeTruthy();
  });

  it('answers the OAuth error shape for a bad secret, an unknown client and an unsupported grant', async () => {
    expect(
      await token({
        grant_type: 'password',
        client_id: TEST_CREDENTIALS.clientId,
        client_secret: 'nope',
        username: 'x',
        password: 'y',
      }),
    ).toEqual({
      status: 400,
      body: { error: 'invalid_client', error_description: 'invalid client credentials' },
    });
    expect(
      (await token({ grant_type: 'client_credentials', client_id: 'unknown', client_secret: 'x' })).body
        .error,
    ).toBe('invalid_client_id');
    expect((await token({ grant_type: 'urn:example:not-a-grant', code: 'x' })).body).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'grant type not supported',
    });
    expect((await token({ grant_type: 'authorization_code', code: 'x' })).body).toEqual({
      error: 'invalid_client_id',
      error_description: 'client identifier invalid',
    });
  });

  it('exchanges a JWT bearer assertion signed with the connected app’s key, without a refresh token', async () => {
    const conn = new jsforce.Connection({ loginUrl: crm.url, version: '60.0' });
    const userInfo = await conn.authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: await assertion({}),
    });
    expect(userInfo.id).toBe(crm.adminUserId);
    expect(conn.refreshToken).toBeFalsy();
    const result = await conn.query('SELECT Id FROM User');
    expect(result.records.map((r) => r.Id)).toContain(crm.adminUserId);
  });

  it('rejects an assertion that is expired, for another audience, for an unknown user, or signed by another key', async () => {
    const { privateKey: otherKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const jwt = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
    for (const claims of [
      { expiresIn: -10 },
      { aud: 'https://elsewhere.example' },
      { sub: 'nobody@test.handoff' },
      { key: otherKey },
    ]) {
      const { status, body } = await token({ grant_type: jwt, assertion: await assertion(claims) });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    }
  });

  it('refreshes an access token with the refresh token, and refuses an unknown refresh token', async () => {
    const { body } = await passwordGrant();
    const refreshed = await token({
      grant_type: 'refresh_token',
      client_id: TEST_CREDENTIALS.clientId,
      refresh_token: body.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(body.access_token);
    const bad = await token({
      grant_type: 'refresh_token',
      client_id: TEST_CREDENTIALS.clientId,
      refresh_token: 'forged',
    });
    expect(bad.body).toEqual({ error: 'invalid_grant', error_description: 'expired access/refresh token' });
  });

  it('expires access tokens after their lifetime, and jsforce recovers by refreshing', async () => {
    const conn = await crm.connect();
    const first = conn.accessToken;
    now = new Date(now.getTime() + 3601_000);
    const raw = await crm.api('/limits', { auth: first as string });
    expect(raw.status).toBe(401);
    const result = await conn.query('SELECT COUNT() FROM User');
    expect(result.totalSize).toBe(1);
    expect(conn.accessToken).not.toBe(first);
  });

  it('revokes a token so that it no longer opens the API', async () => {
    const { body } = await passwordGrant();
    expect((await crm.api('/limits', { auth: body.access_token })).status).toBe(200);
    const revoke = await fetch(
      `${crm.url}/services/oauth2/revoke`,
      form({ token: body.access_token as string }),
    );
    expect(revoke.status).toBe(200);
    expect((await crm.api('/limits', { auth: body.access_token })).status).toBe(401);
  });

  it('answers userinfo and the identity URL for the token’s user', async () => {
    const { body } = await passwordGrant();
    const info = await fetch(`${crm.url}/services/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(await info.json()).toMatchObject({
      user_id: crm.adminUserId,
      organization_id: crm.services.orgId(),
      preferred_username: TEST_CREDENTIALS.username,
      name: 'Ada Admin',
    });
    const identity = await fetch(`${body.id}?oauth_token=${encodeURIComponent(body.access_token as string)}`);
    expect(await identity.json()).toMatchObject({
      user_id: crm.adminUserId,
      username: TEST_CREDENTIALS.username,
    });
  });
});

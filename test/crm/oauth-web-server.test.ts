import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, startSite } from '../support/browser.js';
import { startTestCrm, TEST_CREDENTIALS, type TestCrm } from '../support/crm-server.js';
import { walkAuthorizationPages, type PagesWalk } from '../support/oauth-pages.js';

/** A web app's "Connect to Salesforce": registered with its callback URL. */
const WEB_APP = {
  name: 'Acme <Web> App',
  clientId: 'acme-web-app-client',
  clientSecret: 'acme web app secret',
};

function token(crm: TestCrm, fields: Record<string, string>) {
  return fetch(`${crm.url}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams(fields),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));
}

describe('the OAuth web-server (authorization code) flow', () => {
  let crm: TestCrm;
  let clock = Date.now();
  const callback = 'https://app.acme.example/oauth/callback';
  const authorize = (params: Record<string, string>) =>
    `${crm.url}/services/oauth2/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: WEB_APP.clientId,
      redirect_uri: callback,
      ...params,
    })}`;
  /** The pages walked as the admin: logs in, then allows (or denies) the app. */
  const login = (
    extra: Record<string, string> = {},
    options: { password?: string; decision?: 'allow' | 'deny'; cookie?: string | null } = {},
  ) =>
    walkAuthorizationPages(
      crm.url,
      authorize({ state: 'xyz', ...extra }),
      { username: TEST_CREDENTIALS.username, password: options.password ?? TEST_CREDENTIALS.password },
      options,
    );
  const codeOf = (r: PagesWalk | Response) =>
    ('location' in r && r.location instanceof URL
      ? r.location
      : new URL((r as Response).headers.get('location') ?? 'http://x')
    ).searchParams;

  beforeAll(async () => {
    crm = await startTestCrm({
      now: () => new Date(clock),
      config: { connectedApps: [{ ...WEB_APP, callbackUrls: [callback] }] },
    });
  });
  afterAll(() => crm.close());

  it('sends the user to log in, then to approve, on pages unframeable and uncached, the app named escaped', async () => {
    const first = await fetch(authorize({ state: 's1' }), { redirect: 'manual' });
    expect(first.status).toBe(302);
    const loginUrl = new URL(first.headers.get('location')!, crm.url);
    expect(loginUrl.pathname).toBe('/');
    expect(loginUrl.searchParams.get('ec')).toBe('302');
    const page = await fetch(loginUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    for (const id of ['username', 'password', 'Login']) expect(html).toContain(`id="${id}"`);

    const loggedIn = await fetch(`${crm.url}/`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({
        username: TEST_CREDENTIALS.username,
        pw: TEST_CREDENTIALS.password,
        startURL: loginUrl.searchParams.get('startURL')!,
      }),
    });
    expect(loggedIn.status).toBe(302);
    const cookie = loggedIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^sid=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const approvalUrl = new URL(loggedIn.headers.get('location')!, crm.url);
    expect(approvalUrl.pathname).toBe('/setup/secur/RemoteAccessAuthorizationPage.apexp');
    const approval = await fetch(approvalUrl, { headers: { cookie: cookie.split(';')[0]! } });
    expect(approval.status).toBe(200);
    expect(approval.headers.get('x-frame-options')).toBe('DENY');
    const approvalHtml = await approval.text();
    expect(approvalHtml).toContain('Acme &lt;Web&gt; App');
    expect(approvalHtml).not.toContain('<Web>');
    for (const id of ['oaapprove', 'oadeny']) expect(approvalHtml).toContain(`id="${id}"`);
  });

  it('never redirects to an unknown app or an unregistered callback: the page says why', async () => {
    const { cookie } = await login();
    for (const [params, error] of [
      [{ client_id: 'nobody' }, 'invalid_client_id'],
      [{ redirect_uri: 'https://evil.example/steal' }, 'redirect_uri_mismatch'],
      [{ redirect_uri: `${callback}/../../evil` }, 'redirect_uri_mismatch'],
    ] as const) {
      const answer = await fetch(authorize(params), { redirect: 'manual' });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
      expect(await answer.text()).toContain(error);
      // Nor the approval page, logged in, for a request made up to look like one.
      const forged = Buffer.from(
        new URLSearchParams({
          response_type: 'code',
          client_id: WEB_APP.clientId,
          redirect_uri: callback,
          ...params,
        }).toString(),
      ).toString('base64url');
      const approval = await fetch(
        `${crm.url}/setup/secur/RemoteAccessAuthorizationPage.apexp?source=${forged}`,
        {
          redirect: 'manual',
          headers: { cookie: cookie! },
        },
      );
      expect(approval.status).toBe(400);
      expect(approval.headers.get('location')).toBeNull();
    }
  });

  it('sends the app its errors at its callback, with its state', async () => {
    const implicit = await fetch(authorize({ response_type: 'token', state: 's2' }), { redirect: 'manual' });
    expect(implicit.status).toBe(302);
    expect(Object.fromEntries(codeOf(implicit))).toMatchObject({
      error: 'unsupported_response_type',
      state: 's2',
    });
    const silent = await fetch(authorize({ prompt: 'none', state: 's3' }), { redirect: 'manual' });
    expect(Object.fromEntries(codeOf(silent))).toMatchObject({ error: 'login_required', state: 's3' });
    const denied = await login({}, { decision: 'deny' });
    expect(denied.status).toBe(302);
    expect(Object.fromEntries(codeOf(denied))).toMatchObject({ error: 'access_denied', state: 'xyz' });
    expect(codeOf(denied).get('code')).toBeNull();
  });

  it('shows the login page again on a wrong password, with no session and no code', async () => {
    const wrong = await login({}, { password: 'not it' });
    expect(wrong.status).toBe(401);
    expect(wrong.location).toBeNull();
    expect(wrong.cookie).toBeNull();
    expect(wrong.body).toContain('Please check your username and password.');
  });

  it('holds an approval to the session that was shown it; prompt=login asks for the password again', async () => {
    const a = (await login()).cookie!;
    const b = (await login()).cookie!;
    const first = await fetch(authorize({ state: 'held' }), { redirect: 'manual', headers: { cookie: a } });
    // Logged in: straight to the approval page.
    const approvalUrl = new URL(first.headers.get('location')!, crm.url);
    expect(approvalUrl.pathname).toBe('/setup/secur/RemoteAccessAuthorizationPage.apexp');
    const html = await (await fetch(approvalUrl, { headers: { cookie: a } })).text();
    const token = /name="_CONFIRMATIONTOKEN" value="([^"]+)"/.exec(html)![1]!;
    const source = approvalUrl.searchParams.get('source')!;
    const post = (cookie: string, fields: Record<string, string>) =>
      fetch(`${crm.url}/setup/secur/RemoteAccessAuthorizationPage.apexp`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie },
        body: new URLSearchParams({ source, oaapprove: 'Allow', ...fields }),
      });
    for (const refused of [await post(a, {}), await post(b, { _CONFIRMATIONTOKEN: token })]) {
      expect(refused.status).toBe(403);
      expect(refused.headers.get('location')).toBeNull();
    }
    const allowed = await post(a, { _CONFIRMATIONTOKEN: token });
    expect(codeOf(allowed).get('code')).toBeTruthy();

    const again = await fetch(authorize({ prompt: 'login' }), { redirect: 'manual', headers: { cookie: a } });
    expect(new URL(again.headers.get('location')!, crm.url).pathname).toBe('/');
    // The login page sends a user on only into the flow, never to another site.
    const elsewhere = await fetch(`${crm.url}/`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({
        username: TEST_CREDENTIALS.username,
        pw: TEST_CREDENTIALS.password,
        startURL: 'https://evil.example/',
      }),
    });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get('location')).toBeNull();
  });

  it('gives a code once, for its app and callback, and it becomes an access and a refresh token', async () => {
    const allowed = await login();
    expect(allowed.status).toBe(302);
    const location = allowed.location!;
    expect(`${location.origin}${location.pathname}`).toBe(callback);
    const code = location.searchParams.get('code')!;
    expect(location.searchParams.get('state')).toBe('xyz');

    const exchange = {
      grant_type: 'authorization_code',
      code,
      client_id: WEB_APP.clientId,
      client_secret: WEB_APP.clientSecret,
      redirect_uri: callback,
    };
    expect(await token(crm, { ...exchange, client_secret: 'wrong' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_client' },
    });
    const granted = await token(crm, exchange);
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ token_type: 'Bearer', instance_url: crm.url });
    expect(granted.body.refresh_token).toBeTruthy();
    const me = await crm.api('/sobjects/User/describe', { auth: granted.body.access_token });
    expect(me.status).toBe(200);
    // Once only.
    expect(await token(crm, exchange)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const refreshed = await token(crm, {
      grant_type: 'refresh_token',
      refresh_token: granted.body.refresh_token!,
      client_id: WEB_APP.clientId,
      client_secret: WEB_APP.clientSecret,
    });
    expect(refreshed.status).toBe(200);
  });

  it('refuses a code at another callback URL, or after its 15 minutes', async () => {
    const first = codeOf(await login()).get('code')!;
    const base = {
      grant_type: 'authorization_code',
      client_id: WEB_APP.clientId,
      client_secret: WEB_APP.clientSecret,
    };
    expect(await token(crm, { ...base, code: first, redirect_uri: `${callback}?x=1` })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    const second = codeOf(await login()).get('code')!;
    clock += 16 * 60_000;
    expect(await token(crm, { ...base, code: second, redirect_uri: callback })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('takes PKCE: the verifier must match the challenge, and then no secret is needed', async () => {
    const oauth2 = new jsforce.OAuth2({
      loginUrl: crm.url,
      clientId: WEB_APP.clientId,
      redirectUri: callback,
      useVerifier: true,
    });
    const url = new URL(oauth2.getAuthorizationUrl({ state: 'pkce' }));
    expect(url.searchParams.get('code_challenge')).toBeTruthy();
    const params = Object.fromEntries(url.searchParams);
    const code = codeOf(await login(params)).get('code')!;
    const base = {
      grant_type: 'authorization_code',
      code,
      client_id: WEB_APP.clientId,
      redirect_uri: callback,
    };
    expect(await token(crm, { ...base, code_verifier: 'not the verifier' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    const again = codeOf(await login(params)).get('code')!;
    const granted = await oauth2.requestToken(again);
    expect(granted.access_token).toBeTruthy();
  });
});

describe.runIf(hasChromium())('the web-server flow in a browser, as a web app drives it with jsforce', () => {
  it('logs in, allows on the approval page, and the app gets a code it turns into a connection', async () => {
    const site = await startSite({
      '/oauth/callback': '<!doctype html><title>Connected</title><h1>Connected</h1>',
    });
    const callback = `${site.url}/oauth/callback`;
    const crm = await startTestCrm({ config: { connectedApps: [{ ...WEB_APP, callbackUrls: [callback] }] } });
    const browser = await launchChromium();
    try {
      const oauth2 = new jsforce.OAuth2({
        loginUrl: crm.url,
        clientId: WEB_APP.clientId,
        clientSecret: WEB_APP.clientSecret,
        redirectUri: callback,
        useVerifier: true,
      });
      const page = await browser.newPage();
      await page.goto(oauth2.getAuthorizationUrl({ state: 'browser-state' }));
      // By Salesforce's own element ids, as scripts that log in to Salesforce find them.
      await page.locator('#username').fill(TEST_CREDENTIALS.username);
      await page.locator('#password').fill(TEST_CREDENTIALS.password);
      await Promise.all([
        page.waitForURL('**/RemoteAccessAuthorizationPage.apexp?**'),
        page.locator('#Login').click(),
      ]);
      expect(await page.getByRole('heading').textContent()).toBe('Allow Access?');
      await Promise.all([
        page.waitForURL(`${callback}?**`),
        page.getByRole('button', { name: 'Allow' }).click(),
      ]);
      const back = new URL(page.url());
      expect(back.searchParams.get('state')).toBe('browser-state');
      expect(await page.getByRole('heading').textContent()).toBe('Connected');

      const conn = new jsforce.Connection({ oauth2, version: '60.0' });
      const userInfo = await conn.authorize(back.searchParams.get('code')!);
      expect(userInfo.id).toBe(crm.adminUserId);
      expect(conn.refreshToken).toBeTruthy();
      const users = await conn.query<{ Username: string }>('SELECT Username FROM User');
      expect(users.records.map((u) => u.Username)).toContain(TEST_CREDENTIALS.username);
    } finally {
      await browser.close();
      await crm.close();
      await site.close();
    }
  });
});

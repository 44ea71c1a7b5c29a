import { createHmac } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthorizationRedirect, OAuthError, type AuthorizationRequest } from '../auth/oauth-service.js';
import type { CrmServices } from '../crm-services.js';
import { textParams } from './request-context.js';
import { logServerError } from '../../http/server-basics.js';
import { requestErrorStatus } from '../../http/invalid-input.js';
import { HandoffError } from '../../errors/handoff-error.js';
import { sameSecret } from '../../same-secret.js';

/** The parameters of the authorization request the page carries from its GET to its POST. */
const CARRIED = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'scope',
  'prompt',
  'code_challenge',
  'code_challenge_method',
] as const;

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** The page's fields: from the query when it is shown, from the form when it is posted. */
function fields(request: FastifyRequest): Record<string, string | undefined> {
  return textParams(request.method === 'GET' ? request.query : request.body);
}

/**
 * A page of Handoff's own: never framed (no clickjacking of the Allow button), never cached,
 * no script, and its form posts only to this origin — whose answer may send the browser on to
 * the app's (checked) callback origin, which browsers hold to form-action as well.
 */
function sendPage(
  reply: FastifyReply,
  status: number,
  title: string,
  body: string,
  formTarget?: string,
): FastifyReply {
  const formAction =
    formTarget === 'self' ? "'self'" : formTarget ? `'self' ${new URL(formTarget).origin}` : "'none'";
  return reply
    .code(status)
    .header('Cache-Control', 'no-store')
    .header('X-Frame-Options', 'DENY')
    .header(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'`,
    )
    .header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        '<meta name="viewport" content="width=device-width, initial-scale=1">' +
        '<style>body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}' +
        'main{max-width:380px;margin:10vh auto;background:#fff;padding:2rem;border-radius:6px;box-shadow:0 1px 4px #0002}' +
        'label{display:block;margin:.8rem 0 .3rem}input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}' +
        'button{margin-top:1.2rem;padding:.6rem 1.2rem;margin-right:.5rem}.error{color:#b00020}</style>' +
        `</head><body><main>${body}</main></body></html>`,
    );
}

/** The login page's path, and the approval page's, where Salesforce has them. */
const LOGIN_PATH = '/';
const APPROVAL_PATH = '/setup/secur/RemoteAccessAuthorizationPage.apexp';
const SESSION_COOKIE = 'sid';

/** Where the login page may send a user on: only back into the authorization flow. */
function startUrlOf(value: string | undefined): string | null {
  if (!value) return null;
  return value.startsWith('/services/oauth2/authorize?') || value.startsWith(`${APPROVAL_PATH}?`)
    ? value
    : null;
}

/** The approval form's token: bound to the login session and to the request it approves. */
function confirmationToken(session: string, source: string): string {
  return createHmac('sha256', session).update(`approve:${source}`).digest('base64url');
}

/** The login page, with Salesforce's element ids (`#username`, `#password`, `#Login`). */
function loginPage(reply: FastifyReply, startUrl: string | null, error?: string): FastifyReply {
  return sendPage(
    reply,
    error ? 401 : 200,
    'Login | Handoff',
    '<h1>Log in to Handoff</h1>' +
      (error ? `<p class="error" role="alert" id="error">${escapeHtml(error)}</p>` : '') +
      `<form method="post" action="${LOGIN_PATH}">` +
      (startUrl ? `<input type="hidden" name="startURL" value="${escapeHtml(startUrl)}">` : '') +
      '<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>' +
      '<label for="password">Password</label><input type="password" id="password" name="pw" autocomplete="current-password" required>' +
      '<input type="submit" id="Login" name="Login" value="Log In"></form>',
    'self',
  );
}

/** The approval page: what the app asks, Allow (`#oaapprove`) and Deny (`#oadeny`). */
function approvalPage(
  reply: FastifyReply,
  request: AuthorizationRequest,
  source: string,
  token: string,
): FastifyReply {
  const app = escapeHtml(request.appName);
  return sendPage(
    reply,
    200,
    'Allow Access?',
    `<h1>Allow Access?</h1><p><strong>${app}</strong> is asking to:</p>` +
      '<ul><li>Access and manage your data (api)</li>' +
      '<li>Perform requests on your behalf at any time (refresh_token, offline_access)</li></ul>' +
      `<form method="post" action="${APPROVAL_PATH}">` +
      `<input type="hidden" name="source" value="${escapeHtml(source)}">` +
      `<input type="hidden" name="_CONFIRMATIONTOKEN" value="${escapeHtml(token)}">` +
      '<input type="submit" id="oaapprove" name="oaapprove" value="Allow">' +
      '<input type="submit" id="oadeny" name="oadeny" value="Deny"></form>',
    request.redirectUri,
  );
}

/** The parameters an authorization request carries, as a page's `source` and back. */
function encodeSource(params: Record<string, string | undefined>): string {
  const kept = Object.fromEntries(CARRIED.flatMap((k) => (params[k] === undefined ? [] : [[k, params[k]!]])));
  return Buffer.from(new URLSearchParams(kept).toString()).toString('base64url');
}

function decodeSource(source: string | undefined): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(Buffer.from(source ?? '', 'base64url').toString('utf8')));
}

/**
 * The web-server flow's pages, where Salesforce has them, so what automates a Salesforce login
 * (jsforce's own tests, an integration's browser tests) works unchanged:
 * - `/services/oauth2/authorize` checks the request (an unknown app or an unregistered callback
 *   URL is this page's error, never a redirect), then sends the user to log in
 *   (`/?ec=302&startURL=…`) or, logged in, to approve;
 * - `/` is the login page: a right password starts a login session (an HttpOnly cookie) and
 *   goes on to `startURL`;
 * - the approval page says what the app asks; Allow sends the user back to the app with a code
 *   and its `state`, Deny with `access_denied`. Its form carries a token bound to the session.
 * `prompt=none` answers `login_required`; `prompt=login` asks for the password again.
 */
export function authorizeRoutes(app: FastifyInstance, services: CrmServices): void {
  const { oauth } = services;
  /** The request's parameters checked; null once the answer refusing them is sent. */
  const checked = async (
    reply: FastifyReply,
    params: Record<string, string | undefined>,
  ): Promise<AuthorizationRequest | null> => {
    try {
      return await oauth.authorizationRequest(params);
    } catch (error) {
      if (error instanceof AuthorizationRedirect) void reply.redirect(error.location(), 302);
      else if (error instanceof OAuthError) void errorPage(reply, 400, error.error, error.description);
      else throw error;
      return null;
    }
  };
  const back = (reply: FastifyReply, request: AuthorizationRequest, params: Record<string, string>) => {
    const url = new URL(request.redirectUri);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    if (request.state !== undefined) url.searchParams.set('state', request.state);
    return reply.redirect(url.toString(), 302);
  };
  const toLogin = (reply: FastifyReply, startUrl: string) =>
    reply.redirect(`${LOGIN_PATH}?ec=302&startURL=${encodeURIComponent(startUrl)}`, 302);

  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = fields(request);
    const authorization = await checked(reply, params);
    if (!authorization) return reply;
    const prompts = (authorization.prompt ?? '').split(' ');
    if (prompts.includes('none'))
      return back(reply, authorization, {
        error: 'login_required',
        error_description: 'the user must log in',
      });
    const source = encodeSource({
      ...params,
      prompt: prompts.filter((p) => p !== 'login').join(' ') || undefined,
    });
    const approval = `${APPROVAL_PATH}?source=${source}`;
    const user = prompts.includes('login') ? null : await oauth.loginSession(request.cookies[SESSION_COOKIE]);
    return user ? reply.redirect(approval, 302) : toLogin(reply, approval);
  };

  const login = async (request: FastifyRequest, reply: FastifyReply) => {
    const form = fields(request);
    const startUrl = startUrlOf(form.startURL);
    if (request.method === 'GET') return loginPage(reply, startUrl);
    let userId: string;
    try {
      userId = await oauth.logIn(form.username ?? '', form.pw ?? form.password ?? '');
    } catch (error) {
      if (error instanceof OAuthError) return loginPage(reply, startUrl, error.description);
      throw error;
    }
    const session = await oauth.startLoginSession(userId);
    reply.setCookie(SESSION_COOKIE, session, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: services.urls.loginUrl().startsWith('https:'),
    });
    if (startUrl) return reply.redirect(startUrl, 302);
    return sendPage(reply, 200, 'Handoff', '<h1>You are logged in</h1>');
  };

  const approve = async (request: FastifyRequest, reply: FastifyReply) => {
    const form = fields(request);
    const source = form.source ?? '';
    const authorization = await checked(reply, decodeSource(source));
    if (!authorization) return reply;
    const session = request.cookies[SESSION_COOKIE];
    const userId = await oauth.loginSession(session);
    if (!userId || !session) return toLogin(reply, `${APPROVAL_PATH}?source=${source}`);
    const token = confirmationToken(session, source);
    if (request.method === 'GET') return approvalPage(reply, authorization, source, token);
    if (!sameSecret(form._CONFIRMATIONTOKEN ?? '', token))
      return errorPage(reply, 403, 'invalid_request', 'the approval form expired; start again from the app');
    if (form.oaapprove === undefined)
      return back(reply, authorization, {
        error: 'access_denied',
        error_description: 'end-user denied authorization',
      });
    return back(reply, authorization, { code: await oauth.issueCode(authorization, userId) });
  };

  // A scope of its own: what fails before the handler (a NUL in a field, a body that does not
  // parse) is these pages' error too, in HTML, not the token endpoint's JSON.
  void app.register(async (page) => {
    await page.register(cookie);
    page.setErrorHandler((error: Error, request, reply) => {
      // The body parser's (malformed JSON, too deep) is the request's fault, as on the token endpoint.
      const status = error instanceof HandoffError ? 400 : (requestErrorStatus(error) ?? 500);
      if (status === 500) logServerError(request, error, 'unexpected error on the authorization page');
      return errorPage(reply, status, 'invalid_request', status === 500 ? 'unexpected error' : error.message);
    });
    page.get('/services/oauth2/authorize', authorize);
    page.post('/services/oauth2/authorize', authorize);
    page.get(LOGIN_PATH, login);
    page.post(LOGIN_PATH, login);
    page.get(APPROVAL_PATH, approve);
    page.post(APPROVAL_PATH, approve);
  });
}

function errorPage(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return sendPage(
    reply,
    status,
    'Error',
    `<h1>Error</h1><p class="error">${escapeHtml(error)}: ${escapeHtml(description)}</p>`,
  );
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthorizationRedirect, OAuthError, type AuthorizationRequest } from '../auth/oauth-service.js';
import type { CrmServices } from '../crm-services.js';
import { textParams } from './request-context.js';
import { logServerError } from '../../http/server-basics.js';
import { requestErrorStatus } from '../../http/invalid-input.js';
import { HandoffError } from '../../errors/handoff-error.js';

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
  const formAction = formTarget ? `'self' ${new URL(formTarget).origin}` : "'none'";
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

function loginPage(
  reply: FastifyReply,
  request: AuthorizationRequest,
  carried: Record<string, string | undefined>,
  error?: string,
): FastifyReply {
  const hidden = CARRIED.map((name) =>
    carried[name] === undefined
      ? ''
      : `<input type="hidden" name="${name}" value="${escapeHtml(carried[name] ?? '')}">`,
  ).join('');
  const app = escapeHtml(request.appName);
  return sendPage(
    reply,
    error ? 401 : 200,
    'Log in to Handoff',
    `<h1>Log in</h1><p><strong>${app}</strong> asks to access your Handoff data: to use the API on ` +
      'your behalf (api), also when you are not there (refresh_token).</p>' +
      (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '') +
      `<form method="post" action="/services/oauth2/authorize">${hidden}` +
      '<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>' +
      '<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>' +
      '<button type="submit" name="decision" value="allow">Log in and allow</button>' +
      '<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></form>',
    request.redirectUri,
  );
}

/**
 * `/services/oauth2/authorize`: the web-server flow's login and approval page. GET shows it for
 * a registered app and one of its callback URLs (anything else is this page's error, never a
 * redirect); POST logs the user in, and on Allow sends them back to the app with a code and its
 * `state`, on Deny with `access_denied`. There is no session here: every authorization logs in,
 * so `prompt=none` answers `login_required`.
 */
export function authorizeRoutes(app: FastifyInstance, services: CrmServices): void {
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const carried = fields(request);
    let authorization: AuthorizationRequest;
    try {
      authorization = await services.oauth.authorizationRequest(carried);
    } catch (error) {
      if (error instanceof AuthorizationRedirect) return reply.redirect(error.location(), 302);
      if (error instanceof OAuthError) return errorPage(reply, 400, error.error, error.description);
      throw error;
    }
    const back = (params: Record<string, string>) => {
      const url = new URL(authorization.redirectUri);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      if (authorization.state !== undefined) url.searchParams.set('state', authorization.state);
      return reply.redirect(url.toString(), 302);
    };
    if (request.method === 'GET') {
      if (authorization.prompt?.split(' ').includes('none'))
        return back({ error: 'login_required', error_description: 'the user must log in' });
      return loginPage(reply, authorization, carried);
    }
    if (carried.decision === 'deny')
      return back({ error: 'access_denied', error_description: 'end-user denied authorization' });
    try {
      const code = await services.oauth.authorize(
        authorization,
        carried.username ?? '',
        carried.password ?? '',
      );
      return back({ code });
    } catch (error) {
      if (error instanceof OAuthError) return loginPage(reply, authorization, carried, error.description);
      throw error;
    }
  };
  // A scope of its own: what fails before the handler (a NUL in a field, a body that does not
  // parse) is this page's error too, in HTML, not the token endpoint's JSON.
  void app.register(async (page) => {
    page.setErrorHandler((error: Error, request, reply) => {
      // The body parser's (malformed JSON, too deep) is the request's fault, as on the token endpoint.
      const status = error instanceof HandoffError ? 400 : (requestErrorStatus(error) ?? 500);
      if (status === 500) logServerError(request, error, 'unexpected error on the authorization page');
      return errorPage(reply, status, 'invalid_request', status === 500 ? 'unexpected error' : error.message);
    });
    page.get('/services/oauth2/authorize', handle);
    page.post('/services/oauth2/authorize', handle);
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

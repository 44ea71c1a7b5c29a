import jsforce from 'jsforce';
import type { SalesforceLogin } from '../salesforce-oauth.js';

/** Writes carry `Sforce-Call-Options: client=<this>`, so change events show they were ours. */
export const CONNECTOR_CLIENT_ID = 'handoff-connector';

const callsSent = new WeakMap<jsforce.Connection, { n: number }>();

/** REST calls this connection has sent (each counts against the org's daily API requests). */
export function crmCallsSent(conn: jsforce.Connection): number {
  return callsSent.get(conn)?.n ?? 0;
}

const requestsSent = new WeakMap<jsforce.Connection, { n: number }>();

/**
 * Every HTTP request this connection has sent since it logged in, Bulk API jobs and their
 * result pages included (jsforce sends those beside `request`): what a bulk read costs.
 */
export function crmRequestsSent(conn: jsforce.Connection): number {
  return requestsSent.get(conn)?.n ?? 0;
}

/** The HTTP transport jsforce keeps on a connection: every request, REST or Bulk, passes it. */
interface JsforceTransport {
  httpRequest: (...args: unknown[]) => unknown;
}

/**
 * Every REST call jsforce sends goes through `request`: counted there. Every HTTP request at
 * all goes through the connection's transport: counted there too.
 */
function counted(conn: jsforce.Connection): jsforce.Connection {
  const count = { n: 0 };
  callsSent.set(conn, count);
  const request = conn.request.bind(conn);
  conn.request = ((...args: Parameters<typeof request>) => {
    count.n += 1;
    return request(...args);
  }) as typeof conn.request;
  const all = { n: 0 };
  requestsSent.set(conn, all);
  const transport = (conn as unknown as { _transport: JsforceTransport })._transport;
  const httpRequest = transport.httpRequest.bind(transport);
  transport.httpRequest = (...args: unknown[]) => {
    all.n += 1;
    return httpRequest(...args);
  };
  return conn;
}

/**
 * A jsforce connection to Salesforce (or the embedded CRM), logged in with the OAuth flow the
 * configuration names. When a token expires or is revoked (401 INVALID_SESSION_ID), jsforce asks
 * its refresh function for a new one and sends the call again: for the password flow jsforce's
 * own (it logs in again); for client credentials and refresh tokens, ours, the same token call.
 */
export async function connectCrm(
  login: SalesforceLogin,
  options: { version?: string; client?: string } = {},
): Promise<jsforce.Connection> {
  const version = options.version ?? '60.0';
  const oauth2 = {
    loginUrl: login.loginUrl,
    clientId: login.clientId,
    clientSecret: 'clientSecret' in login ? login.clientSecret : undefined,
  };
  const callOptions = { client: options.client ?? CONNECTOR_CLIENT_ID };
  if (login.flow === 'password') {
    const conn = new jsforce.Connection({ oauth2, version, callOptions });
    await conn.login(login.username, login.password);
    return counted(conn);
  }
  const fetchToken = async () => {
    const response = await fetch(`${login.loginUrl.replace(/\/$/, '')}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams(params),
    });
    if (!response.ok)
      throw new Error(`${login.flow} login to ${login.loginUrl} refused (${response.status})`);
    return (await response.json()) as { access_token: string; instance_url: string };
  };
  const params: Record<string, string> =
    login.flow === 'refresh_token'
      ? { grant_type: 'refresh_token', client_id: login.clientId, refresh_token: login.refreshToken }
      : { grant_type: 'client_credentials', client_id: login.clientId, client_secret: login.clientSecret };
  if (login.flow === 'refresh_token' && login.clientSecret) params.client_secret = login.clientSecret;
  const token = await fetchToken();
  const conn = new jsforce.Connection({
    oauth2,
    version,
    callOptions,
    accessToken: token.access_token,
    instanceUrl: token.instance_url,
    refreshFn: (_conn, callback) => {
      fetchToken().then(
        (fresh) => callback(null, fresh.access_token),
        (error: Error) => callback(error),
      );
    },
  });
  return counted(conn);
}

import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { HandoffError } from '../errors/handoff-error.js';
import { jsonBodyParser } from '../http/json-body.js';
import type { CrmServices } from './crm-services.js';
import { callOptionsClient, type ChangeOrigin } from './domain/call-context.js';
import { bulkIngestRoutes } from './http/bulk-ingest.js';
import { bulk1Routes } from './http/bulk1.js';
import { bulkQueryRoutes } from './http/bulk-query.js';
import { changeWindowRoutes } from './http/change-windows.js';
import { collectionRoutes } from './http/collections.js';
import { streamingPushRoutes } from './http/streaming-push.js';
import { cometdRoutes } from './http/cometd.js';
import { BayeuxServer } from './events/bayeux-server.js';
import { compositeRoutes, INTERNAL_SECRET_HEADER, INTERNAL_USER_HEADER } from './http/composite.js';
import { compositeTreeRoutes } from './http/composite-tree.js';
import { faultAdminRoutes, faultInjection } from './http/faults.js';
import { layoutRoutes } from './http/layouts.js';
import { limitsRoutes } from './http/limits.js';
import { listViewRoutes } from './http/list-views.js';
import { tabsAndThemeRoutes } from './http/tabs-and-theme.js';
import { oauthRoutes } from './http/oauth.js';
import { queryRoutes } from './http/query.js';
import { searchRoutes } from './http/search.js';
import {
  autoAssignHeader,
  bearerToken,
  parseApiVersion,
  type CrmRequestContext,
} from './http/request-context.js';
import { metadataSoapRoutes } from './http/metadata-soap.js';
import { soapRoutes } from './http/soap.js';
import { sobjectRoutes } from './http/sobjects.js';
import { resourceListRoute, versionListRoute } from './http/versions.js';
import { renderCrmError, sendCrmError, sendRestError } from './http/wire.js';
import { requestBasics, serverOptions } from '../http/server-basics.js';
import { crmHealth } from './http/health.js';

// Bulk-sized JSON (Collections of 200 wide records, composite) fits well inside this.
const BODY_LIMIT = 50 * 1024 * 1024;

function headerValue(raw: string | string[] | undefined): string | undefined {
  return Array.isArray(raw) ? raw[0] : raw;
}

/** The data API under `/services/data/vXX.X`: every route needs a session and counts against the daily limit. */
function dataApi(app: FastifyInstance, services: CrmServices): void {
  app.decorateRequest('crm', null as unknown as CrmRequestContext);
  app.addHook('onRequest', async (request) => {
    const { version } = request.params as { version?: string };
    const apiVersion = parseApiVersion(version ?? '');
    const autoAssign = autoAssignHeader(request);
    const origin: ChangeOrigin = {
      api: 'rest',
      version: apiVersion,
      client: callOptionsClient(headerValue(request.headers['sforce-call-options'])),
    };
    // Composite subrequests arrive already authenticated and counted as part of their composite call.
    const internal = headerValue(request.headers[INTERNAL_SECRET_HEADER]);
    if (internal !== undefined && internal === services.internalSecret) {
      request.crm = {
        userId: headerValue(request.headers[INTERNAL_USER_HEADER]) ?? '',
        autoAssign,
        apiVersion,
        origin,
      };
      return;
    }
    const token = bearerToken(request);
    const session = token ? await services.oauth.verify(token) : null;
    if (!session) throw new HandoffError('INVALID_SESSION_ID', 'Session expired or invalid');
    if (!services.usage.consume())
      throw new HandoffError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    request.crm = { userId: session.userId, autoAssign, apiVersion, origin };
  });
  app.addHook('onSend', async (_request, reply) => {
    const { used, max } = services.usage.snapshot();
    reply.header('Sforce-Limit-Info', `api-usage=${used}/${max}`);
  });
  app.setErrorHandler((error, request, reply) =>
    sendRestError(request, reply, error, (e) => services.database.dialect.classifyError(e)),
  );
  resourceListRoute(app, (userId) => services.oauth.identityUrl(userId));
  sobjectRoutes(app, services);
  streamingPushRoutes(app, services);
  layoutRoutes(app, services);
  listViewRoutes(app, services);
  changeWindowRoutes(app, services);
  collectionRoutes(app, services);
  compositeRoutes(app, services);
  compositeTreeRoutes(app, services);
  queryRoutes(app, services);
  searchRoutes(app, services);
  limitsRoutes(app, services);
  tabsAndThemeRoutes(app, services);
  bulkIngestRoutes(app, services);
  bulkQueryRoutes(app, services);
}

/** The Salesforce-compatible CRM as a Fastify app. It never listens: the CLI or a test does. */
export function buildCrmApp(services: CrmServices, options: FastifyServerOptions = {}): FastifyInstance {
  const app = Fastify({
    ...serverOptions('crm', renderCrmError),
    bodyLimit: BODY_LIMIT,
    // Salesforce answers `//services/data/…` like `/services/data/…`: the Salesforce CLI keeps
    // instance URLs with a trailing slash, so every request it makes through jsforce starts `//`.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    ...options,
  });
  requestBasics(app, 'crm');
  crmHealth(app, services);
  void app.register(formbody);

  jsonBodyParser(
    app,
    (detail) => new HandoffError('JSON_PARSER_ERROR', `Unexpected character in JSON body: ${detail}`),
  );

  faultInjection(app, services);
  app.setErrorHandler((error, request, reply) => sendCrmError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendCrmError(request, reply, new HandoffError('NOT_FOUND', 'The requested resource does not exist')),
  );

  // Run-time fault rules only where the operator turned fault injection on.
  if (services.config.faultInjection)
    void app.register(async (admin) => {
      faultAdminRoutes(admin, services);
    });
  void app.register(async (soap) => {
    soapRoutes(soap, services);
  });
  void app.register(async (metadata) => {
    metadataSoapRoutes(metadata, services);
  });
  void app.register(async (oauth) => {
    oauthRoutes(oauth, services);
  });
  void app.register(async (cometd) => {
    cometdRoutes(
      cometd,
      services,
      new BayeuxServer({ events: services.changeEvents, streaming: services.streaming }),
    );
  });
  void app.register(
    async (versions) => {
      versionListRoute(versions);
    },
    { prefix: '/services/data' },
  );
  void app.register(
    async (data) => {
      dataApi(data, services);
    },
    { prefix: '/services/data/:version' },
  );
  void app.register(
    async (async) => {
      bulk1Routes(async, services);
    },
    { prefix: '/services/async/:version' },
  );
  return app;
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifySecureSession from '@fastify/secure-session';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ConsoleBackend } from './console-backend.js';
import { invalidInputMessage } from '../http/invalid-input.js';
import { consoleSecurityHeaders } from '../http/security-headers.js';
import { sendError } from './http/console-error.js';
import { explorerRoutes } from './http/explorer-routes.js';
import { ingestRoutes } from './http/ingest-routes.js';
import { recordsRoutes } from './http/records-routes.js';
import { logoutRoute, sessionRoutes, type ConsoleLogin } from './http/session-routes.js';
import { ConsoleSessions } from './console-sessions.js';
import { syncRoutes } from './http/sync-routes.js';
import { logServerError, requestBasics, serverOptions } from '../http/server-basics.js';
import { serveHealth } from '../http/observability.js';

/** How long a console session lasts without a new login. */
const SESSION_SECONDS = 8 * 60 * 60;

/** The console API's prefix; its routes are registered inside it, its guard as its hooks. */
const API_PREFIX = '/console/api';

/**
 * The built front end, dist/console/web, found from dist/console (compiled) and src/console
 * (run from the sources, as the tests do) alike. (src/console/web is its source, not servable.)
 * Undefined when it has not been built.
 */
function webRoot(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, '..', '..', 'dist', 'console', 'web');
  return existsSync(join(built, 'index.html')) ? built : undefined;
}

export interface ConsoleAppOptions {
  backend: ConsoleBackend;
  login: ConsoleLogin;
  /** 32 bytes that seal the session cookie; keep it across restarts to keep sessions. */
  sessionKey: Buffer;
  /** Where the live sessions are kept (private), so logins survive a restart and logouts too. */
  sessionsFile?: string;
}

/**
 * The admin console: its JSON API under /console/api (every route but login needs the session,
 * and every change needs the CSRF token) and the React front end beside it.
 */
export async function buildConsoleApp(options: ConsoleAppOptions): Promise<FastifyInstance> {
  const app = Fastify(
    serverOptions('console', (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: status === 404 ? 'NOT_FOUND' : 'INVALID_REQUEST', message } }),
    })),
  );
  requestBasics(app, 'console');
  serveHealth(app, options.backend.connector.readiness());
  options.backend.connector.registerMetrics(app.metrics);
  const landing = options.backend.landingPageUrl;
  consoleSecurityHeaders(app, landing && URL.canParse(landing) ? [new URL(landing).origin] : []);
  await app.register(fastifySecureSession, {
    key: options.sessionKey,
    cookieName: 'handoff_console',
    expiry: SESSION_SECONDS,
    // Secure over HTTPS (behind a TLS proxy too); the demo's plain-HTTP localhost keeps working.
    cookie: { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/secure-session' });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const invalid = invalidInputMessage(error);
    if (invalid !== undefined) return sendError(reply, 400, 'INVALID_INPUT', invalid);
    const status = error.statusCode ?? 500;
    if (status >= 500) logServerError(request, error, 'console request failed');
    const code =
      error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET'
        ? 'INVALID_CSRF_TOKEN'
        : status === 404
          ? 'NOT_FOUND'
          : status < 500
            ? 'INVALID_REQUEST'
            : 'INTERNAL_ERROR';
    return sendError(
      reply,
      status,
      code,
      status < 500 ? error.message : `Something went wrong: ${error.message}`,
    );
  });

  const sessions = new ConsoleSessions(SESSION_SECONDS * 1000, options.sessionsFile);
  // Open: the page asks who is logged in, and logs in (login checks its CSRF token itself).
  await app.register(
    async (open) => {
      sessionRoutes(open, { login: options.login, sessions });
    },
    { prefix: API_PREFIX },
  );
  // Everything else needs a live session, and every change the CSRF token. The guard is this
  // scope's hooks, so it runs for whatever spelling of a path the router matched to a route.
  await app.register(
    async (guarded) => {
      guarded.addHook('onRequest', async (request, reply) => {
        if (!sessions.isLive(request.session.get('sid')))
          return sendError(reply, 401, 'NOT_LOGGED_IN', 'Log in to use the console');
      });
      guarded.addHook('preHandler', (request, reply, done) => {
        if (request.method === 'GET' || request.method === 'HEAD') return done();
        app.csrfProtection(request, reply, done);
      });
      logoutRoute(guarded, sessions);
      syncRoutes(guarded, options.backend);
      explorerRoutes(guarded, options.backend);
      recordsRoutes(guarded, options.backend);
      ingestRoutes(guarded, options.backend.ingest);
    },
    { prefix: API_PREFIX },
  );

  const root = webRoot();
  if (root) {
    await app.register(fastifyStatic, { root, wildcard: false });
    // The page routes itself (#/…): a GET of any other page path is the app; anything that
    // looks like the API, however spelled, is not found (never a page, never data).
    app.setNotFoundHandler((request, reply) =>
      request.method === 'GET' && !looksLikeApi(request.url)
        ? reply.sendFile('index.html')
        : sendError(reply, 404, 'NOT_FOUND', `No route ${request.method} ${request.url}`),
    );
  } else {
    app.get('/', async (_request, reply) =>
      reply
        .type('text/plain')
        .send('The console front end is not built: run `npm run build` (npm install runs it too).'),
    );
  }
  return app;
}

/** Whether a path that matched no route was meant for the API, in any spelling of it. */
function looksLikeApi(url: string): boolean {
  let path = url;
  for (let i = 0; i < 3; i += 1) {
    try {
      path = decodeURIComponent(path);
    } catch {
      break;
    }
  }
  return /\/+console\/+api(?:[/;?#]|$)/i.test(path.replace(/;[^/]*/g, ''));
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifySecureSession from '@fastify/secure-session';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ConsoleBackend } from './console-backend.js';
import { sendError } from './http/console-error.js';
import { explorerRoutes } from './http/explorer-routes.js';
import { ingestRoutes } from './http/ingest-routes.js';
import { recordsRoutes } from './http/records-routes.js';
import { sessionRoutes, type ConsoleLogin } from './http/session-routes.js';
import { syncRoutes } from './http/sync-routes.js';

/** How long a console session lasts without a new login. */
const SESSION_SECONDS = 8 * 60 * 60;

/** Routes open without a session: the page asks who is logged in, and logs in. */
const OPEN_ROUTES = new Set(['/console/api/session', '/console/api/login']);

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
}

/**
 * The admin console: its JSON API under /console/api (every route but login needs the session,
 * and every change needs the CSRF token) and the React front end beside it.
 */
export async function buildConsoleApp(options: ConsoleAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(fastifySecureSession, {
    key: options.sessionKey,
    cookieName: 'handoff_console',
    expiry: SESSION_SECONDS,
    // Secure over HTTPS (behind a TLS proxy too); the demo's plain-HTTP localhost keeps working.
    cookie: { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/secure-session' });

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith('/console/api/') || OPEN_ROUTES.has(path)) return;
    if (!request.session.get('user'))
      return sendError(reply, 401, 'NOT_LOGGED_IN', 'Log in to use the console');
  });
  app.addHook('preHandler', (request, reply, done) => {
    const path = request.url.split('?')[0] ?? '';
    if (
      !path.startsWith('/console/api/') ||
      OPEN_ROUTES.has(path) ||
      ['GET', 'HEAD'].includes(request.method)
    )
      return done();
    app.csrfProtection(request, reply, done);
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'console request failed');
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

  sessionRoutes(app, options.login);
  syncRoutes(app, options.backend);
  explorerRoutes(app, options.backend);
  recordsRoutes(app, options.backend);
  ingestRoutes(app, options.backend.ingest);

  const root = webRoot();
  if (root) {
    await app.register(fastifyStatic, { root, wildcard: false });
    // The page routes itself (#/…): every other path is the app.
    app.setNotFoundHandler((request, reply) =>
      request.url.startsWith('/console/api/')
        ? sendError(reply, 404, 'NOT_FOUND', `No route ${request.method} ${request.url}`)
        : reply.sendFile('index.html'),
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

import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originAllowed, tracksVisitors, type Source } from '../domain/source.js';
import type { IngestServices } from '../ingest-services.js';
import { socketOrigin } from '../../http/socket-origin.js';
import { PARDOT_INTEGRATION_JS, pardotSettings } from './pardot-device-mode.js';

/** The routes' path and query parameters (Fastify matched the pattern; these name and type them). */
const writeKeyPath = z.object({ writeKey: z.string() });
const bundlePath = z.object({ file: z.string() });
const writeKeyQuery = z.object({ writeKey: z.string().optional() });

/**
 * Segment's browser SDK (analytics.js, `@segment/analytics-next`), served and answered by the
 * ingest, so a page can point the SDK's CDN and API host at it:
 *
 * - `GET /analytics.js/v1/{writeKey}/analytics.min.js`: the SDK itself (Segment's snippet loads
 *   it from here when `analytics._cdn` names the ingest), and `/analytics-next/bundles/*` the
 *   parts it loads on demand;
 * - `GET /v1/projects/{writeKey}/settings`: what the SDK needs to start (the `Segment.io`
 *   integration: the write key and where to send; `Pardot` in device mode when the source has
 *   a tracking account id), nothing secret;
 * - `GET /next-integrations/integrations/pardot/{version}/pardot.dynamic.js.gz`: that
 *   device-mode integration, which loads the engine's tracking script;
 * - `GET /v1/rudderstack/sourceConfig`: RudderStack's browser SDK's source config;
 * - CORS preflights for `/v1/*`, for the origins the source allows (any, by default, never
 *   with credentials); `/v1/m`, the SDK's own metrics, answered and dropped.
 */
export function browserRoutes(
  app: FastifyInstance,
  services: IngestServices,
  accept: (request: FastifyRequest, reply: FastifyReply, type: 'batch' | SingleType) => Promise<FastifyReply>,
): void {
  const bundles = analyticsNextBundles();

  /**
   * The source of a write key a browser SDK names in its config request, with its CORS answer
   * set; undefined (and the answer sent: 404, or 403 for an origin it does not take) otherwise.
   */
  const browserSource = async (
    request: FastifyRequest,
    reply: FastifyReply,
    writeKey: unknown,
  ): Promise<Source | undefined> => {
    const source = typeof writeKey === 'string' ? await services.sources.authenticate(writeKey) : undefined;
    if (!source) {
      void reply.code(404).send({ success: false, code: 'not_found', message: 'no such source' });
      return undefined;
    }
    if (!allowCors(request, reply, source)) {
      void reply
        .code(403)
        .send({ success: false, code: 'origin_not_allowed', message: 'this origin may not send' });
      return undefined;
    }
    return source;
  };

  app.get('/v1/projects/:writeKey/settings', async (request, reply) => {
    const { writeKey } = writeKeyPath.parse(request.params);
    const source = await browserSource(request, reply, writeKey);
    if (!source) return reply;
    const settings = sdkSettings(writeKey, socketOrigin(request));
    // A source that tracks visitors runs Account Engagement's tracking in the browser too
    // (device mode), as Segment's Pardot destination loads Pardot's snippet through analytics.js.
    if (tracksVisitors(source.settings))
      Object.assign(settings.integrations, { Pardot: pardotSettings(source, services.trackerHost) });
    return reply.header('cache-control', 'no-cache').send(settings);
  });

  // RudderStack's browser SDK asks `{configUrl}/sourceConfig/?writeKey=…` (point its
  // `configUrl` at `{ingest}/v1/rudderstack`): the source, enabled, with no device-mode
  // destinations and the SDK's own error and metrics reporting off.
  const rudderConfig = async (request: FastifyRequest, reply: FastifyReply) => {
    const writeKey = writeKeyQuery.safeParse(request.query).data?.writeKey;
    const source = await browserSource(request, reply, writeKey);
    if (!source) return reply;
    return reply.header('cache-control', 'no-cache').send({
      source: {
        id: source.id,
        name: source.name,
        writeKey,
        enabled: true,
        workspaceId: 'handoff',
        config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
        destinations: [],
      },
    });
  };
  app.get('/v1/rudderstack/sourceConfig', rudderConfig);
  app.get('/v1/rudderstack/sourceConfig/', rudderConfig);

  app.get('/analytics.js/v1/:writeKey/analytics.min.js', async (_request, reply) =>
    sendScript(reply, await readFile(join(bundles, 'standalone.js')), 'public, max-age=300'),
  );

  app.get('/analytics-next/bundles/:file', async (request, reply) => {
    const { file } = bundlePath.parse(request.params);
    // Only the SDK's own chunk files, by name: nothing else of the disk.
    if (!/^[\w-]+\.bundle\.[0-9a-f]+\.js$/.test(file))
      return reply.code(404).send({ success: false, code: 'not_found', message: 'no such bundle' });
    const body = await readFile(join(bundles, file)).catch(() => undefined);
    if (!body) return reply.code(404).send({ success: false, code: 'not_found', message: 'no such bundle' });
    return sendScript(reply, body, 'public, max-age=31536000, immutable');
  });

  // The path analytics.js builds from the CDN, the integration's name and its version; the
  // name says `.gz`, but the body is plain (analytics.js loads it with a script tag either way).
  app.get('/next-integrations/integrations/pardot/:version/pardot.dynamic.js.gz', async (_request, reply) =>
    sendScript(reply, PARDOT_INTEGRATION_JS, 'public, max-age=300'),
  );

  // One event a request, by the first letter of its type, as analytics.js sends them.
  for (const [letter, type] of Object.entries(SINGLE_PATHS))
    app.post(`/v1/${letter}`, (request, reply) => accept(request, reply, type));

  // The SDK's own metrics: taken and dropped (they are Segment's, not the user's data).
  app.post('/v1/m', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin) void reply.header('access-control-allow-origin', '*');
    return reply.code(200).send({ success: true });
  });

  // Preflights: the source is not known until the request itself (its write key), so any
  // origin passes here and the request is checked against its source's origins.
  app.options('/v1/*', async (request, reply) => {
    const requested = request.headers['access-control-request-headers'];
    return reply
      .code(204)
      .header('access-control-allow-origin', request.headers.origin ? '*' : undefined)
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header('access-control-allow-headers', requested ?? 'authorization, content-type')
      .header('access-control-max-age', '86400')
      .send();
  });
}

/** A script any page may load (no credentials), cached as long as `cacheControl` says. */
function sendScript(reply: FastifyReply, body: string | Buffer, cacheControl: string): FastifyReply {
  return reply
    .type('application/javascript; charset=utf-8')
    .header('access-control-allow-origin', '*')
    .header('cache-control', cacheControl)
    .send(body);
}

export type SingleType = 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias';

const SINGLE_PATHS: Record<string, SingleType> = {
  i: 'identify',
  t: 'track',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
};

/**
 * The CORS answer for a browser request of a source: `*` (no credentials) when the source takes
 * the page's origin, nothing and false when it does not. Requests without an Origin (servers)
 * always pass.
 */
export function allowCors(request: FastifyRequest, reply: FastifyReply, source: Source): boolean {
  const origin = request.headers.origin;
  if (!origin) return true;
  if (!originAllowed(source.settings, origin)) return false;
  void reply.header('access-control-allow-origin', source.settings.allowedOrigins?.length ? origin : '*');
  if (source.settings.allowedOrigins?.length) void reply.header('vary', 'Origin');
  return true;
}

/** What analytics.js reads at start: its integrations (only `Segment.io`, pointed here) and plan. */
function sdkSettings(writeKey: string, base: { host: string; protocol: 'http' | 'https' }) {
  return {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost: `${base.host}/v1`,
        protocol: base.protocol,
        unbundledIntegrations: [],
        addBundledMetadata: true,
        maybeBundledConfigIds: {},
        versionSettings: { version: '4.4.7', componentTypes: ['browser'] },
      },
    },
    plan: {
      track: { __default: { enabled: true, integrations: {} } },
      identify: { __default: { enabled: true } },
      group: { __default: { enabled: true } },
    },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  };
}

/** The folder of analytics-next's browser build (its standalone script and chunks). */
function analyticsNextBundles(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@segment/analytics-next/package.json')), 'dist', 'umd');
}

import type { FastifyInstance } from 'fastify';

const RELEASES: Record<number, string> = {
  58: "Summer '23",
  59: "Winter '24",
  60: "Spring '24",
  61: "Summer '24",
  62: "Winter '25",
  63: "Spring '25",
  64: "Summer '25",
  65: "Winter '26",
  66: "Spring '26",
};

/** `GET /services/data`: the versions served (no session needed, as on Salesforce). */
export function versionListRoute(app: FastifyInstance): void {
  app.get('/', async () => {
    const versions = [];
    for (let v = 20; v <= 66; v++) {
      versions.push({ label: RELEASES[v] ?? `API ${v}.0`, url: `/services/data/v${v}.0`, version: `${v}.0` });
    }
    return versions;
  });
}

/** The resources of a version this CRM serves, as Salesforce names them. */
const RESOURCES = [
  'sobjects',
  'query',
  'queryAll',
  'search',
  'parameterizedSearch',
  'composite',
  'limits',
  'jobs',
  'recent',
  'tabs',
  'theme',
];

/**
 * `GET /services/data/vXX.X`: the resources of a version, and `identity`, the caller's identity
 * URL (jsforce's `conn.identity()` reads it from here).
 */
export function resourceListRoute(app: FastifyInstance, identityUrl: (userId: string) => string): void {
  app.get('/', async (request) => {
    const base = `/services/data/v${request.crm.apiVersion}`;
    return {
      ...Object.fromEntries(RESOURCES.map((n) => [n, `${base}/${n}`])),
      identity: identityUrl(request.crm.userId),
    };
  });
}

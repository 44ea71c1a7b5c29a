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

/** `GET /services/data/vXX.X`: the resources of a version. */
export function resourceListRoute(app: FastifyInstance): void {
  app.get('/', async (request) => {
    const base = `/services/data/v${request.crm.apiVersion}`;
    const names = ['sobjects', 'query', 'queryAll', 'composite', 'limits'];
    return Object.fromEntries(names.map((n) => [n, `${base}/${n}`]));
  });
}

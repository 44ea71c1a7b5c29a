// The marketing engine's public front of `handoff demo` (SQLite, its own process): tracked page
// views (/analytics, as pd.js calls it) and form handler submissions accepted durably per
// second, with their latency at a steady offered rate and at saturation; each beside a bare
// Fastify route answering the same calls in the same run.
import http from 'node:http';
import { figure, jsonClient, load, paced, percentile, startServer } from './support.js';
import { bareServer, versus } from './support-baseline.js';

const VIEWS = Number(process.env.BENCH_VIEWS ?? 50_000);
const FORMS = Number(process.env.BENCH_FORMS ?? 10_000);
const VISITORS = Number(process.env.BENCH_VISITORS ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);

/** A keep-alive client for the engine's public routes: resolves with latency (ms) and body. */
function publicClient(base: URL, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  return (
    method: string,
    path: string,
    form?: URLSearchParams,
  ): Promise<{ ms: number; status: number; body: string }> => {
    const payload = form?.toString();
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers: {
            origin: 'https://www.example.com',
            ...(payload
              ? {
                  'content-type': 'application/x-www-form-urlencoded',
                  'content-length': Buffer.byteLength(payload),
                }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              ms: Number(process.hrtime.bigint() - started) / 1e6,
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  };
}

/** Page views then form submissions against one front: the engine's, or a bare route. */
async function frontFigures(base: URL, campaignId: number, handlerPath: string) {
  const call = publicClient(base, CONCURRENCY);
  // The demo's unit is the first: tracker account 1001 (pd.js's piAId).
  const account = 1001;
  const visitors: string[] = [];
  const view = async (visitor: number, page: number) => {
    const q = new URLSearchParams({
      account_id: String(account),
      url: `https://www.example.com/docs/${page % 97}`,
      title: `Docs ${page % 97}`,
      campaign_id: String(campaignId),
    });
    const known = visitors[visitor];
    const r = await call('GET', `/analytics?${q}${known ?? ''}`);
    if (r.status !== 200) throw new Error(`/analytics: ${r.status} ${r.body}`);
    if (!known) {
      const answer = JSON.parse(r.body) as { tracked: boolean; visitorId: number; sign: string };
      if (!answer.tracked) throw new Error('not tracked');
      visitors[visitor] = `&visitor_id=${answer.visitorId}&visitor_id_sign=${answer.sign}`;
    }
    return r.ms;
  };
  // Every visitor's first view (new visitors), then their return visits.
  const firsts = await load(VISITORS, 16, (i) => view(i, i));
  const steadyViews = await paced(2_500, 5, (i) => view(i % VISITORS, i));
  const views = await load(VIEWS, CONCURRENCY, (i) => view(i % VISITORS, i));

  let n = 0;
  const submit = async () => {
    const i = n++;
    // One in five submissions is a returning person (an update), the rest new prospects.
    const email = i % 5 === 4 ? `person${i - 4}@bench.example.com` : `person${i}@bench.example.com`;
    const r = await call(
      'POST',
      handlerPath,
      new URLSearchParams({ email, first_name: `P${i}`, company: 'Bench' }),
    );
    if (r.status >= 400) throw new Error(`form handler: ${r.status} ${r.body}`);
    return r.ms;
  };
  const steadyForms = await paced(500, 5, () => submit());
  const forms = await load(FORMS, CONCURRENCY, () => submit());
  return {
    firstViews: VISITORS / firsts.seconds,
    viewsP50: percentile(steadyViews, 50),
    viewsP99: percentile(steadyViews, 99),
    views: VIEWS / views.seconds,
    viewsSaturatedP50: percentile(views.latencies, 50),
    viewsSaturatedP99: percentile(views.latencies, 99),
    formsP50: percentile(steadyForms, 50),
    formsP99: percentile(steadyForms, 99),
    forms: FORMS / forms.seconds,
    formsSaturatedP50: percentile(forms.latencies, 50),
    formsSaturatedP99: percentile(forms.latencies, 99),
  };
}

const server = await startServer(undefined, 'demo');
try {
  const marketing = server.marketing!;
  const base = new URL(marketing.baseUrl);
  const api = jsonClient(server, 4, {
    url: base,
    headers: { 'pardot-business-unit-id': marketing.businessUnitId },
  });
  const created = async (path: string, body: unknown) => {
    const r = await api('POST', path, body);
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${r.body}`);
    return (JSON.parse(r.body) as { id: number }).id;
  };
  const campaignId = await created('/api/v5/objects/campaigns?fields=id', { name: 'Bench' });
  const handlerId = await created('/api/v5/objects/form-handlers?fields=id', { name: 'Bench', campaignId });
  for (const [name, prospectApiFieldId] of [
    ['email', 'email'],
    ['first_name', 'firstName'],
    ['company', 'company'],
  ])
    await created('/api/v5/objects/form-handler-fields?fields=id', {
      formHandlerId: handlerId,
      name,
      prospectApiFieldId,
    });

  const real = await frontFigures(base, campaignId, `/l/${marketing.businessUnitId}/${handlerId}`);
  const peakRss = server.peakRssMb();
  // The same calls answered by a bare Fastify route, once the demo has stopped.
  await server.stop();
  const bare = await bareServer([
    {
      method: 'GET',
      prefix: '/analytics',
      status: 200,
      body: JSON.stringify({ tracked: true, visitorId: 1, sign: 'bare' }),
    },
    { method: 'POST', prefix: '/l/', status: 200, body: '{}' },
  ]);
  const baseline = await frontFigures(bare.url, campaignId, `/l/${marketing.businessUnitId}/${handlerId}`);
  await bare.stop();

  const rate = (label: string, key: keyof typeof real, unit: string, target?: string) =>
    versus(label, real[key], baseline[key], unit, target);
  const ms = (label: string, key: keyof typeof real, target?: string) =>
    versus(label, real[key], baseline[key], 'ms', target, true);
  rate('first page views (new visitors)', 'firstViews', 'views/s');
  ms('page views at 2,500/s: p50', 'viewsP50');
  ms('page views at 2,500/s: p99', 'viewsP99', '<= 50');
  rate(`page views accepted, ${CONCURRENCY} clients`, 'views', 'views/s', '>= 5,000');
  ms('  at saturation: p50', 'viewsSaturatedP50');
  ms('  at saturation: p99', 'viewsSaturatedP99');
  ms('form submissions at 500/s: p50', 'formsP50');
  ms('form submissions at 500/s: p99', 'formsP99', '<= 50');
  rate(`form submissions accepted, ${CONCURRENCY} clients`, 'forms', 'submissions/s', '>= 1,000');
  ms('  at saturation: p50', 'formsSaturatedP50');
  ms('  at saturation: p99', 'formsSaturatedP99');
  figure('peak RSS of the demo process', peakRss, 'MB');
} finally {
  await server.stop();
  server.cleanup();
}

// The marketing engine's public front of `handoff demo` (SQLite, its own process): tracked page
// views (/analytics, as pd.js calls it) and form handler submissions accepted durably per
// second, with their latency at a steady offered rate and at saturation.
import http from 'node:http';
import { figure, jsonClient, load, paced, percentile, startServer } from './support.js';

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
  figure('first page views (new visitors)', VISITORS / firsts.seconds, 'views/s');
  const steadyViews = await paced(2_500, 5, (i) => view(i % VISITORS, i));
  figure('page views at 2,500/s: p50', percentile(steadyViews, 50), 'ms');
  figure('page views at 2,500/s: p99', percentile(steadyViews, 99), 'ms', '<= 50');
  const views = await load(VIEWS, CONCURRENCY, (i) => view(i % VISITORS, i));
  figure(`page views accepted, ${CONCURRENCY} clients`, VIEWS / views.seconds, 'views/s', '>= 5,000');
  figure('  at saturation: p50', percentile(views.latencies, 50), 'ms');
  figure('  at saturation: p99', percentile(views.latencies, 99), 'ms');

  let n = 0;
  const submit = async () => {
    const i = n++;
    // One in five submissions is a returning person (an update), the rest new prospects.
    const email = i % 5 === 4 ? `person${i - 4}@bench.example.com` : `person${i}@bench.example.com`;
    const r = await call(
      'POST',
      `/l/${marketing.businessUnitId}/${handlerId}`,
      new URLSearchParams({ email, first_name: `P${i}`, company: 'Bench' }),
    );
    if (r.status >= 400) throw new Error(`form handler: ${r.status} ${r.body}`);
    return r.ms;
  };
  const steadyForms = await paced(500, 5, () => submit());
  figure('form submissions at 500/s: p50', percentile(steadyForms, 50), 'ms');
  figure('form submissions at 500/s: p99', percentile(steadyForms, 99), 'ms', '<= 50');
  const forms = await load(FORMS, CONCURRENCY, () => submit());
  figure(
    `form submissions accepted, ${CONCURRENCY} clients`,
    FORMS / forms.seconds,
    'submissions/s',
    '>= 1,000',
  );
  figure('  at saturation: p50', percentile(forms.latencies, 50), 'ms');
  figure('  at saturation: p99', percentile(forms.latencies, 99), 'ms');
  figure('peak RSS of the demo process', server.peakRssMb(), 'MB');
} finally {
  await server.stop();
  server.cleanup();
}

// The ingest of `handoff demo` (SQLite, its own process): events accepted durably per second and
// the accept latency for batch and single calls, the browser path (analytics.js's `/v1/t` in
// text/plain after a CORS preflight, from another origin), then identify → prospect delivery lag
// at a steady 1,000 identifies/s, read back through the marketing engine's v5 API. The accept
// figures are printed beside a bare Fastify route answering the same calls in the same run.
import http from 'node:http';
import { figure, jsonClient, load, paced, percentile, startServer } from './support.js';
import { bareJsonParse, bareServer, versus } from './support-baseline.js';

const BATCH_CALLS = Number(process.env.BENCH_BATCH_CALLS ?? 2_000);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 100);
const SINGLE_CALLS = Number(process.env.BENCH_SINGLE_CALLS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const RATE = Number(process.env.BENCH_IDENTIFY_RATE ?? 1_000);
const SECONDS = Number(process.env.BENCH_IDENTIFY_SECONDS ?? 10);

/** A keep-alive POST client for the ingest of a bench server. */
function ingestClient(target: { url: string; writeKey: string }, sockets: number) {
  const ingest = new URL(target.url);
  const auth = `Basic ${Buffer.from(`${target.writeKey}:`).toString('base64')}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  /** One POST; resolves with its latency in ms. */
  return (path: string, body: unknown): Promise<number> => {
    const payload = JSON.stringify(body);
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: ingest.hostname,
          port: ingest.port,
          method: 'POST',
          path,
          headers: {
            authorization: auth,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`unexpected ${res.statusCode}`));
            else resolve(Number(process.hrtime.bigint() - started) / 1e6);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  };
}

/**
 * A browser's send, as analytics.js makes it from another origin: the CORS preflight, then the
 * event in text/plain with the write key. Resolves with the latency of the pair in ms (a browser
 * without a cached preflight waits for both).
 */
function browserClient(target: { url: string; writeKey: string }, sockets: number) {
  const ingest = new URL(target.url);
  const writeKey = target.writeKey;
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const origin = 'http://shop.bench.example';
  const send = (method: string, headers: Record<string, string | number>, payload?: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        { agent, host: ingest.hostname, port: ingest.port, method, path: '/v1/t', headers },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode! < 300 ? resolve() : reject(new Error(`unexpected ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return async (body: Record<string, unknown>): Promise<number> => {
    const payload = JSON.stringify({ ...body, writeKey });
    const started = process.hrtime.bigint();
    await send('OPTIONS', {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    });
    await send(
      'POST',
      {
        origin,
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(payload),
      },
      payload,
    );
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
}

const track = (i: number, tag: string) => ({
  type: 'track',
  // Anonymous visitors: accepted and kept, their delivery parked until they are identified.
  anonymousId: `${tag}-visitor-${i % 5_000}`,
  event: 'Viewed Page',
  properties: { path: `/docs/${i % 97}`, referrer: 'https://search.example/', plan: 'pro' },
  context: { library: { name: 'bench', version: '1' }, userAgent: 'bench/1.0' },
  messageId: `${tag}-${i}`,
});
const batchOf = (i: number, size: number, tag: string) => ({
  batch: Array.from({ length: size }, (_, j) => track(i * size + j, tag)),
});

/** The accept figures of one front: the ingest, or a bare Fastify route answering the same calls. */
async function acceptFigures(target: { url: string; writeKey: string }) {
  const post = ingestClient(target, CONCURRENCY);
  await load(200, 8, (i) => post('/v1/batch', batchOf(i, 20, 'warm')));
  // Steady load first (latency at an offered rate), then saturation (the most it accepts): the
  // backlog a saturation run leaves would otherwise be measured as the steady load's latency.
  const batchPaced = await paced(150, 5, (i) => post('/v1/batch', batchOf(i, BATCH_SIZE, 'paced')));
  const singlePaced = await paced(2_000, 5, (i) => post('/v1/track', track(i, 'single-paced')));
  const batch = await load(BATCH_CALLS, 8, (i) => post('/v1/batch', batchOf(i, BATCH_SIZE, 'batch')));
  const single = await load(SINGLE_CALLS, CONCURRENCY, (i) => post('/v1/track', track(i, 'single')));
  // The browser path: a preflight and a text/plain /v1/t per event, as analytics.js sends them.
  const browser = browserClient(target, CONCURRENCY);
  const browserPaced = await paced(1_000, 5, (i) => browser(track(i, 'browser-paced')));
  const browserLoad = await load(SINGLE_CALLS / 2, CONCURRENCY, (i) => browser(track(i, 'browser')));
  return {
    batchP50: percentile(batchPaced, 50),
    batchP99: percentile(batchPaced, 99),
    singleP50: percentile(singlePaced, 50),
    singleP99: percentile(singlePaced, 99),
    batchRate: (BATCH_CALLS * BATCH_SIZE) / batch.seconds,
    singleRate: SINGLE_CALLS / single.seconds,
    browserP50: percentile(browserPaced, 50),
    browserP99: percentile(browserPaced, 99),
    browserRate: SINGLE_CALLS / 2 / browserLoad.seconds,
    browserSaturatedP99: percentile(browserLoad.latencies, 99),
  };
}

let server = await startServer(undefined, 'demo');
try {
  const real = await acceptFigures(server.ingest!);
  const peakRss = server.peakRssMb();
  // The same calls answered by a bare Fastify route (it parses them and answers 200; the
  // preflight 204), measured once the demo has stopped so that the two do not share the cores.
  await server.stop();
  const bare = await bareServer([
    { method: 'POST', prefix: '/v1/', status: 200, body: '{"success":true}' },
    {
      method: 'OPTIONS',
      prefix: '/v1/',
      status: 204,
      headers: {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'authorization,content-type',
      },
      body: '',
    },
  ]);
  const baseline = await acceptFigures({ url: bare.url.origin, writeKey: 'bare' });
  await bare.stop();
  // And a bare JSON.parse of the same batch bodies: events per second.
  const bodies = Array.from({ length: 200 }, (_, i) => JSON.stringify(batchOf(i, BATCH_SIZE, 'parse')));
  const parsedEvents = bareJsonParse(bodies) * BATCH_SIZE;

  const ms = (label: string, key: keyof typeof real, target?: string) =>
    versus(label, real[key], baseline[key], 'ms', target, true);
  ms(`/v1/batch of ${BATCH_SIZE}, 15,000 events/s: p50`, 'batchP50');
  ms(`/v1/batch of ${BATCH_SIZE}, 15,000 events/s: p99`, 'batchP99', '<= 20');
  ms('/v1/track, 2,000 calls/s: p50', 'singleP50');
  ms('/v1/track, 2,000 calls/s: p99', 'singleP99', '<= 20');
  versus(
    `accepted, /v1/batch of ${BATCH_SIZE}, 8 clients`,
    real.batchRate,
    baseline.batchRate,
    'events/s',
    '>= 15,000',
  );
  versus('  beside a bare JSON.parse of the bodies', real.batchRate, parsedEvents, 'events/s');
  versus(
    `accepted, single /v1/track, ${CONCURRENCY} clients`,
    real.singleRate,
    baseline.singleRate,
    'events/s',
  );
  ms('browser /v1/t with preflight, 1,000 events/s: p50', 'browserP50');
  ms('browser /v1/t with preflight, 1,000 events/s: p99', 'browserP99', '<= 20');
  versus(
    `accepted, browser /v1/t with preflight, ${CONCURRENCY} clients`,
    real.browserRate,
    baseline.browserRate,
    'events/s',
  );
  ms('  p99 at saturation', 'browserSaturatedP99');
  figure('peak RSS of the demo process', peakRss, 'MB');
} finally {
  await server.stop();
  server.cleanup();
}

// Delivery lag, on a fresh demo: RATE identifies a second of new people, each timed from its
// send until a v5 query first shows the prospect.
server = await startServer(undefined, 'demo');
const idleRss = server.rssMb();
try {
  const post = ingestClient(server.ingest!, CONCURRENCY);
  const marketing = server.marketing!;
  const client = jsonClient(server, 2, {
    url: new URL(marketing.baseUrl),
    headers: { 'pardot-business-unit-id': marketing.businessUnitId },
  });
  const sentAt = new Map<string, number>();
  const lags: number[] = [];
  const since = new Date(Date.now() - 1_000).toISOString();
  let polling = true;
  let lastSeen = 0;
  let lastSend = Date.now();
  const poller = (async () => {
    let lastId = 0;
    while (polling || lags.length < sentAt.size) {
      const r = await client(
        'GET',
        `/api/v5/objects/prospects?fields=id,email&orderBy=id&idGreaterThan=${lastId}&createdAtAfter=${encodeURIComponent(since)}&limit=1000`,
      );
      const values = (JSON.parse(r.body) as { values: Array<{ id: number; email: string }> }).values;
      const now = Date.now();
      for (const p of values) {
        lastId = Math.max(lastId, p.id);
        const sent = sentAt.get(p.email);
        if (sent !== undefined) {
          lags.push(now - sent);
          lastSeen = now;
        }
      }
      // Give up on stragglers a minute after the last send.
      if (!polling && Date.now() - lastSend > 60_000) break;
      if (values.length < 1000) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const total = RATE * SECONDS;
  const firstSend = Date.now();
  await paced(RATE, SECONDS, (i) => {
    const email = `lag${i}@bench.example`;
    sentAt.set(email, Date.now());
    lastSend = Date.now();
    return post('/v1/identify', {
      userId: `lag-user-${i}`,
      traits: { email, firstName: 'Lag', company: 'Bench Co' },
      messageId: `lag-${i}`,
    });
  });
  polling = false;
  await poller;
  lags.sort((a, b) => a - b);
  figure(`identify → prospect at ${RATE}/s for ${SECONDS} s: seen`, lags.length, `of ${total}`);
  // Deliveries keep up when prospects appear as fast as the identifies are sent.
  figure(
    '  prospects made per second (first send to last seen)',
    lags.length / ((lastSeen - firstSend) / 1000),
    'prospects/s',
    `${RATE.toLocaleString('en-US')} (the rate sent)`,
  );
  figure('  delivery lag p50', percentile(lags, 50), 'ms');
  figure('  delivery lag p99', percentile(lags, 99), 'ms', '<= 1,000');
  figure('demo RSS at start', idleRss, 'MB');
  figure('  peak', server.peakRssMb(), 'MB');
  figure('  after a minute at most of quiet', await server.settledRssMb(idleRss), 'MB', 'near start');
} finally {
  await server.stop();
  server.cleanup();
}

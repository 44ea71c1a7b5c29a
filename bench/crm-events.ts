// Change events delivered over CometD to a jsforce streaming subscriber, from `handoff crm` in its
// own process: the delay from commit to delivery at a steady 1,000 changes/s, and the delivery
// rate of a burst.
import jsforce from 'jsforce';
import { figure, jsonClient, startServer, percentile } from './support.js';

const RATE = Number(process.env.BENCH_EVENTS_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_EVENTS_SECONDS ?? 10);
const BURST = Number(process.env.BENCH_EVENTS_BURST ?? 20_000);
const TICK_MS = 10;

interface Message {
  payload: { ChangeEventHeader: { commitTimestamp: number } };
}

function lead(i: number) {
  return {
    attributes: { type: 'Lead' },
    LastName: `Event ${i}`,
    Company: 'Bench Co',
    Email: `ev${i}@example.com`,
  };
}

const server = await startServer();
try {
  const conn = new jsforce.Connection({
    instanceUrl: server.url.origin,
    accessToken: server.token,
    version: '60.0',
  });
  let received = 0;
  const delays: number[] = [];
  let measuring = false;
  let waiter: (() => void) | null = null;
  const subscription = conn.streaming.topic('/data/LeadChangeEvent').subscribe((message: unknown) => {
    received += 1;
    if (measuring) delays.push(Date.now() - (message as Message).payload.ChangeEventHeader.commitTimestamp);
    waiter?.();
  });
  await subscription;
  const until = async (count: number) => {
    while (received < count) await new Promise<void>((resolve) => (waiter = resolve));
  };

  const client = jsonClient(server, 8);
  const create = async (records: ReturnType<typeof lead>[]) => {
    const r = await client('POST', '/services/data/v60.0/composite/sobjects', { allOrNone: false, records });
    if (r.status !== 200) throw new Error(`unexpected ${r.status}: ${r.body.slice(0, 200)}`);
  };

  // Warm up.
  await create(Array.from({ length: 200 }, (_, i) => lead(i)));
  await until(200);

  // Steady load: RATE changes a second, in ticks of TICK_MS.
  measuring = true;
  const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
  const ticks = Math.round((SECONDS * 1000) / TICK_MS);
  const start = Date.now();
  const base = received;
  const writes: Promise<void>[] = [];
  let n = 1000;
  for (let t = 0; t < ticks; t++) {
    const due = start + t * TICK_MS;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    writes.push(create(Array.from({ length: perTick }, () => lead(n++))));
  }
  await Promise.all(writes);
  await until(base + ticks * perTick);
  measuring = false;
  const sorted = [...delays].sort((a, b) => a - b);
  figure(`steady load offered`, (ticks * perTick) / SECONDS, 'changes/s');
  figure('commit → delivery p50', percentile(sorted, 50), 'ms');
  figure('commit → delivery p99', percentile(sorted, 99), 'ms', '<= 100 ms at 1,000 changes/s');

  // Burst: BURST creates through 4 concurrent Collections calls; how fast do events arrive?
  const burstBase = received;
  const burstStart = Date.now();
  const calls = Math.ceil(BURST / 200);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < calls) {
        const c = next++;
        await create(Array.from({ length: 200 }, (_, i) => lead(100_000 + c * 200 + i)));
      }
    }),
  );
  await until(burstBase + calls * 200);
  figure('burst: events delivered', (calls * 200) / ((Date.now() - burstStart) / 1000), 'events/s');
  figure('server peak RSS', server.peakRssMb(), 'MB');
  conn.streaming.topic('/data/LeadChangeEvent').unsubscribe(subscription);
} finally {
  await server.stop();
  server.cleanup();
}
process.exit(0);

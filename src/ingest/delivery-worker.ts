import { RepeatedLog } from '../log.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccountEngagementClient } from '../clients/account-engagement/ae-client.js';
import type { TrackerClient } from '../clients/account-engagement/tracker-client.js';
import type { Database, StoreDb } from '../store/database.js';
import { pardotInBrowser, sendsToPardot } from './domain/segment-message.js';
import { traitEmail } from './domain/trait-mapping.js';
import { ProspectDestination, type Outcome } from './prospect-destination.js';
import type { SourceService } from './source-service.js';
import * as store from './store/ingest-store.js';

const LEASE = 'ingest-delivery';
const ACTIVITY_TYPES = new Set(['track', 'page', 'screen']);
const LEASE_MS = 10_000;
const IDLE_POLL_MS = 250;
/** Events sent to the destination in one pass (parking unknown visitors is not counted). */
const DELIVER_PER_PASS = 50;
const MAX_BACKOFF_MS = 5 * 60_000;
const DEDUP_WINDOW_MS = 24 * 3600_000;

export interface DeliveryWorkerOptions {
  database: Database;
  sources: SourceService;
  /** The marketing client for a business unit (the ingest's default unit when null). */
  clientFor: (businessUnitId: string | null) => AccountEngagementClient;
  /** The marketing engine's tracker (every business unit's: the tracking account id tells them apart). */
  tracker: TrackerClient;
  now: () => Date;
  log: Logger;
  batchSize?: number;
  /** Events of different people delivered at once: Account Engagement allows a unit 5 concurrent
   * calls, and the connector and other integrations need one too. */
  concurrency?: number;
}

/** Union-find over the ids that tie events to one person: their events must apply in order. */
function groupByPerson(events: store.StoredEvent[]): store.StoredEvent[][] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(k, root);
    return root;
  };
  const keysOf = (e: store.StoredEvent): string[] => {
    const m = e.message;
    const keys = [`${e.sourceId}:seq:${e.seq}`];
    if (m.userId) keys.push(`${e.sourceId}:id:${m.userId}`);
    if (m.anonymousId) keys.push(`${e.sourceId}:id:${m.anonymousId}`);
    if (m.previousId) keys.push(`${e.sourceId}:id:${m.previousId}`);
    const email = m.type === 'identify' ? traitEmail(m.traits) : null;
    // One email, one person being created: concurrent first identifies must not race.
    if (email) keys.push(`${e.sourceId}:email:${email.toLowerCase()}`);
    return keys;
  };
  const eventKeys = events.map(keysOf);
  for (const keys of eventKeys) {
    for (const k of keys) if (!parent.has(k)) parent.set(k, k);
    for (const k of keys.slice(1)) parent.set(find(k), find(keys[0]!));
  }
  const groups = new Map<string, store.StoredEvent[]>();
  events.forEach((e, i) => {
    const root = find(eventKeys[i]![0]!);
    const group = groups.get(root);
    if (group) group.push(e);
    else groups.set(root, [e]);
  });
  return [...groups.values()];
}

/**
 * Delivers accepted events to the prospect destination. One process delivers at a time (a
 * lease in the store; others take over when it lapses). Each person's events go in arrival
 * order, different people's side by side; a retryable failure holds that person's later
 * events back until it succeeds, with exponential backoff and jitter; a permanent one goes to
 * the failed list and lets the rest through.
 */
export class DeliveryWorker {
  private readonly owner = randomUUID();
  private readonly batchSize: number;
  private readonly concurrency: number;
  private stopped = false;
  private wake: (() => void) | null = null;
  private kicked = false;
  private loop: Promise<void> | null = null;
  private lastPurge = 0;
  private mostlyParked = false;
  /** Until when the lease this process holds needs no renewal (0: not held). */
  private leaseRenewAt = 0;
  /** A pass that fails fails again next time: logged once a minute, counted. */
  private readonly repeatedLog: RepeatedLog;
  /** One destination per source object (a source re-read from the store gets a new one). */
  private readonly destinations = new WeakMap<object, ProspectDestination>();

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.concurrency = options.concurrency ?? 4;
    this.repeatedLog = new RepeatedLog(options.log);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** New events were committed: look at once. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await store.releaseLease(this.options.database.db, LEASE, this.owner).catch(() => undefined);
  }

  /** Claims or renews the delivery lease; whether this process holds it. */
  private async claim(at: Date): Promise<boolean> {
    const leader = await store.claimLease(
      this.options.database.db,
      LEASE,
      this.owner,
      at.toISOString(),
      new Date(at.getTime() + LEASE_MS).toISOString(),
    );
    this.leaseRenewAt = leader ? at.getTime() + LEASE_MS / 2 : 0;
    return leader;
  }

  private async sleep(ms: number): Promise<void> {
    if (this.kicked || this.stopped) {
      this.kicked = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = null;
    this.kicked = false;
  }

  private async run(): Promise<void> {
    const { database, now } = this.options;
    while (!this.stopped) {
      try {
        const at = now();
        // The lease is renewed once half of it has run, not on every pass: a busy worker makes
        // hundreds of passes a second, and each claim is a write and a commit of its own.
        const leader = at.getTime() < this.leaseRenewAt || (await this.claim(at));
        if (!leader) {
          await this.sleep(LEASE_MS / 2);
          continue;
        }
        await this.purge(at);
        // Read few events while most go to the destination (each pass delivers a few dozen), many
        // while most are anonymous activity parked in bulk.
        const limit = this.mostlyParked ? this.batchSize : DELIVER_PER_PASS + 10;
        const events = await store.selectPending(database.db, limit);
        const delivered = events.length === 0 ? 0 : await this.deliverAll(events);
        if (delivered === 0) await this.sleep(IDLE_POLL_MS);
      } catch (error) {
        this.repeatedLog.write(
          'error',
          (error as Error).message,
          { err: error },
          'ingest delivery pass failed',
        );
        await this.sleep(1_000);
      }
    }
  }

  /**
   * Delivers what is due; returns how many events changed state. Outcomes decided without a
   * remote call (parked, skipped) are written together at the end of each person's run — or
   * before an identify or alias, which may release parked events and must see them parked.
   */
  private async deliverAll(events: store.StoredEvent[]): Promise<number> {
    const { parked, groups: deliverable } = await this.parkUnknown(groupByPerson(events));
    // A pass ends when its slowest person is done, and what arrives meanwhile waits for the next:
    // few events a pass keep that wait short; the rest stay pending for the next pass.
    const groups: store.StoredEvent[][] = [];
    let taken = 0;
    for (const group of deliverable) {
      if (taken > 0 && taken + group.length > DELIVER_PER_PASS) break;
      groups.push(group);
      taken += group.length;
    }
    this.mostlyParked = parked >= events.length * 0.8;
    let changed = parked;
    let next = 0;
    const worker = async () => {
      while (next < groups.length && !this.stopped) {
        const group = groups[next++]!;
        const deferred: Array<{ event: store.StoredEvent; outcome: Outcome }> = [];
        for (const event of group) {
          if (event.nextAttemptAt && Date.parse(event.nextAttemptAt) > this.options.now().getTime()) break;
          if ((event.message.type === 'identify' || event.message.type === 'alias') && deferred.length > 0) {
            await this.saveMany(deferred.splice(0));
          }
          const outcome = await this.deliverOne(event);
          changed += 1;
          if (outcome.status === 'waiting' || (outcome.status === 'skipped' && outcome.local)) {
            deferred.push({ event, outcome });
          } else {
            await this.save(event, outcome);
          }
          if (outcome.status === 'retry') break;
        }
        if (deferred.length > 0) await this.saveMany(deferred);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, groups.length) }, worker));
    return changed;
  }

  /**
   * The people of this batch who are only activity (track, page, screen) and not known yet:
   * their events are parked in one statement each source, without the per-event work of
   * delivery — the common case of anonymous traffic, which would otherwise cost as much to
   * park as to accept. The other groups are returned for delivery.
   */
  private async parkUnknown(
    groups: store.StoredEvent[][],
  ): Promise<{ parked: number; groups: store.StoredEvent[][] }> {
    const { database, now } = this.options;
    const candidates = groups.filter((group) =>
      group.every(
        (e) =>
          ACTIVITY_TYPES.has(e.message.type) &&
          sendsToPardot(e.message) &&
          // Counted in the browser already: skipped at once, not parked until the person is known.
          !(e.message.type === 'page' && pardotInBrowser(e.message)) &&
          !e.nextAttemptAt,
      ),
    );
    if (candidates.length === 0) return { parked: 0, groups };
    const bySource = new Map<string, store.StoredEvent[][]>();
    for (const group of candidates) {
      const list = bySource.get(group[0]!.sourceId);
      if (list) list.push(group);
      else bySource.set(group[0]!.sourceId, [group]);
    }
    const parkedGroups = new Set<store.StoredEvent[]>();
    const seqs: number[] = [];
    for (const [sourceId, sourceGroups] of bySource) {
      const ids = new Set<string>();
      for (const group of sourceGroups) {
        for (const e of group) {
          if (e.message.userId) ids.add(e.message.userId);
          if (e.message.anonymousId) ids.add(e.message.anonymousId);
        }
      }
      const known = await store.selectKnownIds(database.db, sourceId, [...ids]);
      for (const group of sourceGroups) {
        const unknown = group.every(
          (e) =>
            !(e.message.userId && known.has(e.message.userId)) &&
            !(e.message.anonymousId && known.has(e.message.anonymousId)),
        );
        if (!unknown) continue;
        parkedGroups.add(group);
        for (const e of group) seqs.push(e.seq);
      }
    }
    if (seqs.length > 0) {
      await database.db
        .transaction()
        .execute((trx) =>
          store.parkEvents(trx, seqs, 'no prospect known yet for this user', now().toISOString()),
        );
    }
    return { parked: seqs.length, groups: groups.filter((g) => !parkedGroups.has(g)) };
  }

  private async deliverOne(event: store.StoredEvent): Promise<Outcome> {
    const { database, sources, clientFor, now } = this.options;
    const source = await sources.byId(event.sourceId);
    if (!source) return { status: 'failed', error: `source ${event.sourceId} no longer exists` };
    let destination = this.destinations.get(source);
    if (!destination) {
      destination = new ProspectDestination(source);
      this.destinations.set(source, destination);
    }
    return destination.deliver(event, {
      db: database.db,
      client: clientFor(source.settings.businessUnitId ?? null),
      tracker: this.options.tracker,
      now,
      markCreateTried: (at) =>
        store.updateEvent(database.db, event.seq, {
          status: 'pending',
          attempts: event.attempts,
          nextAttemptAt: event.nextAttemptAt,
          lastError: event.lastError,
          result: null,
          createTriedAt: at,
          at,
        }),
    });
  }

  private async saveMany(items: Array<{ event: store.StoredEvent; outcome: Outcome }>): Promise<void> {
    await this.options.database.db.transaction().execute(async (trx) => {
      for (const { event, outcome } of items) await this.save(event, outcome, trx);
    });
  }

  /** Writes an event's new state: done, parked, failed for good, or due again after a backoff. */
  private async save(
    event: store.StoredEvent,
    outcome: Outcome,
    db: StoreDb = this.options.database.db,
  ): Promise<void> {
    const { now, log } = this.options;
    const at = now();
    const attempts = event.attempts + 1;
    const base = {
      attempts,
      nextAttemptAt: null as string | null,
      lastError: null as string | null,
      result: null as Record<string, unknown> | null,
      createTriedAt: event.createTriedAt,
      at: at.toISOString(),
    };
    switch (outcome.status) {
      case 'delivered':
        await store.updateEvent(db, event.seq, { ...base, status: 'delivered', result: outcome.result });
        break;
      case 'skipped':
      case 'waiting':
        await store.updateEvent(db, event.seq, {
          ...base,
          status: outcome.status,
          result: { reason: outcome.reason },
        });
        break;
      case 'failed':
        log.warn({ seq: event.seq, error: outcome.error }, 'ingest delivery failed');
        await store.updateEvent(db, event.seq, {
          ...base,
          status: 'failed',
          lastError: outcome.error,
          result: { code: outcome.code ?? null },
        });
        break;
      case 'retry': {
        // Exponential backoff with jitter, at least what the failure asks for.
        const backoff = Math.min(
          MAX_BACKOFF_MS,
          Math.max(outcome.delayMs, 500 * 2 ** Math.min(attempts, 12)),
        );
        const delay = backoff * (0.5 + Math.random());
        await store.updateEvent(db, event.seq, {
          ...base,
          status: 'pending',
          nextAttemptAt: new Date(at.getTime() + delay).toISOString(),
          lastError: outcome.error,
        });
        break;
      }
    }
  }

  private async purge(at: Date): Promise<void> {
    if (at.getTime() - this.lastPurge < 60_000) return;
    this.lastPurge = at.getTime();
    await store.purgeFinished(
      this.options.database.db,
      new Date(at.getTime() - DEDUP_WINDOW_MS).toISOString(),
    );
  }
}

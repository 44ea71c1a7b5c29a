import { randomBytes } from 'node:crypto';
import type { Database } from '../store/database.js';
import { DailyCounter } from '../store/daily-counter.js';
import {
  BUSINESS_UNIT_PREFIX,
  MAX_CONCURRENT_REQUESTS,
  type BusinessUnit,
  type UnitSettings,
} from './domain/business-unit.js';
import { MarketingError } from './domain/marketing-error.js';
import * as store from './store/unit-store.js';

const ID_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function newBusinessUnitId(): string {
  const bytes = randomBytes(15);
  return BUSINESS_UNIT_PREFIX + Array.from(bytes, (b) => ID_CHARS[b % ID_CHARS.length]).join('');
}

export interface UnitGrant {
  crmUserId: string;
  email: string;
  firstName?: string | null;
  lastName?: string | null;
  /** Account Engagement's role: `Administrator` (the default), `Marketing`, `Sales` … */
  role?: string;
}

/**
 * Business units and who may use them, with each unit's daily API count and the number of its
 * requests in flight (Account Engagement serves at most five at once per unit).
 */
export class BusinessUnitService {
  private readonly units = new Map<string, BusinessUnit>();
  private readonly access = new Map<string, number | null>();
  /** Whether a CRM user administers a unit, by `unit:user` (cleared when a grant changes). */
  private readonly administrators = new Map<string, boolean>();
  private readonly counters = new Map<string, DailyCounter>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly database: Database,
    private readonly now: () => Date,
    /** A failed periodic write of a unit's usage count (retried on the next one). */
    private readonly onUsageFlushError: (error: unknown) => void = () => {},
  ) {}

  async start(): Promise<void> {
    for (const unit of await store.selectUnits(this.database.db)) this.units.set(unit.id, unit);
  }

  list(): BusinessUnit[] {
    return [...this.units.values()];
  }

  get(id: string): BusinessUnit | undefined {
    return this.units.get(id);
  }

  /** The unit of a tracker account number (`piAId`). */
  byTrackingId(trackingId: number): BusinessUnit | undefined {
    return this.list().find((u) => u.trackingId === trackingId);
  }

  /** Creates a unit (or returns the one with this name) and grants it to the given CRM users. */
  async ensure(options: {
    name: string;
    id?: string;
    allowMultiplePerEmail?: boolean;
    dailyApiLimit?: number;
    timeZone?: string;
    grants: UnitGrant[];
  }): Promise<BusinessUnit> {
    let unit = this.list().find((u) => u.name === options.name || u.id === options.id);
    if (!unit) {
      unit = {
        id: options.id ?? newBusinessUnitId(),
        name: options.name,
        active: true,
        allowMultiplePerEmail: options.allowMultiplePerEmail ?? false,
        dailyApiLimit: options.dailyApiLimit ?? 100_000,
        timeZone: options.timeZone ?? 'UTC',
        trackingId: await store.nextTrackingId(this.database.db),
        requireTrackingConsent: false,
        trackerDomains: [],
        createdAt: this.now().toISOString(),
      };
      await store.insertUnit(this.database.db, unit);
      this.units.set(unit.id, unit);
    }
    for (const grant of options.grants) await this.grant(unit.id, grant);
    return unit;
  }

  async grant(unitId: string, grant: UnitGrant): Promise<void> {
    if ((await this.userId(unitId, grant.crmUserId)) !== undefined) return;
    await store.insertUser(this.database.db, {
      unitId,
      crmUserId: grant.crmUserId,
      email: grant.email,
      firstName: grant.firstName ?? null,
      lastName: grant.lastName ?? null,
      role: grant.role ?? 'Administrator',
      createdAt: this.now().toISOString(),
    });
    this.access.delete(`${unitId}:${grant.crmUserId}`);
    this.administrators.delete(`${unitId}:${grant.crmUserId}`);
  }

  async updateSettings(unitId: string, settings: Partial<UnitSettings>): Promise<BusinessUnit> {
    const unit = this.units.get(unitId);
    if (!unit) throw new MarketingError(201);
    const next = { ...unit, ...settings };
    await store.updateUnitSettings(this.database.db, unitId, next);
    this.units.set(unitId, next);
    const counter = this.counters.get(unitId);
    if (counter && counter.max !== next.dailyApiLimit) {
      await counter.stop();
      this.counters.delete(unitId);
    }
    return next;
  }

  /** The marketing user id of a CRM user in a unit; undefined when not granted. */
  async userId(unitId: string, crmUserId: string): Promise<number | undefined> {
    const key = `${unitId}:${crmUserId}`;
    if (!this.access.has(key)) {
      this.access.set(key, (await store.selectUserId(this.database.db, unitId, crmUserId)) ?? null);
    }
    return this.access.get(key) ?? undefined;
  }

  /** Whether the CRM user is an administrator of this unit (another unit's admin is not). */
  async isAdministrator(crmUserId: string, unitId: string): Promise<boolean> {
    const key = `${unitId}:${crmUserId}`;
    let admin = this.administrators.get(key);
    if (admin === undefined) {
      admin = await store.isAdministrator(this.database.db, crmUserId, unitId);
      this.administrators.set(key, admin);
    }
    return admin;
  }

  /** Whether `userId` is an Account Engagement user of the unit (an assignee, say). */
  hasUser(unitId: string, userId: number): Promise<boolean> {
    return store.userExists(this.database.db, unitId, userId);
  }

  /** Counts one call against the unit's daily limit; false once it is spent (code 122). */
  async consume(unit: BusinessUnit): Promise<boolean> {
    let counter = this.counters.get(unit.id);
    if (!counter) {
      counter = new DailyCounter(
        store.unitUsageStore(this.database.db, unit.id),
        unit.dailyApiLimit,
        this.now,
        this.onUsageFlushError,
      );
      await counter.start();
      this.counters.set(unit.id, counter);
    }
    return counter.consume();
  }

  usage(unitId: string): { used: number; max: number } | undefined {
    return this.counters.get(unitId)?.snapshot();
  }

  /** Takes one of the unit's concurrent request slots; false when all five are taken (code 66). */
  enter(unitId: string): boolean {
    const current = this.inFlight.get(unitId) ?? 0;
    if (current >= MAX_CONCURRENT_REQUESTS) return false;
    this.inFlight.set(unitId, current + 1);
    return true;
  }

  leave(unitId: string): void {
    this.inFlight.set(unitId, Math.max(0, (this.inFlight.get(unitId) ?? 1) - 1));
  }

  async close(): Promise<void> {
    for (const counter of this.counters.values()) await counter.stop();
  }
}

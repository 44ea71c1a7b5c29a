import { callsToday } from '../store/metrics-store.js';
import type { SyncSetup } from '../sync-setup.js';

/** The smallest edition's daily calls (Growth): a unit is never assumed to allow more. */
export const DEFAULT_MARKETING_DAILY_LIMIT = 25_000;
/** The connector's share of the unit's calls by default: the rest is the unit's other clients'. */
export const DEFAULT_MARKETING_SHARE = 0.2;

/** The unit's limit and the connector's share, as configured or by default. */
export function marketingLimits(configured: { dailyLimit?: number; share?: number } | undefined): {
  dailyLimit: number;
  share: number;
} {
  return {
    dailyLimit: configured?.dailyLimit ?? DEFAULT_MARKETING_DAILY_LIMIT,
    share: configured?.share ?? DEFAULT_MARKETING_SHARE,
  };
}

/**
 * The connector's share of the business unit's daily API calls. Account Engagement says nothing
 * of a unit's usage until it answers 122, so the connector counts its own calls — in the store,
 * by every process — against its configured share of the unit's limit.
 */
export class MarketingBudget {
  constructor(private readonly setup: SyncSetup) {}

  /** The unit's limit and the connector's share, as configured. */
  get limits(): { dailyLimit: number; share: number } {
    return marketingLimits(this.setup.options.marketingApi);
  }

  /** Whether the connector's calls today have reached its share. */
  async spent(): Promise<boolean> {
    const { database, unitId, now } = this.setup.options;
    const { dailyLimit, share } = this.limits;
    return (await callsToday(database.db, unitId, 'marketing', now())) >= dailyLimit * share;
  }
}

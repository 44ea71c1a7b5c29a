import * as store from '../store/link-store.js';
import type { SyncSetup } from '../sync-setup.js';

/**
 * The connector's share of the org's daily API requests, read as the Salesforce client has it
 * (from each answer's Sforce-Limit-Info), and kept in the store for `handoff sync status`.
 */
export class CrmBudget {
  /** The usage last written to the store (`used/limit`). */
  private saved: string | null = null;

  constructor(private readonly setup: SyncSetup) {}

  /** Whether the org's API usage has reached the connector's share of the daily limit. */
  async spent(): Promise<boolean> {
    const { database, unitId, now, crmApiShare } = this.setup.options;
    const usage = await this.setup.salesforce.apiUsage();
    const share = crmApiShare ?? 0.8;
    // Kept for `handoff sync status` when it moved: not a store write every pass and batch.
    const seen = `${usage.used}/${usage.limit}`;
    if (seen !== this.saved) {
      await store.saveApiUsage(database.db, unitId, { ...usage, share, at: now().toISOString() });
      this.saved = seen;
    }
    return usage.used >= share * usage.limit;
  }
}

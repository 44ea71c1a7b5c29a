import { crmRequestsSent } from '../../clients/salesforce/crm-connection.js';
import { addMinuteMetrics, minuteOf } from '../store/metrics-store.js';
import type { VerifyOptions } from './verify-pairs.js';

/** Counts the calls made on each side from now: call the answer to read them. */
export function callsFrom(options: Pick<VerifyOptions, 'crm' | 'marketing'>): () => {
  crm: number;
  marketing: number;
} {
  const before = { crm: crmRequestsSent(options.crm), marketing: options.marketing.callsSent };
  return () => ({
    crm: crmRequestsSent(options.crm) - before.crm,
    marketing: options.marketing.callsSent - before.marketing,
  });
}

/**
 * A verify's or a preview's calls, added to the minute's metrics as a pass's are: they count
 * against the connector's share of each side's daily API limit, which every process reads.
 */
export async function countCalls(
  options: Pick<VerifyOptions, 'database' | 'unitId' | 'now'>,
  calls: { crm: number; marketing: number },
): Promise<void> {
  await addMinuteMetrics(options.database.db, options.unitId, {
    minute: minuteOf(options.now()),
    synced: 0,
    writesToCrm: 0,
    writesToMarketing: 0,
    crmCalls: calls.crm,
    marketingCalls: calls.marketing,
    errors: 0,
  });
}

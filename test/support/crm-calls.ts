import type jsforce from 'jsforce';
import type { PassResult } from '../../src/connector/sync-types.js';

/** Calls the org has counted today (the /limits read itself is not counted before it answers). */
export async function crmCallsUsed(conn: jsforce.Connection): Promise<number> {
  const limits = (await conn.limits()) as unknown as {
    DailyApiRequests: { Max: number; Remaining: number };
  };
  return limits.DailyApiRequests.Max - limits.DailyApiRequests.Remaining;
}

/** The CRM calls one connector pass makes, counted by the org, with the pass's result. */
export async function passCrmCalls<R extends PassResult>(
  conn: jsforce.Connection,
  connector: { runOnce(): Promise<R> },
): Promise<{ calls: number; result: R }> {
  const before = await crmCallsUsed(conn);
  const result = await connector.runOnce();
  // Less the /limits read after the pass.
  return { calls: (await crmCallsUsed(conn)) - before - 1, result };
}

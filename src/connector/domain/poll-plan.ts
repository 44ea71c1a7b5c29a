/**
 * How often each side is polled for changes. Polling costs API calls out of a daily allowance
 * shared with everything else the org runs, so it adapts:
 * - while changes flow, every pass polls (the pass interval, a second by default);
 * - each poll that finds nothing doubles the wait, up to the configured latency bound;
 * - idle polling never spends more than its share of the side's daily limit, however short
 *   the bound (the budget wins: a change then waits longer to cross);
 * - where the side tells the connector of its changes (the CRM's change events, the engine's
 *   webhooks), polling is only the safety net, now and then.
 */

export interface PollState {
  /** When the side was last polled (ms since the epoch); never: -Infinity. */
  lastPollAt: number;
  /** Polls in a row that found nothing. */
  quietPolls: number;
  /** API calls one poll of this side costs, as last measured on an idle pass. */
  callsPerPoll: number;
}

export interface PollSettings {
  /** The pass interval: how often a side is polled while changes flow. */
  fastMs: number;
  /** The longest an idle side waits between polls when nothing tells of changes. */
  boundMs: number;
  /** With change events or webhooks, how often the side is polled anyway. */
  safetyMs: number;
  /** The side's daily API limit. */
  dailyLimit: number;
  /** The share (0–1) of the daily limit that idle polling may spend at most. */
  idleShare: number;
}

export const NEVER_POLLED: PollState = {
  lastPollAt: Number.NEGATIVE_INFINITY,
  quietPolls: 0,
  callsPerPoll: 1,
};

const DAY_MS = 86_400_000;

/** The shortest wait between idle polls that keeps a day of them within the idle share. */
export function budgetFloorMs(state: PollState, settings: PollSettings): number {
  const pollsPerDay = (settings.dailyLimit * settings.idleShare) / Math.max(1, state.callsPerPoll);
  return Math.ceil(DAY_MS / Math.max(1, pollsPerDay));
}

/** How long after its last poll the side is polled again. */
export function pollIntervalMs(state: PollState, settings: PollSettings, pushed: boolean): number {
  const floor = budgetFloorMs(state, settings);
  // Events carry the side's changes, flowing or not: a poll would only find them again.
  if (pushed) return Math.max(settings.safetyMs, floor);
  if (state.quietPolls === 0) return settings.fastMs;
  // 2^30 is far past any bound; the exponent is capped so the number stays finite.
  const backoff = settings.fastMs * 2 ** Math.min(state.quietPolls, 30);
  // The first quiet polls after a burst cost little; the floor holds once the wait has grown
  // to the bound, for the long idle stretches that make up a day.
  if (backoff < Math.min(settings.boundMs, floor)) return backoff;
  return Math.max(Math.min(backoff, settings.boundMs), floor);
}

/** Whether the side is due for a poll at `at`. */
export function pollDue(state: PollState, settings: PollSettings, pushed: boolean, at: number): boolean {
  return at - state.lastPollAt >= pollIntervalMs(state, settings, pushed);
}

/**
 * The state after a poll at `at` that found `changes` records, costing `calls` (if measured).
 * A poll's cost is the most any idle poll has cost: one that took an extra page or a token
 * refresh is not undercounted by the next cheaper one, so the budget floor errs long.
 */
export function afterPoll(
  state: PollState,
  poll: { at: number; changes: number; calls?: number },
): PollState {
  const measured = poll.calls !== undefined && poll.calls > 0;
  return {
    lastPollAt: poll.at,
    quietPolls: poll.changes > 0 ? 0 : state.quietPolls + 1,
    callsPerPoll: measured
      ? Math.max(poll.calls!, state === NEVER_POLLED ? 0 : state.callsPerPoll)
      : state.callsPerPoll,
  };
}

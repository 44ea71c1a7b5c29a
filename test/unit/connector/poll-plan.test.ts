import { describe, expect, it } from 'vitest';
import {
  afterPoll,
  budgetFloorMs,
  NEVER_POLLED,
  pollDue,
  pollIntervalMs,
  type PollSettings,
} from '../../../src/connector/domain/poll-plan.js';

const settings: PollSettings = {
  fastMs: 1_000,
  boundMs: 60_000,
  safetyMs: 300_000,
  dailyLimit: 100_000,
  idleShare: 0.05,
};

describe('how often a side is polled', () => {
  it('polls at once the first time, and every pass while changes flow', () => {
    expect(pollDue(NEVER_POLLED, settings, false, 0)).toBe(true);
    const busy = afterPoll(NEVER_POLLED, { at: 0, changes: 3 });
    expect(pollIntervalMs(busy, settings, false)).toBe(1_000);
    expect(pollDue(busy, settings, false, 999)).toBe(false);
    expect(pollDue(busy, settings, false, 1_000)).toBe(true);
  });

  it('doubles the wait with each quiet poll, up to the latency bound', () => {
    let state = afterPoll(NEVER_POLLED, { at: 0, changes: 1, calls: 2 });
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      state = afterPoll(state, { at: 0, changes: 0 });
      waits.push(pollIntervalMs(state, settings, false));
    }
    // (Two calls a poll: 5 % of 100,000 a day allows one every 34.6 s, below the bound.)
    expect(waits).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    // A change found: fast again.
    expect(pollIntervalMs(afterPoll(state, { at: 0, changes: 1 }), settings, false)).toBe(1_000);
  });

  it('never lets idle polling spend more than its share of the daily limit, whatever the bound', () => {
    // Growth: 25,000 calls a day; 5 % is 1,250; a poll of three calls fits 416 times a day.
    const growth = { ...settings, dailyLimit: 25_000 };
    const idle = { lastPollAt: 0, quietPolls: 20, callsPerPoll: 3 };
    expect(budgetFloorMs(idle, growth)).toBe(Math.ceil(86_400_000 / (1_250 / 3)));
    const interval = pollIntervalMs(idle, growth, false);
    expect(interval).toBeGreaterThan(growth.boundMs);
    expect((86_400_000 / interval) * idle.callsPerPoll).toBeLessThanOrEqual(25_000 * 0.05);
    // Advanced (100,000 a day): the bound is within budget and stands.
    expect(pollIntervalMs(idle, settings, false)).toBe(60_000);
  });

  it('polls a side that tells of its changes only as a safety net', () => {
    const quiet = { lastPollAt: 0, quietPolls: 1, callsPerPoll: 3 };
    expect(pollIntervalMs(quiet, settings, true)).toBe(300_000);
    // While changes flow too: the events carry them.
    expect(pollIntervalMs({ ...quiet, quietPolls: 0 }, settings, true)).toBe(300_000);
    expect(pollDue(NEVER_POLLED, settings, true, 0)).toBe(true);
    expect(pollDue(quiet, settings, true, 299_999)).toBe(false);
    expect(pollDue(quiet, settings, true, 300_000)).toBe(true);
  });

  it('keeps the dearest measured cost of a poll: a cheaper one later does not lower it', () => {
    const measured = afterPoll(NEVER_POLLED, { at: 5, changes: 0, calls: 3 });
    expect(measured).toEqual({ lastPollAt: 5, quietPolls: 1, callsPerPoll: 3 });
    expect(afterPoll(measured, { at: 9, changes: 0 }).callsPerPoll).toBe(3);
    const dearer = afterPoll(measured, { at: 10, changes: 0, calls: 5 });
    expect(dearer.callsPerPoll).toBe(5);
    expect(afterPoll(dearer, { at: 11, changes: 0, calls: 4 }).callsPerPoll).toBe(5);
  });
});

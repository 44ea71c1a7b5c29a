import {
  afterPoll,
  NEVER_POLLED,
  pollDue,
  pollIntervalMs,
  type PollSettings,
  type PollState,
} from './domain/poll-plan.js';
import type { PassResult } from './sync-types.js';

type Side = 'crm' | 'marketing';

export interface PassSchedulerOptions {
  /** How soon after a change event or webhook a pass runs: changes inside it go out together. */
  coalesceMs: number;
  /** Each side's polling settings (the pass interval, the latency bound, the safety net, the budget). */
  settings: (side: Side, intervalMs: number) => PollSettings;
  /** Whether a side tells of its own changes now (change events subscribed, webhooks taken). */
  pushed: (side: Side) => boolean;
  now: () => Date;
  /** One pass, polling the sides asked for; its result says what it found and what it cost. */
  pass: (poll: Record<Side, boolean>) => Promise<PassResult>;
}

/**
 * When passes run, and which side each polls (domain/poll-plan.ts decides how often). A pass
 * runs every interval to work the queue (retries come due); a side is polled only when its
 * plan says so. A change event or webhook (`kick`) brings a pass forward, within the coalescing
 * window; a webhook also polls marketing then, for the activities no webhook announces.
 */
export class PassScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private passing = false;
  /** Something was queued during a pass: another follows at once. */
  private again = false;
  /** A pass is due within the coalescing window. */
  private soon = false;
  private started = false;
  private stopped = false;
  private intervalMs = 1_000;
  /** Sides to poll at the next pass whatever their plan says (a webhook, a fresh subscription). */
  private readonly forced = new Set<Side>();
  private readonly polls: Record<Side, PollState> = { crm: NEVER_POLLED, marketing: NEVER_POLLED };

  constructor(private readonly options: PassSchedulerOptions) {}

  /** Starts after `first` (the first-start backfill) has run. */
  start(intervalMs: number, first: () => Promise<void>): void {
    this.intervalMs = intervalMs;
    this.started = true;
    this.passing = true;
    this.running = first().finally(() => {
      this.passing = false;
      if (!this.stopped) this.tick();
    });
  }

  /**
   * A pass soon (after the coalescing window; at once for a hand-off, which sales is waiting
   * for); `poll` also polls that side then. A running pass's drain takes what is due as it goes.
   */
  kick(poll?: Side, options: { handoff?: boolean } = {}): void {
    // Not started (a console beside a sync elsewhere): the running sync works what was queued.
    if (!this.started || this.stopped) return;
    if (poll) this.forced.add(poll);
    if (this.passing) this.again = true;
    else if (!this.soon || options.handoff) {
      this.soon = true;
      this.schedule(options.handoff ? 0 : this.options.coalesceMs);
    }
  }

  /**
   * News from a side that needs no pass of its own: the next pass polls it (a prospect's
   * webhook, whose activities — opens, clicks, visits — no webhook announces).
   */
  notice(side: Side): void {
    this.forced.add(side);
  }

  /** Each side's polling now: how long it waits between polls, and how many found nothing. */
  state(): Record<
    Side,
    { intervalMs: number; quietPolls: number; callsPerPoll: number; lastPollAt: string | null }
  > {
    const view = (side: Side) => ({
      intervalMs: pollIntervalMs(
        this.polls[side],
        this.options.settings(side, this.intervalMs),
        this.options.pushed(side),
      ),
      quietPolls: this.polls[side].quietPolls,
      callsPerPoll: this.polls[side].callsPerPoll,
      lastPollAt: Number.isFinite(this.polls[side].lastPollAt)
        ? new Date(this.polls[side].lastPollAt).toISOString()
        : null,
    });
    return { crm: view('crm'), marketing: view('marketing') };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.soon = false;
    this.passing = true;
    const at = this.options.now().getTime();
    const poll = {} as Record<Side, boolean>;
    for (const side of ['crm', 'marketing'] as const) {
      poll[side] =
        this.forced.has(side) ||
        pollDue(
          this.polls[side],
          this.options.settings(side, this.intervalMs),
          this.options.pushed(side),
          at,
        );
    }
    this.forced.clear();
    this.running = this.options
      .pass(poll)
      .then((result) => {
        if (result.throttled || result.paused) return;
        // An idle pass measures what a poll costs (nothing else called the APIs).
        const idle = result.worked === 0 && result.queued === 0;
        if (poll.crm)
          this.polls.crm = afterPoll(this.polls.crm, {
            at,
            changes: result.crmChanges,
            calls: idle ? result.calls?.crm : undefined,
          });
        if (poll.marketing)
          this.polls.marketing = afterPoll(this.polls.marketing, {
            at,
            changes: result.marketingChanges,
            calls: idle ? result.calls?.marketing : undefined,
          });
      })
      .catch(() => undefined) // the pass logs its own failures
      .finally(() => {
        this.passing = false;
        if (this.again) {
          this.again = false;
          this.soon = true;
          this.schedule(0);
        } else this.schedule(this.intervalMs);
      });
  }
}

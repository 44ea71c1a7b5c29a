import { pino, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The process logger. Level from HANDOFF_LOG_LEVEL (`--log-level`; default info; tests set
 * silent). In a terminal the lines are readable (pino-pretty); piped to a file or a collector
 * they are JSON, one object a line. HANDOFF_LOG_FORMAT=json or pretty overrides the guess.
 */
export function createLogger(name = 'handoff', level = process.env.HANDOFF_LOG_LEVEL ?? 'info'): Logger {
  const format = process.env.HANDOFF_LOG_FORMAT || (process.stdout.isTTY ? 'pretty' : 'json');
  if (format !== 'pretty') return pino({ name, level });
  return pino(
    { name, level },
    pretty({ colorize: true, sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }),
  );
}

/**
 * A failure that repeats (every pass, every retry) logged once per interval with a count, not
 * once per occurrence: the first is logged at once; repeats within `intervalMs` are counted, and
 * the next one after it is logged with `repeated: n`.
 */
export class RepeatedLog {
  private readonly seen = new Map<string, { loggedAt: number; repeated: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  write(level: Level, key: string, fields: Record<string, unknown>, message: string): void {
    const at = this.now();
    const entry = this.seen.get(key);
    if (entry && at - entry.loggedAt < this.intervalMs) {
      entry.repeated += 1;
      return;
    }
    const repeated = entry?.repeated ?? 0;
    // Bounded: keys are failures (a record, a side), not requests, but a flood must not grow it.
    if (this.seen.size > 10_000) this.seen.clear();
    this.seen.set(key, { loggedAt: at, repeated: 0 });
    this.log[level](
      repeated > 0 ? { ...fields, repeated, withinMs: this.intervalMs } : fields,
      repeated > 0 ? `${message} (and ${repeated} more times since last logged)` : message,
    );
  }
}

export type { Logger };

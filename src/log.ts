import { pino, type Logger } from 'pino';

/** The process logger. Level from HANDOFF_LOG_LEVEL (default info; tests set silent). */
export function createLogger(name = 'handoff', level = process.env.HANDOFF_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level });
}

export type { Logger };

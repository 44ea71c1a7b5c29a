import { HandoffError } from '../../../errors/handoff-error.js';

/** A half-open range [start, end) of UTC days, as Date values at 00:00Z. */
export interface DayRange {
  start: Date;
  end: Date;
}

const DAY_MS = 86_400_000;

function day(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

function addDays(d: Date, n: number): Date {
  return new Date(d.getTime() + n * DAY_MS);
}

function addMonths(d: Date, n: number): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
}

function startOfWeek(d: Date): Date {
  // Salesforce weeks start on Sunday in the default (en_US) locale.
  return addDays(day(d), -d.getUTCDay());
}

function startOfMonth(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

function startOfQuarter(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), Math.floor(d.getUTCMonth() / 3) * 3, 1));
}

function startOfYear(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
}

/**
 * The days a SOQL date literal covers, in the org's time zone (UTC for the embedded org).
 * `n` is the number after the colon for the `_N_` literals.
 */
export function dateLiteralRange(literal: string, now: Date, n?: number): DayRange {
  const today = day(now);
  const name = literal.toUpperCase().split(':')[0] ?? '';
  const count = n ?? Number(literal.split(':')[1]);
  const needN = (): number => {
    if (!Number.isInteger(count) || count < 0) {
      throw new HandoffError('MALFORMED_QUERY', `invalid date literal: ${literal}`);
    }
    return count;
  };
  const week = startOfWeek(now);
  const month = startOfMonth(now);
  const quarter = startOfQuarter(now);
  const year = startOfYear(now);
  switch (name) {
    case 'YESTERDAY':
      return { start: addDays(today, -1), end: today };
    case 'TODAY':
      return { start: today, end: addDays(today, 1) };
    case 'TOMORROW':
      return { start: addDays(today, 1), end: addDays(today, 2) };
    case 'LAST_WEEK':
      return { start: addDays(week, -7), end: week };
    case 'THIS_WEEK':
      return { start: week, end: addDays(week, 7) };
    case 'NEXT_WEEK':
      return { start: addDays(week, 7), end: addDays(week, 14) };
    case 'LAST_MONTH':
      return { start: addMonths(month, -1), end: month };
    case 'THIS_MONTH':
      return { start: month, end: addMonths(month, 1) };
    case 'NEXT_MONTH':
      return { start: addMonths(month, 1), end: addMonths(month, 2) };
    case 'LAST_90_DAYS':
      return { start: addDays(today, -90), end: addDays(today, 1) };
    case 'NEXT_90_DAYS':
      return { start: addDays(today, 1), end: addDays(today, 91) };
    case 'LAST_QUARTER':
      return { start: addMonths(quarter, -3), end: quarter };
    case 'THIS_QUARTER':
      return { start: quarter, end: addMonths(quarter, 3) };
    case 'NEXT_QUARTER':
      return { start: addMonths(quarter, 3), end: addMonths(quarter, 6) };
    case 'LAST_YEAR':
      return { start: addMonths(year, -12), end: year };
    case 'THIS_YEAR':
      return { start: year, end: addMonths(year, 12) };
    case 'NEXT_YEAR':
      return { start: addMonths(year, 12), end: addMonths(year, 24) };
    case 'LAST_N_DAYS':
      return { start: addDays(today, -needN()), end: addDays(today, 1) };
    case 'NEXT_N_DAYS':
      return { start: addDays(today, 1), end: addDays(today, 1 + needN()) };
    case 'N_DAYS_AGO':
      return { start: addDays(today, -needN()), end: addDays(today, -needN() + 1) };
    case 'LAST_N_WEEKS':
      return { start: addDays(week, -7 * needN()), end: week };
    case 'NEXT_N_WEEKS':
      return { start: addDays(week, 7), end: addDays(week, 7 + 7 * needN()) };
    case 'N_WEEKS_AGO':
      return { start: addDays(week, -7 * needN()), end: addDays(week, -7 * needN() + 7) };
    case 'LAST_N_MONTHS':
      return { start: addMonths(month, -needN()), end: month };
    case 'NEXT_N_MONTHS':
      return { start: addMonths(month, 1), end: addMonths(month, 1 + needN()) };
    case 'N_MONTHS_AGO':
      return { start: addMonths(month, -needN()), end: addMonths(month, -needN() + 1) };
    case 'LAST_N_QUARTERS':
      return { start: addMonths(quarter, -3 * needN()), end: quarter };
    case 'NEXT_N_QUARTERS':
      return { start: addMonths(quarter, 3), end: addMonths(quarter, 3 + 3 * needN()) };
    case 'LAST_N_YEARS':
      return { start: addMonths(year, -12 * needN()), end: year };
    case 'NEXT_N_YEARS':
      return { start: addMonths(year, 12), end: addMonths(year, 12 + 12 * needN()) };
    case 'N_YEARS_AGO':
      return { start: addMonths(year, -12 * needN()), end: addMonths(year, -12 * needN() + 12) };
    default:
      throw new HandoffError('MALFORMED_QUERY', `unsupported date literal: ${literal}`);
  }
}

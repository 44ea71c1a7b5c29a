import { MarketingError } from './marketing-error.js';

/**
 * Each business unit has a time zone, and Account Engagement shows and reads datetimes in it:
 * v5 writes `2026-11-22T05:20:30-05:00`, v3/v4 write `2026-11-22 05:20:30` (the unit's wall
 * clock, no offset). The store keeps UTC ISO strings; these functions convert at the wire.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** A zone's offset per UTC hour: offsets change on hour boundaries in every zone we meet. */
const offsetCache = new Map<string, Map<number, number>>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the runtime knows this IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC, in minutes, at instant `epochMs`. */
export function zoneOffsetMinutes(timeZone: string, epochMs: number): number {
  if (timeZone === 'UTC') return 0;
  let byHour = offsetCache.get(timeZone);
  if (!byHour) offsetCache.set(timeZone, (byHour = new Map()));
  // Quarter-hour zones (Nepal) still only change offset on whole UTC hours.
  const hour = Math.floor(epochMs / HOUR);
  const cached = byHour.get(hour);
  if (cached !== undefined) return cached;
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(hour * HOUR))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offset = Math.round((wall - hour * HOUR) / MINUTE);
  if (byHour.size > 10_000) byHour.clear();
  byHour.set(hour, offset);
  return offset;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** The unit's wall clock at a stored UTC instant, as `YYYY-MM-DDTHH:mm:ss`, and the offset used. */
function wallClock(utcIso: string, timeZone: string): { wall: string; offset: number } {
  if (timeZone === 'UTC') return { wall: utcIso.slice(0, 19), offset: 0 };
  const epoch = Date.parse(utcIso);
  const offset = zoneOffsetMinutes(timeZone, epoch);
  return { wall: new Date(epoch + offset * MINUTE).toISOString().slice(0, 19), offset };
}

/** v5: `2026-11-22T05:20:30-05:00`. */
export function v5Datetime(utcIso: string, timeZone: string): string {
  const { wall, offset } = wallClock(utcIso, timeZone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${wall}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** v3/v4: `2026-11-22 05:20:30` on the unit's wall clock. */
export function legacyDatetime(utcIso: string, timeZone: string): string {
  const { wall } = wallClock(utcIso, timeZone);
  return `${wall.slice(0, 10)} ${wall.slice(11)}`;
}

const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;
const WALL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/**
 * A datetime a caller sent → a UTC ISO string, or null if it is not a datetime. With an
 * offset or `Z` it is an instant; without, it is the unit's wall clock (as Account Engagement
 * reads `2026-11-22 05:20:30` and `2026-11-22`).
 */
export function parseUnitDatetime(raw: string, timeZone: string): string | null {
  const text = raw.trim();
  if (HAS_ZONE.test(text)) {
    const epoch = Date.parse(text);
    return Number.isNaN(epoch) ? null : new Date(epoch).toISOString();
  }
  const m = WALL.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', ms = '0'] = m;
  const wall = Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, +ms.padEnd(3, '0'));
  const check = new Date(wall);
  if (check.getUTCMonth() !== +mo! - 1 || check.getUTCDate() !== +d! || +h > 23 || +mi > 59 || +s > 59) {
    return null;
  }
  // The offset at the wall time read as UTC is right except within a DST change; a second
  // pass with the offset found settles it.
  let epoch = wall - zoneOffsetMinutes(timeZone, wall) * MINUTE;
  epoch = wall - zoneOffsetMinutes(timeZone, epoch) * MINUTE;
  return new Date(epoch).toISOString();
}

/** A datetime query parameter → UTC ISO, or the service's "invalid parameter" error (code 5). */
export function queryDatetime(name: string, raw: string, timeZone: string): string {
  const at = parseUnitDatetime(raw, timeZone);
  if (at === null) throw new MarketingError(5, `Invalid value for ${name}: ${raw}`);
  return at;
}

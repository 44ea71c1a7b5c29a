import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import { formatDatetime, parseDatetimeValue } from '../domain/field-values.js';
import type { CrmServices } from '../crm-services.js';

const MAX_IDS = 600_000;
const DAY_MS = 86_400_000;
const windowQuery = z.object({ start: z.string().optional(), end: z.string().optional() });

/** Seconds are ignored: windows are whole minutes, as in Salesforce's replication API. */
function floorToMinute(iso: string): string {
  const t = Date.parse(iso);
  return new Date(t - (t % 60_000)).toISOString();
}

function parseWindow(query: unknown, now: Date, maxDaysBack: number): { start: string; end: string } {
  const { start, end } = windowQuery.parse(query);
  const startIso = start ? parseDatetimeValue(start) : null;
  const endIso = end ? parseDatetimeValue(end) : null;
  if (!startIso || !endIso) {
    throw new HandoffError('INVALID_INPUT', 'start and end are required, as ISO-8601 date-times');
  }
  const s = floorToMinute(startIso);
  const e = floorToMinute(endIso);
  if (Date.parse(s) < now.getTime() - maxDaysBack * DAY_MS) {
    throw new HandoffError(
      'INVALID_REPLICATION_DATE',
      `startDate cannot be more than ${maxDaysBack} days ago`,
    );
  }
  if (Date.parse(e) <= Date.parse(s)) {
    throw new HandoffError(
      'INVALID_REPLICATION_DATE',
      'startDate must chronologically precede endDate by more than one minute',
    );
  }
  return { start: s, end: e };
}

/** The latest moment whose changes are all reported: the window's end, but never past now. */
function latestCovered(end: string, now: Date): string {
  const nowFloor = floorToMinute(now.toISOString());
  return formatDatetime(end < nowFloor ? end : nowFloor);
}

/** `/sobjects/{T}/updated` and `/deleted`: the replication API the connector's polling relies on. */
export function changeWindowRoutes(app: FastifyInstance, services: CrmServices): void {
  const now = () => services.now();

  app.get('/sobjects/:type/updated', async (request) => {
    const { type } = z.object({ type: z.string() }).parse(request.params);
    services.records.objectDef(type);
    const window = parseWindow(request.query, now(), 30);
    const ids = await services.records.updatedIds(type, window.start, window.end, MAX_IDS + 1);
    if (ids.length > MAX_IDS) throw new HandoffError('EXCEEDED_ID_LIMIT', 'ID limit exceeded');
    return { ids, latestDateCovered: latestCovered(window.end, now()) };
  });

  app.get('/sobjects/:type/deleted', async (request) => {
    const { type } = z.object({ type: z.string() }).parse(request.params);
    services.records.objectDef(type);
    const window = parseWindow(request.query, now(), 15);
    const { deleted, earliest } = await services.records.deletedRecords(
      type,
      window.start,
      window.end,
      MAX_IDS + 1,
    );
    if (deleted.length > MAX_IDS) throw new HandoffError('EXCEEDED_ID_LIMIT', 'ID limit exceeded');
    const retentionStart = new Date(now().getTime() - 15 * DAY_MS).toISOString();
    return {
      deletedRecords: deleted.map((d) => ({ id: d.id, deletedDate: formatDatetime(d.deletedDate) })),
      earliestDateAvailable: formatDatetime(
        earliest && earliest > retentionStart ? earliest : floorToMinute(retentionStart),
      ),
      latestDateCovered: latestCovered(window.end, now()),
    };
  });
}

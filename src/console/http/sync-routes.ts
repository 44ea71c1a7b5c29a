import type { FastifyInstance } from 'fastify';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { syncSettingsSchema } from '../../connector/connector-config.js';
import { DIFFERENCE_CLASSES } from '../../connector/domain/pair-difference.js';
import type { ConsoleBackend } from '../console-backend.js';
import { parseOr400, sendError } from './console-error.js';

const metricsQuery = z.object({ minutes: z.coerce.number().int().min(1).max(1440).default(60) });
const runParams = z.object({ id: z.coerce.number().int().min(1) });
const verifyBody = z
  .object({
    repair: z
      .union([
        z.literal(true),
        z
          .object({ class: z.enum(DIFFERENCE_CLASSES).optional(), field: z.string().max(200).optional() })
          .strict(),
      ])
      .optional(),
  })
  .strict();
const idsBody = z.object({ ids: z.union([z.array(z.number().int()).min(1), z.literal('all')]) }).strict();

/** The open and retrying errors the list shows (the newest first past this many). */
const ERROR_PAGE = 1_000;

/**
 * The sync: its overview (status and per-minute metrics), its settings (mappings and rules),
 * its error list (retry, skip, CSV) and the long work an admin starts (backfill, bulk retry).
 */
export function syncRoutes(app: FastifyInstance, backend: ConsoleBackend): void {
  const { connector, jobs } = backend;

  app.get('/overview', async () => connector.status());

  app.get('/metrics', async (request, reply) => {
    const query = parseOr400(reply, metricsQuery, request.query);
    if (!query) return reply;
    return { minutes: await connector.metrics(query.minutes) };
  });

  app.get('/settings', async () => ({
    settings: connector.settings(),
    fields: await connector.fieldCatalog(),
  }));

  // What saving would write, computed from both sides without writing: shown beside Save.
  app.post('/settings/preview', async (request, reply) => {
    const settings = parseOr400(reply, syncSettingsSchema, request.body);
    if (!settings) return reply;
    const { keys: _keys, ...preview } = await connector.previewSettings(settings);
    if (preview.problems.length > 0) {
      return reply.code(400).send({
        error: {
          code: 'INVALID_MAPPING',
          message: preview.problems.map((p) => p.message).join('; '),
          issues: preview.problems,
        },
      });
    }
    return { preview };
  });

  app.put('/settings', async (request, reply) => {
    const settings = parseOr400(reply, syncSettingsSchema, request.body);
    if (!settings) return reply;
    const problems = await connector.saveSettings(settings);
    if (problems.length > 0) {
      return reply.code(400).send({
        error: {
          code: 'INVALID_MAPPING',
          message: problems.map((p) => p.message).join('; '),
          issues: problems,
        },
      });
    }
    connector.kick();
    return { settings: connector.settings() };
  });

  app.get('/errors', async () => ({
    errors: await connector.errors(['open', 'retry'], ERROR_PAGE),
  }));

  app.get('/errors.csv', async (_request, reply) => {
    const errors = await connector.errors(['open', 'retry']);
    const csv = stringify(
      errors.map((e) => [
        e.id,
        e.category,
        e.side,
        e.crmObject,
        e.crmId ?? '',
        e.prospectId ?? '',
        e.fields.join(' '),
        e.code ?? '',
        e.message,
        e.person.name ?? '',
        e.person.email ?? '',
        JSON.stringify(e.values),
        e.tries,
        e.state,
        e.createdAt,
      ]),
      {
        header: true,
        columns: [
          'id',
          'category',
          'side',
          'object',
          'crmId',
          'prospectId',
          'fields',
          'code',
          'message',
          'name',
          'email',
          'refusedValues',
          'tries',
          'state',
          'createdAt',
        ],
      },
    );
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="sync-errors.csv"')
      .send(csv);
  });

  app.post('/errors/retry', async (request, reply) => {
    const body = parseOr400(reply, idsBody, request.body);
    if (!body) return reply;
    if (body.ids !== 'all') {
      const marked = await connector.retry(body.ids);
      connector.kick();
      return { marked };
    }
    // Retrying everything is long work: marked now, then watched until the sync has tried them.
    const job = jobs.start('retry', async (progress) => {
      const marked = await connector.retry('all');
      connector.kick();
      for (;;) {
        const waiting = (await connector.errors(['retry'])).length;
        progress(marked - waiting, marked);
        if (waiting === 0) return `${marked} errors retried`;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
    return reply.code(202).send({ job });
  });

  app.post('/errors/skip', async (request, reply) => {
    const body = parseOr400(reply, idsBody, request.body);
    if (!body) return reply;
    return { skipped: await connector.skip(body.ids) };
  });

  app.post('/backfill', async (_request, reply) => {
    const job = jobs.start('backfill', async (progress) => {
      const totals = new Map<string, { done: number; total: number }>();
      const result = await connector.backfill({
        onProgress: (p) => {
          totals.set(p.object, { done: p.done, total: p.total });
          const all = [...totals.values()];
          progress(
            all.reduce((n, t) => n + t.done, 0),
            all.reduce((n, t) => n + t.total, 0),
          );
        },
      });
      return `${result.linked} linked, ${result.skipped} skipped`;
    });
    return reply.code(202).send({ job });
  });

  app.get('/verify/runs', async () => ({ runs: await connector.verifyRuns() }));

  app.get('/verify/runs/:id', async (request, reply) => {
    const params = parseOr400(reply, runParams, request.params);
    if (!params) return reply;
    const run = await connector.verifyRun(params.id);
    return run ? { run } : sendError(reply, 404, 'NOT_FOUND', 'No such verify run');
  });

  // A verify (and a repair of all it finds, one class or one field) is long work: a job.
  app.post('/verify', async (request, reply) => {
    const body = parseOr400(reply, verifyBody, request.body ?? {});
    if (!body) return reply;
    const job = jobs.start(body.repair ? 'verify-repair' : 'verify', async (progress) => {
      const result = await connector.verify({ repair: body.repair ?? false });
      progress(result.pairs, result.pairs);
      const counts = `${result.pairs} pairs, ${result.differences.length} differences`;
      return result.repair
        ? `${counts}; ${result.repair.queued} queued for the sync, ${result.repair.unlinked} unlinked`
        : counts;
    });
    return reply.code(202).send({ job });
  });

  app.post('/sync-now', async () => {
    connector.kick();
    return { kicked: true };
  });

  app.post('/pause', async (request, reply) => {
    const body = parseOr400(reply, z.object({ paused: z.boolean() }).strict(), request.body);
    if (!body) return reply;
    await connector.pause(body.paused);
    if (!body.paused) connector.kick();
    return { paused: body.paused };
  });

  app.get('/jobs', async () => ({ jobs: jobs.list() }));

  app.get('/jobs/:id', async (request, reply) => {
    const job = jobs.get((request.params as { id: string }).id);
    return job ? { job } : sendError(reply, 404, 'NOT_FOUND', 'No such job');
  });
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CrmServices } from '../crm-services.js';
import { restError } from './wire.js';

const MAX_SUBREQUESTS = 25;
export const INTERNAL_SECRET_HEADER = 'x-handoff-internal';
export const INTERNAL_USER_HEADER = 'x-handoff-user';

const compositeBody = z.object({
  allOrNone: z.boolean().optional().default(false),
  collateSubrequests: z.boolean().optional(),
  compositeRequest: z
    .array(
      z.object({
        method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']),
        url: z.string(),
        referenceId: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
        body: z.unknown().optional(),
        httpHeaders: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1),
});

interface SubResponse {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
}

class RollBack extends Error {}

/** Composite and batch both take at most 25 subrequests. */
function checkSubrequestCount(count: number): void {
  if (count > MAX_SUBREQUESTS)
    throw new HandoffError(
      'EXCEEDED_ID_LIMIT',
      `Maximum number of subrequests allowed is ${MAX_SUBREQUESTS}.`,
    );
}

const batchBody = z.object({
  batchRequests: z
    .array(
      z.object({
        method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']),
        url: z.string().min(1),
        richInput: z.unknown().optional(),
      }),
    )
    .min(1),
  haltOnError: z.boolean().optional().default(false),
});

/**
 * One subrequest of a composite call, through the same routes (and checks) as a direct call,
 * as the composite's caller: the answer's status, body and Location.
 */
async function subrequest(
  app: FastifyInstance,
  services: CrmServices,
  request: FastifyRequest,
  sub: { method: string; path: string; body: unknown; headers?: Record<string, string> },
): Promise<{ status: number; body: unknown; location?: string }> {
  const injected = await app.inject({
    method: sub.method as 'GET',
    url: sub.path,
    headers: {
      ...(sub.headers ?? {}),
      ...(sub.body === undefined ? {} : { 'content-type': 'application/json' }),
      [INTERNAL_SECRET_HEADER]: services.internalSecret,
      [INTERNAL_USER_HEADER]: request.crm.userId,
      ...(request.crm.autoAssign === false ? { 'sforce-auto-assign': 'FALSE' } : {}),
      // Subrequests write with the composite caller's client id, for their change events.
      ...(request.headers['sforce-call-options']
        ? { 'sforce-call-options': String(request.headers['sforce-call-options']) }
        : {}),
    },
    ...(sub.body === undefined ? {} : { payload: JSON.stringify(sub.body) }),
  });
  return {
    status: injected.statusCode,
    body: injected.body === '' ? null : (JSON.parse(injected.body) as unknown),
    location: injected.headers.location ? String(injected.headers.location) : undefined,
  };
}

/** Follows `records[0].Id`-style paths into an earlier result. */
function lookup(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    current = (current as Record<string, unknown> | undefined)?.[m[1] ?? ''];
    for (const index of (m[2] ?? '').match(/\d+/g) ?? []) {
      current = Array.isArray(current) ? current[Number(index)] : undefined;
    }
  }
  return current;
}

/** Replaces `@{ref.path}` with values from earlier subrequests, in URLs and anywhere in bodies. */
function resolveReferences(value: unknown, results: Map<string, unknown>): unknown {
  if (typeof value === 'string') {
    return value.replace(/@\{([A-Za-z][A-Za-z0-9_]*)\.([^}]+)\}/g, (_m, ref: string, path: string) => {
      if (!results.has(ref)) {
        throw new HandoffError(
          'INVALID_INPUT',
          `Invalid reference specified. No value for ${ref}.${path} found in ${ref}.`,
        );
      }
      const found = lookup(results.get(ref), path);
      if (found === undefined || found === null) {
        throw new HandoffError(
          'INVALID_INPUT',
          `Invalid reference specified. No value for ${ref}.${path} found in ${ref}.`,
        );
      }
      return String(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, results));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, results)]));
  }
  return value;
}

/**
 * `/composite`: up to 25 subrequests in order, later ones referring to earlier results. Each runs
 * through the same routes as a direct call; with allOrNone they share one transaction.
 */
export function compositeRoutes(app: FastifyInstance, services: CrmServices): void {
  app.post('/composite', async (request) => {
    const parsed = compositeBody.safeParse(request.body);
    if (!parsed.success) throw new HandoffError('JSON_PARSER_ERROR', 'Expected {"compositeRequest":[…]}');
    const { allOrNone, compositeRequest } = parsed.data;
    checkSubrequestCount(compositeRequest.length);
    const results = new Map<string, unknown>();
    const responses: SubResponse[] = [];

    const runAll = async (): Promise<void> => {
      for (const sub of compositeRequest) {
        let response: SubResponse;
        try {
          const url = resolveReferences(sub.url, results) as string;
          const path = url.startsWith('/services/data/') ? url : null;
          if (!path)
            throw new HandoffError('INVALID_INPUT', `The URL must begin with /services/data/: ${url}`);
          const body = sub.body === undefined ? undefined : resolveReferences(sub.body, results);
          const answer = await subrequest(app, services, request, {
            method: sub.method,
            path,
            body,
            headers: sub.httpHeaders,
          });
          response = {
            body: answer.body,
            httpHeaders: answer.location ? { Location: answer.location } : {},
            httpStatusCode: answer.status,
            referenceId: sub.referenceId,
          };
        } catch (error) {
          if (!(error instanceof HandoffError)) throw error;
          response = {
            body: restError(error),
            httpHeaders: {},
            httpStatusCode: 400,
            referenceId: sub.referenceId,
          };
        }
        responses.push(response);
        if (response.httpStatusCode < 400) results.set(sub.referenceId, response.body);
        if (response.httpStatusCode >= 400 && allOrNone) throw new RollBack();
      }
    };

    if (!allOrNone) {
      await runAll();
      return { compositeResponse: responses };
    }
    try {
      await services.unitOfWork.run(runAll);
      return { compositeResponse: responses };
    } catch (error) {
      if (!(error instanceof RollBack)) throw error;
      // Everything rolled back: the failure keeps its own answer, every other subrequest is halted.
      const halted = new HandoffError(
        'PROCESSING_HALTED',
        'The transaction was rolled back since another operation in the same transaction failed.',
      );
      const failedIndex = responses.length - 1;
      return {
        compositeResponse: compositeRequest.map((sub, i) =>
          i === failedIndex
            ? responses[i]
            : { body: restError(halted), httpHeaders: {}, httpStatusCode: 400, referenceId: sub.referenceId },
        ),
      };
    }
  });

  /**
   * `/composite/batch`: up to 25 independent subrequests (each its own transaction), URLs
   * relative to `/services/data/` (`v60.0/sobjects/Account/…`). With haltOnError, those after
   * the first failure are not run and answer 412 BATCH_PROCESSING_HALTED.
   */
  app.post('/composite/batch', async (request) => {
    const parsed = batchBody.safeParse(request.body);
    if (!parsed.success) throw new HandoffError('JSON_PARSER_ERROR', 'Expected {"batchRequests":[…]}');
    const { batchRequests, haltOnError } = parsed.data;
    checkSubrequestCount(batchRequests.length);
    const results: Array<{ statusCode: number; result: unknown }> = [];
    let halted = false;
    for (const sub of batchRequests) {
      if (halted) {
        results.push({
          statusCode: 412,
          result: [{ errorCode: 'BATCH_PROCESSING_HALTED', message: 'Batch processing halted per request' }],
        });
        continue;
      }
      const relative = sub.url.replace(/^\/?(services\/data\/)?/, '');
      if (!/^v\d+\.\d+\//.test(relative)) {
        results.push({
          statusCode: 400,
          result: restError(
            new HandoffError('INVALID_INPUT', `The URL must name an API version: ${sub.url}`),
          ),
        });
      } else {
        const answer = await subrequest(app, services, request, {
          method: sub.method,
          path: `/services/data/${relative}`,
          body: sub.richInput,
        });
        results.push({ statusCode: answer.status, result: answer.body });
      }
      if (results[results.length - 1]!.statusCode >= 400 && haltOnError) halted = true;
    }
    return { hasErrors: results.some((r) => r.statusCode >= 400), results };
  });
}

import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MarketingError } from '../domain/marketing-error.js';

const schemas = new Map<string, z.ZodType>();

/** The schema of a route's path parameters: each named one a string, the optional ones may be absent. */
function pathSchema(required: readonly string[], optional: readonly string[]): z.ZodType {
  const key = `${required.join(',')}|${optional.join(',')}`;
  let schema = schemas.get(key);
  if (!schema) {
    schema = z.object({
      ...Object.fromEntries(required.map((name) => [name, z.string()])),
      ...Object.fromEntries(optional.map((name) => [name, z.string().optional()])),
    });
    schemas.set(key, schema);
  }
  return schema;
}

/**
 * A route's path parameters, checked against their schema (a string each). Fastify has matched
 * the route's pattern, so a mismatch means no such resource: 404 in the v5 and legacy formats.
 */
export function pathParams<K extends string, O extends string = never>(
  request: FastifyRequest,
  required: readonly K[],
  optional: readonly O[] = [],
): Record<K, string> & Partial<Record<O, string>> {
  const parsed = pathSchema(required, optional).safeParse(request.params);
  if (!parsed.success) throw new MarketingError(404);
  return parsed.data as Record<K, string> & Partial<Record<O, string>>;
}

/** A query parameter: a string, or the list a repeated parameter gives. */
const queryValue = z.union([z.string(), z.array(z.string())]);
const querySchema = z.record(z.string(), queryValue);

/** The query string's parameters, checked (strings, or lists of them); none is `{}`. */
export function queryParams(request: FastifyRequest): Record<string, string | string[]> {
  const parsed = querySchema.safeParse(request.query ?? {});
  if (!parsed.success) throw new MarketingError(5, 'Invalid query string');
  return parsed.data;
}

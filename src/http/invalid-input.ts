import { z } from 'zod';

/**
 * The message for a request the caller got wrong, when what a handler threw says so: a zod
 * schema refusing a part of the request. Every wire answers these 400 in its own format (a
 * schema failure is the caller's input, never a server error).
 */
export function invalidInputMessage(error: unknown): string | undefined {
  if (error instanceof z.ZodError)
    return error.issues
      .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
      .join('; ');
  return undefined;
}

/**
 * The status of a refusal of the request itself — Fastify's own (a body it cannot parse, a
 * content type it does not take, a body too large) or a shared check's (a NUL) — when what was
 * thrown is one: a 4xx each wire writes in its own format. Undefined for anything else.
 */
export function requestErrorStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

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

import type { FastifyReply } from 'fastify';
import type { z } from 'zod';

/** The console API's error body: a code a program can test and a message a person can read. */
export interface ConsoleErrorBody {
  error: { code: string; message: string; issues?: Array<{ path: string; message: string }> };
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: ConsoleErrorBody = { error: { code, message } };
  return reply.code(status).send(body);
}

/** Parses a request part with its schema; on failure answers 400 with each problem and returns undefined. */
export function parseOr400<T>(reply: FastifyReply, schema: z.ZodType<T>, value: unknown): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const body: ConsoleErrorBody = {
    error: {
      code: 'INVALID_INPUT',
      message: issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
      issues,
    },
  };
  void reply.code(400).send(body);
  return undefined;
}

import type { FastifyRequest } from 'fastify';
import { HandoffError } from '../../errors/handoff-error.js';
import type { CallContext } from '../domain/call-context.js';

/** What the auth hook learned about a data-API request. */
export interface CrmRequestContext extends CallContext {
  apiVersion: string;
}

const MIN_VERSION = 20;
const MAX_VERSION = 66;

/** `v60.0` → `60.0`; any version from 20.0 to 66.0 is served, like a current org. */
export function parseApiVersion(raw: string): string {
  const match = /^v(\d{2})\.0$/.exec(raw);
  const major = match ? Number(match[1]) : NaN;
  if (!(major >= MIN_VERSION && major <= MAX_VERSION)) {
    throw new HandoffError('NOT_FOUND', 'The requested resource does not exist');
  }
  return `${major}.0`;
}

export function autoAssignHeader(request: FastifyRequest): boolean | undefined {
  const raw = request.headers['sforce-auto-assign'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  return value.trim().toUpperCase() !== 'FALSE';
}

/** The token from `Authorization: Bearer …` or `Authorization: OAuth …` (jsforce's streaming client). */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^(Bearer|OAuth)\s+(.+)$/i.exec(header.trim());
  return match?.[2] ?? null;
}

declare module 'fastify' {
  interface FastifyRequest {
    crm: CrmRequestContext;
  }
}

/**
 * A request's parameters (query or form fields) as OAuth reads them: text values only; a
 * repeated or nested one is as absent.
 */
export function textParams(...sources: unknown[]): Record<string, string | undefined> {
  const merged: Record<string, unknown> = {};
  for (const source of sources)
    if (typeof source === 'object' && source !== null && !Array.isArray(source))
      Object.assign(merged, source);
  return Object.fromEntries(
    Object.entries(merged).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]),
  );
}

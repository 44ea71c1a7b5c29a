import type { ErrorCode } from './error-codes.js';

export interface HandoffErrorOptions {
  /** Fields the error is about (the `fields` array on the wire). */
  fields?: string[];
  /** Extra members some codes carry on the wire (e.g. `duplicateResult`). */
  extra?: Record<string, unknown>;
}

/** The single error type domain code throws; each area's wire layer renders it. */
export class HandoffError extends Error {
  readonly code: ErrorCode;
  readonly fields: string[];
  readonly extra: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: HandoffErrorOptions = {}) {
    super(message);
    this.name = 'HandoffError';
    this.code = code;
    this.fields = options.fields ?? [];
    this.extra = options.extra;
  }
}

export function isHandoffError(error: unknown): error is HandoffError {
  return error instanceof HandoffError;
}

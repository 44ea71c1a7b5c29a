/** Salesforce errors that a later try may get past: they are thrown, not recorded as refusals. */
export const TRANSIENT_CRM_ERRORS = new Set([
  'REQUEST_LIMIT_EXCEEDED',
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'INVALID_SESSION_ID',
]);

/** One record's answer in a Collections (or Bulk API, as translated) save. */
export interface SaveOutcome {
  success: boolean;
  id?: string;
  errors?: Array<{ message?: string; errorCode?: string; statusCode?: string; fields?: string[] }>;
}

/** Whether a failed save is worth another try (a lock, limits), rather than a refusal to record. */
export function isTransient(outcome: SaveOutcome): boolean {
  return (outcome.errors ?? []).some((e) => TRANSIENT_CRM_ERRORS.has(e.errorCode ?? e.statusCode ?? ''));
}

/**
 * How one record's answer to a write is taken: `written`; `refused` for good (a validation
 * rule, a required field — recorded as a sync error until someone retries it); or `retry` (a
 * lock, limits, no answer at all — nothing is saved, and the work item is tried again).
 */
export function classifyAnswer(answer: SaveOutcome | undefined): 'written' | 'refused' | 'retry' {
  if (!answer) return 'retry';
  if (answer.success) return 'written';
  return isTransient(answer) ? 'retry' : 'refused';
}

/** A refusal's code (the first error's), its messages joined, and the fields it names. */
export function refusalSummary(
  answer: SaveOutcome,
  fallbackFields: string[] = [],
): { code: string | null; message: string; fields: string[] } {
  const errors = answer.errors ?? [];
  const first = errors[0];
  return {
    code: first?.errorCode ?? first?.statusCode ?? null,
    message:
      errors
        .map((e) => e.message)
        .filter(Boolean)
        .join('; ') || 'the CRM refused the write',
    fields: first?.fields?.length ? first.fields : fallbackFields,
  };
}

/**
 * A single-record save that threw (jsforce throws the CRM's answer to one record): a refusal
 * becomes a failed outcome to record; transient trouble or no answer (no code, a 5xx) gives
 * null, to be thrown on for a retry.
 */
export function refusalFromThrown(error: unknown): SaveOutcome | null {
  const e = error as { errorCode?: string; message?: string; data?: { fields?: string[] } };
  const code = e.errorCode;
  if (!code || TRANSIENT_CRM_ERRORS.has(code) || code.startsWith('ERROR_HTTP_5')) return null;
  return { success: false, errors: [{ message: e.message, errorCode: code, fields: e.data?.fields }] };
}

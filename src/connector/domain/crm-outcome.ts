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

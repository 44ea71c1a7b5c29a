/** Account Engagement's error codes a client treats specially (API-FACTS.md). */
export const AE_CODES = {
  invalidProspectId: 3,
  invalidEmail: 4,
  /** Among others: the unit does not answer this legacy API version (3 or 4). */
  invalidVersion: 24,
  invalidField: 62,
  concurrency: 66,
  dailyLimit: 122,
  missingUnitHeader: 181,
  invalidToken: 184,
} as const;

/**
 * A failed Account Engagement call. `retryable`: trying again later may succeed (5xx, a
 * timeout, 66, 122). `ambiguous`: the call may have been applied although no answer says so
 * (a timeout or a 5xx on a write), so a retried create must first look for what it made.
 */
export class AccountEngagementError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: number | null,
    readonly retryable: boolean,
    readonly ambiguous: boolean,
  ) {
    super(message);
    this.name = 'AccountEngagementError';
  }

  /** How long to wait before trying again: the daily limit resets slowly, the rest quickly. */
  get retryDelayMs(): number {
    return this.code === AE_CODES.dailyLimit ? 60_000 : 1_000;
  }
}

export function isAccountEngagementError(error: unknown): error is AccountEngagementError {
  return error instanceof AccountEngagementError;
}

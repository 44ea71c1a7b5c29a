/**
 * Account Engagement's numbered errors, with the message the real service gives and the HTTP
 * status v5 answers with (v3/v4 answer 200 … with `stat="fail"`, except auth and limits).
 */
export const MARKETING_ERRORS = {
  1: { message: 'Invalid API key or user key', status: 401 },
  3: { message: 'Invalid prospect ID', status: 404 },
  4: { message: 'Invalid prospect email address', status: 400 },
  5: { message: 'Invalid query parameter', status: 400 },
  9: { message: 'A prospect with the specified email address already exists', status: 400 },
  10: { message: 'Invalid campaign ID', status: 400 },
  13: { message: 'Required parameters are missing', status: 400 },
  24: { message: 'Invalid action', status: 400 },
  62: { message: 'Invalid value for field', status: 400 },
  66: {
    message: 'You have exceeded your concurrent request limit.  Please wait, before trying again',
    status: 429,
  },
  122: { message: 'Daily API rate limit met.', status: 429 },
  181: { message: 'Required header is missing: Pardot-Business-Unit-Id', status: 400 },
  184: { message: 'access_token is invalid, unverified, or has expired', status: 401 },
  201: { message: 'Business unit not found or inactive', status: 400 },
  209: { message: 'Too many filters: at most 3 fields may be filtered on', status: 400 },
  210: { message: 'The page token has expired', status: 400 },
  219: { message: 'Deleted records cannot be updated', status: 400 },
  404: { message: 'Not Found', status: 404 },
} as const;

export type MarketingErrorCode = keyof typeof MARKETING_ERRORS;

/** An error the marketing API answers with its code; `detail` replaces the stock message. */
export class MarketingError extends Error {
  readonly code: MarketingErrorCode;
  readonly status: number;

  constructor(code: MarketingErrorCode, detail?: string) {
    super(detail ?? MARKETING_ERRORS[code].message);
    this.name = 'MarketingError';
    this.code = code;
    this.status = MARKETING_ERRORS[code].status;
  }
}

export function isMarketingError(error: unknown): error is MarketingError {
  return error instanceof MarketingError;
}

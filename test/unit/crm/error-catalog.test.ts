import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/errors/error-codes.js';
import { HandoffError } from '../../../src/errors/handoff-error.js';
import { collectionError, CRM_HTTP_STATUS, restError, toHandoffError } from '../../../src/crm/http/wire.js';

describe('the error catalog on the Salesforce wire', () => {
  it('gives every code an HTTP status and renders it in both REST shapes', () => {
    for (const code of ERROR_CODES) {
      const error = new HandoffError(code, `message for ${code}`, { fields: ['Email'] });
      expect(CRM_HTTP_STATUS[code], code).toBeGreaterThanOrEqual(300);
      expect(restError(error)).toEqual([
        { message: `message for ${code}`, errorCode: code, fields: ['Email'] },
      ]);
      expect(collectionError(error)).toEqual({
        statusCode: code,
        message: `message for ${code}`,
        fields: ['Email'],
      });
    }
  });

  it('never shows an unexpected error’s own message or stack on the wire', () => {
    const secret = new Error('connection string postgres://user:pw@db/prod failed');
    const shown = toHandoffError(secret);
    expect(shown.code).toBe('UNKNOWN_EXCEPTION');
    expect(shown.message).not.toContain('postgres://');
  });
});

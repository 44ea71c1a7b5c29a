import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../errors/error-codes.js';
import { HandoffError, isHandoffError } from '../../errors/handoff-error.js';
import { invalidInputMessage, requestErrorStatus } from '../../http/invalid-input.js';
import { logServerError, type WireError } from '../../http/server-basics.js';
import { faultEnvelope } from './soap-envelope.js';

/** HTTP status of each error code on the Salesforce REST wire. */
export const CRM_HTTP_STATUS: Record<ErrorCode, number> = {
  REQUIRED_FIELD_MISSING: 400,
  FIELD_CUSTOM_VALIDATION_EXCEPTION: 400,
  INVALID_FIELD: 400,
  INVALID_FIELD_FOR_INSERT_UPDATE: 400,
  INVALID_TYPE: 400,
  INVALID_TYPE_FOR_OPERATION: 400,
  MALFORMED_ID: 400,
  MALFORMED_QUERY: 400,
  MALFORMED_SEARCH: 400,
  INVALID_QUERY_LOCATOR: 400,
  NOT_FOUND: 404,
  ENTITY_IS_DELETED: 404,
  INVALID_SESSION_ID: 401,
  REQUEST_LIMIT_EXCEEDED: 403,
  DUPLICATES_DETECTED: 400,
  DUPLICATE_VALUE: 400,
  DUPLICATE_EXTERNAL_ID: 300,
  UNABLE_TO_LOCK_ROW: 400,
  INVALID_CROSS_REFERENCE_KEY: 400,
  FIELD_INTEGRITY_EXCEPTION: 400,
  JSON_PARSER_ERROR: 400,
  STRING_TOO_LONG: 400,
  INVALID_EMAIL_ADDRESS: 400,
  INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: 400,
  NUMBER_OUTSIDE_VALID_RANGE: 400,
  CANNOT_UPDATE_CONVERTED_LEAD: 400,
  INVALID_REPLICATION_DATE: 400,
  INVALID_STATUS: 400,
  // No code is documented for a request in the wrong job state; Bulk API 1.0 calls it InvalidJobState.
  INVALIDJOBSTATE: 400,
  JOB_NOT_COMPLETE: 412,
  UNDELETE_FAILED: 400,
  EXCEEDED_ID_LIMIT: 400,
  EXCEEDED_MAX_SIZE_REQUEST: 400,
  ALL_OR_NONE_OPERATION_ROLLED_BACK: 400,
  PROCESSING_HALTED: 400,
  INVALID_INPUT: 400,
  INVALID_OPERATION: 400,
  FUNCTIONALITY_NOT_ENABLED: 400,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_API_VERSION: 404,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SERVER_UNAVAILABLE: 503,
  INSUFFICIENT_ACCESS: 403,
  UNKNOWN_EXCEPTION: 500,
};

/** Single-record error body: an array with one `{message, errorCode, fields}`. */
export function restError(error: HandoffError): Array<Record<string, unknown>> {
  const body: Record<string, unknown> = { message: error.message, errorCode: error.code };
  if (error.fields.length > 0) body.fields = error.fields;
  if (error.extra?.duplicateResult) body.duplicateResult = error.extra.duplicateResult;
  return [body];
}

/** The error inside Collections results: `statusCode` here, not `errorCode`. */
export function collectionError(error: HandoffError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    statusCode: error.code,
    message: error.message,
    fields: error.fields,
  };
  if (error.extra?.duplicateResult) body.duplicateResult = error.extra.duplicateResult;
  return body;
}

/** Turns what a handler threw into a Salesforce error response. Unknown errors are logged, never shown. */
export function toHandoffError(error: unknown, classify?: (e: unknown) => string): HandoffError {
  if (isHandoffError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new HandoffError('UNSUPPORTED_MEDIA_TYPE', 'Content type not supported: use application/json');
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new HandoffError('EXCEEDED_MAX_SIZE_REQUEST', 'Request body exceeds the maximum size');
  }
  const invalid = invalidInputMessage(error);
  if (invalid !== undefined) return new HandoffError('INVALID_INPUT', invalid);
  if (fastifyError.code === 'FST_ERR_VALIDATION') {
    return new HandoffError('JSON_PARSER_ERROR', fastifyError.message ?? 'invalid request');
  }
  // Any other refusal of the request itself (Fastify's, or a NUL): the caller's, by its status.
  const status = requestErrorStatus(error);
  if (status !== undefined) {
    const message = fastifyError.message ?? 'invalid request';
    if (status === 413) return new HandoffError('EXCEEDED_MAX_SIZE_REQUEST', message);
    if (status === 415) return new HandoffError('UNSUPPORTED_MEDIA_TYPE', message);
    if (status === 404) return new HandoffError('NOT_FOUND', message);
    return new HandoffError('INVALID_INPUT', message);
  }
  if (classify?.(error) === 'lock-timeout') {
    return new HandoffError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record');
  }
  if (classify?.(error) === 'unique-violation') {
    return new HandoffError('DUPLICATE_VALUE', 'duplicate value found');
  }
  return new HandoffError(
    'UNKNOWN_EXCEPTION',
    'An unexpected error occurred. Please include this ErrorId if you contact support.',
  );
}

export function sendRestError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  classify?: (e: unknown) => string,
): FastifyReply {
  const handoffError = toHandoffError(error, classify);
  const status = CRM_HTTP_STATUS[handoffError.code];
  if (status >= 500 && !isHandoffError(error)) {
    logServerError(request, error, 'unexpected error in CRM request');
    // As Salesforce does: an id to quote, which finds the log line (the request id).
    const withId = new HandoffError(
      'UNKNOWN_EXCEPTION',
      `An unexpected error occurred. Please include this ErrorId if you contact support: ${request.id}`,
    );
    return reply.code(status).send(restError(withId));
  }
  return reply.code(status).send(restError(handoffError));
}

/** Which of the CRM's wires a path speaks: SOAP faults, OAuth errors, or the REST API's. */
function wireOf(url: string): 'soap' | 'oauth' | 'rest' {
  const path = url.toLowerCase();
  if (path.startsWith('/services/soap/')) return 'soap';
  if (path.startsWith('/services/oauth2/') || path.startsWith('/id/')) return 'oauth';
  return 'rest';
}

/**
 * A failure met before any route (a URL or headers the server cannot read), in the wire of the
 * API the path belongs to: a SOAP fault, an OAuth error, or Salesforce's REST errors.
 */
export function renderCrmError(
  status: number,
  message: string,
  request?: FastifyRequest,
  errorCode?: string,
): WireError {
  switch (wireOf(request?.url ?? '')) {
    case 'soap':
      return {
        contentType: 'text/xml; charset=utf-8',
        body: faultEnvelope(errorCode ?? 'INVALID_INPUT', message),
      };
    case 'oauth':
      return {
        contentType: 'application/json',
        body: JSON.stringify({ error: 'invalid_request', error_description: message }),
      };
    case 'rest': {
      const code =
        errorCode ??
        (status === 413 ? 'EXCEEDED_MAX_SIZE_REQUEST' : status === 404 ? 'NOT_FOUND' : 'INVALID_INPUT');
      return { contentType: 'application/json', body: JSON.stringify([{ message, errorCode: code }]) };
    }
  }
}

/**
 * An error outside any API's own scope (no route matched, or the body could not be read before
 * routing chose one), in the wire of the API its path belongs to.
 */
export function sendCrmError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  if (wireOf(request.url) === 'rest') return sendRestError(request, reply, error);
  const handoffError = toHandoffError(error);
  const status = CRM_HTTP_STATUS[handoffError.code];
  if (status >= 500) logServerError(request, error, 'unexpected error in CRM request');
  const answer = renderCrmError(status, handoffError.message, request, handoffError.code);
  return reply.code(status).type(answer.contentType).send(answer.body);
}

/** One record's failure, as Collections answer it. */
export interface RecordError {
  errorCode: string;
  message: string;
  fields: string[];
}

/**
 * A Bulk API result row's `sf__Error`: `CODE:message:Field1,Field2 --`, the way Salesforce writes
 * it. The message may hold colons of its own (a validation rule's text, a URL); the code ends at
 * the first colon and the field list starts after the last one, since neither holds a colon.
 */
export function parseBulkError(text: string): RecordError {
  const body = text.replace(/\s*--\s*$/, '');
  const first = body.indexOf(':');
  if (first < 0) return { errorCode: body.trim(), message: '', fields: [] };
  const errorCode = body.slice(0, first);
  const rest = body.slice(first + 1);
  const last = rest.lastIndexOf(':');
  if (last < 0) return { errorCode, message: rest, fields: [] };
  const fields = rest.slice(last + 1).trim();
  return {
    errorCode,
    message: rest.slice(0, last),
    fields: fields ? fields.split(',').map((f) => f.trim()) : [],
  };
}

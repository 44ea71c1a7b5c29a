import type { FastifyInstance } from 'fastify';

/** Deeper than any real API body; deeper ones are refused before anything walks them. */
export const MAX_JSON_DEPTH = 64;

/**
 * How deeply a JSON text nests, counted over its characters (strings skipped) without
 * recursion, so a 100,000-deep body costs one pass and no stack.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}

/** How deeply a parsed value nests (objects and arrays), walked without recursion. */
export function valueDepth(value: unknown, limit = MAX_JSON_DEPTH + 1): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest >= limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, here]);
  }
  return deepest;
}

/**
 * Replaces Fastify's JSON parser with one that answers malformed JSON with the service's own
 * error (`invalid` builds it from the parser's message) and takes an empty body as no body, as
 * Salesforce and Account Engagement both do.
 */
export function jsonBodyParser(app: FastifyInstance, invalid: (detail: string) => Error): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonDepth(text) > MAX_JSON_DEPTH)
      return done(invalid(`the body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(invalid((error as Error).message), undefined);
    }
  });
}

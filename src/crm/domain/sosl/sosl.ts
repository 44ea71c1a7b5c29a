import { HandoffError } from '../../../errors/handoff-error.js';

/** One searched-for word or phrase: its tokens, the last a prefix (`acm*`), or excluded (AND NOT). */
export interface SearchTerm {
  tokens: string[];
  prefix: boolean;
  negate: boolean;
}

/** A search expression in disjunctive form: any of the groups, each matching all its terms. */
export interface SearchExpression {
  any: Array<{ all: SearchTerm[] }>;
}

/** Which fields a search looks in (SOSL's `IN … FIELDS`). */
export type SearchScope = 'ALL' | 'NAME' | 'EMAIL' | 'PHONE';

/** One object of RETURNING: its name and, when given, the SOQL-like inside of its parentheses. */
export interface ReturningObject {
  object: string;
  fields: string | null;
  /** `WHERE … ORDER BY … LIMIT n OFFSET n`, as written. */
  clauses: string;
}

export interface SoslQuery {
  expression: SearchExpression;
  scope: SearchScope;
  /** Empty: every searchable object, its Id only. */
  returning: ReturningObject[];
  limit: number | null;
}

function malformed(message: string): HandoffError {
  return new HandoffError('MALFORMED_SEARCH', message);
}

/** Letters and digits, as the search index splits text into tokens. */
export function tokenize(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).map((t) => t.normalize('NFC'));
}

/**
 * Reads a SOSL search term (`acme* AND "san francisco" AND NOT test`, OR between groups,
 * AND binding tighter). `*` ends a prefix; `?` is taken as one. Reserved characters may be
 * escaped with `\`. Every group needs a term that is not negated, of two characters or more.
 */
export function parseSearchTerm(text: string): SearchExpression {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|((?:[^\s"()\\]|\\.)+)|[()]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) words.push(`"${m[1]}`);
    else if (m[2] !== undefined) words.push(m[2]);
  }
  const any: Array<{ all: SearchTerm[] }> = [{ all: [] }];
  let negateNext = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const upper = word.toUpperCase();
    if (upper === 'OR') {
      any.push({ all: [] });
      continue;
    }
    if (upper === 'AND') {
      if (words[i + 1]?.toUpperCase() === 'NOT') {
        negateNext = true;
        i++;
      }
      continue;
    }
    const phrase = word.startsWith('"');
    const raw = (phrase ? word.slice(1) : word).replace(/\\(.)/g, '$1');
    const prefix = /[*?]$/.test(raw);
    const tokens = tokenize(raw.replace(/[*?]/g, ' '));
    if (tokens.length === 0) continue;
    any[any.length - 1]!.all.push({ tokens, prefix, negate: negateNext });
    negateNext = false;
  }
  const groups = any.filter((g) => g.all.length > 0);
  if (groups.length === 0) throw malformed('search term must be longer than one character');
  for (const group of groups) {
    const positive = group.all.filter((t) => !t.negate);
    if (positive.length === 0) throw malformed('search term must include a term that is not excluded');
    if (positive.every((t) => t.tokens.join('').length < 2))
      throw malformed('search term must be longer than one character');
  }
  return { any: groups };
}

/** The text between `{` and its closing `}`, honouring `\}` escapes; and where the rest begins. */
function braced(text: string, start: number): { inner: string; end: number } {
  let i = start + 1;
  let inner = '';
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      inner += ch + text[i + 1]!;
      i++;
    } else if (ch === '}') return { inner, end: i + 1 };
    else inner += ch;
  }
  throw malformed('search term must be enclosed in braces: FIND {term}');
}

/** Each character of `text` with the parentheses open before it, and whether it is quoted. */
function* scan(text: string): Generator<{ at: number; ch: string; depth: number; quoted: boolean }> {
  let depth = 0;
  let quoted = false;
  for (let at = 0; at < text.length; at++) {
    const ch = text[at]!;
    if (ch === "'" && text[at - 1] !== '\\') quoted = !quoted;
    yield { at, ch, depth, quoted };
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
  }
}

/** Splits `Lead(Id, Name WHERE …), Contact` at top-level commas. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (const c of scan(text)) {
    if (c.quoted || c.depth !== 0 || c.ch !== ',') continue;
    parts.push(text.slice(from, c.at).trim());
    from = c.at + 1;
  }
  const last = text.slice(from).trim();
  if (last !== '') parts.push(last);
  return parts;
}

/** How many parentheses are open at `index` (quotes respected). */
function depthAt(text: string, index: number): number {
  for (const c of scan(text)) if (c.at === index) return c.depth;
  return 0;
}

function returningObject(text: string): ReturningObject {
  const m = /^([A-Za-z][A-Za-z0-9_]*)\s*(?:\(([\s\S]*)\))?$/.exec(text);
  if (!m) throw malformed(`unexpected token in RETURNING: ${text}`);
  const inside = (m[2] ?? '').trim();
  if (inside === '') return { object: m[1]!, fields: null, clauses: '' };
  // The field list ends where the first clause begins (outside quotes).
  const clause = /\s(WHERE|ORDER\s+BY|LIMIT|OFFSET)\s/i.exec(` ${inside} `);
  const at = clause ? Math.max(0, clause.index) : inside.length;
  const fields = inside.slice(0, at).trim();
  if (fields === '') throw malformed(`RETURNING ${m[1]} needs a field list before its clauses`);
  return { object: m[1]!, fields, clauses: inside.slice(at).trim() };
}

/**
 * Parses `FIND {term} [IN ALL|NAME|EMAIL|PHONE FIELDS] [RETURNING Obj(fields [WHERE …]
 * [ORDER BY …] [LIMIT n] [OFFSET n]), …] [LIMIT n]`.
 */
export function parseSosl(text: string): SoslQuery {
  const source = text.trim();
  const find = /^FIND\s*/i.exec(source);
  if (!find || source[find[0].length] !== '{') throw malformed('a search must begin FIND {term}');
  const { inner, end } = braced(source, find[0].length);
  let rest = source.slice(end).trim();
  let scope: SearchScope = 'ALL';
  const inFields = /^IN\s+(ALL|NAME|EMAIL|PHONE|SIDEBAR)\s+FIELDS\b/i.exec(rest);
  if (inFields) {
    const named = inFields[1]!.toUpperCase();
    scope = named === 'SIDEBAR' ? 'ALL' : (named as SearchScope);
    rest = rest.slice(inFields[0].length).trim();
  }
  let returning: ReturningObject[] = [];
  let limit: number | null = null;
  // A LIMIT outside every parenthesis is the whole search's.
  const tail = /\bLIMIT\s+(\d+)\s*$/i.exec(rest);
  if (tail && depthAt(rest, tail.index) === 0) {
    limit = Number(tail[1]);
    rest = rest.slice(0, tail.index).trim();
  }
  const returningMatch = /^RETURNING\s+/i.exec(rest);
  if (returningMatch) {
    returning = splitTopLevel(rest.slice(returningMatch[0].length)).map(returningObject);
    if (returning.length === 0) throw malformed('RETURNING needs at least one object');
  } else if (rest !== '') {
    throw malformed(`unexpected token: ${rest.split(/\s+/)[0]}`);
  }
  return { expression: parseSearchTerm(inner), scope, returning, limit };
}

import { sql, type RawBuilder } from 'kysely';

/** The comparisons a query may make, each as the SQL it stands for. */
const COMPARISONS = {
  '=': sql.raw('='),
  '!=': sql.raw('<>'),
  '<>': sql.raw('<>'),
  '<': sql.raw('<'),
  '<=': sql.raw('<='),
  '>': sql.raw('>'),
  '>=': sql.raw('>='),
} as const;

export type Comparison = keyof typeof COMPARISONS;

/**
 * A comparison operator as SQL, from a fixed table: the only way an operator reaches a query.
 * Whatever a caller passes — typed or not, from a page token or a parser — nothing but these
 * seven ever becomes SQL text; anything else is refused here, before a query is built.
 */
export function comparison(op: string): RawBuilder<unknown> {
  if (!Object.hasOwn(COMPARISONS, op)) throw new Error(`not a comparison operator: ${JSON.stringify(op)}`);
  return COMPARISONS[op as Comparison];
}

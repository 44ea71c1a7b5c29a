import { HandoffError } from '../../../errors/handoff-error.js';

/**
 * What we read of the parser's conditions. Its own types are a wide union; this is the one
 * narrow view the planner relies on, checked at run time where it matters.
 */
export interface ParsedCondition {
  field?: string;
  fn?: unknown;
  operator?: string;
  value?: string | string[];
  literalType?: string | string[];
  valueQuery?: unknown;
  dateLiteralVariable?: number;
  openParen?: number;
  closeParen?: number;
}

/** The parser's WHERE: a chain of `left operator right`, with NOT as a left-less link. */
export interface ParsedWhere {
  left?: ParsedCondition | null;
  operator?: string;
  right?: ParsedWhere;
}

/** A WHERE clause as a tree, with AND binding tighter than OR, and NOT tightest (SOQL's precedence). */
export type WhereNode =
  | { kind: 'and' | 'or'; items: WhereNode[] }
  | { kind: 'not'; item: WhereNode }
  | { kind: 'condition'; condition: ParsedCondition };

type Token = '(' | ')' | 'AND' | 'OR' | 'NOT' | { condition: ParsedCondition };

function malformed(message: string): HandoffError {
  return new HandoffError('MALFORMED_QUERY', message);
}

/** The parser gives WHERE as a chain of conditions carrying paren counts; lay it out as tokens. */
function tokenize(where: ParsedWhere | undefined): Token[] {
  const tokens: Token[] = [];
  let node: ParsedWhere | undefined = where;
  while (node) {
    const { left, operator, right } = node;
    if (left) {
      for (let i = 0; i < (left.openParen ?? 0); i++) tokens.push('(');
      // Before a NOT the parser leaves a condition that carries only parentheses.
      const parensOnly = left.field === undefined && left.fn === undefined && left.valueQuery === undefined;
      if (!parensOnly) tokens.push({ condition: left });
      for (let i = 0; i < (left.closeParen ?? 0); i++) tokens.push(')');
    }
    if (operator === 'AND' || operator === 'OR' || operator === 'NOT') tokens.push(operator);
    else if (operator) throw malformed(`unexpected operator ${String(operator)}`);
    node = right;
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): WhereNode {
    const node = this.or();
    if (this.at !== this.tokens.length) throw malformed('unexpected token in WHERE clause');
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private or(): WhereNode {
    const items = [this.and()];
    while (this.peek() === 'OR') {
      this.at++;
      items.push(this.and());
    }
    return items.length === 1 ? (items[0] as WhereNode) : { kind: 'or', items };
  }

  private and(): WhereNode {
    const items = [this.not()];
    while (this.peek() === 'AND') {
      this.at++;
      items.push(this.not());
    }
    return items.length === 1 ? (items[0] as WhereNode) : { kind: 'and', items };
  }

  private not(): WhereNode {
    if (this.peek() === 'NOT') {
      this.at++;
      return { kind: 'not', item: this.not() };
    }
    return this.primary();
  }

  private primary(): WhereNode {
    const token = this.peek();
    if (token === '(') {
      this.at++;
      const node = this.or();
      if (this.peek() !== ')') throw malformed('unbalanced parentheses in WHERE clause');
      this.at++;
      return node;
    }
    if (typeof token === 'object') {
      this.at++;
      return { kind: 'condition', condition: token.condition };
    }
    throw malformed('incomplete WHERE clause');
  }
}

export function buildWhereTree(where: ParsedWhere | undefined): WhereNode | null {
  if (!where) return null;
  const tokens = tokenize(where);
  return tokens.length === 0 ? null : new Parser(tokens).parse();
}

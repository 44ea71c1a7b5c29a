import { z } from 'zod';

/** What a fault does to a matching request. */
export const FAULT_KINDS = [
  'error-500', // 500 UNKNOWN_EXCEPTION, nothing applied
  'unavailable-503', // 503 SERVER_UNAVAILABLE, nothing applied
  'request-limit', // 403 REQUEST_LIMIT_EXCEEDED, nothing applied
  'lock', // 400 UNABLE_TO_LOCK_ROW, nothing applied
  'latency', // the request is served after `latencyMs`
  'drop', // the connection is closed before anything is applied
  'lost-answer', // the request is applied, then the connection is closed instead of answering
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export const faultRuleSchema = z.object({
  /** `METHOD /path/pattern`: `*` matches one path segment, `**` any number; method `*` matches all. */
  route: z.string().regex(/^(\*|[A-Z]+) \/\S*$/, 'route looks like "POST /services/data/*/sobjects/Lead"'),
  fault: z.enum(FAULT_KINDS),
  probability: z.number().min(0).max(1).default(1),
  /** How many times it may fire; unlimited when absent. */
  times: z.number().int().min(1).optional(),
  latencyMs: z.number().int().min(0).max(120_000).default(0),
});

export type FaultRuleInput = z.input<typeof faultRuleSchema>;
export type FaultRuleConfig = z.infer<typeof faultRuleSchema>;

export interface FaultRule extends FaultRuleConfig {
  id: number;
  fired: number;
}

function routeMatcher(route: string): (method: string, path: string) => boolean {
  const [method = '*', pattern = '/'] = route.split(' ');
  const source = pattern
    .split('/')
    .map((segment) =>
      segment === '**'
        ? '.*'
        : segment
            .split('*')
            .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('[^/]*'),
    )
    .join('/');
  const regex = new RegExp(`^${source}$`);
  return (m, path) => (method === '*' || method === m.toUpperCase()) && regex.test(path);
}

/**
 * The active fault rules and the choice of which, if any, applies to a request. The first
 * matching rule that is still allowed to fire and wins its dice roll is the fault.
 */
export class FaultInjector {
  private rules: Array<FaultRule & { matches: (method: string, path: string) => boolean }> = [];
  private nextId = 1;

  constructor(private readonly random: () => number = Math.random) {}

  add(input: FaultRuleInput): FaultRule {
    const config = faultRuleSchema.parse(input);
    const rule = { ...config, id: this.nextId++, fired: 0, matches: routeMatcher(config.route) };
    this.rules.push(rule);
    return this.view(rule);
  }

  remove(id: number): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  /** False when no rule is set: the request path then pays nothing for fault injection. */
  get active(): boolean {
    return this.rules.length > 0;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => this.view(r));
  }

  private view(rule: FaultRule): FaultRule {
    const { id, route, fault, probability, times, latencyMs, fired } = rule;
    return { id, route, fault, probability, latencyMs, fired, ...(times === undefined ? {} : { times }) };
  }

  /** The fault for this request, counted as fired, or null. */
  pick(method: string, path: string): FaultRule | null {
    if (this.rules.length === 0) return null;
    for (const rule of this.rules) {
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      if (!rule.matches(method, path)) continue;
      if (this.random() >= rule.probability) continue;
      rule.fired++;
      return this.view(rule);
    }
    return null;
  }
}

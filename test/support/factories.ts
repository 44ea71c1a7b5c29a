import { randomBytes } from 'node:crypto';

function unique(): string {
  return randomBytes(4).toString('hex');
}

/** A valid Lead body; pass overrides for what the test is about. */
export function buildLead(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const tag = unique();
  return {
    FirstName: 'Lee',
    LastName: `Lead-${tag}`,
    Company: `Company ${tag}`,
    Email: `lee.${tag}@example.com`,
    ...overrides,
  };
}

export function buildContact(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const tag = unique();
  return { FirstName: 'Cora', LastName: `Contact-${tag}`, Email: `cora.${tag}@example.com`, ...overrides };
}

export function buildAccount(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { Name: `Account ${unique()}`, ...overrides };
}

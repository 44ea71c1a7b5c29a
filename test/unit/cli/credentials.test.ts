import { describe, expect, it } from 'vitest';
import { generateCredentials } from '../../../src/cli/credentials.js';

describe('generated credentials', () => {
  it('never begin with a dash, so they can be pasted as an argument to any command', () => {
    // One base64url character in 64 is `-`: 2,000 draws would all but surely show one.
    for (let i = 0; i < 2000; i++) {
      const { crm } = generateCredentials();
      for (const value of [crm.password, crm.clientId, crm.clientSecret]) expect(value).not.toMatch(/^-/);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { onlyEngagement, windowEnd } from '../../../src/connector/domain/change-window.js';

describe('the activity window', () => {
  it('lets changes to engagement fields alone wait, and nothing else', () => {
    expect(onlyEngagement(['score', 'lastActivityAt'])).toBe(true);
    expect(onlyEngagement(['grade'])).toBe(true);
    expect(onlyEngagement(['score', 'jobTitle'])).toBe(false);
    // Unknown or empty: a person's change, at once.
    expect(onlyEngagement(undefined)).toBe(false);
    expect(onlyEngagement([])).toBe(false);
  });

  it('ends every window at the same aligned instant, whenever a change falls in it', () => {
    expect(windowEnd(10_000, 5_000)).toBe(15_000);
    expect(windowEnd(12_345, 5_000)).toBe(15_000);
    expect(windowEnd(14_999, 5_000)).toBe(15_000);
    // Without a window, at once.
    expect(windowEnd(12_345, 0)).toBe(12_345);
  });
});

/**
 * Salesforce record ids: 3-char key prefix, 12 chars of instance and sequence, then a 3-char
 * suffix that encodes which of the first 15 chars are upper case, so the 18-char form is
 * case-insensitive while the 15-char form is not.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_BODY = /^[0-9A-Za-z]{15}$/;
/** Instance and reserved characters after the key prefix; fixed for the embedded org. */
const INSTANCE = '5g0';
const SEQUENCE_WIDTH = 9;

function isUpper(ch: string): boolean {
  return ch >= 'A' && ch <= 'Z';
}

export function idChecksum(id15: string): string {
  let suffix = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let j = 0; j < 5; j++) {
      if (isUpper(id15.charAt(block * 5 + j))) bits |= 1 << j;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** The canonical 18-char id for a 15- or 18-char input, or null when it is not an id. */
export function normalizeId(input: string): string | null {
  if (input.length === 15) {
    return ID_BODY.test(input) ? input + idChecksum(input) : null;
  }
  if (input.length !== 18) return null;
  const body = input.slice(0, 15);
  if (!ID_BODY.test(body)) return null;
  // The suffix says which letters are upper case: restore them, so a lower-cased 18-char id still resolves.
  let restored = '';
  for (let block = 0; block < 3; block++) {
    const bits = SUFFIX_ALPHABET.indexOf(input.charAt(15 + block).toUpperCase());
    if (bits < 0) return null;
    for (let j = 0; j < 5; j++) {
      const ch = body.charAt(block * 5 + j);
      restored += bits & (1 << j) ? ch.toUpperCase() : ch.toLowerCase();
    }
  }
  return restored + idChecksum(restored);
}

export function keyPrefixOf(id: string): string {
  return id.slice(0, 3);
}

export function formatId(keyPrefix: string, sequence: number): string {
  let digits = '';
  let n = sequence;
  do {
    digits = BASE62.charAt(n % 62) + digits;
    n = Math.floor(n / 62);
  } while (n > 0);
  const id15 = keyPrefix + INSTANCE + digits.padStart(SEQUENCE_WIDTH, '0');
  return id15 + idChecksum(id15);
}

/** The sequence number inside an id made by `formatId` (0 for ids made elsewhere). */
export function sequenceOf(id: string): number {
  const digits = id.slice(3 + INSTANCE.length, 15);
  let n = 0;
  for (const ch of digits) {
    const v = BASE62.indexOf(ch);
    if (v < 0) return 0;
    n = n * 62 + v;
  }
  return n;
}

/**
 * Hands out ids per key prefix in creation order. Seeded from the highest id stored, so ids stay
 * unique across restarts; the embedded CRM is one process, which owns its counters.
 */
export class IdAllocator {
  private readonly next = new Map<string, number>();

  seed(keyPrefix: string, highestId: string | null): void {
    const current = this.next.get(keyPrefix) ?? 1;
    const after = highestId ? sequenceOf(highestId) + 1 : 1;
    this.next.set(keyPrefix, Math.max(current, after));
  }

  allocate(keyPrefix: string): string {
    const sequence = this.next.get(keyPrefix) ?? 1;
    this.next.set(keyPrefix, sequence + 1);
    return formatId(keyPrefix, sequence);
  }
}

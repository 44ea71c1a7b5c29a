/**
 * A lookup table's entry for a key that came from outside. `table[key]` would also find
 * what every object inherits (`constructor`, `__proto__`, `toString` …): a request naming one
 * of those must find nothing, not a function.
 */
export function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

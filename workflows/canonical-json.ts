/**
 * Canonical JSON: object keys sorted at every depth, no whitespace, so equal values give equal text. One function
 * for everything that hashes or compares JSON — payload hashes that approvers sign, field comparisons in the
 * re-merge, and lifecycle event identities, which are persisted in every installation's seen set and therefore
 * must never change byte for byte (test/lifecycle-state.test.ts holds a golden identity).
 *
 * `undefined` (an absent field) is written as the bare word `undefined`, which no JSON value can produce; inside
 * arrays it is `null`, as JSON.stringify writes it; non-finite numbers are `null`. Pure: safe in workflow code.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

/**
 * The one way a value enters a Temporal visibility query (`TollgateTarget = '…'`). Values come from CLI arguments
 * and webhook payloads, so they are hostile: a control character is refused outright (it has no business in an ID
 * and some stores treat it specially), quotes and backslashes are escaped, and the result is single-quoted.
 */

export class InvalidVisibilityValueError extends Error {
  constructor(readonly value: string) {
    super(`not a value a visibility query can hold: ${JSON.stringify(value)}`);
    this.name = 'InvalidVisibilityValueError';
  }
}

/** `'value'`, escaped for a visibility query; throws InvalidVisibilityValueError on control characters. */
export function visibilityLiteral(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidVisibilityValueError(value);
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `Name = 'value'` for each defined value, joined with AND. */
export function visibilityQuery(clauses: Array<[name: string, value: string | undefined]>, fixed: string[] = []): string {
  return [...fixed, ...clauses.filter(([, value]) => value !== undefined).map(([name, value]) => `${name} = ${visibilityLiteral(value as string)}`)].join(' AND ');
}

/**
 * Principals: the names people are known by in the change gate (approvers, requesters, allowed-signers entries,
 * Git host logins mapped to them). One rule everywhere: a principal is compared trimmed and case-insensitively, so
 * " Alice" and "ALICE" are the same person (a self-approval spelled differently is still a self-approval), and a
 * blank name is never a principal. Pure: safe in workflow code.
 */

/** What a principal may look like once trimmed: no whitespace, control characters, commas or quotes (the
 * allowed-signers format separates principals with commas and quotes options), at most 200 characters. */
// eslint-disable-next-line no-control-regex
const PRINCIPAL = /^[^\s,"'\u0000-\u001f\u007f]{1,200}$/;

/** The canonical form (trimmed, lower-case), or undefined when the name is blank or cannot be a principal. */
export function canonicalPrincipal(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const trimmed = name.trim().toLowerCase();
  return PRINCIPAL.test(trimmed) ? trimmed : undefined;
}

/** True when both name the same principal (and neither is blank). */
export function samePrincipal(a: unknown, b: unknown): boolean {
  const left = canonicalPrincipal(a);
  return left !== undefined && left === canonicalPrincipal(b);
}

/** Why `name` is not a principal, for refusals and CLI errors. */
export function principalProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.trim() === '') return 'a blank name is not a principal';
  if (canonicalPrincipal(name) === undefined) return `"${name}" is not a principal (no spaces, commas, quotes or control characters; at most 200 characters)`;
  return undefined;
}

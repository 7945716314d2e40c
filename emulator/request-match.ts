/**
 * Which requests a rule of the emulator applies to (an injected fault, a per-resource request budget): an optional
 * method and a path prefix.
 */
import { z } from 'zod';

export const RequestMatchFields = {
  method: z
    .string()
    .min(1)
    .transform((method) => method.toUpperCase())
    .optional(),
  pathPrefix: z.string().startsWith('/'),
};

export function matchesRequest(rule: { method?: string; pathPrefix: string }, method: string, path: string): boolean {
  if (rule.method !== undefined && rule.method !== method.toUpperCase()) return false;
  return path.startsWith(rule.pathPrefix);
}

/**
 * What a worker needs before it may run the change gate: somewhere to verify approvals against. Without an
 * allowed-signers file (SSH signatures) or a Git host (pull-request reviews) no approval could ever be proven,
 * and a worker that starts anyway would fail every change later and quietly; so it refuses to start, naming the
 * settings. The worker only ever reads public keys: nothing here looks at a private key.
 */
import { accessSync, constants } from 'node:fs';
import type { Config } from '../platform/config';

export function approvalSourcesProblems(config: Pick<Config, 'changeGate'>): string[] {
  const { allowedSignersPath, github } = config.changeGate;
  if (!allowedSignersPath && !github) {
    return ['no way to prove an approval: set TOLLGATE_ALLOWED_SIGNERS (an allowed-signers file of public keys) and/or TOLLGATE_GITHUB_TOKEN (pull-request reviews)'];
  }
  if (allowedSignersPath) {
    try {
      accessSync(allowedSignersPath, constants.R_OK);
    } catch (error) {
      return [`TOLLGATE_ALLOWED_SIGNERS: cannot read ${allowedSignersPath} (${(error as NodeJS.ErrnoException).code ?? 'error'})`];
    }
  }
  return [];
}

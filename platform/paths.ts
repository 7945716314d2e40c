/** Where the project keeps its local state: `.tollgate/` at the project root (ignored by git), or TOLLGATE_HOME. */
import { isAbsolute, join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..');

export function projectHome(env: { TOLLGATE_HOME?: string }): string {
  const configured = env.TOLLGATE_HOME;
  if (!configured) return join(PROJECT_ROOT, '.tollgate');
  return isAbsolute(configured) ? configured : resolve(configured);
}

/** `POST /v1/genesys/lifecycle` (issue 4). */
import { Router } from 'express';
import type { ReceiverDeps } from './deps';

export function lifecycleRoute(_deps: ReceiverDeps): Router {
  return Router();
}

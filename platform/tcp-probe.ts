/**
 * One TCP connect attempt to `host:port`: does anybody listen there? Used to fail fast when Temporal refuses
 * connections (the CLI's exit 4, the receivers' immediate 503) instead of waiting out a connect timeout.
 */
import { connect } from 'node:net';

/** Error codes that say nobody is there to take a call. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export type Reachability = 'refused' | 'reachable' | 'unknown';

/** `host:port` (or `[v6]:port`) → one TCP connect attempt. */
export function probeTcp(address: string, timeoutMs: number): Promise<Reachability> {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address.trim());
  if (!match) return Promise.resolve('unknown');
  const [, host, port] = match;
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    const done = (answer: Reachability) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('connect', () => done('reachable'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(UNREACHABLE.has(error.code ?? '') ? 'refused' : 'unknown'));
  });
}

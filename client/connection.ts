/**
 * The connection every client-side caller shares (receivers, CLI, schedules, activities that talk to other
 * workflows, tests, benchmarks). Works against the local dev server, a self-hosted cluster (mTLS) or Temporal Cloud
 * (mTLS or API key). The worker's own NativeConnection takes the same options (worker.ts).
 */
import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { TemporalConfig } from '../platform/config';

/** The address to reach: the configured one, else the dev server's port on loopback. */
export function temporalAddress(config: TemporalConfig): string {
  return config.address ?? `127.0.0.1:${config.devServerPort}`;
}

/** A PEM value given inline or as a path to a file holding it. */
function pem(value: string | undefined): Buffer | undefined {
  if (!value) return undefined;
  return Buffer.from(value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8'));
}

export function connectionOptions(config: TemporalConfig, address = temporalAddress(config)): ConnectionOptions {
  const options: ConnectionOptions = { address };
  if (config.tls) {
    const cert = pem(config.tls.cert);
    const key = pem(config.tls.key);
    options.tls = {
      serverNameOverride: config.tls.serverName,
      serverRootCACertificate: pem(config.tls.ca),
      clientCertPair: cert && key ? { crt: cert, key } : undefined,
    };
  }
  if (config.apiKey) options.apiKey = config.apiKey;
  return options;
}

/** A client whose connection is made on first use: a process that must start while Temporal is down (the
 * receivers, which then report themselves unready and answer 503) uses it. */
export function lazyClient(config: TemporalConfig): Client {
  return new Client({ connection: Connection.lazy(connectionOptions(config)), namespace: config.namespace });
}

/** Connects and returns a client of the configured namespace; `connectTimeoutMs` bounds the first connection
 * (the CLI passes TEMPORAL_CONNECT_TIMEOUT to fail fast; long-running processes keep the SDK's default). */
export async function connectClient(config: TemporalConfig, address?: string, connectTimeoutMs?: number): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(config, address), ...(connectTimeoutMs ? { connectTimeout: connectTimeoutMs } : {}) });
  return new Client({ connection, namespace: config.namespace });
}

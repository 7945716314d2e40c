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

export async function connectClient(config: TemporalConfig, address?: string): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config, address));
  return new Client({ connection, namespace: config.namespace });
}

/**
 * The connection every client-side caller shares (receivers, CLI, schedules, activities that talk to other
 * workflows, tests, benchmarks). Works against the local dev server, a self-hosted cluster (mTLS) or Temporal Cloud
 * (mTLS or API key). The Rust core's NativeConnection (the worker's, and the receivers' when
 * RECEIVER_TEMPORAL_CONNECTION=native) takes the same settings (nativeConnectionOptions).
 */
import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { TemporalConfig } from '../platform/config';
import { LazyNativeConnection } from './native-connection';

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

/** The same settings for the Rust core's NativeConnection (the worker's connection, and the receivers'). */
export function nativeConnectionOptions(config: TemporalConfig, address = temporalAddress(config)): NativeConnectionOptions {
  const { tls } = connectionOptions(config, address);
  return { address, tls: tls ?? undefined, apiKey: config.apiKey };
}

/** A client whose connection is made on first use: a process that must start while Temporal is down (the
 * receivers, which then report themselves unready and answer 503) uses it. `native`: through the Rust core
 * (client/native-connection.ts) instead of grpc-js. */
export function lazyClient(config: TemporalConfig, kind: 'grpc-js' | 'native' = 'grpc-js'): Client {
  const connection = kind === 'native' ? new LazyNativeConnection(nativeConnectionOptions(config)) : Connection.lazy(connectionOptions(config));
  return new Client({ connection, namespace: config.namespace });
}

/** Connects and returns a client of the configured namespace; `connectTimeoutMs` bounds the first connection
 * (the CLI passes TEMPORAL_CONNECT_TIMEOUT to fail fast; long-running processes keep the SDK's default). */
export async function connectClient(config: TemporalConfig, address?: string, connectTimeoutMs?: number): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(config, address), ...(connectTimeoutMs ? { connectTimeout: connectTimeoutMs } : {}) });
  return new Client({ connection, namespace: config.namespace });
}

/**
 * The ingest benchmark's floor receiver (bench/lifecycle-ingest.ts): the least an HTTP receiver of lifecycle events
 * can do and still answer 2xx only once Temporal has the event — node:http, read the body, JSON.parse, the same
 * parse and identity as `tollgate receivers` (LifecyclePayloadSchema, toInstallationEvent) and the same
 * signal-with-start (client/installations.ts). No signature check, no express, no flood guard, no ack deadline, no
 * logging, no metrics: not a product, a measuring stick. What `tollgate receivers` costs beyond this is the price of
 * its guarantees; what this costs is the price of HTTP + the Temporal call on this machine.
 *
 * INGEST_FLOOR_CONNECTION: `grpc-js` (the client's Connection, as the receivers use) or `native` (the Rust core's
 * NativeConnection, as the worker uses). Run by the benchmark as its own process, with a test stack's environment
 * and RECEIVER_PORT; prints `floor receiver listening` when it listens and stops on SIGTERM.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Client, Connection, type ConnectionLike } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { signalInstallation } from '../client/installations';
import { loadConfig } from '../platform/config';
import { LifecyclePayloadSchema, toInstallationEvent } from '../receivers/lifecycle-event';
import { temporalAddress } from '../client/connection';

async function connect(kind: string, address: string): Promise<ConnectionLike> {
  if (kind === 'native') return NativeConnection.connect({ address });
  if (kind === 'grpc-js') return Connection.connect({ address });
  throw new Error(`INGEST_FLOOR_CONNECTION must be grpc-js or native, not ${JSON.stringify(kind)}`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await connect(process.env.INGEST_FLOOR_CONNECTION ?? 'grpc-js', temporalAddress(config.temporal));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const taskQueue = config.temporal.taskQueue;

  const server = createServer((req, res) => {
    readBody(req)
      .then(async (raw) => {
        const event = toInstallationEvent(LifecyclePayloadSchema.parse(JSON.parse(raw.toString('utf8'))), new Date());
        await signalInstallation(client, taskQueue, event);
        answer(res, 202, JSON.stringify({ status: 'queued', identity: event.identity }));
      })
      .catch((error: unknown) => answer(res, 503, JSON.stringify({ status: 'unavailable', reason: String(error) })));
  });
  server.listen(Number(process.env.RECEIVER_PORT), '127.0.0.1', () => process.stdout.write('floor receiver listening\n'));
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void connection.close().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});

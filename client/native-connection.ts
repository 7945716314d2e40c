/**
 * A client connection through the Temporal SDK's Rust core (NativeConnection, the worker's connection), made on
 * first use and made again after a failed attempt — for the receivers with RECEIVER_TEMPORAL_CONNECTION=native:
 * they must start, and answer 503, while Temporal is down (issue 12), and their one job per webhook is a Temporal
 * call, which through the core costs less CPU than through grpc-js (issue 14; side by side in
 * `bench/results/lifecycle-ingest.md`). The price: each call crosses to the core's threads and back, which on a
 * saturated machine adds latency (`bench/results/lifecycle-storm.md`); grpc-js stays the default.
 *
 * NativeConnection itself only connects eagerly (its `connect` fails when the server refuses). This wraps it: the
 * services encode requests as usual and hand them to the connection once it exists; the call context (deadline,
 * metadata, abort signal) set with withDeadline / withMetadata / withAbortSignal is carried over to it. A refused
 * connection fails the call at once with the core's TransportError; the next call tries again; once connected, the
 * core reconnects by itself after a server restart.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  OperatorService,
  WorkflowService,
  type CallContext,
  type ConnectionLike,
  type ConnectionPlugin,
  type Metadata,
} from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';

export class ConnectionClosedError extends Error {
  constructor() {
    super('the Temporal connection is closed');
    this.name = 'ConnectionClosedError';
  }
}

/** The call's deadline passed (name `TimeoutError`) or its signal aborted it (`AbortError`) before a connection
 * was made: Temporal did not get the call. */
export class ConnectTimeoutError extends Error {
  constructor(message: string, name: 'TimeoutError' | 'AbortError' = 'TimeoutError') {
    super(message);
    this.name = name;
  }
}

type Service = 'workflowService' | 'operatorService';
/** protobufjs's RPC implementation: (method, encoded request, callback). */
type RpcImpl = Parameters<typeof WorkflowService.create>[0];

export class LazyNativeConnection implements ConnectionLike {
  readonly workflowService: WorkflowService;
  readonly operatorService: OperatorService;
  readonly plugins: ConnectionPlugin[] = [];
  private readonly context = new AsyncLocalStorage<CallContext>();
  private connecting?: Promise<NativeConnection>;
  private connected?: NativeConnection;
  private closed = false;

  constructor(
    private readonly options: NativeConnectionOptions,
    private readonly connect: (options: NativeConnectionOptions) => Promise<NativeConnection> = (o) => NativeConnection.connect(o),
  ) {
    this.workflowService = WorkflowService.create(this.rpc('workflowService'), false, false);
    this.operatorService = OperatorService.create(this.rpc('operatorService'), false, false);
  }

  /** The connection, made now if there is none; a failed attempt is forgotten so the next call tries again. */
  private connection(): Promise<NativeConnection> {
    if (this.closed) return Promise.reject(new ConnectionClosedError());
    if (!this.connecting) {
      const attempt = this.connect(this.options);
      this.connecting = attempt;
      attempt.then(
        (connection) => {
          if (this.connecting === attempt) this.connected = connection;
        },
        () => {
          if (this.connecting === attempt) this.connecting = undefined;
        },
      );
    }
    return this.connecting;
  }

  /**
   * The connection within the call's deadline and abort signal: a server that accepts TCP and never answers must
   * not hold a call (and whoever waits for it) past its deadline while the connection is being made.
   */
  private connectionWithin(context: CallContext): Promise<NativeConnection> {
    const connection = this.connection();
    const { deadline, abortSignal } = context;
    if (deadline === undefined && abortSignal === undefined) return connection;
    return new Promise<NativeConnection>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => finish(() => reject(abortSignal?.reason ?? new ConnectTimeoutError('the call was cancelled', 'AbortError')));
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        abortSignal?.removeEventListener('abort', onAbort);
        settle();
      };
      if (abortSignal?.aborted) return onAbort();
      abortSignal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== undefined) {
        const ms = Math.max(0, new Date(deadline).getTime() - Date.now());
        timer = setTimeout(() => finish(() => reject(new ConnectTimeoutError(`no connection to Temporal within the call's deadline (${ms} ms)`))), ms);
      }
      connection.then(
        (value) => finish(() => resolve(value)),
        (error: unknown) => finish(() => reject(error)),
      );
    });
  }

  /** protobufjs's rpcImpl: the request is encoded here and sent by the native connection's own service. */
  private rpc(service: Service): RpcImpl {
    return (method, requestData, callback) => {
      const context = this.context.getStore() ?? {};
      this.connectionWithin(context).then(
        (connection) => {
          const send = connection[service].rpcImpl as RpcImpl;
          connection.callContextStorage.run(context, () => send(method, requestData, callback));
        },
        (error: Error) => callback(error, null),
      );
    };
  }

  async ensureConnected(): Promise<void> {
    await this.connection();
  }

  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R> {
    return this.context.run({ ...this.context.getStore(), deadline }, fn);
  }

  withMetadata<R>(metadata: Metadata, fn: () => Promise<R>): Promise<R> {
    const current = this.context.getStore();
    return this.context.run({ ...current, metadata: { ...current?.metadata, ...metadata } }, fn);
  }

  withAbortSignal<R>(abortSignal: AbortSignal, fn: () => Promise<R>): Promise<R> {
    return this.context.run({ ...this.context.getStore(), abortSignal }, fn);
  }

  /** Closes the connection if one was made; later calls fail with ConnectionClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connecting = this.connecting;
    this.connecting = undefined;
    if (this.connected) {
      await this.connected.close();
      this.connected = undefined;
    } else if (connecting) {
      // A connection still being made (a server that accepts and never answers) is closed once it is made, not
      // waited for here: close() must not hang on the server it is leaving.
      void connecting.then(
        (connection) => connection.close(),
        () => undefined,
      );
    }
  }
}

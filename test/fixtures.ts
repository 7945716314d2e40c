/**
 * Per-file fixtures: each one registers its own `beforeAll` / `afterAll` in the file that calls it and hands back a
 * reference that works once the file's set-up ran, so that a test file says what it needs in one line:
 *
 *   const stack = useTestStack();                     // emulator + worker + receivers (test/harness/stack.ts)
 *   const { stack, pool } = useLifecycleStack();      // the same, plus a PostgreSQL pool on the test database
 *   const { emulator, client } = useEmulator();       // the Genesys Cloud emulator alone, with its test client
 *
 * The references are live views: reading them before `beforeAll` ran throws a message that says so.
 */
import type { Pool } from 'pg';
import { startEmulator, type RunningEmulator } from '../emulator';
import { emulatorClient, type EmulatorClient } from '../emulator/testing';
import { startTestStack, type StackOptions, type TestStack } from './harness/stack';
import { openPool } from './lifecycle-support';

/** A stand-in for a value made in `beforeAll`: property reads go to the value once it exists. */
function live<T extends object>(name: string, current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_target, property) {
      const value = current();
      if (value === undefined) throw new Error(`${name} is used before its beforeAll ran`);
      const member = Reflect.get(value, property, value) as unknown;
      return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(value) : member;
    },
    set(_target, property, newValue) {
      const value = current();
      if (value === undefined) throw new Error(`${name} is used before its beforeAll ran`);
      return Reflect.set(value, property, newValue, value);
    },
    has(_target, property) {
      const value = current();
      return value !== undefined && property in value;
    },
  });
}

/** A whole test stack for this file (test/harness/stack.ts), closed after the file's tests. */
export function useTestStack(options: StackOptions = {}): TestStack {
  let stack: TestStack | undefined;
  beforeAll(async () => {
    stack = await startTestStack(options);
  });
  afterAll(async () => {
    await stack?.close();
  });
  return live('the test stack', () => stack);
}

/** A test stack and a small pool on its PostgreSQL, for the lifecycle tests that look at tenant schemas. */
export function useLifecycleStack(options: StackOptions & { beforeClose?: (stack: TestStack) => Promise<void> } = {}): { stack: TestStack; pool: Pool } {
  let stack: TestStack | undefined;
  let pool: Pool | undefined;
  beforeAll(async () => {
    stack = await startTestStack(options);
    pool = openPool(stack);
  });
  afterAll(async () => {
    if (stack && options.beforeClose) await options.beforeClose(stack);
    await pool?.end();
    await stack?.close();
  });
  return { stack: live('the test stack', () => stack), pool: live('the test database pool', () => pool) };
}

/** The Genesys Cloud emulator alone on an ephemeral port, with the test client for its APIs. */
export function useEmulator(settings?: Record<string, unknown>): { emulator: RunningEmulator; client: EmulatorClient } {
  let emulator: RunningEmulator | undefined;
  let client: EmulatorClient | undefined;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, ...(settings ? { settings } : {}) });
    client = emulatorClient(emulator.url);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  return { emulator: live('the emulator', () => emulator), client: live('the emulator client', () => client) };
}

/** The Genesys Cloud emulator: a separate program that shares no code with Tollgate (see docs/emulator.md). */
export { startEmulator, type RunningEmulator, type StartEmulatorOptions } from './server';
export type { EmulatorSettings, RetryPolicy } from './settings';
export { emulatorOptionsFromEnv, runEmulator } from './main';

/**
 * The emulator's state on disk (`EMULATOR_STATE_FILE`; `tollgate dev` uses `.tollgate/emulator-state.json`), so a
 * restarted sandbox is consistent with the Temporal and PostgreSQL it kept (issue 9: an emulator that came back
 * empty made the next reconciliation see "0 installed" and tear every tenant down).
 *
 * Kept: configuration objects and version rules, the real platform's objects (Architect, routing, data tables and
 * rows, users), installations and their event counters, integration tokens, middleware tenants, CRM connections, archives, alerts and Jira's issues (a restarted sandbox's tickets are still
 * there for the delivery cursor that PostgreSQL kept). Not kept: OAuth access tokens (clients fetch new
 * ones after a 401), webhook subscriptions and lifecycle webhook definitions (wiring that `tollgate dev`
 * re-establishes at every start, and that holds signing secrets), faults and pending deliveries. Written after
 * every request that may have changed something (debounced, 200 ms), atomically (temporary file + rename), mode 0600.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { EmulatorState } from './state';

const FORMAT_VERSION = 1;

const Entries = z.array(z.tuple([z.string(), z.any()]));

/** The file's shape; records inside are the emulator's own, written by this module. */
const StateFileSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  savedAt: z.string(),
  objects: Entries,
  versionRules: Entries,
  changeSeq: z.number(),
  integrationTokens: z.array(z.any()),
  installations: Entries,
  eventSequences: Entries,
  tenants: Entries,
  tenantCreateCounts: Entries,
  crmConnections: Entries,
  archives: z.array(z.any()),
  alerts: z.array(z.any()),
  /** Jira's issues (absent from files written before the emulator played Jira). */
  jira: z.any().optional(),
  /** The real platform's objects (Architect, routing, data tables and rows, users) and per-type conflict answers. */
  platform: z.object({ objects: Entries, datatables: Entries, conflictVariants: Entries }).optional(),
});

export class EmulatorStateFileError extends Error {
  constructor(path: string, reason: string) {
    super(`the emulator state file ${path} cannot be read: ${reason} (move it away to start empty)`);
    this.name = 'EmulatorStateFileError';
  }
}

/** The state saved at `path`, or a fresh one when there is no file yet. A file that exists but cannot be read
 * stops the start: starting empty beside a Temporal and PostgreSQL that remember installations is the harm this
 * file exists to prevent. */
export function loadEmulatorState(path: string): EmulatorState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return new EmulatorState();
    throw new EmulatorStateFileError(path, (error as Error).message);
  }
  let parsed: z.infer<typeof StateFileSchema>;
  try {
    parsed = StateFileSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new EmulatorStateFileError(path, error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message);
  }
  const state = new EmulatorState();
  const fill = <V>(target: Map<string, V>, entries: Array<[string, unknown]>) => {
    for (const [key, value] of entries) target.set(key, value as V);
  };
  fill(state.objects, parsed.objects);
  fill(state.versionRules, parsed.versionRules);
  state.changeSeq = parsed.changeSeq;
  state.integrationTokens.push(...parsed.integrationTokens);
  fill(state.installations, parsed.installations);
  fill(state.eventSequences, parsed.eventSequences);
  fill(state.tenants, parsed.tenants);
  fill(state.tenantCreateCounts, parsed.tenantCreateCounts);
  fill(state.crmConnections, parsed.crmConnections);
  state.archives.push(...parsed.archives);
  state.alerts.push(...parsed.alerts);
  if (parsed.jira) Object.assign(state.jira, parsed.jira);
  if (parsed.platform) {
    fill(state.platform.objects, parsed.platform.objects);
    fill(state.platform.datatables, parsed.platform.datatables);
    fill(state.platform.conflictVariants, parsed.platform.conflictVariants);
  }
  return state;
}

export function saveEmulatorState(state: EmulatorState, path: string): void {
  const file: z.infer<typeof StateFileSchema> = {
    formatVersion: FORMAT_VERSION,
    savedAt: new Date().toISOString(),
    objects: [...state.objects],
    versionRules: [...state.versionRules],
    changeSeq: state.changeSeq,
    integrationTokens: state.integrationTokens,
    installations: [...state.installations],
    eventSequences: [...state.eventSequences],
    tenants: [...state.tenants],
    tenantCreateCounts: [...state.tenantCreateCounts],
    crmConnections: [...state.crmConnections],
    archives: state.archives,
    alerts: state.alerts,
    jira: state.jira,
    platform: {
      objects: [...state.platform.objects],
      datatables: [...state.platform.datatables],
      conflictVariants: [...state.platform.conflictVariants],
    },
  };
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(file), { mode: 0o600 });
  renameSync(temporary, path);
}

/** Saves shortly after changes (many requests in a burst make one write) and once more on close. */
export class StateSaver {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly current: () => EmulatorState,
    private readonly logger: Logger,
    private readonly delayMs = 200,
  ) {}

  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save();
    }, this.delayMs);
  }

  /** Writes now, cancelling a pending write. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.save();
  }

  private save(): void {
    try {
      saveEmulatorState(this.current(), this.path);
    } catch (error) {
      this.logger.error({ err: error, path: this.path }, 'the emulator state could not be saved');
    }
  }
}

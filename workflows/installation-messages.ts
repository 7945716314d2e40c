/**
 * The installation workflow's vocabulary: what an event looks like once the receiver (or reconciliation) has
 * verified and identified it, the signal that carries it, and the queries operators and the CLI use.
 * Both the workflow and its clients (client/installations.ts, reconciliation, tests) import these; nobody uses
 * string names. Its ID: workflows/workflow-ids.ts.
 *
 * No secrets travel here: the CRM client secret stays with the worker that runs the CRM activity.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const LIFECYCLE_EVENTS = ['installed', 'uninstalled', 'enabled', 'disabled', 'configuration_updated'] as const;
export type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

export const INSTALLATION_STATES = [
  'pending_install',
  'provisioning',
  'active',
  'disabled',
  'deprovisioning',
  'deprovisioned',
  'provisioning_rolled_back',
  'deprovisioning_failed',
] as const;
export type InstallationStateName = (typeof INSTALLATION_STATES)[number];

/** Where an event came from: a signed webhook, or a synthetic repair sent by reconciliation. */
export type EventSource = 'webhook' | 'reconciliation' | 'client';

/** One lifecycle event, as the installation workflow receives it. */
export interface InstallationEvent {
  /** `eventId` when Genesys sent one, else a hash of the event's stable core (lifecycle seed, Edge Case 3);
   * `reconcile:<runId>:<org>:<event>` for reconciliation's synthetic events. */
  identity: string;
  event: LifecycleEventName;
  orgId: string;
  integrationId: string;
  tenantId: string;
  configuration: Record<string, unknown>;
  /** The sender's timestamp (ISO 8601). Orders events that carry no sequence. */
  eventTimestamp: string;
  /** `metadata.sequence`: Genesys' per-installation counter, stable across retries. Orders events when present. */
  sequence?: number;
  receivedAt: string;
  source: EventSource;
}

/** What an event led to, as recorded in `lastEvents`. */
export type EventOutcome =
  | 'queued'
  | 'applied'
  | 'duplicate'
  | 'ignored_stale'
  | 'recorded'
  | 'rolled_back'
  | 'failed';

export interface EventRecord {
  identity: string;
  event: LifecycleEventName;
  source: EventSource;
  sequence?: number;
  eventTimestamp: string;
  receivedAt: string;
  outcome: EventOutcome;
  detail?: string;
}

/** Which of the installation's resources exist, as far as the workflow knows. */
export interface InstallationResources {
  tenant: boolean;
  schema: boolean;
  crm: boolean;
  /** The PostgreSQL schema name derived from the tenant ID (set once the schema step ran). */
  schemaName?: string;
}

export interface CompensationRecord {
  step: string;
  /** `refused`: the resource belongs to another installation and was left alone. */
  outcome: 'done' | 'failed' | 'refused';
  at: string;
  error?: string;
}

/** The position of an event in its installation's history: `sequence` when both sides have one, else time. */
export interface OrderKey {
  sequence?: number;
  eventTimestamp: string;
}

export interface Tombstone extends OrderKey {
  identity: string;
}

export interface InstallationView {
  orgId: string;
  integrationId: string;
  state: InstallationStateName;
  /** How many real installs this installation has seen (each starts a generation); 0 before the first. */
  generation: number;
  tenantId?: string;
  enabled: boolean;
  configuration: Record<string, unknown>;
  resources: InstallationResources;
  compensationsRun: CompensationRecord[];
  lastEvents: EventRecord[];
  tombstone?: Tombstone;
  lastError?: { step: string; message: string; at: string };
  pendingEvents: number;
  seenIdentities: number;
  eventsProcessed: number;
}

/** Everything that survives continue-as-new. */
export interface InstallationSnapshot {
  orgId: string;
  integrationId: string;
  state: InstallationStateName;
  /** Absent in snapshots taken before generations existed: 0. */
  generation?: number;
  tenantId?: string;
  enabled: boolean;
  configuration: Record<string, unknown>;
  configurationOrder?: OrderKey;
  enabledOrder?: OrderKey;
  installOrder?: OrderKey;
  resources: InstallationResources;
  compensationsRun: CompensationRecord[];
  lastEvents: EventRecord[];
  tombstone?: Tombstone;
  lastError?: { step: string; message: string; at: string };
  /** Identities already seen, oldest first (bounded). */
  seen: string[];
  /** The inventory revision last written (absent before the inventory existed: 0). */
  revision?: number;
  /** Events received but not yet applied. */
  queue: InstallationEvent[];
  eventsProcessed: number;
}

/**
 * One installation's row in the durable inventory (`tollgate.installations`): enough for a fresh run to continue
 * without resurrecting anything (generation, tombstone, order keys) or orphaning anything (tenant, resources).
 */
export interface InstallationRecord {
  orgId: string;
  integrationId: string;
  generation: number;
  state: InstallationStateName;
  tenantId?: string;
  enabled: boolean;
  configuration: Record<string, unknown>;
  resources: InstallationResources;
  tombstone?: Tombstone;
  installOrder?: OrderKey;
  enabledOrder?: OrderKey;
  configurationOrder?: OrderKey;
  /** The most recent identities seen (bounded); older duplicates are stale by their order key anyway. */
  recentIdentities: string[];
  lastError?: { step: string; message: string; at: string };
  /** Grows with every write of this installation; a write with a lower revision changes nothing. */
  revision: number;
}

export interface InstallationWorkflowInput {
  orgId: string;
  integrationId: string;
  /** State carried over by continue-as-new. */
  snapshot?: InstallationSnapshot;
  /** How many identities to remember (default 1000). */
  seenLimit?: number;
  /** Continue-as-new after this many applied events in one run (besides Temporal's own suggestion). Tests set it
   * low to prove that the seen identities survive continue-as-new. */
  continueAsNewAfterEvents?: number;
}

export const lifecycleEventSignal = defineSignal<[InstallationEvent]>('lifecycleEvent');
/** The whole picture: state, tenant, resources, compensations run, last events, tombstone. */
export const installationStateQuery = defineQuery<InstallationView>('state');
export const installationResourcesQuery = defineQuery<InstallationResources>('resources');
export const compensationsRunQuery = defineQuery<CompensationRecord[]>('compensationsRun');
export const lastEventsQuery = defineQuery<EventRecord[]>('lastEvents');

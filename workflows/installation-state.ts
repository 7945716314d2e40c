/**
 * One installation's state and the pure rules that decide what an event does to it. No I/O, no Temporal APIs:
 * the workflow feeds events in, executes the decision (activities), and reports back. Unit-tested on its own.
 *
 * The rules, and the seed traps behind them:
 * - Identity dedupe: an event whose identity was seen (bounded FIFO that survives continue-as-new) has no effect
 *   (Edge Case 3: retries with injected retryCount and drifting eventTimestamp hash to the same identity).
 * - Idempotency is event-granular, never resource-granular ("idempotency keyed on integrationId" trap): install,
 *   enable and configuration updates of one integration are distinct events, none dropped.
 * - Events are not strictly ordered (uninstall-before-install trap): each event has an order key (Genesys'
 *   per-installation `sequence` when present, else its timestamp). An uninstall leaves a tombstone; an install
 *   not newer than the tombstone is stale and cannot resurrect the tenant, while a later real re-install provisions
 *   again. Symmetrically an uninstall not newer than the last applied install is stale. Configuration and
 *   enable/disable carry full values, so an older one arriving after a newer one is ignored rather than regressing.
 * - Generations (issue 9): each real install starts a new generation. Enable/disable and configuration updates
 *   older than the generation's install (or than the tombstone) belong to an earlier generation and are stale for
 *   this one; the enabled flag and the configuration start fresh with each install. Whatever order events arrive
 *   in, the result is the meaning of the latest real events by order key (the property test in
 *   lifecycle-generations.test.ts checks this over random shuffled histories).
 */
import type {
  CompensationRecord,
  EventOutcome,
  EventRecord,
  InstallationEvent,
  InstallationRecord,
  InstallationResources,
  InstallationSnapshot,
  InstallationStateName,
  InstallationView,
  OrderKey,
  Tombstone,
} from './installation-messages';

export const DEFAULT_SEEN_LIMIT = 1000;
/** How many of the most recent identities the inventory keeps. */
const RECORDED_IDENTITIES = 100;
const LAST_EVENTS_LIMIT = 50;
const COMPENSATIONS_LIMIT = 50;

/** What the workflow must do for one event. */
export type Decision =
  | { kind: 'provision'; tenantId: string; configuration: Record<string, unknown>; enabled: boolean }
  | { kind: 'teardown'; tenantId?: string }
  | { kind: 'setEnabled'; tenantId: string; enabled: boolean }
  | { kind: 'updateConfiguration'; tenantId: string; configuration: Record<string, unknown>; crmChanged: boolean }
  | {
      kind: 'reinstall';
      tenantId: string;
      configuration: Record<string, unknown>;
      enabled: boolean;
      crmChanged: boolean;
      /** The tenant the install named, when it is not the one this installation keeps. */
      namedTenantId?: string;
    }
  | { kind: 'none'; outcome: EventOutcome; detail: string };

/** Negative when `a` is older than `b`. Sequences compare when both events have one (they are Genesys' own
 * per-installation counter); otherwise timestamps do (reconciliation's synthetic events carry its clock). */
export function compareOrder(a: OrderKey, b: OrderKey): number {
  if (a.sequence !== undefined && b.sequence !== undefined) return a.sequence - b.sequence;
  const ta = Date.parse(a.eventTimestamp);
  const tb = Date.parse(b.eventTimestamp);
  return (Number.isNaN(ta) ? 0 : ta) - (Number.isNaN(tb) ? 0 : tb);
}

function orderOf(event: InstallationEvent): OrderKey {
  return event.sequence === undefined
    ? { eventTimestamp: event.eventTimestamp }
    : { sequence: event.sequence, eventTimestamp: event.eventTimestamp };
}

function isNewer(event: InstallationEvent, than: OrderKey | undefined): boolean {
  return than === undefined || compareOrder(orderOf(event), than) > 0;
}

const PROVISIONED: readonly InstallationStateName[] = ['active', 'disabled'];

export class InstallationState {
  readonly orgId: string;
  readonly integrationId: string;
  state: InstallationStateName = 'pending_install';
  /** How many real installs this installation has seen; 0 before the first. */
  generation = 0;
  tenantId?: string;
  enabled = true;
  configuration: Record<string, unknown> = {};
  resources: InstallationResources = { tenant: false, schema: false, crm: false };
  compensationsRun: CompensationRecord[] = [];
  lastEvents: EventRecord[] = [];
  tombstone?: Tombstone;
  lastError?: { step: string; message: string; at: string };
  eventsProcessed = 0;
  /** The inventory revision last written. */
  revision = 0;
  private configurationOrder?: OrderKey;
  private enabledOrder?: OrderKey;
  private installOrder?: OrderKey;
  private readonly seenOrder: string[] = [];
  private readonly seen = new Set<string>();
  private readonly queue: InstallationEvent[] = [];

  constructor(
    orgId: string,
    integrationId: string,
    private readonly seenLimit = DEFAULT_SEEN_LIMIT,
    snapshot?: InstallationSnapshot,
  ) {
    this.orgId = orgId;
    this.integrationId = integrationId;
    if (snapshot) this.restore(snapshot);
  }

  /** A signal arrived: remember its identity and queue it, or recognise it as a duplicate. */
  receive(event: InstallationEvent): 'queued' | 'duplicate' {
    if (this.seen.has(event.identity)) {
      this.record(event, 'duplicate', 'identity already seen');
      return 'duplicate';
    }
    this.remember(event.identity);
    this.queue.push(event);
    return 'queued';
  }

  hasPending(): boolean {
    return this.queue.length > 0;
  }

  /** The next event to apply, oldest received first (one at a time). */
  nextEvent(): InstallationEvent | undefined {
    return this.queue.shift();
  }

  hasSeen(identity: string): boolean {
    return this.seen.has(identity);
  }

  /** Decides what the event does and books its order key. The workflow executes the decision, then reports. */
  decide(event: InstallationEvent): Decision {
    switch (event.event) {
      case 'installed':
        return this.decideInstall(event);
      case 'uninstalled':
        return this.decideUninstall(event);
      case 'enabled':
      case 'disabled':
        return this.decideToggle(event, event.event === 'enabled');
      case 'configuration_updated':
        return this.decideConfiguration(event);
    }
  }

  /**
   * Each real install starts a new generation (issue 9). An install not newer than the tombstone or than the
   * current generation's install is stale. The generation's enabled flag and configuration start fresh from the
   * install — unless an enable/disable or configuration update newer than this install is already known (it
   * overtook its install in delivery and belongs to this generation).
   */
  private decideInstall(event: InstallationEvent): Decision {
    if (this.tombstone && compareOrder(orderOf(event), this.tombstone) <= 0) {
      return { kind: 'none', outcome: 'ignored_stale', detail: `older than the uninstall ${this.tombstone.identity}` };
    }
    if (!isNewer(event, this.installOrder)) {
      return { kind: 'none', outcome: 'ignored_stale', detail: 'older than the install of the current generation' };
    }
    this.generation += 1;
    this.installOrder = orderOf(event);
    if (isNewer(event, this.enabledOrder)) {
      this.enabled = true;
      this.enabledOrder = orderOf(event);
    }
    const previousCrm = this.configuration.crmEndpoint;
    if (isNewer(event, this.configurationOrder)) {
      this.configuration = event.configuration;
      this.configurationOrder = orderOf(event);
    }
    if (PROVISIONED.includes(this.state) && this.tenantId) {
      // A re-install over a working tenant (its uninstall was lost, or Genesys re-sent installed): never re-run the
      // saga over it (its rollback would delete it); apply the new generation's configuration, enabled flag and
      // CRM endpoint to the tenant this installation already has.
      return {
        kind: 'reinstall',
        tenantId: this.tenantId,
        configuration: this.configuration,
        enabled: this.enabled,
        crmChanged: previousCrm !== this.configuration.crmEndpoint,
        ...(event.tenantId === this.tenantId ? {} : { namedTenantId: event.tenantId }),
      };
    }
    // After a teardown that failed half-way, this installation's tenant may still exist: re-provision that one
    // (every step accepts what is already its own) rather than orphan it for the tenant the event names.
    const tenantId = this.state === 'deprovisioning_failed' && this.tenantId ? this.tenantId : event.tenantId;
    this.tenantId = tenantId;
    return { kind: 'provision', tenantId, configuration: this.configuration, enabled: this.enabled };
  }

  private decideUninstall(event: InstallationEvent): Decision {
    if (this.installOrder && compareOrder(orderOf(event), this.installOrder) <= 0) {
      return { kind: 'none', outcome: 'ignored_stale', detail: 'older than the install of the current generation' };
    }
    if (!this.tombstone || compareOrder(orderOf(event), this.tombstone) > 0) {
      this.tombstone = { ...orderOf(event), identity: event.identity };
    }
    if (this.state === 'deprovisioned') {
      return { kind: 'none', outcome: 'applied', detail: 'already deprovisioned' };
    }
    // Also from pending_install (uninstall before install): the Genesys tokens issued at install time are revoked
    // all the same. Only this installation's own tenant is torn down — never the tenant ID the payload names.
    return { kind: 'teardown', ...(this.tenantId ? { tenantId: this.tenantId } : {}) };
  }

  /** Why an enable/disable or configuration update does not belong to the current (or next) generation, if so. */
  private staleForGeneration(event: InstallationEvent): string | undefined {
    if (!isNewer(event, this.installOrder)) return 'older than the install of the current generation';
    if (!isNewer(event, this.tombstone)) return `older than the uninstall ${this.tombstone?.identity}`;
    return undefined;
  }

  private decideToggle(event: InstallationEvent, enabled: boolean): Decision {
    const stale = this.staleForGeneration(event) ?? (isNewer(event, this.enabledOrder) ? undefined : 'older than the last enable/disable');
    if (stale) return { kind: 'none', outcome: 'ignored_stale', detail: stale };
    this.enabledOrder = orderOf(event);
    this.enabled = enabled;
    if (PROVISIONED.includes(this.state) && this.tenantId) return { kind: 'setEnabled', tenantId: this.tenantId, enabled };
    return { kind: 'none', outcome: 'recorded', detail: `no tenant in state ${this.state}; applied at the next provisioning` };
  }

  private decideConfiguration(event: InstallationEvent): Decision {
    const stale =
      this.staleForGeneration(event) ?? (isNewer(event, this.configurationOrder) ? undefined : 'older than the configuration already applied');
    if (stale) return { kind: 'none', outcome: 'ignored_stale', detail: stale };
    const crmChanged = this.configuration.crmEndpoint !== event.configuration.crmEndpoint;
    this.configuration = event.configuration;
    this.configurationOrder = orderOf(event);
    if (PROVISIONED.includes(this.state) && this.tenantId) {
      return { kind: 'updateConfiguration', tenantId: this.tenantId, configuration: this.configuration, crmChanged };
    }
    return { kind: 'none', outcome: 'recorded', detail: `no tenant in state ${this.state}; applied at the next provisioning` };
  }

  // --- transitions the workflow reports -------------------------------------------------------------------

  beginProvisioning(tenantId: string): void {
    this.state = 'provisioning';
    this.tenantId = tenantId;
    this.lastError = undefined;
  }

  provisioned(): void {
    this.state = this.enabled ? 'active' : 'disabled';
  }

  rolledBack(step: string, message: string, at: string): void {
    this.state = 'provisioning_rolled_back';
    this.lastError = { step, message, at };
  }

  beginTeardown(): void {
    this.state = 'deprovisioning';
    this.lastError = undefined;
  }

  /** The tenant turned out to be another installation's: this installation never held it. */
  forgetTenant(): void {
    this.tenantId = undefined;
    this.resources = { tenant: false, schema: false, crm: false };
  }

  deprovisioned(): void {
    this.state = 'deprovisioned';
    this.resources = { tenant: false, schema: false, crm: false };
  }

  deprovisioningFailed(step: string, message: string, at: string): void {
    this.state = 'deprovisioning_failed';
    this.lastError = { step, message, at };
  }

  toggled(enabled: boolean): void {
    if (PROVISIONED.includes(this.state)) this.state = enabled ? 'active' : 'disabled';
  }

  failed(step: string, message: string, at: string): void {
    this.lastError = { step, message, at };
  }

  setResource(resource: 'tenant' | 'schema' | 'crm', exists: boolean): void {
    this.resources = { ...this.resources, [resource]: exists };
  }

  setSchemaName(schemaName: string): void {
    this.resources = { ...this.resources, schemaName };
  }

  recordCompensation(entry: CompensationRecord): void {
    this.compensationsRun.push(entry);
    if (this.compensationsRun.length > COMPENSATIONS_LIMIT) this.compensationsRun.splice(0, this.compensationsRun.length - COMPENSATIONS_LIMIT);
  }

  /** Books the outcome of an event in `lastEvents` (bounded, newest last). */
  record(event: InstallationEvent, outcome: EventOutcome, detail?: string): void {
    if (outcome !== 'duplicate' && outcome !== 'queued') this.eventsProcessed += 1;
    this.lastEvents.push({
      identity: event.identity,
      event: event.event,
      source: event.source,
      ...(event.sequence === undefined ? {} : { sequence: event.sequence }),
      eventTimestamp: event.eventTimestamp,
      receivedAt: event.receivedAt,
      outcome,
      ...(detail ? { detail } : {}),
    });
    if (this.lastEvents.length > LAST_EVENTS_LIMIT) this.lastEvents.splice(0, this.lastEvents.length - LAST_EVENTS_LIMIT);
  }

  private remember(identity: string): void {
    this.seen.add(identity);
    this.seenOrder.push(identity);
    while (this.seenOrder.length > this.seenLimit) {
      const oldest = this.seenOrder.shift();
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  view(): InstallationView {
    return {
      orgId: this.orgId,
      integrationId: this.integrationId,
      state: this.state,
      generation: this.generation,
      ...(this.tenantId ? { tenantId: this.tenantId } : {}),
      enabled: this.enabled,
      configuration: this.configuration,
      resources: { ...this.resources },
      compensationsRun: [...this.compensationsRun],
      lastEvents: [...this.lastEvents],
      ...(this.tombstone ? { tombstone: { ...this.tombstone } } : {}),
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
      pendingEvents: this.queue.length,
      seenIdentities: this.seen.size,
      eventsProcessed: this.eventsProcessed,
    };
  }

  snapshot(): InstallationSnapshot {
    return {
      orgId: this.orgId,
      integrationId: this.integrationId,
      state: this.state,
      generation: this.generation,
      tenantId: this.tenantId,
      enabled: this.enabled,
      configuration: this.configuration,
      configurationOrder: this.configurationOrder,
      enabledOrder: this.enabledOrder,
      installOrder: this.installOrder,
      resources: { ...this.resources },
      compensationsRun: [...this.compensationsRun],
      lastEvents: [...this.lastEvents],
      tombstone: this.tombstone,
      lastError: this.lastError,
      seen: [...this.seenOrder],
      queue: [...this.queue],
      eventsProcessed: this.eventsProcessed,
      revision: this.revision,
    };
  }

  /** The inventory row for this state (the revision is the caller's to set). */
  inventoryRecord(): Omit<InstallationRecord, 'revision'> {
    return {
      orgId: this.orgId,
      integrationId: this.integrationId,
      generation: this.generation,
      state: this.state,
      ...(this.tenantId ? { tenantId: this.tenantId } : {}),
      enabled: this.enabled,
      configuration: this.configuration,
      resources: { ...this.resources },
      ...(this.tombstone ? { tombstone: this.tombstone } : {}),
      ...(this.installOrder ? { installOrder: this.installOrder } : {}),
      ...(this.enabledOrder ? { enabledOrder: this.enabledOrder } : {}),
      ...(this.configurationOrder ? { configurationOrder: this.configurationOrder } : {}),
      recentIdentities: this.seenOrder.slice(-RECORDED_IDENTITIES),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * A fresh run (after terminate, reset or a lost history) continues from the inventory: generation, tombstone,
   * order keys, tenant and resources come back, so an old install stays stale and teardown knows what exists.
   * Events already received by this run stay queued. A run that ended mid-step left its resources in an unknown
   * state: `provisioning` becomes `provisioning_rolled_back` and `deprovisioning` becomes `deprovisioning_failed`,
   * both of which reconciliation repairs with idempotent, owner-checked steps. Returns what it restored from.
   */
  restoreFromInventory(record: InstallationRecord, at: string): string {
    this.generation = record.generation;
    this.tenantId = record.tenantId;
    this.enabled = record.enabled;
    this.configuration = record.configuration;
    this.resources = { ...record.resources };
    this.tombstone = record.tombstone;
    this.installOrder = record.installOrder;
    this.enabledOrder = record.enabledOrder;
    this.configurationOrder = record.configurationOrder;
    this.lastError = record.lastError;
    this.revision = record.revision;
    for (const identity of record.recentIdentities) if (!this.seen.has(identity)) this.remember(identity);
    const interrupted = { provisioning: 'provisioning_rolled_back', deprovisioning: 'deprovisioning_failed' } as const;
    if (record.state === 'provisioning' || record.state === 'deprovisioning') {
      this.state = interrupted[record.state];
      this.lastError = { step: 'interrupted', message: `the previous run ended while ${record.state}`, at };
      return `${record.state} (interrupted) → ${this.state}`;
    }
    this.state = record.state;
    return record.state;
  }

  private restore(snapshot: InstallationSnapshot): void {
    this.state = snapshot.state;
    this.generation = snapshot.generation ?? 0;
    this.tenantId = snapshot.tenantId;
    this.enabled = snapshot.enabled;
    this.configuration = snapshot.configuration;
    this.configurationOrder = snapshot.configurationOrder;
    this.enabledOrder = snapshot.enabledOrder;
    this.installOrder = snapshot.installOrder;
    this.resources = { ...snapshot.resources };
    this.compensationsRun = [...snapshot.compensationsRun];
    this.lastEvents = [...snapshot.lastEvents];
    this.tombstone = snapshot.tombstone;
    this.lastError = snapshot.lastError;
    this.eventsProcessed = snapshot.eventsProcessed;
    this.revision = snapshot.revision ?? 0;
    for (const identity of snapshot.seen) this.remember(identity);
    this.queue.push(...snapshot.queue);
  }
}

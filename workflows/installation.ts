/**
 * One long-lived workflow per installation (`installation:<orgId>:<integrationId>`). Lifecycle events arrive by
 * signal-with-start (client/installations.ts) and are applied one at a time, in arrival order, by the loop
 * below; InstallationState decides what each does (duplicates, stale events, tombstone), this file executes it.
 *
 * - install → the provisioning saga: middleware tenant → database schema → CRM connection. Each compensation is
 *   registered before its step runs, so a step that half-succeeded (the request landed, the answer was lost) is
 *   undone too; compensations run in reverse order inside a non-cancellable scope; the state ends
 *   `provisioning_rolled_back` with an alert (lifecycle seed, Edge Case 2).
 * - uninstall → teardown in the seed's order: revoke tokens → disable webhooks and streams (and the CRM
 *   connection) → delete tenant → drop schema → archive audit records. Every step treats "already gone" as done;
 *   a failure ends `deprovisioning_failed` with an alert, and reconciliation retries it.
 * - An uninstall that arrives while the saga runs waits its turn in the queue (events are applied one at a time):
 *   the saga finishes or rolls back, then teardown removes whatever exists. Nothing is left behind, and the
 *   tombstone stops an older install from provisioning again (the "uninstall before install" trap).
 * - enabled / disabled / configuration_updated → PATCH the tenant (and re-point the CRM connection when its
 *   endpoint changed).
 *
 * The workflow never completes on its own: its tombstone and seen identities must outlive the tenant. It
 * continues-as-new when Temporal suggests it (or after `continueAsNewAfterEvents`), carrying state, queue and
 * seen identities.
 *
 * Durable inventory (issue 9): the state is also written to `tollgate.installations` as the workflow moves (before
 * a saga creates anything, before a teardown, after every event that changed something). A fresh run — after an
 * operator terminated or reset the workflow, or its history was lost — starts from that row, so an old install
 * stays stale, a re-install starts the next generation, and teardown still knows the tenant it provisioned.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities/lifecycle';
import { TollgateIntegration, TollgateKind, TollgateOrg, TollgateState, TollgateTenant } from '../platform/search-attributes';
import type { ResourceOwner } from '../activities/provisioning/ownership';
import { describeFailure, OWNERSHIP_FAILURE_TYPES, rootFailure } from './failures';
import {
  compensationsRunQuery,
  installationResourcesQuery,
  installationStateQuery,
  lastEventsQuery,
  lifecycleEventSignal,
  type InstallationEvent,
  type InstallationWorkflowInput,
} from './installation-messages';
import { InstallationState, type Decision } from './installation-state';
import type { LedgerRecord } from './ledger-records';
import { appendToLedger } from './ledger-writer';
import { genesysTaskQueue } from './task-queues';
import { installationCurrentDetails } from './ui-metadata';
import { installationWorkflowId } from './workflow-ids';

/** Saga and update steps: a few quick retries for transient failures; typed non-retryable failures (a refused CRM
 * secret, a tenant owned by someone else) fail at once so that the saga compensates without delay. */
const steps = proxyActivities<LifecycleActivities>({
  // Partner calls time out after 10 s; a worker that dies mid-step is detected after this long.
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 6 },
});

/** Compensations must not give up easily: an abandoned compensation is exactly the orphan the saga prevents. */
const compensations = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/** The durable inventory: a write retries for a while (then the workflow logs and goes on — the next write carries
 * the same state); the read that a fresh run starts from retries until the database answers, because going on
 * without it could let an old install resurrect a tenant. */
const inventoryWrites = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});
const inventoryReads = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const alerts = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** The owner an ownership failure reported (its details), for the alert. */
function ownedByOf(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current; depth++) {
    const details = (current as { details?: unknown[] }).details;
    if (Array.isArray(details) && details[0] && typeof details[0] === 'object' && 'ownedBy' in details[0]) return (details[0] as { ownedBy: unknown }).ownedBy;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export async function installationWorkflow(input: InstallationWorkflowInput): Promise<void> {
  const state = new InstallationState(input.orgId, input.integrationId, input.seenLimit, input.snapshot);
  // Token revocation calls Genesys Cloud: it runs on the rate-limited Genesys queue.
  const genesys = proxyActivities<LifecycleActivities>({
    taskQueue: genesysTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
  });

  // Declared before any handler: a signal buffered before the workflow started is delivered inside setHandler.
  const selfId = workflowInfo().workflowId;
  /** Audit ledger records not yet appended: filled by handlers and steps, flushed by the main loop. */
  const ledgerQueue: LedgerRecord[] = [];
  let duplicatesSeen = 0;
  const flushLedger = async () => {
    await appendToLedger(ledgerQueue.splice(0));
  };

  setHandler(lifecycleEventSignal, (event) => {
    const outcome = state.receive(event);
    if (outcome === 'duplicate') {
      log.info('duplicate lifecycle event ignored', { identity: event.identity, event: event.event });
      duplicatesSeen += 1;
      ledgerQueue.push(receivedRecord(event, 'duplicate', `${workflowInfo().workflowId}:${workflowInfo().runId}:duplicate:${duplicatesSeen}`));
    }
  });
  setHandler(installationStateQuery, () => state.view());
  setHandler(installationResourcesQuery, () => ({ ...state.resources }));
  setHandler(compensationsRunQuery, () => [...state.compensationsRun]);
  setHandler(lastEventsQuery, () => [...state.lastEvents]);

  let published: { state?: string; tenant?: string } = {};
  const publish = () => {
    const updates: SearchAttributeUpdatePair[] = [];
    if (published.state === undefined) {
      updates.push({ key: TollgateKind, value: 'installation' });
      updates.push({ key: TollgateOrg, value: state.orgId });
      updates.push({ key: TollgateIntegration, value: state.integrationId });
    }
    if (published.state !== state.state) updates.push({ key: TollgateState, value: state.state });
    if (state.tenantId && published.tenant !== state.tenantId) updates.push({ key: TollgateTenant, value: state.tenantId });
    if (updates.length > 0) upsertSearchAttributes(updates);
    published = { state: state.state, tenant: state.tenantId };
    // The Temporal UI's current details. The workflow never ends (its tombstone must outlive the tenant), so a state
    // an operator must act on (provisioning_rolled_back, deprovisioning_failed) cannot be a workflow failure: it is
    // the search attribute TollgateState, an alert, and these details, which begin "Action needed".
    setCurrentDetails(installationCurrentDetails(state.view()));
  };
  publish();

  const now = () => new Date().toISOString();

  // A fresh run (not continue-as-new): the first one ever, or one after terminate, reset or a lost history.
  // It continues from the inventory, so the tombstone, generation and tenant of earlier runs still hold.
  if (!input.snapshot) {
    try {
      const record = await inventoryReads.loadInstallationRecord({ orgId: input.orgId, integrationId: input.integrationId });
      if (record) {
        const from = state.restoreFromInventory(record, now());
        log.info('installation restored from the inventory', { state: from, generation: record.generation, tenantId: record.tenantId });
        publish();
      }
    } catch (error) {
      // Only a setup problem (the migration never ran) is non-retryable; without the table there is nothing to restore.
      log.error('the installation inventory could not be read; starting empty', { error: describeFailure(error) });
    }
  }

  let lastPersisted: string | undefined;
  /** Writes the inventory row when the state changed since the last write. */
  async function persist(): Promise<void> {
    const { recentIdentities, ...rest } = state.inventoryRecord();
    const fingerprint = JSON.stringify(rest);
    if (fingerprint === lastPersisted) return;
    state.revision += 1;
    try {
      await inventoryWrites.recordInstallation({ ...rest, recentIdentities, revision: state.revision });
      lastPersisted = fingerprint;
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.error('the installation inventory could not be written', { error: describeFailure(error) });
    }
    // The audit ledger keeps every transition with its resources, beyond Temporal's retention (issue 10).
    ledgerQueue.push({
      key: `${selfId}:transition:${state.revision}`,
      kind: 'lifecycle.transition',
      subject: selfId,
      data: {
        revision: state.revision,
        generation: rest.generation,
        state: rest.state,
        ...(rest.tenantId ? { tenantId: rest.tenantId } : {}),
        enabled: rest.enabled,
        resources: rest.resources,
        ...(rest.lastError ? { lastError: rest.lastError } : {}),
      },
    });
  }

  const owner = (tenantId: string) => ({ tenantId, orgId: state.orgId, integrationId: state.integrationId });
  const installationName = () => `installation ${state.orgId}/${state.integrationId}`;
  const describeOwner = (found: ResourceOwner | undefined) => (found ? `installation ${found.orgId}/${found.integrationId}` : 'another installation');
  const describeOwners = (refused: Array<{ step: string; ownedBy?: ResourceOwner }>) =>
    [...new Set(refused.map((r) => describeOwner(r.ownedBy)))].join(', ');
  const alert = async (kind: string, summary: string, details: Record<string, unknown>) => {
    try {
      await alerts.raiseLifecycleAlert({ kind, summary, details: { orgId: state.orgId, integrationId: state.integrationId, ...details } });
    } catch (error) {
      log.error('alert could not be sent', { kind, error: describeFailure(error) });
    }
  };

  async function provision(event: InstallationEvent, decision: Extract<Decision, { kind: 'provision' }>): Promise<void> {
    const { tenantId, configuration } = decision;
    state.beginProvisioning(tenantId);
    publish();
    // Recorded before the tenant is created: a run that ends mid-saga leaves an inventory that names it.
    await persist();
    const undo: Array<{ step: string; resource?: 'tenant' | 'schema' | 'crm'; run: () => Promise<{ outcome: string; ownedBy?: ResourceOwner }> }> = [];
    let step = 'createTenant';
    try {
      // Registered before the step: if the create lands but its answer is lost, the tenant is still removed.
      // Every compensation checks the owner at the resource, so a tenant that turned out to be someone else's
      // (TenantOwnedByAnotherInstallation) is never deleted.
      undo.unshift({ step: 'deleteTenant', resource: 'tenant', run: () => compensations.deleteMiddlewareTenant(owner(tenantId)) });
      await steps.createMiddlewareTenant(owner(tenantId), configuration);
      state.setResource('tenant', true);

      step = 'createSchema';
      undo.unshift({ step: 'dropSchema', resource: 'schema', run: () => compensations.dropTenantSchema(owner(tenantId)) });
      const schema = await steps.createTenantSchema(owner(tenantId));
      state.setResource('schema', true);
      state.setSchemaName(schema.schemaName);

      const crmEndpoint = configuration.crmEndpoint;
      if (typeof crmEndpoint === 'string' && crmEndpoint.length > 0) {
        step = 'configureCrm';
        undo.unshift({ step: 'deleteCrmConnection', resource: 'crm', run: () => compensations.deleteCrmConnection(owner(tenantId)) });
        await steps.configureCrmConnection(owner(tenantId), crmEndpoint);
        state.setResource('crm', true);
      }

      if (!decision.enabled) {
        step = 'disableTenant';
        await steps.updateMiddlewareTenant(owner(tenantId), { enabled: false });
      }
      state.provisioned();
      state.record(event, 'applied', `provisioned tenant ${tenantId}`);
    } catch (error) {
      const message = describeFailure(error);
      const ownership = OWNERSHIP_FAILURE_TYPES.includes(rootFailure(error).type ?? '');
      // Compensate even when the workflow itself is being cancelled: nothing may be left half-provisioned.
      await CancellationScope.nonCancellable(async () => {
        for (const compensation of undo) {
          try {
            const result = await compensation.run();
            if (result.outcome === 'not_ours') {
              state.recordCompensation({ step: compensation.step, outcome: 'refused', at: now(), error: `belongs to ${describeOwner(result.ownedBy)}` });
            } else {
              state.recordCompensation({ step: compensation.step, outcome: 'done', at: now() });
            }
            if (compensation.resource) state.setResource(compensation.resource, false);
          } catch (compensationError) {
            state.recordCompensation({ step: compensation.step, outcome: 'failed', at: now(), error: describeFailure(compensationError) });
          }
        }
        // A tenant that belongs to another installation is never adopted: this installation does not record it.
        if (ownership) state.forgetTenant();
        state.rolledBack(step, message, now());
        state.record(event, 'rolled_back', `${step} failed: ${message}`);
        publish();
        await alert('provisioning_rolled_back', `install of ${state.orgId} rolled back: ${step} failed`, {
          tenantId,
          step,
          error: message,
          compensationsRun: state.compensationsRun.slice(-undo.length),
          ...(ownership ? { ownedBy: ownedByOf(error) } : {}),
        });
      });
      if (isCancellation(error)) throw error;
    }
    publish();
  }

  /**
   * Teardown acts only on the tenant this installation provisioned (its state), never on a tenant ID that merely
   * arrived in the uninstall's payload; and each destructive step checks the owner at the resource. A resource
   * that turns out to be someone else's is refused (`not_ours`), never counted as deleted, and an alert names both
   * installations.
   */
  async function teardown(event: InstallationEvent, tenantId: string | undefined): Promise<void> {
    state.beginTeardown();
    publish();
    await persist();
    const refused: Array<{ step: string; ownedBy?: ResourceOwner }> = [];
    const destructive = (step: string, resource: 'tenant' | 'schema' | 'crm' | undefined, run: () => Promise<{ outcome: string; ownedBy?: ResourceOwner }>) => ({
      step,
      resource,
      run: async () => {
        const result = await run();
        if (result.outcome === 'not_ours') refused.push({ step, ownedBy: result.ownedBy });
      },
    });
    const sequence: Array<{ step: string; resource?: 'tenant' | 'schema' | 'crm'; run: () => Promise<unknown> }> = [
      { step: 'revokeTokens', run: () => genesys.revokeLifecycleTokens(state.integrationId, state.orgId) },
      ...(tenantId
        ? [
            destructive('disableStreams', undefined, () => steps.disableTenantStreams(owner(tenantId))),
            destructive('deleteCrmConnection', 'crm', () => steps.deleteCrmConnection(owner(tenantId))),
            destructive('deleteTenant', 'tenant', () => steps.deleteMiddlewareTenant(owner(tenantId))),
            destructive('dropSchema', 'schema', () => steps.dropTenantSchema(owner(tenantId))),
            { step: 'archiveAuditRecords', run: () => steps.archiveAuditRecords(owner(tenantId)) },
          ]
        : []),
    ];
    for (const { step, resource, run } of sequence) {
      try {
        await run();
        if (resource) state.setResource(resource, false);
      } catch (error) {
        if (isCancellation(error)) throw error;
        const message = describeFailure(error);
        state.deprovisioningFailed(step, message, now());
        state.record(event, 'failed', `${step} failed: ${message}`);
        publish();
        await alert('deprovisioning_failed', `uninstall of ${state.orgId} failed at ${step}`, { tenantId, step, error: message });
        return;
      }
    }
    if (refused.length > 0) {
      await alert(
        'teardown_refused',
        `uninstall of ${installationName()} refused to touch ${refused.map((r) => r.step).join(', ')} of tenant ${tenantId}: ${describeOwners(refused)}`,
        { tenantId, refused },
      );
    }
    // The uninstall named a tenant that is not this installation's: nothing of it was touched; say whose it is.
    if (event.tenantId !== tenantId) await reportForeignTenant(event, tenantId);
    state.deprovisioned();
    state.record(
      event,
      'applied',
      `deprovisioned ${tenantId ? `tenant ${tenantId}` : 'an installation that had no tenant'}${refused.length > 0 ? `; refused: ${refused.map((r) => r.step).join(', ')}` : ''}`,
    );
    publish();
  }

  /** An uninstall whose payload names a tenant other than this installation's own: if that tenant's resources
   * belong to another installation, raise an alert that names both. */
  async function reportForeignTenant(event: InstallationEvent, ownTenant: string | undefined): Promise<void> {
    let owners: Record<string, ResourceOwner | undefined>;
    try {
      owners = await steps.findTenantOwners(event.tenantId);
    } catch (error) {
      log.warn('could not look up the owner of a tenant named by an uninstall', { tenantId: event.tenantId, error: describeFailure(error) });
      return;
    }
    const foreign = Object.entries(owners).filter(([, found]) => found && (found.orgId !== state.orgId || found.integrationId !== state.integrationId));
    if (foreign.length === 0) return;
    await alert(
      'foreign_tenant_in_event',
      `${event.event} for ${installationName()} named tenant ${event.tenantId}, which belongs to ${describeOwner(foreign[0][1])}; nothing of it was touched`,
      { tenantId: ownTenant, eventTenantId: event.tenantId, identity: event.identity, ownedBy: Object.fromEntries(foreign) },
    );
  }

  async function update(event: InstallationEvent, decision: Extract<Decision, { kind: 'setEnabled' | 'updateConfiguration' }>): Promise<void> {
    let step = 'updateTenant';
    try {
      if (decision.kind === 'setEnabled') {
        await steps.updateMiddlewareTenant(owner(decision.tenantId), { enabled: decision.enabled });
        state.toggled(decision.enabled);
        state.record(event, 'applied', decision.enabled ? 'tenant enabled' : 'tenant disabled');
      } else {
        await steps.updateMiddlewareTenant(owner(decision.tenantId), { configuration: decision.configuration });
        if (decision.crmChanged) {
          step = 'reconfigureCrm';
          const crmEndpoint = decision.configuration.crmEndpoint;
          if (typeof crmEndpoint === 'string' && crmEndpoint.length > 0) {
            await steps.configureCrmConnection(owner(decision.tenantId), crmEndpoint);
            state.setResource('crm', true);
          } else {
            await steps.deleteCrmConnection(owner(decision.tenantId));
            state.setResource('crm', false);
          }
        }
        state.record(event, 'applied', 'tenant configuration updated');
      }
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message = describeFailure(error);
      state.failed(step, message, now());
      state.record(event, 'failed', `${step} failed: ${message}`);
      await alert('installation_update_failed', `${event.event} of ${state.orgId} failed at ${step}`, { tenantId: decision.tenantId, step, error: message });
    }
    publish();
  }

  /** A new generation over the tenant this installation already runs: its configuration, enabled flag and CRM
   * endpoint become the new install's (issue 9: a re-install with a new crmEndpoint used to keep the old one). */
  async function reinstall(event: InstallationEvent, decision: Extract<Decision, { kind: 'reinstall' }>): Promise<void> {
    let step = 'updateTenant';
    try {
      await steps.updateMiddlewareTenant(owner(decision.tenantId), { configuration: decision.configuration, enabled: decision.enabled });
      step = 'reconfigureCrm';
      const crmEndpoint = decision.configuration.crmEndpoint;
      if (typeof crmEndpoint === 'string' && crmEndpoint.length > 0) {
        await steps.configureCrmConnection(owner(decision.tenantId), crmEndpoint);
        state.setResource('crm', true);
      } else if (state.resources.crm || decision.crmChanged) {
        await steps.deleteCrmConnection(owner(decision.tenantId));
        state.setResource('crm', false);
      }
      state.toggled(decision.enabled);
      state.record(
        event,
        'applied',
        `re-installed over tenant ${decision.tenantId} (generation ${state.generation})${decision.namedTenantId ? `; the event named tenant ${decision.namedTenantId}, kept ${decision.tenantId}` : ''}`,
      );
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message = describeFailure(error);
      state.failed(step, message, now());
      state.record(event, 'failed', `${step} failed: ${message}`);
      await alert('installation_update_failed', `re-install of ${state.orgId} failed at ${step}`, { tenantId: decision.tenantId, step, error: message });
    }
    publish();
  }

  async function apply(event: InstallationEvent): Promise<void> {
    const decision = state.decide(event);
    switch (decision.kind) {
      case 'reinstall':
        return reinstall(event, decision);
      case 'provision':
        return provision(event, decision);
      case 'teardown':
        return teardown(event, decision.tenantId);
      case 'setEnabled':
      case 'updateConfiguration':
        return update(event, decision);
      case 'none':
        state.record(event, decision.outcome, decision.detail);
        if (decision.outcome === 'ignored_stale') log.info('stale lifecycle event ignored', { identity: event.identity, detail: decision.detail });
        return;
    }
  }

  let appliedThisRun = 0;
  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested ||
    (input.continueAsNewAfterEvents !== undefined && appliedThisRun >= input.continueAsNewAfterEvents);

  for (;;) {
    await condition(() => state.hasPending() || ledgerQueue.length > 0 || shouldContinueAsNew());
    await flushLedger();
    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      await flushLedger();
      // Seen identities, tombstone, resources and any queued events travel to the next run.
      await continueAsNew<typeof installationWorkflow>({ ...input, snapshot: state.snapshot() });
    }
    const event = state.nextEvent();
    if (!event) continue;
    await apply(event);
    setCurrentDetails(installationCurrentDetails(state.view()));
    const outcome = state.lastEvents.at(-1);
    ledgerQueue.push(receivedRecord(event, outcome?.identity === event.identity ? outcome.outcome : 'applied', `${selfId}:event:${event.identity}`, outcome?.detail));
    await persist();
    await flushLedger();
    appliedThisRun += 1;
  }
}

/** The ledger's record of one lifecycle event: what arrived, from where, and what it led to. */
function receivedRecord(event: InstallationEvent, outcome: string, key: string, detail?: string): LedgerRecord {
  return {
    key,
    kind: 'lifecycle.event_received',
    subject: installationWorkflowId(event.orgId, event.integrationId),
    data: {
      identity: event.identity,
      event: event.event,
      orgId: event.orgId,
      integrationId: event.integrationId,
      tenantId: event.tenantId,
      source: event.source,
      eventTimestamp: event.eventTimestamp,
      ...(event.sequence === undefined ? {} : { sequence: event.sequence }),
      receivedAt: event.receivedAt,
      outcome,
      ...(detail ? { detail } : {}),
    },
  };
}


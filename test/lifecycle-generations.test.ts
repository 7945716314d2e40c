/**
 * Generations (issue 9): each real install starts a new generation, so nothing from before an uninstall leaks into
 * a re-install. A property over InstallationState (random histories, duplicates with retry metadata, shuffled
 * delivery: the result is always the meaning of the latest real events by event time), then the same end to end
 * through the receivers, a real Temporal server, PostgreSQL and the emulator.
 */
import fc from 'fast-check';
import { LifecyclePayloadSchema, toInstallationEvent } from '../receivers/lifecycle-event';
import { LIFECYCLE_EVENTS, type InstallationEvent, type InstallationStateName, type LifecycleEventName } from '../workflows/installation-messages';
import { InstallationState } from '../workflows/installation-state';
import { installationWorkflowId } from '../workflows/workflow-ids';
import { useLifecycleStack } from './fixtures';
import { eventually, uniqueId } from './harness/stack';
import { CRM, emit, emulatorState, installation, lifecyclePayload, postSigned, schemaExists, settledIn, tenantOf } from './lifecycle-support';

const ORG = 'org-property';
const INTEGRATION = 'integration-property';
const BASE = Date.UTC(2026, 0, 1);

interface RealEvent {
  kind: LifecycleEventName;
  /** Position in real time: 1, 2, 3, … (seconds after BASE). */
  at: number;
  /** Genesys' per-installation sequence, or (without one) an eventId, as real deliveries carry. */
  withSequence: boolean;
  configuration: Record<string, unknown>;
}

/** One delivery of a real event: the first attempt, or a retry with injected metadata and a drifted timestamp. */
function delivery(event: RealEvent, retryCount: number): InstallationEvent {
  const payload = LifecyclePayloadSchema.parse({
    ...(event.withSequence ? {} : { eventId: `evt-${event.at}` }),
    event: event.kind,
    orgId: ORG,
    integrationId: INTEGRATION,
    tenantId: 'tenant_property',
    configuration: event.configuration,
    // The lifecycle seed's Edge Case 3: each retry moves eventTimestamp slightly.
    eventTimestamp: new Date(BASE + event.at * 1000 + retryCount * 7).toISOString(),
    metadata: { installedBy: 'admin@property', source: 'marketplace', ...(event.withSequence ? { sequence: event.at } : {}) },
    ...(retryCount > 0 ? { retryCount, deliveryAttempt: retryCount + 1 } : {}),
  });
  return toInstallationEvent(payload, new Date(BASE));
}

/** The meaning of a history: its real events folded in event-time order. */
function meaning(history: RealEvent[]): { state: InstallationStateName; configuration?: Record<string, unknown> } {
  let installed = false;
  let uninstalled = false;
  let enabled = true;
  let configuration: Record<string, unknown> = {};
  for (const event of [...history].sort((a, b) => a.at - b.at)) {
    switch (event.kind) {
      case 'installed':
        installed = true;
        uninstalled = false;
        enabled = true;
        configuration = event.configuration;
        break;
      case 'uninstalled':
        installed = false;
        uninstalled = true;
        break;
      case 'enabled':
      case 'disabled':
        if (installed) enabled = event.kind === 'enabled';
        break;
      case 'configuration_updated':
        if (installed) configuration = event.configuration;
        break;
    }
  }
  if (installed) return { state: enabled ? 'active' : 'disabled', configuration };
  return { state: uninstalled ? 'deprovisioned' : 'pending_install' };
}

/** Applies deliveries one at a time as the workflow does, with every activity succeeding; `restoreAfter`
 * rebuilds the state from its snapshot at that point (continue-as-new, or a fresh run restored from the inventory). */
function play(deliveries: InstallationEvent[], restoreAfter: number): InstallationState {
  let state = new InstallationState(ORG, INTEGRATION);
  deliveries.forEach((event, index) => {
    if (state.receive(event) === 'queued') {
      const next = state.nextEvent()!;
      const decision = state.decide(next);
      switch (decision.kind) {
        case 'provision':
          state.beginProvisioning(decision.tenantId);
          state.provisioned();
          break;
        case 'teardown':
          state.beginTeardown();
          state.deprovisioned();
          break;
        case 'setEnabled':
        case 'reinstall':
          state.toggled(decision.enabled);
          break;
        default:
          break;
      }
    }
    if (index === restoreAfter) state = new InstallationState(ORG, INTEGRATION, undefined, state.snapshot());
  });
  return state;
}

const realEvent = (at: number) =>
  fc.record({
    kind: fc.constantFrom(...LIFECYCLE_EVENTS),
    withSequence: fc.boolean(),
    configuration: fc.record({ crmEndpoint: fc.constantFrom('https://a.example', 'https://b.example', 'https://c.example'), syncInterval: fc.constantFrom('PT1M', 'PT5M') }),
  }).map((event): RealEvent => ({ ...event, at }));

const history = fc.integer({ min: 1, max: 10 }).chain((length) => fc.tuple(...Array.from({ length }, (_, index) => realEvent(index + 1))));

describe('generations: the property', () => {
  it('whatever the order of delivery, duplicates and retry metadata, the final state and configuration are the meaning of the latest real events by event time', () => {
    fc.assert(
      fc.property(
        history.chain((events) =>
          fc
            .tuple(...events.map((event) => fc.integer({ min: 1, max: 3 }).map((copies) => Array.from({ length: copies }, (_, retry) => delivery(event, retry)))))
            .chain((copies) => {
              const all = copies.flat();
              return fc.tuple(fc.constant(events), fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), fc.integer({ min: -1, max: all.length - 1 }));
            }),
        ),
        ([events, deliveries, restoreAfter]) => {
          const state = play(deliveries, restoreAfter);
          const expected = meaning(events);
          expect(state.state).toBe(expected.state);
          if (expected.configuration) {
            expect(state.configuration).toEqual(expected.configuration);
            expect(state.enabled).toBe(expected.state === 'active');
          }
          // One generation per install that was not stale when it arrived; never more than the real installs.
          expect(state.generation).toBeLessThanOrEqual(events.filter((event) => event.kind === 'installed').length);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the issue\'s history: installed → disabled → uninstalled → installed ends active and enabled, in every delivery order', () => {
    const events: RealEvent[] = (['installed', 'disabled', 'uninstalled', 'installed'] as const).map((kind, index) => ({
      kind,
      at: index + 1,
      withSequence: true,
      configuration: { crmEndpoint: `https://gen-${index}.example` },
    }));
    const orders: InstallationEvent[][] = [];
    const permute = (rest: RealEvent[], taken: RealEvent[]) => {
      if (rest.length === 0) orders.push(taken.map((event) => delivery(event, 0)));
      rest.forEach((event, index) => permute([...rest.slice(0, index), ...rest.slice(index + 1)], [...taken, event]));
    };
    permute(events, []);
    expect(orders).toHaveLength(24);
    for (const order of orders) {
      const state = play(order, -1);
      expect([order.map((e) => `${e.event}#${e.sequence}`), state.state, state.enabled]).toEqual([order.map((e) => `${e.event}#${e.sequence}`), 'active', true]);
      expect(state.configuration).toEqual({ crmEndpoint: 'https://gen-3.example' });
    }
  });
});

const { stack, pool } = useLifecycleStack();

/** Sends one signed event with an explicit sequence and waits until the installation has handled it. */
async function deliverInTurn(orgId: string, tenantId: string, kind: LifecycleEventName, sequence: number, configuration: Record<string, unknown> = CRM): Promise<void> {
  const before = (await installation(stack, orgId))?.lastEvents.length ?? 0;
  const response = await postSigned(stack, lifecyclePayload(stack, orgId, kind, { tenantId, configuration, sequence }));
  expect(response.status).toBe(202);
  await eventually(`${kind} #${sequence} for ${orgId} handled`, async () => {
    const view = await installation(stack, orgId);
    return view && view.pendingEvents === 0 && view.lastEvents.length > before && !['provisioning', 'deprovisioning'].includes(view.state);
  });
}

describe('generations, end to end', () => {
  for (const [name, order] of [
    ['in order', [1, 2, 3, 4]],
    ['reversed', [4, 3, 2, 1]],
  ] as const) {
    it(`install → disable → uninstall → install delivered ${name} ends active with one tenant, enabled`, async () => {
      const orgId = uniqueId(`org-gen-${name.replace(' ', '-')}`);
      const tenantId = `tenant_${orgId}`;
      const kinds: Record<number, LifecycleEventName> = { 1: 'installed', 2: 'disabled', 3: 'uninstalled', 4: 'installed' };
      for (const sequence of order) await deliverInTurn(orgId, tenantId, kinds[sequence], sequence, { ...CRM, generationOf: sequence });
      const view = await settledIn(stack, orgId, 'active');
      expect(view.enabled).toBe(true);
      expect(view.configuration).toMatchObject({ generationOf: 4 });
      expect(view.resources).toMatchObject({ tenant: true, schema: true, crm: true });
      const snapshot = await emulatorState(stack);
      expect(snapshot.tenants.filter((tenant) => tenant.orgId === orgId)).toHaveLength(1);
      expect(tenantOf(snapshot, tenantId)).toMatchObject({ enabled: true, streamsEnabled: true, configuration: { generationOf: 4 } });
      expect(await schemaExists(pool, tenantId)).toBe(true);
      if (name === 'in order') {
        expect(view.generation).toBe(2);
        expect(tenantOf(snapshot, tenantId)?.createCount).toBe(2);
      } else {
        // The newest install came first: everything older is stale for its generation.
        expect(view.generation).toBe(1);
        expect(view.lastEvents.map((e) => e.outcome)).toEqual(['applied', 'ignored_stale', 'ignored_stale', 'ignored_stale']);
        expect(tenantOf(snapshot, tenantId)?.createCount).toBe(1);
      }
    });
  }

  it('an old disabled that arrives after a re-install never disables the new generation', async () => {
    const orgId = uniqueId('org-gen-late');
    const tenantId = `tenant_${orgId}`;
    await deliverInTurn(orgId, tenantId, 'installed', 1);
    await deliverInTurn(orgId, tenantId, 'uninstalled', 3);
    await deliverInTurn(orgId, tenantId, 'installed', 4);
    await deliverInTurn(orgId, tenantId, 'disabled', 2);
    const view = await settledIn(stack, orgId, 'active');
    expect(view.lastEvents.at(-1)).toMatchObject({ event: 'disabled', outcome: 'ignored_stale' });
    expect(tenantOf(await emulatorState(stack), tenantId)).toMatchObject({ enabled: true });
  });

  it('a re-install over an active tenant applies the new configuration, CRM endpoint included', async () => {
    const orgId = uniqueId('org-reinstall');
    const tenantId = `tenant_${orgId}`;
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: CRM });
    await settledIn(stack, orgId, 'active');
    await emit(stack, orgId, { event: 'disabled' });
    await settledIn(stack, orgId, 'disabled');

    const moved = { crmEndpoint: 'https://acme-new.salesforce.com', syncInterval: 'PT1M' };
    await emit(stack, orgId, { event: 'installed', tenantId, configuration: moved });
    const view = await eventually('the re-install to be applied', async () => {
      const current = await installation(stack, orgId);
      return current && current.generation === 2 && current.pendingEvents === 0 && current.state === 'active' ? current : undefined;
    });
    expect(view.configuration).toEqual(moved);
    expect(view.lastEvents.at(-1)).toMatchObject({ event: 'installed', outcome: 'applied' });
    const snapshot = await emulatorState(stack);
    expect(tenantOf(snapshot, tenantId)).toMatchObject({ configuration: moved, enabled: true, createCount: 1 });
    expect(snapshot.crmConnections.find((c) => c.tenantId === tenantId)).toMatchObject({ crmEndpoint: moved.crmEndpoint, orgId });
    expect(installationWorkflowId(orgId, stack.integrationId)).toBe(`installation:${orgId}:${stack.integrationId}`);
  });
});

/**
 * The installation's pure rules (workflows/installation-state.ts) and the receiver's event identity
 * (receivers/lifecycle-event.ts), without Temporal: duplicates, order keys, tombstone, bounded seen set.
 */
import { deprovisionHold, planRepairs } from '../activities/provisioning/reconciliation';
import { eventIdentity, LifecyclePayloadSchema } from '../receivers/lifecycle-event';
import type { InstallationEvent } from '../workflows/installation-messages';
import fc from 'fast-check';
import { compareOrder, InstallationState } from '../workflows/installation-state';
import { installationIdProblem, installationWorkflowId, parseInstallationAddress } from '../workflows/workflow-ids';

const ORG = 'org-1';
const INTEGRATION = 'integration-1';

function event(kind: InstallationEvent['event'], sequence: number | undefined, extra: Partial<InstallationEvent> = {}): InstallationEvent {
  return {
    identity: `${kind}-${sequence ?? extra.eventTimestamp}`,
    event: kind,
    orgId: ORG,
    integrationId: INTEGRATION,
    tenantId: 'tenant_1',
    configuration: { crmEndpoint: 'https://crm.example' },
    eventTimestamp: new Date(Date.UTC(2024, 0, 15, 14, 0, sequence ?? 0)).toISOString(),
    ...(sequence === undefined ? {} : { sequence }),
    receivedAt: new Date().toISOString(),
    source: 'webhook',
    ...extra,
  };
}

/** Plays events through the state as the workflow would, with every provisioning and teardown succeeding. */
function play(state: InstallationState, ...events: InstallationEvent[]): string[] {
  const kinds: string[] = [];
  for (const e of events) {
    if (state.receive(e) === 'duplicate') {
      kinds.push('duplicate');
      continue;
    }
    const next = state.nextEvent();
    if (!next) throw new Error('queue empty');
    const decision = state.decide(next);
    kinds.push(decision.kind === 'none' ? decision.outcome : decision.kind);
    if (decision.kind === 'provision') {
      state.beginProvisioning(decision.tenantId);
      state.provisioned();
    } else if (decision.kind === 'teardown') {
      state.beginTeardown();
      state.deprovisioned();
    } else if (decision.kind === 'setEnabled') {
      state.toggled(decision.enabled);
    }
  }
  return kinds;
}

describe('event identity (Edge Case 3)', () => {
  const base = {
    event: 'installed',
    integrationId: INTEGRATION,
    orgId: ORG,
    tenantId: 'tenant_acme_corp',
    configuration: { crmEndpoint: 'https://acme.salesforce.com', featureFlags: ['voice_routing'] },
    eventTimestamp: '2024-01-15T14:32:10.000Z',
    metadata: { installedBy: 'admin@acme.com', source: 'marketplace', sequence: 1 },
  };
  const identify = (payload: unknown) => eventIdentity(LifecyclePayloadSchema.parse(payload));

  it('keeps identities byte-identical across releases: they are persisted in every installation\'s seen set', () => {
    // Computed before the two canonical-JSON functions became one (workflows/canonical-json.ts): if this changes,
    // every running installation would take a redelivered event for a new one.
    const payload = {
      event: 'installed',
      integrationId: 'int-1',
      orgId: 'org-1',
      tenantId: 'tenant_1',
      configuration: { crmEndpoint: 'https://acme.salesforce.com', nested: { b: [1, 'two', null, { z: true, a: 1.5 }], a: 'é\u2028' } },
      eventTimestamp: '2026-01-01T00:00:00Z',
      metadata: { sequence: 3, installedBy: 'admin', retryCount: 2, deliveryAttempt: 4 },
      retryCount: 1,
    };
    expect(identify(payload)).toBe('sha256:ec849795b9e48e19f37560196a2b94f676f77e64ef31ef23f6054e2f58e9997d');
  });

  it('ignores retryCount, deliveryAttempt, a drifting eventTimestamp and retry-like metadata, and key order', () => {
    const retried = {
      metadata: { sequence: 1, source: 'marketplace', installedBy: 'admin@acme.com', deliveryAttemptId: 'x' },
      configuration: { featureFlags: ['voice_routing'], crmEndpoint: 'https://acme.salesforce.com' },
      tenantId: 'tenant_acme_corp',
      orgId: ORG,
      integrationId: INTEGRATION,
      event: 'installed',
      eventTimestamp: '2024-01-15T14:32:10.021Z',
      retryCount: 3,
      deliveryAttempt: 4,
    };
    expect(identify(retried)).toBe(identify(base));
  });

  it('is event-granular: another event type, configuration or sequence of the same integration is another identity', () => {
    const identities = new Set([
      identify(base),
      identify({ ...base, event: 'configuration_updated' }),
      identify({ ...base, configuration: { crmEndpoint: 'https://other.example' } }),
      identify({ ...base, metadata: { ...base.metadata, sequence: 2 } }),
    ]);
    expect(identities.size).toBe(4);
  });

  it('uses eventId when the payload carries one', () => {
    expect(identify({ ...base, eventId: 'e-1' })).toBe('event:e-1');
    expect(identify({ ...base, eventId: 'e-1', configuration: {} })).toBe('event:e-1');
  });
});

describe('installation state rules', () => {
  it('treats a seen identity as a duplicate with no effect', () => {
    const state = new InstallationState(ORG, INTEGRATION);
    expect(play(state, event('installed', 1), event('installed', 1))).toEqual(['provision', 'duplicate']);
    expect(state.lastEvents.map((e) => e.outcome)).toEqual(['duplicate']);
  });

  it('uninstall before install: the stale install is ignored (tombstone), a later re-install provisions again', () => {
    const state = new InstallationState(ORG, INTEGRATION);
    expect(play(state, event('uninstalled', 2), event('installed', 1))).toEqual(['teardown', 'ignored_stale']);
    expect(state.state).toBe('deprovisioned');
    expect(state.tombstone?.sequence).toBe(2);
    expect(play(state, event('installed', 3))).toEqual(['provision']);
    expect(state.state).toBe('active');
  });

  it('an uninstall older than the install already applied is stale', () => {
    const state = new InstallationState(ORG, INTEGRATION);
    expect(play(state, event('installed', 3), event('uninstalled', 2))).toEqual(['provision', 'ignored_stale']);
    expect(state.state).toBe('active');
  });

  it('orders by timestamp when an event has no sequence (reconciliation): a synthetic install after a tombstone provisions', () => {
    const state = new InstallationState(ORG, INTEGRATION);
    play(state, event('installed', 1), event('uninstalled', 2));
    const synthetic = event('installed', undefined, { identity: 'reconcile:r1:org-1:installed', eventTimestamp: '2030-01-01T00:00:00.000Z', source: 'reconciliation' });
    expect(play(state, synthetic)).toEqual(['provision']);
  });

  it('configuration updates and toggles: none dropped, an older one never overwrites a newer one', () => {
    const state = new InstallationState(ORG, INTEGRATION);
    const update = (sequence: number, crmEndpoint: string) => event('configuration_updated', sequence, { configuration: { crmEndpoint } });
    expect(play(state, event('installed', 1), update(2, 'https://a'), update(4, 'https://c'), update(3, 'https://b'))).toEqual([
      'provision',
      'updateConfiguration',
      'updateConfiguration',
      'ignored_stale',
    ]);
    expect(state.configuration).toEqual({ crmEndpoint: 'https://c' });
    expect(play(state, event('disabled', 5), event('enabled', 6))).toEqual(['setEnabled', 'setEnabled']);
    expect(state.state).toBe('active');
  });

  it('records enable/configuration before install and provisions with the newest values', () => {
    const state = new InstallationState(ORG, INTEGRATION);
    expect(play(state, event('disabled', 2))).toEqual(['recorded']);
    state.receive(event('installed', 1));
    const decision = state.decide(state.nextEvent()!);
    expect(decision).toMatchObject({ kind: 'provision', enabled: false });

    // A configuration update that overtook its install (a retried install delivery) is not lost either.
    const overtaken = new InstallationState(ORG, INTEGRATION);
    expect(play(overtaken, event('configuration_updated', 2, { configuration: { crmEndpoint: 'https://newer' } }))).toEqual(['recorded']);
    overtaken.receive(event('installed', 1));
    expect(overtaken.decide(overtaken.nextEvent()!)).toMatchObject({ kind: 'provision', configuration: { crmEndpoint: 'https://newer' } });
  });

  it('remembers a bounded number of identities, oldest forgotten first, and carries them through a snapshot', () => {
    const state = new InstallationState(ORG, INTEGRATION, 3);
    for (let sequence = 1; sequence <= 5; sequence++) state.receive(event('configuration_updated', sequence));
    expect(state.hasSeen('configuration_updated-1')).toBe(false);
    expect(state.hasSeen('configuration_updated-5')).toBe(true);
    const restored = new InstallationState(ORG, INTEGRATION, 3, state.snapshot());
    expect(restored.hasSeen('configuration_updated-4')).toBe(true);
    expect(restored.receive(event('configuration_updated', 5))).toBe('duplicate');
    expect(restored.view().pendingEvents).toBe(5);
  });

  it('a fresh run restored from the inventory keeps the tombstone and generation, and turns an interrupted step into a state reconciliation repairs', () => {
    const state = new InstallationState(ORG, INTEGRATION);
    play(state, event('installed', 1), event('uninstalled', 2));
    const record = { ...state.inventoryRecord(), revision: 7 };
    const fresh = new InstallationState(ORG, INTEGRATION);
    expect(fresh.restoreFromInventory(record, '2026-01-01T00:00:00.000Z')).toBe('deprovisioned');
    expect(fresh.revision).toBe(7);
    expect(play(fresh, event('installed', 1, { identity: 'another-copy' }))).toEqual(['ignored_stale']);
    expect(play(fresh, event('installed', 3))).toEqual(['provision']);
    expect(fresh.generation).toBe(2);

    const midSaga = { ...record, state: 'provisioning' as const, tenantId: 'tenant_1' };
    const restored = new InstallationState(ORG, INTEGRATION);
    expect(restored.restoreFromInventory(midSaga, '2026-01-01T00:00:00.000Z')).toBe('provisioning (interrupted) → provisioning_rolled_back');
    expect(restored.state).toBe('provisioning_rolled_back');
    const midTeardown = new InstallationState(ORG, INTEGRATION);
    midTeardown.restoreFromInventory({ ...record, state: 'deprovisioning' }, '2026-01-01T00:00:00.000Z');
    expect(midTeardown.state).toBe('deprovisioning_failed');
  });

  it('compares sequences when both have one, else timestamps', () => {
    expect(compareOrder({ sequence: 2, eventTimestamp: '2024-01-01T00:00:00Z' }, { sequence: 1, eventTimestamp: '2030-01-01T00:00:00Z' })).toBeGreaterThan(0);
    expect(compareOrder({ eventTimestamp: '2024-01-01T00:00:00Z' }, { sequence: 1, eventTimestamp: '2030-01-01T00:00:00Z' })).toBeLessThan(0);
  });
});

describe('installation workflow IDs', () => {
  const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}$/);

  it('two distinct installations never share a workflow ID: every ID the grammar admits maps one-to-one', () => {
    fc.assert(
      fc.property(id, id, id, id, (orgA, integrationA, orgB, integrationB) => {
        const valid = [orgA, integrationA, orgB, integrationB].every((text) => installationIdProblem(text) === undefined);
        if (!valid) {
          // Anything with a separator is refused before a workflow ID is ever built.
          expect(() => {
            installationWorkflowId(orgA, integrationA);
            installationWorkflowId(orgB, integrationB);
          }).toThrow();
          return;
        }
        const same = orgA === orgB && integrationA === integrationB;
        expect(installationWorkflowId(orgA, integrationA) === installationWorkflowId(orgB, integrationB)).toBe(same);
        expect(parseInstallationAddress(`${orgA}/${integrationA}`)).toEqual({ orgId: orgA, integrationId: integrationA });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('reconciliation guard', () => {
  it('holds a plan that would deprovision more than the share of active installations, or all of more than three', () => {
    expect(deprovisionHold(0, 100, 0.1)).toBeUndefined();
    expect(deprovisionHold(10, 100, 0.1)).toBeUndefined();
    expect(deprovisionHold(11, 100, 0.1)).toMatch(/11 of 100 active installations/);
    // At least one is always allowed, so a lost uninstall in a small deployment is still repaired.
    expect(deprovisionHold(1, 2, 0.1)).toBeUndefined();
    expect(deprovisionHold(2, 3, 0.1)).toMatch(/2 of 3/);
    expect(deprovisionHold(1, 1, 1)).toBeUndefined();
    expect(deprovisionHold(3, 3, 1)).toBeUndefined();
    expect(deprovisionHold(4, 4, 1)).toMatch(/all 4 active installations/);
    expect(deprovisionHold(500, 500, 0.1)).toMatch(/all 500/);
  });
});

describe('reconciliation plan', () => {
  it('repairs installed-but-not-provisioned, provisioned-but-uninstalled and failed states, and leaves busy ones alone', () => {
    const installed = [
      { orgId: 'missing', integrationId: INTEGRATION, tenantId: 't-missing', status: 'installed' as const },
      { orgId: 'rolled-back', integrationId: INTEGRATION, tenantId: 't-rb', status: 'installed' as const },
      { orgId: 'fine', integrationId: INTEGRATION, tenantId: 't-fine', status: 'installed' as const },
      { orgId: 'busy', integrationId: INTEGRATION, tenantId: 't-busy', status: 'installed' as const },
      { orgId: 'toggled', integrationId: INTEGRATION, tenantId: 't-toggled', status: 'disabled' as const },
      { orgId: 'off', integrationId: INTEGRATION, tenantId: 't-off', status: 'disabled' as const },
    ];
    const inventory = [
      { orgId: 'rolled-back', state: 'provisioning_rolled_back' as const, tenantId: 't-rb' },
      { orgId: 'fine', state: 'active' as const, tenantId: 't-fine' },
      { orgId: 'busy', state: 'provisioning' as const, tenantId: 't-busy' },
      { orgId: 'toggled', state: 'active' as const, tenantId: 't-toggled' },
      { orgId: 'orphan', state: 'active' as const, tenantId: 't-orphan' },
      { orgId: 'stuck', state: 'deprovisioning_failed' as const, tenantId: 't-stuck' },
      { orgId: 'gone', state: 'deprovisioned' as const, tenantId: 't-gone' },
      { orgId: 'queued', state: 'active' as const, tenantId: 't-q', pendingEvents: 1 },
    ];
    const repairs = planRepairs(INTEGRATION, installed, inventory).map((r) => `${r.orgId}:${r.event}`);
    expect(repairs.sort()).toEqual([
      'missing:installed',
      'off:disabled',
      'off:installed',
      'orphan:uninstalled',
      'rolled-back:installed',
      'stuck:uninstalled',
      'toggled:disabled',
    ]);
  });
});

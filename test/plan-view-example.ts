/**
 * The change docs/change-gate.md shows as a pull request renders its markdown plan ("How a reviewer reads the
 * plan"): test/plan-view.test.ts holds the page to what views/change-view.ts prints for it.
 */
import type { ChangeStatus } from '../workflows/change-messages';

export function exampleStatus(): ChangeStatus {
  const baseFields = { name: 'Main menu', greeting: 'Welcome to Acme', menu: { options: [{ key: 1, queue: 'sales' }, { key: 2, queue: 'billing' }] } };
  const payload = { ...baseFields, greeting: 'Welcome, now open on Saturdays', menu: { options: [{ key: 1, queue: 'support' }, { key: 2, queue: 'billing' }] } };
  return {
    changeId: 'pr-42-ivr-main-menu-3f1c2a9b0d4e',
    namespace: 'default',
    runId: '01a2296c-4daa-75fe-8a03-4006f91a0001',
    target: { type: 'ivr', id: 'main-menu' },
    requester: 'carol',
    reason: 'acme/genesys-config#42',
    desired: { greeting: payload.greeting, menu: payload.menu },
    replace: false,
    state: 'awaiting_approval',
    requiredApprovals: 2,
    approvals: [],
    plan: {
      target: { type: 'ivr', id: 'main-menu' },
      baseVersion: 7,
      baseFields,
      desired: { greeting: payload.greeting, menu: payload.menu },
      replace: false,
      diff: [
        { field: 'greeting', from: baseFields.greeting, to: payload.greeting },
        { field: 'menu', from: baseFields.menu, to: payload.menu },
      ],
      payload,
      payloadHash: '9f2c4e1d7a0b3c5e8f6a2d4b1c9e7f0a3b5d8c2e4f6a1b9d7c0e3f5a2b4c6d8e',
      plannedAt: '2026-11-29T12:00:00.000Z',
      versionRule: 'increment',
      lock: 'optimistic lock: the write carries the current version + 1; a stale one is refused (409) and re-merged',
    },
    pullRequest: {
      repository: 'acme/genesys-config',
      number: 42,
      path: 'genesys/ivr/main-menu.json',
      author: 'carol',
      plannedCommit: '3f1c2a9b0d4e5f60718293a4b5c6d7e8f9012345',
      desiredSha256: 'b'.repeat(64),
      state: 'open',
      notCounted: [],
    },
    timestamps: { planning: '2026-11-29T12:00:00.000Z', awaiting_approval: '2026-11-29T12:00:01.000Z' },
  };
}

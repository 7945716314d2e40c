/**
 * The change gate's pure parts: canonical JSON and the 3-way re-merge, the approval policy (the statement an
 * approval must be signed over, and every refusal code), the conflict back-off and "business hours" for the
 * heartbeat. The signatures themselves are held to ssh-keygen in test/approvals.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withinBusinessHours } from '../activities/business-hours';
import { payloadHash } from '../activities/plan';
import { BusinessHoursSchema } from '../platform/config';
import { canonicalJson } from '../workflows/canonical-json';
import { conflictBackoffMs } from '../workflows/change';
import { withoutStateName, type ChangeState } from '../workflows/change-messages';
import { approvalRefusal, decisionStatementText, rejectionRefusal, type ApprovalContext } from '../workflows/change-policy';
import { applyChanges, diffFields, divergedFields, invertChanges, readBackMismatch, restoringPatch } from '../workflows/config-merge';
import { parseTargetAddress } from '../workflows/workflow-ids';

describe('canonical JSON and the payload hash', () => {
  it('sorts keys at every depth, so key order never changes the hash', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    const target = { type: 'ivr', id: 'main' };
    expect(payloadHash(target, 3, { b: 1, a: 2 })).toBe(payloadHash(target, 3, { a: 2, b: 1 }));
    expect(payloadHash(target, 3, { a: 2 })).not.toBe(payloadHash(target, 4, { a: 2 }));
    expect(payloadHash(target, 3, { a: 2 })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('diff and 3-way merge', () => {
  const base = { greeting: 'hello', queue: 'sales', menu: { a: 1 } };

  it('diffs only what the desired fields change; null removes a field', () => {
    expect(diffFields(base, { greeting: 'hello', queue: 'support', menu: null, extra: true })).toEqual([
      { field: 'extra', to: true },
      { field: 'menu', from: { a: 1 } },
      { field: 'queue', from: 'sales', to: 'support' },
    ]);
  });

  it('replace mode diffs the whole field set', () => {
    expect(diffFields(base, { greeting: 'hello' }, true)).toEqual([
      { field: 'menu', from: { a: 1 } },
      { field: 'queue', from: 'sales' },
    ]);
  });

  it('re-merges onto the current object: fields the plan does not touch keep their current values', () => {
    const changes = diffFields(base, { greeting: 'welcome' });
    const current = { ...base, queue: 'support-after-plan', added: 1 };
    expect(applyChanges(current, changes)).toEqual({ added: 1, greeting: 'welcome', menu: { a: 1 }, queue: 'support-after-plan' });
    expect(divergedFields(current, changes)).toEqual([]);
  });

  it('reports a touched field that someone else changed since the plan as diverged (but not one already at the target)', () => {
    const changes = diffFields(base, { greeting: 'welcome', queue: 'vip' });
    expect(divergedFields({ ...base, greeting: 'bonjour' }, changes)).toEqual(['greeting']);
    expect(divergedFields({ ...base, greeting: 'welcome' }, changes)).toEqual([]);
  });

  it('canary check: at our version every field must match; after a later write only the fields the change touches', () => {
    const changes = diffFields(base, { greeting: 'welcome' });
    const written = { version: 2, fields: applyChanges(base, changes) };
    expect(readBackMismatch({ version: 2, fields: written.fields }, written, changes)).toEqual([]);
    expect(readBackMismatch({ version: 2, fields: { ...written.fields, queue: 'dropped' } }, written, changes)).toEqual(['queue']);
    expect(readBackMismatch({ version: 3, fields: { ...written.fields, queue: 'edited later' } }, written, changes)).toEqual([]);
    expect(readBackMismatch({ version: 3, fields: { ...written.fields, greeting: 'hacked' } }, written, changes)).toEqual(['greeting']);
    expect(invertChanges(changes)).toEqual([{ field: 'greeting', from: 'welcome', to: 'hello' }]);
  });

  it('builds the patch that restores pre-deploy values', () => {
    const changes = diffFields(base, { greeting: 'welcome', promo: 'x' });
    expect(restoringPatch(changes, base)).toEqual({ greeting: 'hello', promo: null });
  });

  it('parses TYPE/ID target addresses', () => {
    expect(parseTargetAddress('ivr/main-menu')).toEqual({ type: 'ivr', id: 'main-menu' });
    expect(parseTargetAddress('ivr')).toBeUndefined();
    expect(parseTargetAddress('ivr/a/b')).toBeUndefined();
    expect(parseTargetAddress("ivr/x' OR 1=1")).toBeUndefined();
  });
});

describe('approval policy', () => {
  const hash = 'a'.repeat(64);
  const context: ApprovalContext = {
    namespace: 'default',
    changeId: 'chg-1',
    runId: 'run-1',
    target: { type: 'ivr', id: 'main' },
    state: 'awaiting_approval',
    requester: 'alice',
    approvers: ['alice', 'bob', 'carol'],
    approvals: [{ approver: 'bob', payloadHash: hash, approvedAt: '', via: 'signature' }],
    plan: { baseVersion: 3, payloadHash: hash },
  };
  const armored = '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n';
  const request = (approver: string, overrides: Partial<{ statement: string; signature: string }> = {}) => ({
    approver,
    statement: overrides.statement ?? decisionStatementText({ ...context, plan: context.plan! }, 'approve', approver.trim() || 'x'),
    signature: overrides.signature ?? armored,
  });

  it('gives each refusal its stable code', () => {
    const other = (changes: Partial<ApprovalContext> & { plan?: ApprovalContext['plan'] }) =>
      decisionStatementText({ ...context, ...changes, plan: changes.plan ?? context.plan! }, 'approve', 'carol');
    expect(approvalRefusal({ ...context, state: 'expired' }, request('carol'))?.code).toBe('not_awaiting_approval');
    expect(approvalRefusal(context, request(' \t'))?.code).toBe('blank_principal');
    expect(approvalRefusal(context, request('carol', { signature: '' }))?.code).toBe('unsigned');
    expect(approvalRefusal(context, request('alice'))?.code).toBe('self_approval');
    expect(approvalRefusal(context, request(' Alice'))?.code).toBe('self_approval');
    expect(approvalRefusal(context, request('mallory'))?.code).toBe('unknown_approver');
    expect(approvalRefusal(context, request('Bob'))?.code).toBe('duplicate_approver');
    expect(approvalRefusal(context, request('carol', { statement: other({ changeId: 'chg-2' }) }))?.code).toBe('wrong_change');
    expect(approvalRefusal(context, request('carol', { statement: other({ runId: 'run-0' }) }))?.code).toBe('wrong_run');
    expect(approvalRefusal(context, request('carol', { statement: other({ plan: { baseVersion: 2, payloadHash: hash } }) }))?.code).toBe('wrong_base_version');
    expect(approvalRefusal(context, request('carol', { statement: other({ plan: { baseVersion: 3, payloadHash: 'c'.repeat(64) } }) }))?.code).toBe('wrong_payload_hash');
    expect(approvalRefusal(context, request('carol', { statement: other({ namespace: 'prod' }) }))?.code).toBe('wrong_namespace');
    expect(approvalRefusal(context, request('carol', { statement: request('dave').statement }))?.code).toBe('principal_mismatch');
    expect(approvalRefusal(context, request('carol', { statement: 'approve it' }))?.code).toBe('malformed_statement');
    expect(approvalRefusal(context, request('carol', { signature: 'b'.repeat(64) }))?.code).toBe('bad_signature');
    expect(approvalRefusal(context, request('carol'))).toBeUndefined();
  });

  it('lets approvers reject and the requester withdraw, signed and with a reason', () => {
    const rejection = (approver: string, reason: string, overrides: Partial<{ signature: string }> = {}) => ({
      approver,
      reason,
      statement: decisionStatementText({ ...context, plan: context.plan! }, 'reject', approver),
      signature: overrides.signature ?? armored,
    });
    expect(rejectionRefusal(context, rejection('carol', 'no'))).toBeUndefined();
    expect(rejectionRefusal(context, rejection('alice', 'withdrawn'))).toBeUndefined();
    expect(rejectionRefusal(context, rejection('carol', 'no', { signature: '' }))?.code).toBe('unsigned');
    expect(rejectionRefusal(context, rejection('mallory', 'no'))?.code).toBe('unknown_approver');
    expect(rejectionRefusal(context, rejection('carol', ' '))?.code).toBe('missing_reason');
    expect(rejectionRefusal(context, { ...rejection('carol', 'no'), statement: request('carol').statement })?.code).toBe('wrong_decision');
  });
});

describe('conflict back-off (seed Edge Case 1: wait 1 second, then back off)', () => {
  it('starts at about a second and doubles, capped at 30 s', () => {
    expect(conflictBackoffMs(1, 0.5)).toBe(1000);
    expect(conflictBackoffMs(2, 0.5)).toBe(2000);
    expect(conflictBackoffMs(3, 0.5)).toBe(4000);
    expect(conflictBackoffMs(10, 0.5)).toBe(30_000);
    expect(conflictBackoffMs(1, 0)).toBe(900);
    expect(conflictBackoffMs(1, 1)).toBe(1100);
  });
});

describe('business hours (the heartbeat polls only when quiet webhooks are suspicious)', () => {
  const weekdays = BusinessHoursSchema.parse('Mon-Fri 08:00-18:00');

  it('is true inside the window in the configured time zone, false outside', () => {
    // Tuesday 2024-03-05.
    expect(withinBusinessHours(new Date('2024-03-05T10:00:00Z'), weekdays, 'UTC')).toBe(true);
    expect(withinBusinessHours(new Date('2024-03-05T07:59:00Z'), weekdays, 'UTC')).toBe(false);
    expect(withinBusinessHours(new Date('2024-03-05T18:00:00Z'), weekdays, 'UTC')).toBe(false);
    // Saturday.
    expect(withinBusinessHours(new Date('2024-03-09T10:00:00Z'), weekdays, 'UTC')).toBe(false);
    // 07:00 UTC is 08:00 in Berlin (CET, UTC+1).
    expect(withinBusinessHours(new Date('2024-03-05T07:30:00Z'), weekdays, 'Europe/Berlin')).toBe(true);
    // Monday 01:00 in Sydney is still Sunday in UTC.
    expect(withinBusinessHours(new Date('2024-03-03T23:30:00Z'), weekdays, 'Australia/Sydney')).toBe(true);
  });

  it('handles "always" and ranges that wrap', () => {
    expect(withinBusinessHours(new Date('2024-03-09T03:00:00Z'), BusinessHoursSchema.parse('always'), 'UTC')).toBe(true);
    const nights = BusinessHoursSchema.parse('Fri-Mon 22:00-06:00');
    expect(withinBusinessHours(new Date('2024-03-09T23:00:00Z'), nights, 'UTC')).toBe(true); // Saturday night
    expect(withinBusinessHours(new Date('2024-03-06T23:00:00Z'), nights, 'UTC')).toBe(false); // Wednesday
    expect(withinBusinessHours(new Date('2024-03-09T12:00:00Z'), nights, 'UTC')).toBe(false); // Saturday noon
  });
});

describe('state reasons say what happened once (issue 12: no "diverged: diverged: …")', () => {
  it('drops a reason\'s leading state name, whatever its separator, and leaves other reasons alone', () => {
    expect(withoutStateName('diverged', 'diverged: greeting changed since the plan')).toBe('greeting changed since the plan');
    expect(withoutStateName('rejected', 'rejected by bob: wrong menu')).toBe('by bob: wrong menu');
    expect(withoutStateName('cancelled', 'Cancelled while waiting for the deploy lock')).toBe('while waiting for the deploy lock');
    expect(withoutStateName('rolled_back', 'rolled back: read-back mismatch')).toBe('read-back mismatch');
    expect(withoutStateName('cancelled', 'withdrawn by alice: wrong ticket')).toBe('withdrawn by alice: wrong ticket');
    expect(withoutStateName('failed', 'failedover: x')).toBe('failedover: x');
  });

  it('no reason written in the workflows starts with the name of the state it is given for', () => {
    const sources = readdirSync(join(__dirname, '..', 'workflows'))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => [name, readFileSync(join(__dirname, '..', 'workflows', name), 'utf8')] as const);
    const doubled: string[] = [];
    let reasons = 0;
    for (const [name, text] of sources) {
      for (const match of text.matchAll(/\.enter\(\s*'([a-z_]+)',\s*[`'"]([^`'"]*)/g)) {
        reasons += 1;
        if (withoutStateName(match[1] as ChangeState, match[2]) !== match[2]) doubled.push(`${name}: ${match[1]}: ${match[2]}`);
      }
    }
    expect(reasons).toBeGreaterThan(10);
    expect(doubled).toEqual([]);
  });
});

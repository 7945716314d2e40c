/**
 * The outbound change event: one row of the audit ledger (`change.*` and `audit.*` kinds), as every endpoint receives
 * it — the Standard Webhooks payload shape `{ type, timestamp, data }`, where `type` is the ledger kind
 * (`change.approved`), `timestamp` when it happened (the row's `recordedAt`, not the delivery attempt's), and `data` the
 * record's own data plus what identifies it: the change, the target, and the ledger row it came from (so a consumer
 * can check an event against `tollgate audit export`).
 *
 * Its ID (the `webhook-id` header) is stable per event and unique across deployments: `evt_` and the first 32 hex
 * digits of the row's hash, which the hash chain makes immutable. A retried delivery carries the same ID; consumers
 * deduplicate on it.
 */
import { LEDGER_KINDS, type LedgerKind, type LedgerRow } from '../workflows/ledger-records';

/** Refusals of forged or mistaken messages (issue 19): the ledger keeps them for investigators; consumers of change
 * events would only see noise an attacker chose. */
const NOT_OUTBOUND: readonly LedgerKind[] = ['change.message_refused', 'audit.unverified'];

/** The ledger kinds that are outbound events: every step of every change and every audit verdict. */
export const OUTBOUND_KINDS: readonly LedgerKind[] = LEDGER_KINDS.filter(
  (kind) => (kind.startsWith('change.') || kind.startsWith('audit.')) && !NOT_OUTBOUND.includes(kind),
);

export interface ChangeEventData extends Record<string, unknown> {
  /** The change the event is about (change events; audit events that matched an approved change). */
  changeId?: string;
  /** `TYPE/ID` of the Genesys Cloud object. */
  target?: string;
  ledger: { seq: number; key: string; subject: string; hash: string };
}

export interface ChangeEvent {
  id: string;
  type: LedgerKind;
  timestamp: string;
  data: ChangeEventData;
}

export function eventId(row: Pick<LedgerRow, 'hash'>): string {
  return `evt_${row.hash.slice(0, 32)}`;
}

/** `change:<id>` → `<id>`. */
export function changeIdOfSubject(subject: string): string | undefined {
  return subject.startsWith('change:') ? subject.slice('change:'.length) : undefined;
}

/** The event of one ledger row; `target` is the change's (from its `change.submitted` row) for change events. */
export function toChangeEvent(row: LedgerRow, facts: { target?: string } = {}): ChangeEvent {
  const data = row.data;
  const changeId = changeIdOfSubject(row.subject) ?? (typeof data.changeId === 'string' ? data.changeId : undefined);
  const target = typeof data.target === 'string' ? data.target : facts.target;
  return {
    id: eventId(row),
    type: row.kind,
    timestamp: row.recordedAt,
    data: {
      ...data,
      ...(changeId !== undefined ? { changeId } : {}),
      ...(target !== undefined ? { target } : {}),
      ledger: { seq: row.seq, key: row.key, subject: row.subject, hash: row.hash },
    },
  };
}

/** The exact bytes sent and signed: compact JSON of `{ type, timestamp, data }`. */
export function eventPayload(event: ChangeEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
}

/** `*` stands for any run of characters; everything else is literal. */
export function matchesPattern(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}

/** Whether an endpoint with these filters wants the event. A target filter passes over events with no target. */
export function eventWanted(filters: { types?: string[]; targets?: string[] }, event: ChangeEvent): boolean {
  if (filters.types && !filters.types.some((pattern) => matchesPattern(pattern, event.type))) return false;
  if (filters.targets) {
    const target = event.data.target;
    if (target === undefined || !filters.targets.some((pattern) => matchesPattern(pattern, target))) return false;
  }
  return true;
}

/**
 * How ledger rows leave Tollgate (`tollgate audit export`): JSON Lines (one object per row, for a SIEM or a
 * ticketing system) or CSV (RFC 4180; the record's data as one JSON column).
 */
import type { LedgerRow } from '../workflows/ledger-records';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CSV_COLUMNS = ['seq', 'recorded_at', 'kind', 'subject', 'key', 'data', 'prev_hash', 'hash'] as const;

export function exportLine(row: LedgerRow, format: ExportFormat): string {
  if (format === 'jsonl') {
    return JSON.stringify({
      seq: row.seq,
      recordedAt: row.recordedAt,
      kind: row.kind,
      subject: row.subject,
      key: row.key,
      data: row.data,
      prevHash: row.prevHash,
      hash: row.hash,
    });
  }
  return [row.seq, row.recordedAt, row.kind, row.subject, row.key, JSON.stringify(row.data), row.prevHash, row.hash].map(csvField).join(',');
}

export function exportHeader(format: ExportFormat): string | undefined {
  return format === 'csv' ? CSV_COLUMNS.join(',') : undefined;
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
